import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { buildIntoCache, readCachedBuild } from './cache.js';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'perf-lab-cache-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const recordSchema = z.object({ artifact: z.string() });

describe('the build cache', () => {
  it('publishes a finished build with its record, and reads it back while its artifact is there', async () => {
    const slot = join(root, 'builds', 'ok');
    const record = await buildIntoCache(slot, async (temp) => {
      await writeFile(join(temp, 'lib.so'), 'code');
      return { artifact: 'lib.so' };
    });
    assert.deepEqual(record, { artifact: 'lib.so' });
    assert.deepEqual(JSON.parse(await readFile(join(slot, 'build.json'), 'utf8')), record);
    const cached = await readCachedBuild(slot, recordSchema, (found) => [join(slot, found.artifact)]);
    assert.deepEqual(cached, record);
  });

  it('leaves nothing behind when the build fails', async () => {
    const slot = join(root, 'builds', 'failed');
    await assert.rejects(
      buildIntoCache(slot, async (temp) => {
        await writeFile(join(temp, 'half-written.o'), 'x');
        throw new Error('compiler crashed');
      }),
      /compiler crashed/,
    );
    assert.deepEqual(
      (await readdir(join(root, 'builds'))).filter((name) => name.startsWith('failed')),
      [],
      'neither the slot nor its temporary folder',
    );
  });

  it('drops a slot whose record is damaged, names a key twice or has lost its artifact, so it is rebuilt', async () => {
    for (const [name, text, artifact] of [
      ['truncated', '{"artifact": "lib', true],
      ['twice', '{"artifact": "lib.so", "artifact": "other.so"}', true],
      ['wrong-shape', '{"artifact": 3}', true],
      ['lost-artifact', '{"artifact": "lib.so"}', false],
    ] as const) {
      const slot = join(root, 'damaged', name);
      await buildIntoCache(slot, async (temp) => {
        if (artifact) await writeFile(join(temp, 'lib.so'), 'code');
        return { artifact: 'lib.so' };
      });
      await writeFile(join(slot, 'build.json'), text);
      assert.equal(await readCachedBuild(slot, recordSchema, (found) => [join(slot, found.artifact)]), undefined, name);
      assert.deepEqual(
        (await readdir(join(root, 'damaged'))).filter((entry) => entry === name),
        [],
        `${name}: removed`,
      );
    }
  });
});
