import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot } from '../core/paths.js';
import { loadBenchConfig } from './config.js';

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
