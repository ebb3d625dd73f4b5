import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  calibrationFor,
  calibrationPath,
  findCalibration,
  runnerClass,
  saveCalibration,
  type CalibratedDataset,
} from './calibrate.js';

const sha = 'a'.repeat(64);
const entry: CalibratedDataset = {
  compressedSha256: sha,
  rounds: 24,
  warmupRounds: 3,
  batchLogScale: 0.01,
  df: 23,
  subjects: { libdeflate: { batchLogScale: 0.01, df: 23, batches: 40 } },
  simulation: {
    checks: 10,
    noChangeRate: 1,
    falsePositiveRate: 0,
    coverage: 1,
    meanBatches: 10,
    meanMargin: 0.01,
    minimumDetectableEffect: 0.02,
  },
};
let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'perf-lab-calibration-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('stored calibrations', () => {
  it(
    'are found for this runner class in the first folder that has one (committed beside the baselines, then ' +
      'the cache)',
    async () => {
      const committed = join(work, 'committed');
      const cache = join(work, 'cache');
      assert.equal(await findCalibration([committed, cache]), undefined, 'a fresh runner has none');
      await saveCalibration('LOGS', { ...entry, batchLogScale: 0.02 }, calibrationPath(cache));
      assert.equal((await findCalibration([committed, cache]))!.datasets.LOGS!.batchLogScale, 0.02);
      await saveCalibration('LOGS', entry, calibrationPath(committed));
      const found = (await findCalibration([committed, cache]))!;
      assert.equal(found.datasets.LOGS!.batchLogScale, 0.01);
      assert.equal(found.machine.cpuModel, runnerClass().cpuModel);
    },
  );

  it('hold only for the same dataset bytes and batch shape, and say why not', async () => {
    const dir = join(work, 'shape');
    const calibration = await saveCalibration('LOGS', entry, calibrationPath(dir));
    const used = calibrationFor(calibration, { label: 'LOGS', compressedSha256: sha }, { rounds: 24, warmupRounds: 3 });
    assert.ok('batchLogScale' in used && used.df === 23);
    assert.match(
      'source' in used ? used.source : '',
      /^A\/A calibration of \d{4}-\d\d-\d\d on .+, 24 rounds a batch \(libdeflate\)$/,
    );
    assert.deepEqual(
      calibrationFor(calibration, { label: 'LOGS', compressedSha256: 'b'.repeat(64) }, { rounds: 24, warmupRounds: 3 }),
      { missing: 'the calibration of LOGS was made on other data' },
    );
    assert.deepEqual(
      calibrationFor(calibration, { label: 'LOGS', compressedSha256: sha }, { rounds: 8, warmupRounds: 3 }),
      { missing: 'the calibration of LOGS was made with 24 rounds a batch, this run uses 8' },
    );
    assert.match(
      (
        calibrationFor(calibration, { label: 'SILESIA', compressedSha256: sha }, { rounds: 24, warmupRounds: 3 }) as {
          missing: string;
        }
      ).missing,
      /has no SILESIA/,
    );
    assert.deepEqual(
      calibrationFor(undefined, { label: 'LOGS', compressedSha256: sha }, { rounds: 24, warmupRounds: 3 }),
      { missing: 'no calibration on this machine' },
    );
  });

  it('refuses a damaged or outdated file instead of treating it as absent silently', async () => {
    const dir = join(work, 'damaged');
    const path = calibrationPath(dir);
    await saveCalibration('LOGS', entry, path);
    await writeFile(path, '{"schemaVersion": 1, "datasets": {}}');
    const warnings: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = (chunk: string) => (warnings.push(String(chunk)), true);
    try {
      assert.equal(await findCalibration([dir]), undefined);
      await writeFile(path, '{ not json');
      assert.equal(await findCalibration([dir]), undefined);
    } finally {
      process.stderr.write = original;
    }
    assert.match(
      warnings.join(''),
      /has schemaVersion 1; this perf-lab reads version 2; verdicts use this run's own scatter/,
    );
    assert.match(warnings.join(''), /is unreadable/);
  });
});
