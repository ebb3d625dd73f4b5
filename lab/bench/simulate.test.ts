import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { batchLogScaleFromTraces, calibrateFromTraces } from './calibrate.js';
import { samplingDefaults } from './config.js';
import { simulateChecks, type SimulationOptions } from './simulate.js';
import { contenderOrder, plannedLooks, sampleSequentially, widthStopRule } from './sampling.js';
import { readNoiseTraces, type NoiseTraces } from './traces.js';

/**
 * These tests replay real noise: A/A/A batches of libdeflate 1.23 recorded by
 * `perf-lab calibrate` on this project's development machine (x86_64, 2 shared
 * cores), quick-scale LOGS (80 batches) and SILESIA stand-in (60 batches), 24
 * rounds each. The calibration floor comes from the even batches and every rate
 * is measured on the odd ones, so nothing is checked on the data it was fit to.
 */
const plan = {
  targetHalfWidth: samplingDefaults.targetHalfWidth,
  confidence: 0.95,
  minBatches: samplingDefaults.minBatches,
  maxBatches: samplingDefaults.maxBatches,
  budgetSeconds: samplingDefaults.budgetSeconds,
};
const policy = {
  confidence: samplingDefaults.verdictConfidence,
  minimumEffect: samplingDefaults.minimumEffect,
  tolerance: samplingDefaults.tolerance,
};

async function load(name: string): Promise<{ traces: NoiseTraces; calibration: NoiseTraces; heldOut: number[] }> {
  const traces = await readNoiseTraces(join(import.meta.dirname, 'fixtures', `noise-${name}-quick-x86_64.json`));
  const all = traces.batches.map((_, index) => index);
  const calibration = { ...traces, batches: traces.batches.filter((_, index) => index % 2 === 0) };
  return { traces, calibration, heldOut: all.filter((i) => i % 2 === 1) };
}

for (const [name, checks] of [
  ['logs', 600],
  ['silesia', 600],
] as const) {
  describe(`sequential PR checks replayed on recorded ${name} noise`, async () => {
    const { traces, calibration, heldOut } = await load(name);
    const floor = { ...batchLogScaleFromTraces(calibration), source: 'even batches' };
    const options = (overrides: Partial<SimulationOptions>): Omit<SimulationOptions, 'seed'> => ({
      plan,
      policy: { ...policy, calibration: floor },
      headSlowdown: 1,
      batchIndexes: heldOut,
      ...overrides,
    });

    // With a stored calibration (a machine that ran `perf-lab calibrate`), and without (a fresh hosted runner:
    // the in-job A/A of head/libdeflate and base/libdeflate is the floor).
    for (const [how, withFloor] of [
      ['calibrated', true],
      ['uncalibrated', false],
    ] as const) {
      const policyFor = withFloor ? { ...policy, calibration: floor } : policy;
      it(
        `${how}: says "no change" for ≥90% of ${checks} ` + 'A/A checks, a change for ≤1%, with ≥95% coverage',
        async () => {
          const aa = await simulateChecks(traces, checks, { ...options({}), policy: policyFor, seed: 2 });
          assert.equal(aa.checks, checks);
          assert.ok(aa.noChangeRate >= 0.9, `no-change rate ${aa.noChangeRate}`);
          assert.ok(aa.changeRate <= 0.01, `A/A false-positive rate ${aa.changeRate}`);
          assert.ok(aa.verdictCoverage >= 0.95, `coverage ${aa.verdictCoverage}`);
          // The power each check reports: a slowdown it would have caught 95% of the time, above the minimum effect.
          assert.ok(aa.meanMargin > policy.minimumEffect && aa.meanMargin < 0.03, `mean detectable ${aa.meanMargin}`);
        },
      );

      it(`${how}: calls a 2% slowdown a regression in ≥95% of checks and "no change" in ≤1%`, async () => {
        const slow = await simulateChecks(traces, 300, {
          ...options({ headSlowdown: 1.02 }),
          policy: policyFor,
          seed: 3,
        });
        assert.ok(slow.regressionRate >= 0.95, `detection rate ${slow.regressionRate}`);
        // At the ±1.5% tolerance, "no change" needs the 90% interval inside ±1.5%: ≤ 1 check in 100 at a true 2%.
        assert.ok(slow.noChangeRate <= 0.01, `no change for a 2% slowdown: ${slow.noChangeRate}`);
        assert.ok(slow.verdictCoverage >= 0.95, `coverage ${slow.verdictCoverage}`);
        assert.equal(slow.changeRate, slow.regressionRate, 'a slowdown is never called an improvement');
      });

      it(`${how}: with a 1% tolerance, calls a 1% slowdown "no change" in at most the 5% TOST allows`, async () => {
        const atTolerance = await simulateChecks(traces, 300, {
          ...options({ headSlowdown: 1.01 }),
          policy: { ...policyFor, tolerance: 0.01 },
          seed: 4,
        });
        // A slowdown exactly at the tolerance is the TOST's boundary: α = 5% by construction, whatever the noise.
        assert.ok(atTolerance.noChangeRate <= 0.05, `no change at the tolerance: ${atTolerance.noChangeRate}`);
        assert.ok(atTolerance.changeRate === atTolerance.regressionRate);
      });
    }

    it('cancels a worker-slot bias by rotating the contenders, which a fixed order does not', async () => {
      // The first slot made 1% slower in every batch: a fixed-position effect like the one measured end to end.
      const slotFactors = [1.01, 1, 1] as const;
      const rotated = await simulateChecks(traces, 300, { ...options({ slotFactors }), seed: 5 });
      const fixed = await simulateChecks(traces, 300, { ...options({ slotFactors, rotate: false }), seed: 5 });
      // Fixed order: head always sits in slot 0, so its estimate is biased by ≈ −1%.
      assert.ok(fixed.meanLogBias < -0.008, `fixed-order bias ${fixed.meanLogBias}`);
      assert.ok(
        Math.abs(rotated.meanLogBias) < 0.002,
        `rotated bias ${rotated.meanLogBias} ± ${rotated.meanLogBiasSe}`,
      );
      assert.ok(rotated.changeRate <= 0.02, `rotated A/A false changes ${rotated.changeRate}`);
    });
  });
}

