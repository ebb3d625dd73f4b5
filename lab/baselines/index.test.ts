import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeResults } from '../results/index.js';
import { sampleResults } from '../testing/sample-results.js';
import {
  baselineKey,
  compareWithBaselines,
  driftFailures,
  parseBaseline,
  updateBaselines,
  type BaselineFile,
  type Drift,
} from './index.js';
import { readJsonAs } from '../testing/json.js';
import { runPerfLab } from '../testing/cli.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'perf-lab-baselines-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('baseline update', () => {
  it('stores one file per key and appends new runs, never the same run twice', async () => {
    const store = join(dir, 'append');
    const first = await updateBaselines(sampleResults(), 'c'.repeat(64), store);
    assert.equal(first.length, 1);
    assert.match(first[0]!.path, /silesia-apple-m1-virtual-[0-9a-f]{16}\.json$/);
    await updateBaselines(sampleResults({ createdAt: '2026-11-26T10:00:00.000Z' }), 'd'.repeat(64), store);
    const again = await updateBaselines(
      sampleResults({ createdAt: '2026-11-26T10:00:00.000Z' }),
      'd'.repeat(64),
      store,
    );
    assert.equal(again[0]!.entries, 2);
    const stored = parseBaseline(JSON.parse(await readFile(first[0]!.path, 'utf8')), 'test');
    assert.deepEqual(stored.key, baselineKey(sampleResults(), sampleResults().datasets[0]!));
    assert.deepEqual(
      stored.entries.map((entry) => entry.resultsSha256[0]),
      ['c', 'd'],
    );
  });

  it('refuses results that failed verification, used a stand-in, or lack a ratio', async () => {
    await assert.rejects(
      updateBaselines(sampleResults({ ok: false }), 'e'.repeat(64), join(dir, 'x')),
      /failed verification/,
    );
    await assert.rejects(
      updateBaselines(sampleResults({ standIn: true }), 'e'.repeat(64), join(dir, 'x')),
      /SILESIA \(stand-in\) is a stand-in/,
    );
    // ok at the top, but one dataset says it failed: every dataset is checked.
    const inconsistent = sampleResults();
    inconsistent.datasets[0]!.verified = false;
    inconsistent.datasets[0]!.contenders[0]!.failure = 'wrong bytes: first difference at offset 12';
    await assert.rejects(
      updateBaselines(inconsistent, 'e'.repeat(64), join(dir, 'x')),
      /claim ok, but SILESIA: .*wrong bytes: first difference at offset 12/,
    );
    const noRatio = sampleResults();
    noRatio.datasets[0]!.headVsLibdeflate = null;
    await assert.rejects(
      updateBaselines(noRatio, 'e'.repeat(64), join(dir, 'x')),
      /no decoder\/libdeflate ratio for SILESIA/,
    );
    assert.deepEqual(
      await readdir(dir).then((names) => names.filter((name) => name === 'x')),
      [],
      'nothing was written',
    );
  });

  it('refuses to append to a file that holds another key', async () => {
    const store = join(dir, 'tampered');
    const [outcome] = await updateBaselines(sampleResults(), 'c'.repeat(64), store);
    const file = await readJsonAs<BaselineFile>(outcome!.path);
    file.key.cpuModel = 'Apple M3';
    await writeFile(outcome!.path, JSON.stringify(file));
    const before = await readFile(outcome!.path, 'utf8');
    await assert.rejects(
      updateBaselines(sampleResults({ createdAt: '2026-11-27T10:00:00.000Z' }), 'f'.repeat(64), store),
      /holds a baseline for a different key/,
    );
    assert.equal(await readFile(outcome!.path, 'utf8'), before, 'the file is left as it was');
  });

  it('keeps every write when updates run concurrently', async () => {
    const store = join(dir, 'concurrent');
    const writers = Array.from({ length: 8 }, (_, i) =>
      updateBaselines(sampleResults({ createdAt: `2026-11-2${i}T10:00:00.000Z` }), String(i).repeat(64), store),
    );
    await Promise.all(writers);
    const [name] = await readdir(store).then((names) => names.filter((n) => n.endsWith('.json')));
    const stored = parseBaseline(JSON.parse(await readFile(join(store, name!), 'utf8')), 'test');
    assert.equal(stored.entries.length, 8);
    assert.deepEqual(new Set(stored.entries.map((entry) => entry.resultsSha256[0])), new Set('01234567'));
  });
});

