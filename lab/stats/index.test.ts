import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import jstat from 'jstat';
import {
  batchInterval,
  cycleRatios,
  decideChange,
  decideVerdict,
  megabytesPerSecond,
  pairedSpeedRatios,
  trimmedDf,
} from './index.js';

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
    assert.deepEqual(
      [...pairedSpeedRatios(decoder, reference)],
      [
        [1, 0.5],
        [2, 2],
      ],
    );
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
    assert.deepEqual(
      cycleRatios(
        new Map([
          [3, 2],
          [4, 0.5],
          [5, 3],
        ]),
        2,
      ),
      [1],
    );
  });
});

describe('megabytesPerSecond', () => {
  it('uses the median time and 10^6-byte megabytes', () => {
    assert.equal(megabytesPerSecond(2_000_000, [1e9, 2e9, 3e9]), 1);
  });
});

describe('decideVerdict', () => {
  const interval = (estimate: number, low: number, high: number) => ({
    estimate,
    low,
    high,
    confidence: 0.99,
    samples: 30,
    resamples: 1000,
    method: 'test',
  });
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

describe('batchInterval (the estimator both the stop rule and the report use)', () => {
  it('is the trimmed mean of per-batch medians: one wild batch out of ten barely moves it', () => {
    const calm = Array.from({ length: 9 }, (_, i) => [1 + (i - 4) * 0.001, 1 + (i - 4) * 0.001]);
    const interval = batchInterval([...calm, [1.3, 1.3]]);
    assert.ok(Math.abs(interval.estimate - 1.0005) < 0.001, JSON.stringify(interval));
    assert.ok(interval.low < 1 && interval.high > 1);
    assert.equal(interval.samples, 10);
    assert.equal(interval.confidence, 0.95);
  });

  it('is symmetric in log space: swapping A and B inverts it', () => {
    const clusters = [
      [1.02, 1.03],
      [1.0, 1.01],
      [1.03, 1.02],
      [1.01, 1.015],
    ];
    const ab = batchInterval(clusters);
    const ba = batchInterval(clusters.map((cluster) => cluster.map((ratio) => 1 / ratio)));
    assert.ok(Math.abs(ba.estimate - 1 / ab.estimate) < 1e-12);
    assert.ok(Math.abs(ba.low - 1 / ab.high) < 1e-12 && Math.abs(ba.high - 1 / ab.low) < 1e-12);
  });

  it('with two batches uses t with 1 degree of freedom (wide), not a bootstrap of two values', () => {
    const interval = batchInterval([[1.0], [1.02]], 0.95);
    // mean 1.01, SE 0.01, t(0.975, 1) = 12.7: ±12.7% in log space
    assert.ok(interval.low < 0.9 && interval.high > 1.12, JSON.stringify(interval));
  });
});

describe('decideChange (head vs base, against a stated tolerance)', () => {
  const policy = { confidence: 0.99, minimumEffect: 0.005, tolerance: 0.015 };
  const around = (center: number, spread: number, batches: number) =>
    Array.from({ length: batches }, (_, i) => [center * (1 + spread * ((i % 5) - 2))]);

  it('says "no change (±tolerance)" when the 90% interval lies inside the tolerance, and says its power', () => {
    const verdict = decideChange(around(1.0005, 0.002, 20), policy);
    assert.equal(verdict.kind, 'no change');
    assert.equal(verdict.threshold, 0.015);
    assert.equal(verdict.tolerance, 0.015);
    assert.match(verdict.reason ?? '', /90% interval inside the ±1\.5% tolerance \(two one-sided tests\)/);
    assert.equal(verdict.batches, 20);
    // Batch log-ratios −0.4% … +0.4% (SD 0.316%, SE 0.0707% over 20; 20% trimming keeps 12 of them, Yuen's SE from
    // the winsorized values): the 90% interval reaches |mean| + t₀.₉₅·SE and the power is (t₀.₉₉₅ + z₀.₉₅)·SE above
    // the 0.5% minimum effect; both by hand below.
    const se = verdict.standardError!;
    const df = trimmedDf(20);
    const resolved = Math.expm1(Math.log(1.0005) + jstat.jStat.studentt.inv(0.95, df) * se);
    assert.ok(Math.abs(verdict.resolvedMargin! - resolved) < 2e-4, `${verdict.resolvedMargin} vs ${resolved}`);
    const detectable = Math.expm1(
      Math.max(jstat.jStat.studentt.inv(0.995, df) * se, Math.log1p(0.005)) + 1.6448536 * se,
    );
    assert.ok(Math.abs(verdict.detectableEffect! - detectable) < 1e-9, `${verdict.detectableEffect} vs ${detectable}`);
    assert.equal(verdict.moreBatches, 0);
  });

  it('never says "no change" for an interval reaching past the tolerance, however noisy the run', () => {
    // 1.2% slower with ±0.8% batch scatter: not a clear regression at 99%, and the 90% interval reaches past −1.5%.
    const verdict = decideChange(around(0.988, 0.008, 8), policy);
    assert.equal(verdict.kind, 'inconclusive');
    assert.ok(verdict.resolvedMargin! > 0.015, `resolved ${verdict.resolvedMargin}`);
    assert.match(
      verdict.reason ?? '',
      new RegExp(
        String.raw`the 90% interval reaches \d+\.\d% from no change, past the ±1\.5% tolerance, and` +
          String.raw` the change is not clear at 99% \(8 batches\); about \d+ more batch(es)? would l` +
          String.raw`ikely decide it \(as a regression; raise bench\.maxBatches or bench\.budgetSecon` +
          String.raw`ds\)`,
      ),
    );
    assert.ok(verdict.moreBatches! > 0);
  });

  it('asks more of an interim look: a verdict decided at the final look may not be decided at an interim one', () => {
    const clusters = around(0.992, 0.004, 9);
    const final = decideChange(clusters, policy);
    const interim = decideChange(clusters, { ...policy, interim: { looks: 6 } });
    assert.equal(final.kind, 'regression');
    assert.equal(interim.kind, 'inconclusive');
    // The printed interval is the nominal one either way.
    assert.deepEqual(interim.interval, final.interval);
  });

  it('calls a clear 2% slowdown a regression, and a 2% speed-up an improvement', () => {
    assert.equal(decideChange(around(0.98, 0.002, 20), policy).kind, 'regression');
    assert.equal(decideChange(around(1.02, 0.002, 20), policy).kind, 'improvement');
  });

  it('calls a 46% slowdown seen in only two batches a regression (t with 1 df still excludes 1)', () => {
    // Two batches 0.6% apart, as in the full-scale pr-check that printed "inconclusive" for −46%.
    const verdict = decideChange(
      [
        [0.538, 0.54, 0.536],
        [0.544, 0.542, 0.546],
      ],
      policy,
    );
    assert.equal(verdict.kind, 'regression');
    assert.ok(verdict.interval.high < 1, JSON.stringify(verdict.interval));
    assert.equal(verdict.batches, 2);
    // …but two batches 46% and 5% slow do not make a verdict: the interval says so.
    assert.equal(decideChange([[0.54], [0.95]], policy).kind, 'inconclusive');
  });

  it('is inconclusive with one batch and no calibration (between-process variance unknown)', () => {
    const verdict = decideChange([[0.97, 0.971, 0.969]], policy);
    assert.equal(verdict.kind, 'inconclusive');
    assert.match(verdict.reason ?? '', /only one batch/);
    assert.equal(verdict.standardError, null);
  });

  it('counts a significant change smaller than minimumEffect as no change', () => {
    const verdict = decideChange(around(0.998, 0.0002, 20), policy);
    assert.ok(verdict.interval.high < 1, 'significant');
    assert.equal(verdict.kind, 'no change');
  });

  it('keeps its own scatter when it is the noisier, and pools with a noisier calibration', () => {
    const clusters = around(1.0, 0.004, 10);
    const own = decideChange(clusters, policy);
    const quiet = decideChange(clusters, {
      ...policy,
      calibration: { batchLogScale: 0.001, df: 30, source: 'quiet calibration' },
    });
    const loud = decideChange(clusters, {
      ...policy,
      calibration: { batchLogScale: 0.05, df: 30, source: 'loud calibration' },
    });
    assert.equal(quiet.standardError, own.standardError, 'the run is the noisier: its own scatter decides');
    assert.match(quiet.thresholdSource, /between-batch scatter of 10 batches \(noisier than the quiet calibration\)/);
    assert.ok(loud.standardError! > own.standardError!, 'a noisier calibration raises the SE');
    assert.match(loud.thresholdSource, /loud calibration pooled with the between-batch scatter of 10 batches/);
  });
});