describe('calibration from recorded noise', () => {
  it('takes the noisiest subject as the floor and reports what a PR check here would say', async () => {
    const logs = await readNoiseTraces(join(import.meta.dirname, 'fixtures', 'noise-logs-quick-x86_64.json'));
    const quiet = { ...logs, batches: logs.batches.slice(0, 40) };
    // A noisier subject: every batch's aa-1 process 2% slower or faster, alternately (a per-process bias).
    const noisy = {
      ...logs,
      batches: logs.batches.slice(40).map((batch, index) => ({
        ...batch,
        samples: batch.samples.map((slot, at) =>
          at === 0 ? slot.map(([round, ns]) => [round, ns * (index % 2 ? 1.02 : 0.98)] as [number, number]) : slot,
        ),
      })),
    };
    const entry = await calibrateFromTraces(
      new Map([
        ['libdeflate', quiet],
        ['head', noisy],
      ]),
      plan,
      policy,
      100,
    );
    assert.ok(entry.subjects.head!.batchLogScale > entry.subjects.libdeflate!.batchLogScale);
    assert.equal(entry.batchLogScale, entry.subjects.head!.batchLogScale);
    assert.equal(entry.rounds, logs.roundsPerBatch);
    assert.equal(entry.compressedSha256, logs.dataset.compressedSha256);
    assert.ok(
      entry.simulation.meanMargin > 0.01,
      `a 2% per-process bias must widen the margin: ${entry.simulation.meanMargin}`,
    );
  });
});

describe('worker-slot rotation', () => {
  it('puts each of 3 contenders in each slot once every 3 batches, and uses all 6 orders every 6', () => {
    for (let start = 0; start < 12; start += 3) {
      const orders = [0, 1, 2].map((offset) => contenderOrder(start + offset, 3));
      for (let slot = 0; slot < 3; slot++)
        assert.deepEqual(
          orders.map((order) => order[slot]).sort(),
          [0, 1, 2],
          `batches ${start}…${start + 2}, slot ${slot}`,
        );
    }
    const six = new Set([0, 1, 2, 3, 4, 5].map((batch) => contenderOrder(batch, 3).join()));
    assert.equal(six.size, 6);
    assert.deepEqual(
      [0, 1, 2, 3].map((batch) => contenderOrder(batch, 2)),
      [
        [0, 1],
        [1, 0],
        [0, 1],
        [1, 0],
      ],
    );
  });

  it('plans one early look per whole rotation from minBatches to maxBatches (6 for the defaults)', () => {
    // Batches 6, 9, 12, 15, 18, 21.
    assert.equal(plannedLooks({ minBatches: 6, maxBatches: 21 }, 3), 6);
    // Two contenders, 2 to 5 batches: 2 and 4. One batch only: one look.
    assert.equal(plannedLooks({ minBatches: 2, maxBatches: 5 }, 2), 2);
    assert.equal(plannedLooks({ minBatches: 1, maxBatches: 1 }, 3), 1);
  });

  it('stops on target only after whole rotations', async () => {
    let batch = 0;
    // Six rounds (two full rotation cycles of three contenders), slightly different each batch.
    const rounds = (ns: number) => new Map([0, 1, 2, 3, 4, 5].map((round) => [round, ns + round]));
    const quiet = () => ({
      samplesNs: new Map([
        ['a', rounds(100 + batch)],
        ['b', rounds(100)],
        ['c', rounds(100)],
      ]),
      failures: new Map<string, string>(),
    });
    const outcome = await sampleSequentially(
      async () => (batch++, quiet()),
      { ...plan, minBatches: 2, targetHalfWidth: 0.5 },
      widthStopRule({ numerator: 'a', denominator: 'b', contenders: 3 }, 0.5),
      () => batch,
    );
    assert.equal(outcome.stoppedBecause, 'target met');
    assert.equal(outcome.batches.length, 3);
  });
});