describe('baseline files are validated', () => {
  const valid = () => ({
    schemaVersion: 1,
    key: baselineKey(sampleResults(), sampleResults().datasets[0]!),
    entries: [
      {
        recordedAt: '2026-11-25T10:00:00.000Z',
        ratio: sampleResults().datasets[0]!.headVsLibdeflate!.interval,
        cycleRatios: [[0.5, 0.51]],
        batches: 1,
        rounds: 4,
        resultsSha256: 'c'.repeat(64),
      },
    ],
  });
  it('accepts a valid file', () => {
    assert.equal(parseBaseline(valid(), 'f').entries.length, 1);
  });
  const broken: Array<[string, (file: ReturnType<typeof valid>) => unknown, RegExp]> = [
    [
      'a missing field',
      (file) => ({ ...file, entries: [{ ...file.entries[0], rounds: undefined }] }),
      /entries\.0\.rounds/,
    ],
    ['a wrong version', (file) => ({ ...file, schemaVersion: 7 }), /schemaVersion 7; this perf-lab reads version 1/],
    [
      'a key with an extra field',
      (file) => ({ ...file, key: { ...file.key, branch: 'main' } }),
      /key: Unrecognized key: "branch"/,
    ],
    [
      'a key with a malformed hash',
      (file) => ({ ...file, key: { ...file.key, compressedSha256: 'xyz' } }),
      /key\.compressedSha256/,
    ],
    [
      'a non-finite ratio',
      (file) => ({ ...file, entries: [{ ...file.entries[0], cycleRatios: [[Number.POSITIVE_INFINITY]] }] }),
      /entries\.0\.cycleRatios\.0\.0/,
    ],
    [
      'NaN',
      (file) => ({ ...file, entries: [{ ...file.entries[0], cycleRatios: [[Number.NaN]] }] }),
      /entries\.0\.cycleRatios\.0\.0/,
    ],
    [
      'a negative ratio',
      (file) => ({ ...file, entries: [{ ...file.entries[0], cycleRatios: [[-0.5]] }] }),
      /entries\.0\.cycleRatios\.0\.0/,
    ],
    ['negative rounds', (file) => ({ ...file, entries: [{ ...file.entries[0], rounds: -4 }] }), /entries\.0\.rounds/],
    ['no entries', (file) => ({ ...file, entries: [] }), /entries/],
  ];
  for (const [what, mutate, message] of broken) {
    it(`rejects ${what}`, () => {
      assert.throws(
        () => parseBaseline(mutate(valid()), 'baselines/x.json'),
        (error: Error) => message.test(error.message) && /baselines\/x\.json/.test(error.message),
      );
    });
  }
});

