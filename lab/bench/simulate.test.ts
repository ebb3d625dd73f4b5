import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { samplingDefaults } from './config.js';
import { simulateChecks, thresholdFromNull } from './simulate.js';
import { readNoiseTraces, type NoiseTraces } from './traces.js';

/**
 * These tests replay real noise: A/A/A batches of libdeflate 1.23 recorded by
 * `perf-lab calibrate` on this project's development machine (x86_64, 2 shared
 * cores), quick-scale LOGS (80 batches) and SILESIA stand-in (60 batches), 24
 * rounds each. The threshold is calibrated on the even batches and every rate
 * is measured on the odd ones, so nothing is checked on the data it was fit to.
 */
const plan = {
  targetHalfWidth: samplingDefaults.targetHalfWidth,
  confidence: 0.95,
  minBatches: samplingDefaults.minBatches,
  maxBatches: samplingDefaults.maxBatches,
  budgetSeconds: samplingDefaults.budgetSeconds,
};
const verdictConfidence = samplingDefaults.verdictConfidence;

async function load(name: string): Promise<{ traces: NoiseTraces; calibration: number[]; heldOut: number[] }> {
  const traces = await readNoiseTraces(join(import.meta.dirname, 'fixtures', `noise-${name}-quick-x86_64.json`));
  const all = traces.batches.map((_, index) => index);
  return { traces, calibration: all.filter((i) => i % 2 === 0), heldOut: all.filter((i) => i % 2 === 1) };
}

for (const [name, checks] of [
  ['logs', 1000],
  ['silesia', 1000],
] as const) {
  describe(`sequential PR checks replayed on recorded ${name} noise`, async () => {
    const { traces, calibration, heldOut } = await load(name);
    const nullRun = await simulateChecks(traces, 300, { plan, verdictConfidence, threshold: 0, headSlowdown: 1, batchIndexes: calibration, seed: 1 });
    const threshold = thresholdFromNull(nullRun.absoluteEffects, 0.99);

    it('calibrates a threshold below 2% (else a 2% change could never be called)', () => {
      assert.ok(threshold > 0 && threshold < 0.015, `threshold ${threshold}`);
    });

    it(`keeps the A/A false-positive rate at or below 1% over ${checks} checks, with ≥95% CI coverage of 1`, async () => {
      const aa = await simulateChecks(traces, checks, { plan, verdictConfidence, threshold, headSlowdown: 1, batchIndexes: heldOut, seed: 2 });
      assert.equal(aa.checks, checks);
      assert.ok(aa.changeRate <= 0.01, `A/A false-positive rate ${aa.changeRate}`);
      assert.ok(aa.coverage >= 0.95, `coverage ${aa.coverage}`);
    });

    it('detects an injected 2% slowdown in at least 95% of checks at the default budget, with ≥95% coverage of the true ratio', async () => {
      const slow = await simulateChecks(traces, 300, { plan, verdictConfidence, threshold, headSlowdown: 1.02, batchIndexes: heldOut, seed: 3 });
      assert.ok(slow.regressionRate >= 0.95, `detection rate ${slow.regressionRate}`);
      assert.ok(slow.coverage >= 0.95, `coverage ${slow.coverage}`);
    });

    it('never calls an injected 2% slowdown an improvement', async () => {
      const slow = await simulateChecks(traces, 100, { plan, verdictConfidence, threshold, headSlowdown: 1.02, batchIndexes: heldOut, seed: 4 });
      assert.equal(slow.changeRate, slow.regressionRate);
    });
  });
}
