import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import yazl from 'yazl';
import { LabError } from '../core/errors.js';
import { digestFile } from '../core/files.js';
import { sharedCorporaDir } from '../core/paths.js';
import { readManifest, requireManifest, verifyDatasetFiles, type Manifest } from './manifest.js';
import { prepareDatasets } from './prepare.js';
import { corpusProblems, silesiaTarFromZip, standInTar } from './silesia.js';
import { readJsonAs } from '../testing/json.js';

let work: string;
let dir: string;
let manifest: Manifest;

async function flipByte(path: string, offset: number): Promise<void> {
  const handle = await open(path, 'r+');
  const byte = Buffer.alloc(1);
  await handle.read(byte, 0, 1, offset);
  byte[0] = byte[0]! ^ 0xff;
  await handle.write(byte, 0, 1, offset);
  await handle.close();
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'perf-lab-datasets-'));
  process.env.PERF_LAB_CACHE = join(work, 'cache');
  dir = join(work, 'quick');
  manifest = await prepareDatasets({ dir, scale: 'quick', offline: true });
});
after(async () => {
  delete process.env.PERF_LAB_CACHE;
  await rm(work, { recursive: true, force: true });
});

describe('datasets prepare (quick scale, offline)', () => {
  it('writes a manifest with the three datasets, real sizes and hashes', async () => {
    assert.deepEqual(
      manifest.datasets.map((entry) => entry.name),
      ['silesia', 'software', 'logs'],
    );
    for (const entry of manifest.datasets) {
      const raw = await digestFile(join(dir, entry.raw.path));
      const compressed = await digestFile(join(dir, entry.compressed.path));
      assert.deepEqual({ bytes: entry.raw.bytes, sha256: entry.raw.sha256 }, raw);
      assert.deepEqual({ bytes: entry.compressed.bytes, sha256: entry.compressed.sha256 }, compressed);
      assert.match(entry.compressed.compressor, /gzip/);
      assert.ok(entry.compressed.bytes < entry.raw.bytes);
    }
    const levels = Object.fromEntries(manifest.datasets.map((entry) => [entry.name, entry.compressed.level]));
    assert.deepEqual(levels, { silesia: 9, software: 9, logs: 1 });
    assert.deepEqual(await readManifest(dir), manifest);
  });

  it('labels SILESIA as a stand-in when no Silesia corpus is at hand', () => {
    const silesia = manifest.datasets.find((entry) => entry.name === 'silesia')!;
    assert.equal(silesia.standIn, true);
    assert.equal(silesia.label, 'SILESIA (stand-in)');
    // Calgary (3,265,536-byte tar) and Canterbury (2,821,120) hold 18 + 11 files.
    assert.ok(silesia.raw.bytes > 5_000_000 && silesia.raw.bytes < 7_000_000, `stand-in size ${silesia.raw.bytes}`);
  });

  it('generates quick-scale prefixes of at least 16 MiB', () => {
    for (const name of ['software', 'logs']) {
      const entry = manifest.datasets.find((dataset) => dataset.name === name)!;
      assert.ok(entry.raw.bytes >= 16 * 1024 * 1024 && entry.raw.bytes < 16 * 1024 * 1024 + 200);
    }
  });

  it('reuses files that still match and regenerates one that was altered', async () => {
    const copy = join(work, 'reuse');
    await cp(dir, copy, { recursive: true });
    await flipByte(join(copy, 'logs.raw.gz'), 100);
    const again = await prepareDatasets({ dir: copy, scale: 'quick', offline: true });
    assert.deepEqual(again, manifest, 'the altered file is rebuilt to the same bytes');
  });
});

describe('the compressor is checked', () => {
  it(
    'refuses a compressor whose output is not gzip, or ' + 'decompresses to other bytes, and writes no manifest',
    async () => {
      const fakes = join(work, 'fake-compressors');
      await mkdir(fakes, { recursive: true });
      const script = (name: string, body: string) => {
        const path = join(fakes, name);
        return writeFile(path, `#!/bin/sh\nif [ "$1" = --version ]; then echo "${name} 1.0"; exit 0; fi\n${body}\n`)
          .then(() => chmod(path, 0o755))
          .then(() => path);
      };
      const silent = await script('silent-gzip', 'exit 0');
      const other = await script('other-gzip', 'printf other | gzip -c');
      for (const [gzip, message] of [
        [silent, /is not a valid gzip stream/],
        [other, /decompresses to 5 bytes that differ from the \d+ raw bytes/],
      ] as const) {
        const target = join(work, `compressor-${gzip.split('/').pop()}`);
        await assert.rejects(
          prepareDatasets({ dir: target, scale: 'quick', only: ['logs'], offline: true, gzip }),
          message,
        );
        assert.equal(await readManifest(target), undefined, 'no manifest names the bad file');
      }
    },
  );
});

