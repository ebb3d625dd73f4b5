import { xoroshiro128plus, unsafeUniformIntDistribution } from 'pure-rand';
import { median, quantileSorted } from 'simple-statistics';

/**
 * Per-round speed ratios decoder/libdeflate (= libdeflate time / decoder time)
 * over the rounds where both contenders have a sample: pairing cancels the
 * machine's drift between rounds.
 */
export function pairedSpeedRatios(decoderNs: ReadonlyMap<number, number>, referenceNs: ReadonlyMap<number, number>): Map<number, number> {
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
  for (const [round, ratio] of roundRatios) {
    const cycle = Math.floor(round / contenders);
    cycles.set(cycle, [...(cycles.get(cycle) ?? []), ratio]);
  }
  return [...cycles]
    .sort((a, b) => a[0] - b[0])
    .filter(([, ratios]) => ratios.length === contenders)
    .map(([, ratios]) => Math.exp(ratios.reduce((sum, ratio) => sum + Math.log(ratio), 0) / ratios.length));
}

export interface Interval {
  /** The median: robust to a round disturbed by another process on a shared runner. */
  estimate: number;
  low: number;
  high: number;
  confidence: number;
  samples: number;
  resamples: number;
  method: string;
}

export interface IntervalOptions {
  confidence?: number;
  resamples?: number;
  /** Seeds the bootstrap so a result file can be recomputed exactly. */
  seed?: number;
}

/** A seeded percentile-bootstrap confidence interval for the median of `values`. */
export function medianInterval(values: readonly number[], options: IntervalOptions = {}): Interval {
  const confidence = options.confidence ?? 0.95;
  const resamples = options.resamples ?? 10_000;
  if (values.length === 0) throw new Error('medianInterval needs at least one value');
  if (values.some((value) => !Number.isFinite(value))) throw new Error('medianInterval needs finite values');
  const estimate = median([...values]);
  const n = values.length;
  const rng = xoroshiro128plus(options.seed ?? 0x5eed);
  const medians = new Float64Array(resamples);
  const sample = new Float64Array(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) sample[i] = values[unsafeUniformIntDistribution(0, n - 1, rng)]!;
    sample.sort();
    medians[r] = n % 2 === 1 ? sample[(n - 1) / 2]! : (sample[n / 2 - 1]! + sample[n / 2]!) / 2;
  }
  medians.sort();
  const sorted = Array.from(medians);
  const alpha = (1 - confidence) / 2;
  return {
    estimate,
    low: quantileSorted(sorted, alpha),
    high: quantileSorted(sorted, 1 - alpha),
    confidence,
    samples: n,
    resamples,
    method: 'median with percentile-bootstrap CI',
  };
}

/** MB/s (10^6 bytes per second) of decoding `bytes` in the median of `timesNs`. */
export function megabytesPerSecond(bytes: number, timesNs: readonly number[]): number {
  return bytes / (median([...timesNs]) / 1e9) / 1e6;
}
