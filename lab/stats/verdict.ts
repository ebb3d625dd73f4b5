import jstat from 'jstat';
import { mean, median, probit, sampleStandardDeviation, sampleVariance } from 'simple-statistics';
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
export function inJobNoise(
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
/** Power at which the margin is the run's minimum detectable effect. */
const MARGIN_POWER = 0.95;

export interface VerdictPolicy {
  /** Confidence of the interval a regression or improvement must exclude 1 from (0.99). */
  confidence: number;
  /** The smallest change worth a verdict (0.005 = 0.5%): smaller significant changes count as no change. */
  minimumEffect: number;
  /** The widest margin a "no change" may claim (0.03 = ±3%); a run that resolves less is inconclusive. */
  maximumMargin: number;
  /**
   * A stored A/A calibration: the noise scale of one batch's log-estimate (see
   * batchLogScale) and the degrees of freedom it was estimated with.
   */
  calibration?: { batchLogScale: number; df: number; source: string };
}

/**
 * Head vs base from per-batch cycle ratios (head speed / base speed).
 *
 * - regression / improvement: the `confidence` t-interval excludes 1 and the
 *   estimate is at least `minimumEffect`;
 * - no change (±margin): the 90% interval lies inside ±margin, where margin is
 *   the run's minimum detectable effect, (t + z₀.₉₅)·SE, never below
 *   `minimumEffect`: two one-sided tests at α = 0.05 (Schuirmann 1987). A true
 *   change of the margin's size would have been called a change 95% of the time,
 *   so "no change (±0.8%)" says what the run could see;
 * - inconclusive: anything else, with the reason.
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
  if (observedSe === null && !calibration) {
    const interval = intervalFrom(spread, spread.standardError, spread.df, policy.confidence, ownScatterMethod(spread));
    return {
      kind: 'inconclusive',
      effect,
      interval,
      threshold: 0,
      thresholdSource: 'none',
      reason:
        'only one batch finished and no calibration exists: between-process variance is unknown (raise the time budget)',
      batches: 1,
      standardError: null,
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
  const method = `20% trimmed mean of per-batch median cycle log-ratios, t interval (${Number.isFinite(df) ? `${df} df` : 'normal'}) with the SE of the ${basis}`;
  const interval = intervalFrom(spread, standardError, df, policy.confidence, method);
  const marginLog = Math.max(
    Math.log1p(policy.minimumEffect),
    (twoSidedQuantile(policy.confidence, df) + probit(MARGIN_POWER)) * standardError,
  );
  const margin = Math.expm1(marginLog);
  const equivalenceHalf = twoSidedQuantile(EQUIVALENCE_CONFIDENCE, df) * standardError;
  const base = { effect, interval, threshold: margin, thresholdSource: basis, batches: spread.batches, standardError };
  const logLow = Math.log(interval.low);
  const logHigh = Math.log(interval.high);
  const big = Math.abs(effect) >= policy.minimumEffect;
  if (logHigh < 0 && big) return { ...base, kind: 'regression', reason: `${pct(policy.confidence)} interval below 1` };
  if (logLow > 0 && big) return { ...base, kind: 'improvement', reason: `${pct(policy.confidence)} interval above 1` };
  const inside = Math.abs(spread.logMean) + equivalenceHalf <= marginLog;
  if (inside && margin <= policy.maximumMargin) {
    return {
      ...base,
      kind: 'no change',
      reason: `${pct(EQUIVALENCE_CONFIDENCE)} interval inside ±${pct(margin, 1)} (two one-sided tests)`,
    };
  }
  const batches = `${spread.batches} batch${spread.batches === 1 ? '' : 'es'}`;
  const reason =
    margin > policy.maximumMargin
      ? `the run resolved only ±${pct(margin, 1)} (${batches}), wider than the ±${pct(policy.maximumMargin, 1)} ` +
        'a no-change verdict may claim: give it more batches or budget'
      : `the ${pct(EQUIVALENCE_CONFIDENCE)} interval reaches past the ±${pct(margin, 1)} margin ` +
        `(${batches}) and the change is not clear at ${pct(policy.confidence)}`;
  return { ...base, kind: 'inconclusive', reason };
}

function pct(value: number, digits = 0): string {
  return `${(value * 100).toFixed(digits)}%`;
}
