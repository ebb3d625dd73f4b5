import jstat from 'jstat';
import { mean, median, sampleStandardDeviation, sampleVariance } from 'simple-statistics';
import type { Interval, Verdict } from './types.js';

/**
 * One estimate per batch (one set of fresh worker processes): the median of the
 * batch's cycle log-ratios, so a round disturbed by another process on a shared
 * runner cannot move it far. Batches are the independent units: each worker
 * process carries its own bias, so rounds inside one batch are not independent.
 */
function batchLogEstimates(clusters: readonly (readonly number[])[]): number[] {
  const nonEmpty = clusters.filter((cluster) => cluster.length > 0);
  if (nonEmpty.some((cluster) => cluster.some((value) => !Number.isFinite(value) || value <= 0))) {
    throw new Error('batchLogEstimates needs positive finite ratios');
  }
  return nonEmpty.map((cluster) => median(cluster.map(Math.log)));
}

/** The standard normal quantile (jStat's: simple-statistics' probit is off by 1e-3 at 0.95). */
function probit(p: number): number {
  return jstat.jStat.normal.inv(p, 0, 1);
}

/** The two-sided quantile for `confidence` with `df` degrees of freedom (normal when df is infinite). */
function twoSidedQuantile(confidence: number, df: number): number {
  const p = 1 - (1 - confidence) / 2;
  return Number.isFinite(df) ? jstat.jStat.studentt.inv(p, df) : probit(p);
}

interface LogSpread {
  logMean: number;
  batches: number;
  /** Standard error of logMean, and the degrees of freedom of its estimate. */
  standardError: number;
  df: number;
  /** How the standard error was obtained, for the report. */
  basis: string;
}

/** Share trimmed from each end of the sorted batch estimates (Wilcox's usual choice). */
const TRIM = 0.2;

/** Degrees of freedom of Yuen's standard error over `batches` estimates: the kept ones less one. */
export function trimmedDf(batches: number): number {
  return Math.max(1, batches - 2 * Math.floor(TRIM * batches) - 1);
}

/**
 * The 20% trimmed mean of the batch estimates and Yuen's standard error
 * (winsorized variance, Student t with h − 1 degrees of freedom, h the batches
 * kept). Recorded A/A noise here is heavy-tailed: most batches within ±2%, a
 * few process pairs 8–13% apart for a whole batch. Over 400 replayed 20-batch
 * checks the trimmed mean scattered 0.35% (LOGS) and 0.16% (SILESIA stand-in)
 * where the plain mean scattered 0.61% and 0.59%. With fewer than 5 batches
 * nothing is trimmed and this is the plain t interval: honest with 2 or 3
 * batches, where a bootstrap of the batches is far too narrow. With one batch,
 * only the scatter of its own cycles is known: the caller must not call that exact.
 */
function logSpread(clusters: readonly (readonly number[])[]): LogSpread {
  const estimates = batchLogEstimates(clusters);
  const n = estimates.length;
  if (n === 0) throw new Error('a batch interval needs at least one cycle ratio');
  if (n >= 2) {
    const sorted = [...estimates].sort((a, b) => a - b);
    const g = Math.floor(TRIM * n);
    const kept = n - 2 * g;
    const winsorized = sorted.map((value) => Math.min(Math.max(value, sorted[g]!), sorted[n - g - 1]!));
    const winsorizedVariance = sampleVariance(winsorized);
    return {
      logMean: mean(sorted.slice(g, n - g)),
      batches: n,
      standardError: Math.sqrt(((n - 1) * winsorizedVariance) / (kept * (kept - 1))),
      df: trimmedDf(n),
      basis: `between-batch scatter of ${n} batches`,
    };
  }
  const cycles = clusters.find((cluster) => cluster.length > 0)!.map(Math.log);
  const withinSe =
    cycles.length >= 2 ? sampleStandardDeviation(cycles) / Math.sqrt(cycles.length) : Number.POSITIVE_INFINITY;
  return {
    logMean: estimates[0]!,
    batches: 1,
    standardError: withinSe,
    df: Math.max(1, cycles.length - 1),
    basis: 'one batch: scatter of its cycles only (between-process variance unknown)',
  };
}

/**
 * The noise scale of one batch's log-estimate as the trimmed mean sees it:
 * Yuen's standard error × √batches. A calibration stores this; a run's standard
 * error floor is then scale / √(its batches).
 */
export function batchLogScale(clusters: readonly (readonly number[])[]): number {
  const spread = logSpread(clusters);
  if (spread.batches < 2) throw new Error('batchLogScale needs at least two batches');
  return spread.standardError * Math.sqrt(spread.batches);
}