describe('dataset verification', () => {
  it('refuses a bit-flipped compressed file, naming the path and both hashes', async () => {
    const copy = join(work, 'tampered');
    await cp(dir, copy, { recursive: true });
    const entry = manifest.datasets.find((dataset) => dataset.name === 'software')!;
    await flipByte(join(copy, entry.compressed.path), 1000);
    const actual = await digestFile(join(copy, entry.compressed.path));
    await assert.rejects(verifyDatasetFiles(copy, entry), (error: LabError) => {
      assert.ok(error instanceof LabError);
      assert.match(error.message, /software\.raw\.gz/);
      assert.ok(error.message.includes(entry.compressed.sha256) && error.message.includes(actual.sha256));
      assert.match(error.hint, /prepare/);
      return true;
    });
  });

  it('refuses a truncated expected output', async () => {
    const copy = join(work, 'truncated');
    await cp(dir, copy, { recursive: true });
    const entry = manifest.datasets.find((dataset) => dataset.name === 'logs')!;
    const handle = await open(join(copy, entry.raw.path), 'r+');
    await handle.truncate(entry.raw.bytes - 1);
    await handle.close();
    await assert.rejects(
      verifyDatasetFiles(copy, entry),
      /expected output .* does not match the manifest: expected 16777261 bytes/,
    );
  });

  it('refuses a manifest whose paths climb out of its folder', async () => {
    const copy = join(work, 'escape');
    await cp(dir, copy, { recursive: true });
    const text = await readJsonAs<Manifest>(join(copy, 'manifest.json'));
    text.datasets[0]!.raw.path = '../../etc/passwd';
    await writeFile(join(copy, 'manifest.json'), JSON.stringify(text));
    await assert.rejects(requireManifest(copy), /datasets\.0\.raw\.path: must be a path inside the manifest folder/);
  });

  it('refuses a manifest that is not JSON', async () => {
    const copy = join(work, 'garbage');
    await cp(dir, copy, { recursive: true });
    await writeFile(join(copy, 'manifest.json'), '{"schemaVersion": 1, "datasets": [');
    await assert.rejects(requireManifest(copy), /is not valid JSON/);
  });
});

describe('SILESIA sources', () => {
  it('builds the stand-in tar deterministically (same sha256 twice)', async () => {
    const first = join(work, 'a.tar');
    const second = join(work, 'b.tar');
    await standInTar(sharedCorporaDir(), first);
    await standInTar(sharedCorporaDir(), second);
    assert.equal((await digestFile(first)).sha256, (await digestFile(second)).sha256);
  });

  it('refuses altered shared corpora', async () => {
    const corpora = join(work, 'corpora');
    await cp(sharedCorporaDir(), corpora, { recursive: true });
    await flipByte(join(corpora, 'calgary.tar.gz'), 5000);
    await assert.rejects(
      standInTar(corpora, join(work, 'c.tar')),
      /calgary\.tar\.gz has sha256 [0-9a-f]{64}, expected e109eebd/,
    );
  });

  async function makeZip(path: string, files: Record<string, string>): Promise<void> {
    const zip = new yazl.ZipFile();
    for (const [name, text] of Object.entries(files)) zip.addBuffer(Buffer.from(text), `silesia/${name}`);
    zip.end();
    await new Promise<void>((resolvePromise, reject) => {
      zip.outputStream.pipe(createWriteStream(path)).on('close', resolvePromise).on('error', reject);
    });
  }

  it('tars a zip whose files and sizes match the expected list', async () => {
    const zipPath = join(work, 'good.zip');
    await makeZip(zipPath, { alpha: 'hello', beta: 'abc', extra: 'ignored' });
    await silesiaTarFromZip(zipPath, join(work, 'good.tar'), { alpha: 5, beta: 3 });
    const again = join(work, 'good2.tar');
    await silesiaTarFromZip(zipPath, again, { alpha: 5, beta: 3 });
    assert.equal((await digestFile(join(work, 'good.tar'))).sha256, (await digestFile(again)).sha256);
  });

  it('refuses a zip with a wrong size or a missing file, naming each', async () => {
    const zipPath = join(work, 'bad.zip');
    await makeZip(zipPath, { alpha: 'hello!' });
    await assert.rejects(
      silesiaTarFromZip(zipPath, join(work, 'bad.tar'), { alpha: 5, beta: 3 }),
      /alpha has 6 bytes, expected 5; beta is missing/,
    );
  });

  it('refuses a file that is not a zip', async () => {
    const notZip = join(work, 'not.zip');
    await writeFile(notZip, 'definitely not a zip');
    await assert.rejects(silesiaTarFromZip(notZip, join(work, 'x.tar')), /cannot open .* as a zip/);
  });

  it('checks the real Silesia list: 12 files, 211,938,580 bytes', () => {
    const found = [{ name: 'dickens', bytes: 10_192_446 }];
    const problems = corpusProblems(found, { dickens: 10_192_446, mozilla: 51_220_480 });
    assert.deepEqual(problems, ['mozilla is missing']);
  });
});
