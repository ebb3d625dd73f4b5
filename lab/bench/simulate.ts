import { unsafeUniformIntDistribution, xoroshiro128plus } from 'pure-rand';
import { batchInterval, type Verdict, type VerdictPolicy } from '../stats/index.js';
import { sampleStandardDeviation } from 'simple-statistics';
import {
  comparisonCycles,
  contenderOrder,
  headVsBaseDecision,
  sampleSequentially,
  type SamplingPlan,
} from './sampling.js';
import { traceBatch, type NoiseTraces } from './traces.js';

export interface SimulatedCheck {
  verdict: Verdict;
  /** The reported 95% interval of head/base. */
  reportedInterval: { low: number; high: number };
  batches: number;
  targetMet: boolean;
}

export interface SimulationOptions {
  plan: SamplingPlan;
  policy: VerdictPolicy;
  /** Head is made slower by this factor (1.02 = 2% slowdown; 1 = A/A). */
  headSlowdown: number;
  /** Which recorded batches may be drawn (e.g. a held-out half). */
  batchIndexes: readonly number[];
  seed: number;
  /** Multiplies the recorded times of each worker slot: a fixed-position effect to inject (slot 0 starts first). */
  slotFactors?: readonly [number, number, number];
  /** Rotate the contenders through the worker slots across batches, as a real run does (default true). */
  rotate?: boolean;
}

/** The contenders in the order a real run hands them to the harness before rotation (see bench/run.ts). */
const CONFIG_ORDER = ['head', 'base', 'libdeflate'] as const;

/**
 * One simulated PR check on recorded noise: batches are drawn at random from
 * the recordings (each was a fresh set of three worker processes of one build),
 * the recorded slots get head, base and libdeflate in the order a real run
 * would give them in that batch, head gets the injected slowdown, and the same
 * sequential procedure and verdict as a real run decide. Time is the recorded
 * wall time of the drawn batches.
 */
async function simulateCheck(traces: NoiseTraces, options: SimulationOptions): Promise<SimulatedCheck> {
  const rng = xoroshiro128plus(options.seed);
  let clock = 0;
  const { calibration, ...policy } = options.policy;
  // The decision `bench` makes (bench/run.ts takes it from the same function): stop rule and verdict.
  const decision = headVsBaseDecision(
    { head: 'head', base: 'base', libdeflate: 'libdeflate' },
    3,
    calibration ?? { missing: 'no calibration (replay)' },
    policy,
    options.plan,
  );
  const outcome = await sampleSequentially(
    async (batchNumber) => {
      const index = options.batchIndexes[unsafeUniformIntDistribution(0, options.batchIndexes.length - 1, rng)]!;
      const order = options.rotate === false ? [0, 1, 2] : contenderOrder(batchNumber, 3);
      const names = order.map((role) => CONFIG_ORDER[role]!) as unknown as [string, string, string];
      clock += traces.batches[index]!.wallSeconds;
      return traceBatch(traces, index, names, { head: options.headSlowdown }, options.slotFactors);
    },
    options.plan,
    decision.rule,
    () => clock,
  );
  const reported = batchInterval(comparisonCycles(outcome.batches, 'head', 'base', 3), 0.95);
  return {
    verdict: decision.verdict(outcome.batches),
    reportedInterval: { low: reported.low, high: reported.high },
    batches: outcome.batches.length,
    targetMet: outcome.targetMet,
  };
}

export interface SimulationSummary {
  checks: number;
  /** Share of checks whose verdict was regression or improvement. */
  changeRate: number;
  regressionRate: number;
  noChangeRate: number;
  /** Share of checks that could not decide. */
  inconclusiveRate: number;
  /** Share of checks whose reported 95% interval held the true ratio (1 / headSlowdown). */
  coverage: number;
  /** Share of checks whose verdict interval (policy.confidence) held the true ratio. */
  verdictCoverage: number;
  /** Mean of log(estimate) − log(truth): a systematic bias (e.g. a slot effect that did not cancel). */
  meanLogBias: number;
  /** Its standard error over the checks. */
  meanLogBiasSe: number;
  meanBatches: number;
  targetMetRate: number;
  /** Mean smallest slowdown the checks would have caught with 95% probability (their power). */
  meanMargin: number;
}

export async function simulateChecks(
  traces: NoiseTraces,
  checks: number,
  options: Omit<SimulationOptions, 'seed'> & { seed?: number },
): Promise<SimulationSummary> {
  const truth = 1 / options.headSlowdown;
  const counts = { regression: 0, improvement: 0, 'no change': 0, inconclusive: 0 };
  let covered = 0;
  let verdictCovered = 0;
  let batches = 0;
  let targetMet = 0;
  let margins = 0;
  const logErrors: number[] = [];
  for (let check = 0; check < checks; check++) {
    const result = await simulateCheck(traces, { ...options, seed: (options.seed ?? 1) * 100_003 + check });
    counts[result.verdict.kind]++;
    if (result.reportedInterval.low <= truth && truth <= result.reportedInterval.high) covered++;
    if (result.verdict.interval.low <= truth && truth <= result.verdict.interval.high) verdictCovered++;
    batches += result.batches;
    if (result.targetMet) targetMet++;
    margins += result.verdict.detectableEffect ?? 0;
    logErrors.push(Math.log1p(result.verdict.effect) - Math.log(truth));
  }
  const meanLogBias = logErrors.reduce((sum, value) => sum + value, 0) / checks;
  return {
    checks,
    changeRate: (counts.regression + counts.improvement) / checks,
    regressionRate: counts.regression / checks,
    noChangeRate: counts['no change'] / checks,
    inconclusiveRate: counts.inconclusive / checks,
    coverage: covered / checks,
    verdictCoverage: verdictCovered / checks,
    meanLogBias,
    meanLogBiasSe: (checks > 1 ? sampleStandardDeviation(logErrors) : 0) / Math.sqrt(checks),
    meanBatches: batches / checks,
    targetMetRate: targetMet / checks,
    meanMargin: margins / checks,
  };
}