/**
 * An in-job A/A estimate of this machine's process noise, for a run with no
 * stored calibration: the batch noise scale (root mean square) of the other
 * comparisons of the run, head/libdeflate and base/libdeflate. The stop rule
 * watches head/base only, so stopping when head/base happened to look quiet
 * does not make this estimate small too. Undefined with fewer than 2 batches.
 */
function inJobNoise(
  comparisons: readonly (readonly (readonly number[])[])[],
): { batchLogScale: number; df: number; source: string } | undefined {
  const usable = comparisons.filter((clusters) => clusters.filter((cluster) => cluster.length > 0).length >= 2);
  if (usable.length === 0) return undefined;
  const scale = Math.sqrt(usable.reduce((sum, clusters) => sum + batchLogScale(clusters) ** 2, 0) / usable.length);
  const n = Math.min(...usable.map((clusters) => clusters.filter((cluster) => cluster.length > 0).length));
  return { batchLogScale: scale, df: trimmedDf(n), source: 'in-job A/A (head/libdeflate and base/libdeflate scatter)' };
}

function intervalFrom(
  spread: LogSpread,
  standardError: number,
  df: number,
  confidence: number,
  method: string,
): Interval {
  const half = twoSidedQuantile(confidence, df) * standardError;
  const finiteHalf = Number.isFinite(half) ? half : 50; // e^±50: "anything", still a finite schema value
  return {
    estimate: Math.exp(spread.logMean),
    low: Math.exp(spread.logMean - finiteHalf),
    high: Math.exp(spread.logMean + finiteHalf),
    confidence,
    samples: spread.batches,
    resamples: 0,
    method,
  };
}

/**
 * The interval every report prints and sequential sampling stops on (one
 * estimator for both): exp of the trimmed mean batch log-estimate ± t·SE.
 */
export function batchInterval(clusters: readonly (readonly number[])[], confidence = 0.95): Interval {
  const spread = logSpread(clusters);
  return intervalFrom(spread, spread.standardError, spread.df, confidence, ownScatterMethod(spread));
}

function ownScatterMethod(spread: LogSpread): string {
  return spread.batches >= 2
    ? `20% trimmed mean of per-batch median cycle log-ratios, Yuen t interval over ${spread.batches} batches`
    : 'median cycle log-ratio of ONE batch, t interval of its cycles only (between-process variance not included)';
}

/** Relative half-width of an interval (0.005 = ±0.5%), as the stop rule and the report read it. */
export function relativeHalfWidth(interval: Interval): number {
  return (interval.high - interval.low) / 2 / interval.estimate;
}

/** Confidence of the two one-sided tests (TOST, α = 0.05 each) that decide "no change". */
const EQUIVALENCE_CONFIDENCE = 0.9;
/** The probability with which the reported detectable effect would have been called a regression. */
const DETECTION_POWER = 0.95;

/** A stored A/A calibration: one batch's log-estimate noise scale (see batchLogScale) and its degrees of freedom. */
export interface NoiseFloor {
  batchLogScale: number;
  df: number;
  source: string;
}

export interface VerdictPolicy {
  /** Confidence of the interval a regression or improvement must exclude 1 from (0.99). */
  confidence: number;
  /** The smallest change worth a verdict (0.005 = 0.5%): smaller significant changes are not called changes. */
  minimumEffect: number;
  /**
   * The change the maintainer does not care about (0.015 = ±1.5%): "no change" only when the 90% interval lies
   * inside ±tolerance.
   */
  tolerance: number;
  calibration?: NoiseFloor;
  /**
   * An interim look of sequential sampling, one of `looks` planned: both tests at a Bonferroni share of their error
   * (1 − α/looks), so looking after every rotation does not inflate the false change and false "no change" rates.
   * Absent: the final look, at the nominal levels.
   */
  interim?: { looks: number };
}

/**
 * Head vs base from per-batch cycle ratios (head speed / base speed).
 *
 * - regression / improvement: the `confidence` t-interval excludes 1 and the
 *   estimate is at least `minimumEffect`;
 * - no change (±tolerance): the 90% interval lies inside ±tolerance, the
 *   tolerance the maintainer stated: two one-sided tests at α = 0.05
 *   (Schuirmann 1987) against that margin, never against what the run happened
 *   to resolve, so a 2% slowdown is never "no change" at a 1.5% tolerance;
 * - inconclusive: anything else, with how far the run resolved and how many
 *   more batches would likely decide it.
 * Every verdict carries the smallest slowdown this run would have called a
 * regression with 95% probability (its power), from the same standard error.
 * The standard error: when this run scattered more than the calibration
 * says this machine does, the run's own (the noisier decides); otherwise the
 * two variance estimates pooled by their degrees of freedom (the calibration
 * is the prior knowledge of this machine's noise, the run updates it), with
 * their summed degrees of freedom.
 */