describe('compare with baselines', () => {
  it('reports a missing baseline, no change for the same ratios, and a regression for 10% slower', async () => {
    const store = join(dir, 'compare');
    const thresholds = { SILESIA: { threshold: 0.01, source: 'test calibration' } };
    const [none] = await compareWithBaselines(sampleResults(), store, thresholds);
    assert.equal(none!.verdict, null);
    assert.match(none!.note, /no baseline for this key \(Apple M1 \(Virtual\), darwin\/arm64, libdeflate 1\.24/);
    await updateBaselines(sampleResults(), 'c'.repeat(64), store);
    const [same] = await compareWithBaselines(sampleResults(), store, thresholds);
    assert.equal(
      same!.verdict!.kind,
      'inconclusive',
      'identical ratios: drift 0, but 12 cycles cannot show it is inside ±1%',
    );
    assert.equal(same!.verdict!.interval.estimate, 1);
    const [slower] = await compareWithBaselines(sampleResults({ ratioScale: 0.9 }), store, thresholds);
    assert.equal(slower!.verdict!.kind, 'regression');
    assert.ok(Math.abs(slower!.verdict!.effect + 0.1) < 1e-9);
    const [otherCpu] = await compareWithBaselines(sampleResults({ cpuModel: 'Apple M3' }), store, thresholds);
    assert.equal(otherCpu!.verdict, null, 'another CPU is another key');
    // A head the integrity gate caught skipping the CRC32: no drift verdict, and never stored.
    const careless = sampleResults({ ratioScale: 1.5 });
    const why =
      'does not verify the CRC32 (a flipped trailer bit) — ' + 'accepted a corrupted member: ratio not comparable';
    careless.integrity = {
      memberBytes: 1,
      source: 'test',
      contenders: [
        {
          name: careless.head.name,
          cases: [{ case: 'crc32', outcome: 'accepted', detail: 'returned success' }],
          notComparable: why,
        },
      ],
    };
    const [notComparable] = await compareWithBaselines(careless, store, thresholds);
    assert.equal(notComparable!.verdict, null);
    assert.equal(notComparable!.note, `not comparable: ${careless.head.name} ${why}`);
    await assert.rejects(
      updateBaselines(careless, 'e'.repeat(64), store),
      /the integrity gate found .*does not verify the CRC32/,
    );
  });

  it('exits with code 4 on a regression with --fail-on regression, 0 with --fail-on never', async () => {
    const store = join(dir, 'cli');
    const baselinePath = join(dir, 'baseline-results.json');
    const currentPath = join(dir, 'current-results.json');
    await writeResults(baselinePath, sampleResults());
    await writeResults(currentPath, sampleResults({ ratioScale: 0.9, createdAt: '2026-11-26T10:00:00.000Z' }));
    const cli = (...args: string[]) => runPerfLab(args);
    const update = await cli('baseline', 'update', '--results', baselinePath, '--baselines', store);
    assert.equal(update.exitCode, 0, String(update.stderr));
    assert.match(String(update.stdout), /^SILESIA: .*silesia-apple-m1-virtual-[0-9a-f]{16}\.json \(1 entries\)$/m);
    const failing = await cli('compare', '--results', currentPath, '--baselines', store);
    assert.equal(failing.exitCode, 4);
    assert.match(String(failing.stdout), /\| SILESIA \| 0\.5\d\d \| 0\.4\d\d \| −10\.0% .* \| 🔴 regression \|/);
    // Drift has its own estimator, and the table says which.
    assert.match(String(failing.stdout), /Drift is the ratio of the two runs' pooled median cycle ratios/);
    const lenient = await cli('compare', '--results', currentPath, '--baselines', store, '--fail-on', 'never');
    assert.equal(lenient.exitCode, 0);
    const standIn = join(dir, 'stand-in.json');
    await writeResults(standIn, sampleResults({ standIn: true }));
    const refused = await cli('baseline', 'update', '--results', standIn, '--baselines', store);
    assert.equal(refused.exitCode, 1);
    assert.match(String(refused.stderr), /perf-lab: baseline update: SILESIA \(stand-in\) is a stand-in/);
  });
});

describe('--fail-on over drifts', () => {
  const drift = (dataset: string, kind: 'regression' | 'improvement' | 'no change' | 'inconclusive' | null) =>
    ({ dataset, verdict: kind && { kind }, baseline: null, current: null, note: '' }) as unknown as Drift;
  const drifts = [
    drift('SILESIA', 'regression'),
    drift('SOFTWARE', 'improvement'),
    drift('LOGS', 'no change'),
    drift('X', 'inconclusive'),
    drift('Y', null),
  ];
  it('fails on regressions only, on any change, or never', () => {
    const names = (failOn: 'regression' | 'change' | 'never') => driftFailures(drifts, failOn).map((d) => d.dataset);
    assert.deepEqual(names('regression'), ['SILESIA']);
    assert.deepEqual(names('change'), ['SILESIA', 'SOFTWARE']);
    assert.deepEqual(names('never'), []);
  });
});
