import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { xoroshiro128plus } from 'pure-rand';
import { changePoints, historyEvents } from './changes.js';
import { appendHistory, readHistory, type HistoryRecord } from './store.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'perf-lab-history-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

function record(day: number, overrides: Partial<HistoryRecord> = {}): HistoryRecord {
  const estimate = overrides.ratio?.estimate ?? 0.86;
  return {
    v: 1,
    date: `2026-${String(1 + Math.floor(day / 28)).padStart(2, '0')}-${String(1 + (day % 28)).padStart(2, '0')}`,
    recordedAt: '2026-11-25T03:00:00.000Z',
    cpuModel: 'Apple M1 (Virtual)',
    toolchain: 'nightly',
    rustc: 'rustc 1.95.0-nightly',
    llvm: '22.1.2',
    libdeflate: '1.24',
    cc: 'Apple clang 15',
    dataset: 'SILESIA',
    datasetSha256: 'a'.repeat(64),
    ratio: { estimate, low: estimate * 0.99, high: estimate * 1.01 },
    criticalPathCycles: null,
    ...overrides,
  };
}

/** A deterministic normal-ish draw (sum of uniforms) for synthetic noise. */
function noiseSource(seed: number) {
  const rng = xoroshiro128plus(seed);
  return () => {
    let sum = 0;
    for (let k = 0; k < 6; k++) sum += (rng.unsafeNext() >>> 0) / 2 ** 32;
    return (sum - 3) / Math.sqrt(0.5);
  };
}

describe('history store', () => {
  it('appends records, skips a night already stored, and reads them back', async () => {
    const path = join(work, 'append.jsonl');
    assert.equal((await appendHistory(path, [record(0), record(1)])).length, 2);
    assert.equal(
      (await appendHistory(path, [record(1), record(2)])).length,
      1,
      'the rerun of night 1 is not appended again',
    );
    assert.deepEqual(
      (await readHistory(path)).map((r) => r.date),
      ['2026-01-01', '2026-01-02', '2026-01-03'],
    );
  });

  it('appends on a line of its own when the last line lacks its newline (the file stays readable)', async () => {
    const path = join(work, 'no-final-newline.jsonl');
    await appendHistory(path, [record(0)]);
    await writeFile(path, (await readFile(path, 'utf8')).trimEnd());
    assert.equal((await appendHistory(path, [record(1)])).length, 1);
    assert.deepEqual(
      (await readHistory(path)).map((r) => r.date),
      ['2026-01-01', '2026-01-02'],
    );
  });

  it('keeps every record when writers append concurrently', async () => {
    const path = join(work, 'concurrent.jsonl');
    await Promise.all(
      Array.from({ length: 12 }, (_, i) => appendHistory(path, [record(i, { toolchain: `1.${80 + i}` })])),
    );
    const records = await readHistory(path);
    assert.equal(records.length, 12);
    assert.equal(new Set(records.map((r) => r.toolchain)).size, 12);
  });

  it('refuses a truncated, malformed or duplicated line, naming it, and never appends to such a file', async () => {
    const path = join(work, 'broken.jsonl');
    await appendHistory(path, [record(0), record(1)]);
    const good = await readFile(path, 'utf8');
    await writeFile(path, `${good}${JSON.stringify(record(2)).slice(0, 40)}\n`);
    await assert.rejects(readHistory(path), /broken\.jsonl:3 is not a JSON record \(truncated or corrupt\)/);
    await assert.rejects(appendHistory(path, [record(3)]), /broken\.jsonl:3/);
    assert.equal((await readFile(path, 'utf8')).split('\n').length, 4, 'nothing was appended');
    await writeFile(path, `${good}${good.split('\n')[0]}\n`);
    await assert.rejects(readHistory(path), /broken\.jsonl:3 duplicates line 1 \(2026-01-01, nightly, SILESIA\)/);
    await writeFile(
      path,
      `${good}${JSON.stringify({ ...record(5), ratio: { estimate: 0.9, low: 0.95, high: 0.99 } })}\n`,
    );
    await assert.rejects(
      readHistory(path),
      /broken\.jsonl:3 is not a valid record: ratio: ratio must satisfy low ≤ estimate ≤ high/,
    );
  });
});

describe('change-point detection', () => {
  it('finds a known 3% step in noisy nightly ratios, where it is', () => {
    const draw = noiseSource(11);
    const values = Array.from({ length: 40 }, (_, i) => (i < 25 ? 0.86 : 0.86 * 1.03) * Math.exp(0.005 * draw()));
    const found = changePoints(
      values,
      values.map(() => 0.005),
    );
    assert.equal(found.length, 1);
    assert.ok(Math.abs(found[0]!.index - 25) <= 1, `found at ${found[0]!.index}`);
    assert.ok(Math.abs(found[0]!.relativeChange - 0.03) < 0.01);
  });

  it('finds two steps, up then down', () => {
    const draw = noiseSource(5);
    const values = Array.from(
      { length: 60 },
      (_, i) => (i < 20 ? 0.9 : i < 40 ? 0.95 : 0.88) * Math.exp(0.004 * draw()),
    );
    assert.deepEqual(
      changePoints(
        values,
        values.map(() => 0.004),
      ).map((c) => Math.round(c.index / 10) * 10),
      [20, 40],
    );
  });

  it('stays quiet on flat noisy series (false alarms in at most 2% of 200 series)', () => {
    let alarms = 0;
    for (let seed = 0; seed < 200; seed++) {
      const draw = noiseSource(1000 + seed);
      const values = Array.from({ length: 60 }, () => 0.86 * Math.exp(0.01 * draw()));
      if (
        changePoints(
          values,
          values.map(() => 0.01),
        ).length > 0
      )
        alarms++;
    }
    assert.ok(alarms <= 4, `${alarms} false alarms`);
  });

  it('turns the history into events: a move, a new LLVM major, the gap closing', () => {
    const records = [
      ...Array.from({ length: 10 }, (_, i) => record(i, { llvm: '21.1.0' })),
      ...Array.from({ length: 10 }, (_, i) =>
        record(10 + i, { llvm: '22.1.2', ratio: { estimate: 1.01, low: 1.0, high: 1.02 } }),
      ),
    ];
    const events = historyEvents(records);
    assert.deepEqual(events.map((e) => e.kind).sort(), ['gap closed', 'new LLVM major', 'ratio moved']);
    assert.ok(
      events.every((e) => e.date === '2026-01-11'),
      JSON.stringify(events),
    );
    assert.match(
      events.find((e) => e.kind === 'ratio moved')!.text,
      /ratio 0\.860 → 1\.010 \(\+17\.4%\) from 2026-01-11 \(rustc 1\.95\.0-nightly, LLVM 22\.1\.2\)/,
    );
  });
});
