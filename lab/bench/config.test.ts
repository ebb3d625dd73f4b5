import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot } from '../core/paths.js';
import { loadBenchConfig, parseBenchConfig, withTolerance } from './config.js';

describe('example configs', () => {
  it('every examples/*.json is a valid bench config', async () => {
    const dir = join(projectRoot(), 'examples');
    const names = (await readdir(dir)).filter((name) => name.endsWith('.json'));
    assert.ok(names.includes('gzippy.json'));
    for (const name of names) {
      const config = await loadBenchConfig(join(dir, name));
      assert.equal(config.schemaVersion, 1, name);
    }
  });
});

describe('bench.tolerance', () => {
  const config = (bench: Record<string, unknown>) => ({
    schemaVersion: 1,
    libdeflate: { source: { kind: 'system' } },
    decoder: { name: 'x', libdeflate: { source: { kind: 'system' } } },
    bench,
  });

  it('defaults to ±1.5% and must be at least the minimum effect, the message on the field the user set', () => {
    assert.equal(parseBenchConfig(config({}), 'c.json', '/').bench.tolerance, 0.015);
    assert.throws(
      () => parseBenchConfig(config({ tolerance: 0.003 }), 'c.json', '/'),
      /c\.json is invalid: bench\.tolerance: must be at least bench\.minimumEffect/,
    );
  });

  it('takes a tolerance from the command line or a workflow input, refused below the minimum effect in percent', () => {
    const parsed = parseBenchConfig(config({}), 'c.json', '/');
    assert.equal(withTolerance(parsed, 0.01, '--tolerance').bench.tolerance, 0.01);
    assert.equal(withTolerance(parsed, undefined, '--tolerance'), parsed);
    assert.throws(
      () => withTolerance(parsed, 0.002, '--tolerance'),
      /--tolerance: a tolerance of 0\.2% is below bench\.minimumEffect \(0\.5%\)/,
    );
  });
});