export function decideChange(clusters: readonly (readonly number[])[], policy: VerdictPolicy): Verdict {
  const spread = logSpread(clusters);
  const calibration = policy.calibration;
  const observedSe = spread.batches >= 2 ? spread.standardError : null;
  const effect = Math.expm1(spread.logMean);
  const tolerance = policy.tolerance;
  if (observedSe === null && !calibration) {
    const interval = intervalFrom(spread, spread.standardError, spread.df, policy.confidence, ownScatterMethod(spread));
    return {
      kind: 'inconclusive',
      effect,
      interval,
      threshold: tolerance,
      thresholdSource: 'none',
      reason:
        'only one batch finished and no calibration exists: between-process variance is unknown (raise the ' +
        'time budget)',
      batches: 1,
      standardError: null,
      tolerance,
      resolvedMargin: null,
      detectableEffect: null,
      moreBatches: null,
    };
  }
  let standardError: number;
  let df: number;
  let basis: string;
  const calibratedSe = calibration ? calibration.batchLogScale / Math.sqrt(spread.batches) : Number.POSITIVE_INFINITY;
  if (observedSe !== null && (!calibration || observedSe >= calibratedSe)) {
    [standardError, df, basis] = [
      observedSe,
      spread.df,
      spread.basis + (calibration ? ` (noisier than the ${calibration.source})` : ''),
    ];
  } else {
    const runDf = observedSe === null ? 0 : spread.df;
    df = runDf + calibration!.df;
    standardError = Math.sqrt((runDf * (observedSe ?? 0) ** 2 + calibration!.df * calibratedSe ** 2) / df);
    basis = `${calibration!.source} pooled with the ${spread.basis}`;
  }
  const dfText = Number.isFinite(df) ? `${df} df` : 'normal';
  const method =
    `20% trimmed mean of per-batch median cycle log-ratios, t interval (${dfText}) with the SE of ` + `the ${basis}`;
  const interval = intervalFrom(spread, standardError, df, policy.confidence, method);
  const share = (confidence: number) => (policy.interim ? 1 - (1 - confidence) / policy.interim.looks : confidence);
  const changeQuantile = twoSidedQuantile(share(policy.confidence), df);
  const equivalenceQuantile = twoSidedQuantile(share(EQUIVALENCE_CONFIDENCE), df);
  const minimumLog = Math.log1p(policy.minimumEffect);
  // Caught when the estimate falls past both the interval's reach and the minimum effect: 95% of the time for a
  // true slowdown of that bound plus z₀.₉₅ standard errors.
  const nominalQuantile = twoSidedQuantile(policy.confidence, df);
  const detectableLog = Math.max(nominalQuantile * standardError, minimumLog) + probit(DETECTION_POWER) * standardError;
  // The narrowest ±margin the 90% interval fits inside: what "no change" could claim today.
  const resolvedLog = Math.abs(spread.logMean) + equivalenceQuantile * standardError;
  const toleranceLog = Math.log1p(tolerance);
  const logLow = spread.logMean - changeQuantile * standardError;
  const logHigh = spread.logMean + changeQuantile * standardError;
  const big = Math.abs(spread.logMean) >= minimumLog;
  const base = {
    effect,
    interval,
    threshold: tolerance,
    thresholdSource: basis,
    batches: spread.batches,
    standardError,
    tolerance,
    resolvedMargin: Math.expm1(resolvedLog),
    detectableEffect: Math.expm1(detectableLog),
  };
  if (logHigh < 0 && big)
    return { ...base, kind: 'regression', reason: `${pct(policy.confidence)} interval below 1`, moreBatches: 0 };
  if (logLow > 0 && big)
    return { ...base, kind: 'improvement', reason: `${pct(policy.confidence)} interval above 1`, moreBatches: 0 };
  if (resolvedLog <= toleranceLog) {
    return {
      ...base,
      kind: 'no change',
      reason:
        `${pct(EQUIVALENCE_CONFIDENCE)} interval inside the ±` +
        `${pct(tolerance, 1)} tolerance ` +
        '(two one-sided tests)',
      moreBatches: 0,
    };
  }
  const more = batchesToDecide(spread, standardError, {
    changeQuantile,
    equivalenceQuantile,
    minimumLog,
    toleranceLog,
  });
  const batches = `${spread.batches} batch${spread.batches === 1 ? '' : 'es'}`;
  const likely =
    more === null
      ? 'more batches at this scatter would not decide it'
      : `about ${more.batches} more batch${more.batches === 1 ? '' : 'es'} would likely decide it ` +
        `(as ${more.as}; raise bench.maxBatches or bench.budgetSeconds)`;
  return {
    ...base,
    kind: 'inconclusive',
    reason:
      `the 90% interval reaches ${pct(base.resolvedMargin, 1)} from no change, past the ±${pct(tolerance, 1)} ` +
      `tolerance, and the change is not clear at ${pct(policy.confidence)} (${batches}); ${likely}`,
    moreBatches: more?.batches ?? null,
  };
}

