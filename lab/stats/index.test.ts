import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unsafeUniformIntDistribution, xoroshiro128plus } from 'pure-rand';
import { clusteredMedianInterval, cycleRatios, decideVerdict, medianInterval, megabytesPerSecond, pairedSpeedRatios } from './index.js';

describe('pairedSpeedRatios', () => {
  it('pairs rounds by number and gives reference time / decoder time', () => {
    const decoder = new Map([
      [3, 200],
      [1, 100],
      [2, 50],
    ]);
    const reference = new Map([
      [1, 50],
      [2, 100],
      [4, 10],
    ]);
    assert.deepEqual([...pairedSpeedRatios(decoder, reference)], [
      [1, 0.5],
      [2, 2],
    ]);
  });
});

describe('cycleRatios', () => {
  it('cancels an order effect: the contender that ran just before gets a bonus', () => {
    // True ratio 1.1; the round's first contender (which ran last in the round before) is 10% faster.
    const roundRatios = new Map<number, number>();
    for (let round = 2; round < 12; round++) roundRatios.set(round, round % 2 === 0 ? 1.1 * 1.1 : 1.1 / 1.1);
    const cycles = cycleRatios(roundRatios, 2);
    assert.equal(cycles.length, 5);
    for (const ratio of cycles) assert.ok(Math.abs(ratio - 1.1) < 1e-12);
  });

  it('counts cycles from the first measured round and drops an incomplete last one', () => {
    assert.deepEqual(cycleRatios(new Map([[3, 2], [4, 0.5], [5, 3]]), 2), [1]);
  });
});

describe('medianInterval', () => {
  const values = [1.01, 0.98, 1.03, 0.99, 1.0, 1.02, 0.97, 1.05, 0.96, 1.01, 1.0];

  it('is reproducible for a seed and brackets the median', () => {
    const a = medianInterval(values, { seed: 42 });
    const b = medianInterval(values, { seed: 42 });
    assert.deepEqual(a, b);
    assert.equal(a.estimate, 1.0); // sorted: 0.96 … 1.0, 1.0 (6th of 11) … 1.05
    assert.ok(a.low <= a.estimate && a.estimate <= a.high);
    assert.ok(a.high - a.low > 0 && a.high - a.low < 0.1);
  });

  it('collapses to the value when every sample is equal', () => {
    const interval = medianInterval([2, 2, 2, 2], { seed: 1 });
    assert.deepEqual([interval.low, interval.estimate, interval.high], [2, 2, 2]);
  });

  it('scales with the data (a unit change moves the interval, not its shape)', () => {
    const base = medianInterval(values, { seed: 7 });
    const scaled = medianInterval(values.map((value) => value * 1000), { seed: 7 });
    for (const key of ['estimate', 'low', 'high'] as const) assert.ok(Math.abs(scaled[key] - base[key] * 1000) < 1e-9);
  });

  it('covers the true median about 95% of the time on skewed, noisy data', () => {
    // Log-normal-ish noise with true median 1: exp of a symmetric variable.
    const rng = xoroshiro128plus(2024);
    const draw = () => {
      let sum = 0;
      for (let k = 0; k < 4; k++) sum += unsafeUniformIntDistribution(-1000, 1000, rng) / 1000;
      return Math.exp(sum * 0.05);
    };
    let covered = 0;
    const trials = 300;
    for (let t = 0; t < trials; t++) {
      const sample = Array.from({ length: 31 }, draw);
      const interval = medianInterval(sample, { seed: t, resamples: 2000 });
      if (interval.low <= 1 && 1 <= interval.high) covered++;
    }
    const coverage = covered / trials;
    assert.ok(coverage >= 0.9 && coverage <= 0.99, `coverage ${coverage}`);
  });

  it('refuses empty or non-finite input', () => {
    assert.throws(() => medianInterval([]), /at least one value/);
    assert.throws(() => medianInterval([1, Number.NaN]), /finite/);
  });
});

describe('megabytesPerSecond', () => {
  it('uses the median time and 10^6-byte megabytes', () => {
    assert.equal(megabytesPerSecond(2_000_000, [1e9, 2e9, 3e9]), 1);
  });
});

describe('clusteredMedianInterval', () => {
  it('widens the interval when batches disagree (a per-process bias), unlike pooling', () => {
    const clusters = [
      [1.04, 1.041, 1.039, 1.04],
      [0.96, 0.961, 0.959, 0.96],
      [1.0, 1.001, 0.999, 1.0],
    ];
    const clustered = clusteredMedianInterval(clusters, { seed: 3 });
    const pooled = medianInterval(clusters.flat(), { seed: 3 });
    assert.ok(clustered.high - clustered.low > pooled.high - pooled.low);
    assert.ok(clustered.low < 0.97 && clustered.high > 1.03, JSON.stringify(clustered));
    assert.equal(clustered.estimate, pooled.estimate);
  });

  it('is reproducible and symmetric: swapping A and B inverts the interval', () => {
    const clusters = [
      [1.02, 1.03, 1.01],
      [1.0, 1.04, 1.02],
      [1.03, 1.01, 1.02],
    ];
    const ab = clusteredMedianInterval(clusters, { seed: 9 });
    assert.deepEqual(ab, clusteredMedianInterval(clusters, { seed: 9 }));
    const ba = clusteredMedianInterval(clusters.map((cluster) => cluster.map((ratio) => 1 / ratio)), { seed: 9 });
    assert.ok(Math.abs(ba.estimate - 1 / ab.estimate) < 1e-12);
    assert.ok(Math.abs(ba.low - 1 / ab.high) < 1e-12 && Math.abs(ba.high - 1 / ab.low) < 1e-12);
  });
});

describe('decideVerdict', () => {
  const interval = (estimate: number, low: number, high: number) => ({ estimate, low, high, confidence: 0.99, samples: 30, resamples: 1000, method: 'test' });
  it('calls a change only outside both the interval and the threshold', () => {
    assert.equal(decideVerdict(interval(0.97, 0.96, 0.98), 0.01, 't').kind, 'regression');
    assert.equal(decideVerdict(interval(1.03, 1.02, 1.04), 0.01, 't').kind, 'improvement');
    assert.equal(decideVerdict(interval(0.995, 0.99, 0.999), 0.01, 't').kind, 'no change');
    assert.equal(decideVerdict(interval(0.98, 0.95, 1.01), 0.01, 't').kind, 'inconclusive');
    assert.equal(decideVerdict(interval(0.995, 0.992, 0.998), 0, 'none').kind, 'regression');
    const verdict = decideVerdict(interval(0.97, 0.96, 0.98), 0.01, 'A/A');
    assert.ok(Math.abs(verdict.effect + 0.03) < 1e-12);
    assert.equal(verdict.thresholdSource, 'A/A');
  });
});
