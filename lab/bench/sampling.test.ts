import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sampleDatasets, type BatchSamples, type StopRule } from './sampling.js';

/** A batch of two contenders, six rounds each (a fake harness run). */
function batch(): BatchSamples {
  const rounds = new Map([0, 1, 2, 3, 4, 5].map((round) => [round, 100 + round]));
  return {
    samplesNs: new Map([
      ['a', rounds],
      ['b', rounds],
    ]),
    failures: new Map(),
  };
}

/** A stop rule answered once `after` batches have run (never, with Infinity). */
const answeredAfter = (after: number): StopRule => ({
  contenders: 2,
  answered: 'verdict decided',
  check: (batches) => ({ answered: batches.length >= after, halfWidth: null }),
});

describe('sampling several datasets in one budget', () => {
  it(
    'gives the time a decided dataset left over to one ' + 'that ran out of time undecided, resuming its batches',
    async () => {
      let clock = 0;
      // Every batch takes 1 s of the fake clock.
      const runBatch = async () => ((clock += 1), batch());
      const plan = { targetHalfWidth: 0.005, confidence: 0.95, minBatches: 2, maxBatches: 100, budgetSeconds: 10 };
      const outcomes = await sampleDatasets(
        [
          { runBatch, rule: answeredAfter(Infinity) },
          { runBatch, rule: answeredAfter(4) },
          { runBatch, rule: answeredAfter(Infinity) },
        ],
        plan,
        () => clock,
      );
      // First pass: 10 batches (budget), 4 (decided: 6 s left over), 10 (budget). Second pass: the first dataset
      // resumes with the 6 s left and runs 6 more batches; nothing is left for the third.
      assert.deepEqual(
        outcomes.map((outcome) => [outcome.batches.length, outcome.stoppedBecause, outcome.elapsedSeconds]),
        [
          [16, 'time budget', 16],
          [4, 'verdict decided', 4],
          [10, 'time budget', 10],
        ],
      );
      assert.equal(clock, 30, 'the three datasets together stay within their 3 × 10 s');
    },
  );

  it('resumes an undecided dataset until its verdict is decided, stopping only after whole rotations', async () => {
    let clock = 0;
    const runBatch = async () => ((clock += 1), batch());
    const plan = { targetHalfWidth: 0.005, confidence: 0.95, minBatches: 2, maxBatches: 100, budgetSeconds: 5 };
    const outcomes = await sampleDatasets(
      [
        { runBatch, rule: answeredAfter(7) },
        { runBatch, rule: answeredAfter(2) },
      ],
      plan,
      () => clock,
    );
    // 5 batches (budget), then 2 (decided, 3 s left); resumed: batch 6 is not yet decided, 7 is but is not a whole
    // rotation of two contenders, 8 is.
    assert.deepEqual(
      outcomes.map((outcome) => [outcome.batches.length, outcome.stoppedBecause]),
      [
        [8, 'verdict decided'],
        [2, 'verdict decided'],
      ],
    );
  });
});
