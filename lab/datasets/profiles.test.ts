import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { sha256Hex } from '../core/files.js';
import { LabError } from '../core/errors.js';
import { datasetProfile, profileCachePath, profilesOfMeasured, type DatasetProfile } from './profiles.js';
import { readJsonAs } from '../testing/json.js';

let work: string;
const savedCache = process.env.PERF_LAB_CACHE;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'perf-lab-profiles-'));
  process.env.PERF_LAB_CACHE = join(work, 'cache');
});
after(async () => {
  if (savedCache === undefined) delete process.env.PERF_LAB_CACHE;
  else process.env.PERF_LAB_CACHE = savedCache;
  await rm(work, { recursive: true, force: true });
});

describe('dataset profiles (cached by the sha256 of the bytes)', () => {
  it('profiles once, reuses the cache, and recomputes a cache entry that is corrupt or does not add up', async () => {
    const gzip = gzipSync(Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(500)));
    const path = join(work, 'a.gz');
    await writeFile(path, gzip);
    const sha256 = sha256Hex(gzip);
    const first = await datasetProfile(path, sha256);
    assert.equal(first.compressedSha256, sha256);
    assert.equal(first.outputBytes, 44 * 500);
    const cached = await readJsonAs<DatasetProfile>(profileCachePath(sha256));
    assert.equal(cached.literals, first.literals);
    // A tampered entry whose counts no longer add up is not believed.
    await writeFile(profileCachePath(sha256), JSON.stringify({ ...cached, literals: cached.literals + 1 }));
    assert.deepEqual(await datasetProfile(path), first);
    await writeFile(profileCachePath(sha256), '{ not json');
    assert.deepEqual(await datasetProfile(path), first);
  });

  it('refuses a file whose bytes are not the ones measured, and a file that is not gzip, naming it', async () => {
    const path = join(work, 'b.gz');
    await writeFile(path, gzipSync(Buffer.from('some bytes')));
    await assert.rejects(
      datasetProfile(path, 'f'.repeat(64)),
      (error: LabError) => error instanceof LabError && /not the f{64} the measurement used/.test(error.message),
    );
    await writeFile(path, 'plain text');
    await assert.rejects(
      datasetProfile(path),
      (error: LabError) =>
        error instanceof LabError && error.message.includes(`${path} is not a valid gzip file: no gzip header`),
    );
  });

  it('finds measured datasets through the manifest and lists the ones it cannot find', async () => {
    const dir = join(work, 'datasets');
    const gzip = gzipSync(Buffer.from('log line 1\nlog line 2\n'.repeat(300)));
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'logs.raw.gz'), gzip);
    const entry = (name: string, sha256: string) => ({
      name,
      label: name.toUpperCase(),
      standIn: false,
      scale: 'quick',
      source: 'test',
      raw: { path: `${name}.raw`, bytes: 1, sha256: '0'.repeat(64) },
      compressed: { path: `${name}.raw.gz`, bytes: gzip.length, sha256, compressor: 'zlib', level: 9 },
    });
    await writeFile(
      join(dir, 'manifest.json'),
      JSON.stringify({ schemaVersion: 1, datasets: [entry('logs', sha256Hex(gzip))] }),
    );
    const { profiles, missing } = await profilesOfMeasured(
      [
        { label: 'LOGS', compressedSha256: sha256Hex(gzip) },
        { label: 'SOFTWARE', compressedSha256: 'a'.repeat(64) },
      ],
      dir,
    );
    assert.equal(profiles.get(sha256Hex(gzip))!.outputBytes, 22 * 300);
    assert.deepEqual(missing, [`SOFTWARE: no file with sha256 aaaaaaaaaaaa… in ${dir}`]);
  });
});
