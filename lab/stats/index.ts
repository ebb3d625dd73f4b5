import { xoroshiro128plus, type RandomGenerator } from 'pure-rand';
import { median, quantileSorted, quickselect } from 'simple-statistics';

/** A uniform index below n; the modulo bias (n / 2^32) is far below bootstrap noise. */
function randomIndex(rng: RandomGenerator, n: number): number {
  return (rng.unsafeNext() >>> 0) % n;
}

/** The median of values[0..count) in O(count), reordering them (bootstrap inner loop). */
function medianInPlace(values: Float64Array, count: number): number {
  const window = values.subarray(0, count);
  const upper = count >> 1;
  quickselect(window as unknown as number[], upper);
  if (count % 2 === 1) return window[upper]!;
  let lowerMax = -Infinity;
  for (let i = 0; i < upper; i++) if (window[i]! > lowerMax) lowerMax = window[i]!;
  return (lowerMax + window[upper]!) / 2;
}

/**
 * Per-round speed ratios decoder/libdeflate (= libdeflate time / decoder time)
 * over the rounds where both contenders have a sample: pairing cancels the
 * machine's drift between rounds.
 */
export function pairedSpeedRatios(
  decoderNs: ReadonlyMap<number, number>,
  referenceNs: ReadonlyMap<number, number>,
): Map<number, number> {
  const ratios = new Map<number, number>();
  for (const [round, decoder] of [...decoderNs].sort((a, b) => a[0] - b[0])) {
    const reference = referenceNs.get(round);
    if (reference !== undefined && decoder > 0 && reference > 0) ratios.set(round, reference / decoder);
  }
  return ratios;
}

/**
 * Combines per-round ratios into one ratio per rotation cycle (the geometric
 * mean of its rounds). The harness rotates the order each round, so within a
 * cycle every contender runs first once: with two contenders the cycle is
 * AB|BA, and the bonus a decoder gets from running right after itself (warm
 * caches) cancels. Measured here: medians of single rounds split by order
 * differed by up to 12% in an A/A run; cycle ratios do not. Incomplete cycles
 * are dropped.
 */
export function cycleRatios(roundRatios: ReadonlyMap<number, number>, contenders: number): number[] {
  const cycles = new Map<number, number[]>();
  // Any `contenders` consecutive rounds hold each rotation once, so cycles count from the first measured round.
  const first = Math.min(...roundRatios.keys());
  for (const [round, ratio] of roundRatios) {
    const cycle = Math.floor((round - first) / contenders);
    cycles.set(cycle, [...(cycles.get(cycle) ?? []), ratio]);
  }
  return [...cycles]
    .sort((a, b) => a[0] - b[0])
    .filter(([, ratios]) => ratios.length === contenders)
    .map(([, ratios]) => Math.exp(ratios.reduce((sum, ratio) => sum + Math.log(ratio), 0) / ratios.length));
}

export interface IntervalOptions {
  confidence?: number;
  resamples?: number;
  /** Seeds the bootstrap so a result file can be recomputed exactly. */
  seed?: number;
}

/** The percentile interval of bootstrap replicates around an estimate. */
function percentileInterval(
  replicates: Float64Array,
  estimate: number,
  confidence: number,
  samples: number,
  method: string,
): Interval {
  replicates.sort();
  const sorted = Array.from(replicates);
  const alpha = (1 - confidence) / 2;
  return {
    estimate,
    low: quantileSorted(sorted, alpha),
    high: quantileSorted(sorted, 1 - alpha),
    confidence,
    samples,
    resamples: replicates.length,
    method,
  };
}

/** MB/s (10^6 bytes per second) of decoding `bytes` in the median of `timesNs`. */
export function megabytesPerSecond(bytes: number, timesNs: readonly number[]): number {
  return bytes / (median([...timesNs]) / 1e9) / 1e6;
}

/** One two-level bootstrap draw: resample clusters, then values within each; returns the median. */
function clusteredResampleMedian(
  clusters: readonly (readonly number[])[],
  rng: RandomGenerator,
  buffer: Float64Array,
): number {
  let count = 0;
  for (let c = 0; c < clusters.length; c++) {
    const cluster = clusters[randomIndex(rng, clusters.length)]!;
    for (let i = 0; i < cluster.length && count < buffer.length; i++)
      buffer[count++] = cluster[randomIndex(rng, cluster.length)]!;
  }
  return medianInPlace(buffer, count);
}

/**
 * Decides a speed ratio (above 1: faster) against 1 with an equivalence margin:
 * a change must be outside the interval's reach of 1 *and* at least the noise
 * threshold in size; "no change" needs the whole interval inside ±threshold;
 * anything else is inconclusive (more rounds or a quieter machine would tell).
 */
export function decideVerdict(interval: Interval, threshold: number, thresholdSource: string): Verdict {
  const effect = interval.estimate - 1;
  let kind: VerdictKind = 'inconclusive';
  if (interval.high < 1 && effect <= -threshold) kind = 'regression';
  else if (interval.low > 1 && effect >= threshold) kind = 'improvement';
  else if (interval.low >= 1 - threshold && interval.high <= 1 + threshold) kind = 'no change';
  return { kind, effect, interval, threshold, thresholdSource };
}

/**
 * The ratio of two clustered medians (current / baseline) with a percentile
 * bootstrap that resamples each side independently at both levels: for drift
 * of a stored ratio between two separate runs.
 */
export function clusteredMedianRatioInterval(
  current: readonly (readonly number[])[],
  baseline: readonly (readonly number[])[],
  options: IntervalOptions = {},
): Interval {
  const a = current.filter((cluster) => cluster.length > 0);
  const b = baseline.filter((cluster) => cluster.length > 0);
  if (a.length === 0 || b.length === 0) throw new Error('clusteredMedianRatioInterval needs values on both sides');
  const confidence = options.confidence ?? 0.95;
  const resamples = options.resamples ?? 5_000;
  const rng = xoroshiro128plus(options.seed ?? 0x5eed);
  const bufferA = new Float64Array(a.flat().length * 2);
  const bufferB = new Float64Array(b.flat().length * 2);
  const ratios = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++)
    ratios[r] = clusteredResampleMedian(a, rng, bufferA) / clusteredResampleMedian(b, rng, bufferB);
  return percentileInterval(
    ratios,
    median(a.flat()) / median(b.flat()),
    confidence,
    a.flat().length + b.flat().length,
    'ratio of medians, two-sample two-level percentile bootstrap',
  );
}

export {
  batchInterval,
  batchLogScale,
  trimmedDf,
  decideChange,
  decideHeadVsBase,
  relativeHalfWidth,
  type HeadVsBaseInput,
  type NoiseFloor,
  type VerdictPolicy,
} from './verdict.js';
import type { Interval, Verdict, VerdictKind } from './types.js';

export type { Interval, Verdict, VerdictKind } from './types.js';