/**
 * How many more batches would likely turn an inconclusive run into a verdict, if the estimate stayed where it is
 * and the standard error fell as 1/√batches: the fewer of what "no change" and what a change would need.
 * Null when neither would come (the estimate sits on the tolerance, or a change below the minimum effect).
 */
function batchesToDecide(
  spread: LogSpread,
  standardError: number,
  bounds: { changeQuantile: number; equivalenceQuantile: number; minimumLog: number; toleranceLog: number },
): { batches: number; as: 'no change' | 'a regression' | 'an improvement' } | null {
  const estimate = Math.abs(spread.logMean);
  const needed: { total: number; as: 'no change' | 'a regression' | 'an improvement' }[] = [];
  // No change: |estimate| + q₉₀·SE·√(n/n′) ≤ tolerance.
  if (estimate < bounds.toleranceLog) {
    const ratio = (bounds.equivalenceQuantile * standardError) / (bounds.toleranceLog - estimate);
    needed.push({ total: spread.batches * ratio ** 2, as: 'no change' });
  }
  // A change: q·SE·√(n/n′) < |estimate|, the estimate already past the minimum effect.
  if (estimate >= bounds.minimumLog && estimate > 0) {
    const ratio = (bounds.changeQuantile * standardError) / estimate;
    needed.push({ total: spread.batches * ratio ** 2, as: spread.logMean < 0 ? 'a regression' : 'an improvement' });
  }
  if (needed.length === 0) return null;
  const best = needed.reduce((a, b) => (b.total < a.total ? b : a));
  // Beyond 100× the batches run so far, "more batches" is not advice anyone can take.
  if (!Number.isFinite(best.total) || best.total > spread.batches * 100) return null;
  return { batches: Math.max(1, Math.ceil(best.total - spread.batches)), as: best.as };
}

function pct(value: number, digits = 0): string {
  return `${(value * 100).toFixed(digits)}%`;
}

/** What head vs base is decided on: the run's three comparisons, its noise floor, and who is not comparable. */
export interface HeadVsBaseInput {
  /** Per-batch cycle ratios of head/base, head/libdeflate and base/libdeflate. */
  cycles: {
    headVsBase: readonly (readonly number[])[];
    headVsLibdeflate: readonly (readonly number[])[];
    baseVsLibdeflate: readonly (readonly number[])[];
  };
  /** The stored calibration that holds for this dataset and batch shape, or why none does. */
  calibration: NoiseFloor | { missing: string };
  policy: Omit<VerdictPolicy, 'calibration'>;
  /** Why head or base cannot be compared (failed the integrity gate, other thread counts, …); empty: comparable. */
  notComparable?: readonly string[];
}

/**
 * The head-vs-base verdict of a PR check: what `bench` stores, what its stop rule asks after every rotation and what
 * the replay simulation validates — one function. The noise floor is the stored calibration when one holds, else the
 * in-job A/A (head/libdeflate and base/libdeflate scatter); the verdict says which, and why a calibration was not used.
 */
export function decideHeadVsBase(input: HeadVsBaseInput): Verdict {
  const stored = 'missing' in input.calibration ? undefined : input.calibration;
  const floor = stored ?? inJobNoise([input.cycles.headVsLibdeflate, input.cycles.baseVsLibdeflate]);
  const verdict = decideChange(input.cycles.headVsBase, { ...input.policy, ...(floor ? { calibration: floor } : {}) });
  const sourced =
    'missing' in input.calibration
      ? { ...verdict, thresholdSource: `${verdict.thresholdSource}; ${input.calibration.missing}` }
      : verdict;
  const reasons = input.notComparable ?? [];
  if (reasons.length === 0) return sourced;
  return { ...sourced, kind: 'inconclusive', reason: `not comparable: ${reasons.join('; ')}`, moreBatches: null };
}
