import { unsafeUniformIntDistribution, xoroshiro128plus } from 'pure-rand';
import { quantileSorted } from 'simple-statistics';
import { clusteredMedianInterval, decideVerdict, type Verdict } from '../stats/index.js';
import { comparisonCycles, sampleSequentially, type SamplingPlan } from './sampling.js';
import { traceBatch, type NoiseTraces } from './traces.js';

export interface SimulatedCheck {
  /** Head/base speed ratio estimate and its intervals. */
  verdict: Verdict;
  coverageInterval: { low: number; high: number };
  batches: number;
  targetMet: boolean;
}

export interface SimulationOptions {
  plan: SamplingPlan;
  /** Confidence of the interval the verdict is decided on. */
  verdictConfidence: number;
  threshold: number;
  /** Head is made slower by this factor (1.02 = 2% slowdown; 1 = A/A). */
  headSlowdown: number;
  /** Which recorded batches may be drawn (e.g. a held-out half). */
  batchIndexes: readonly number[];
  seed: number;
  resamples?: number;
}

const ROLES = ['base', 'head', 'libdeflate'] as const;

/**
 * One simulated PR check on recorded noise: batches are drawn at random from
 * the recordings (each was a fresh set of worker processes), the three
 * recorded processes get the roles base/head/libdeflate in a random order, head
 * gets the injected slowdown, and the same sequential procedure and verdict as
 * a real run decide. Time is the recorded wall time of the drawn batches.
 */
export async function simulateCheck(traces: NoiseTraces, options: SimulationOptions): Promise<SimulatedCheck> {
  const rng = xoroshiro128plus(options.seed);
  let clock = 0;
  const outcome = await sampleSequentially(
    async () => {
      const index = options.batchIndexes[unsafeUniformIntDistribution(0, options.batchIndexes.length - 1, rng)]!;
      const order = [0, 1, 2];
      for (let i = 2; i > 0; i--) {
        const j = unsafeUniformIntDistribution(0, i, rng);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      const names = order.map((slot) => ROLES[slot]!) as unknown as [string, string, string];
      clock += traces.batches[index]!.wallSeconds;
      return traceBatch(traces, index, names, { head: options.headSlowdown });
    },
    options.plan,
    { numerator: 'head', denominator: 'base', contenders: 3 },
    () => clock,
  );
  const cycles = comparisonCycles(outcome.batches, 'head', 'base', 3);
  const resamples = options.resamples ?? 1000;
  const verdictInterval = clusteredMedianInterval(cycles, { confidence: options.verdictConfidence, resamples, seed: options.seed });
  const coverage = clusteredMedianInterval(cycles, { confidence: 0.95, resamples, seed: options.seed + 1 });
  return {
    verdict: decideVerdict(verdictInterval, options.threshold, 'simulation'),
    coverageInterval: { low: coverage.low, high: coverage.high },
    batches: outcome.batches.length,
    targetMet: outcome.targetMet,
  };
}

export interface SimulationSummary {
  checks: number;
  /** Share of checks whose verdict was regression or improvement. */
  changeRate: number;
  regressionRate: number;
  /** Share of checks that could not decide. */
  inconclusiveRate: number;
  /** Share of checks whose 95% interval held the true ratio (1 / headSlowdown). */
  coverage: number;
  meanBatches: number;
  targetMetRate: number;
  /** |estimate - 1| of every check, sorted (the A/A null distribution when headSlowdown is 1). */
  absoluteEffects: number[];
}

export async function simulateChecks(traces: NoiseTraces, checks: number, options: Omit<SimulationOptions, 'seed'> & { seed?: number }): Promise<SimulationSummary> {
  const truth = 1 / options.headSlowdown;
  let changes = 0;
  let regressions = 0;
  let inconclusive = 0;
  let covered = 0;
  let batches = 0;
  let targetMet = 0;
  const absoluteEffects: number[] = [];
  for (let check = 0; check < checks; check++) {
    const result = await simulateCheck(traces, { ...options, seed: (options.seed ?? 1) * 100_003 + check });
    if (result.verdict.kind === 'regression' || result.verdict.kind === 'improvement') changes++;
    if (result.verdict.kind === 'regression') regressions++;
    if (result.verdict.kind === 'inconclusive') inconclusive++;
    if (result.coverageInterval.low <= truth && truth <= result.coverageInterval.high) covered++;
    batches += result.batches;
    if (result.targetMet) targetMet++;
    absoluteEffects.push(Math.abs(result.verdict.effect));
  }
  absoluteEffects.sort((a, b) => a - b);
  return { checks, changeRate: changes / checks, regressionRate: regressions / checks, inconclusiveRate: inconclusive / checks, coverage: covered / checks, meanBatches: batches / checks, targetMetRate: targetMet / checks, absoluteEffects };
}

/** The noise threshold: the given quantile of |A/A effect| over simulated A/A checks. */
export function thresholdFromNull(absoluteEffects: readonly number[], quantile = 0.99): number {
  return quantileSorted([...absoluteEffects], quantile);
}
