/* The shapes the statistics hand on: an interval around an estimate, and the verdict decided on it. */

export interface Interval {
  /**
   * The point estimate, as `method` names it: for the lab's ratios (batchInterval, the verdicts) exp of the 20%
   * trimmed mean of the per-batch median cycle log-ratios (one batch: its median); for baseline drift
   * (clusteredMedianRatioInterval) the ratio of pooled medians. Both resist a round disturbed by another process.
   */
  estimate: number;
  low: number;
  high: number;
  confidence: number;
  samples: number;
  resamples: number;
  method: string;
}

export type VerdictKind = 'regression' | 'improvement' | 'no change' | 'inconclusive';

export interface Verdict {
  kind: VerdictKind;
  /** Relative speed change, e.g. -0.021 = 2.1% slower. */
  effect: number;
  interval: Interval;
  /** The ± margin a "no change" holds for: the stated tolerance (drift: the calibrated noise threshold). */
  threshold: number;
  thresholdSource: string;
  /** Why this verdict (what decided it, or what an inconclusive run lacked). */
  reason?: string;
  /** Batches the verdict rests on, and the standard error of the mean batch log-ratio (null: unknown). */
  batches?: number;
  standardError?: number | null;
  /** Head vs base: the tolerance asked, the narrowest ± margin the 90% interval fits in (null: unknown). */
  tolerance?: number;
  resolvedMargin?: number | null;
  /** The smallest slowdown this run would have called a regression with 95% probability (null: unknown). */
  detectableEffect?: number | null;
  /** For an inconclusive verdict, about how many more batches would likely decide it (null: none would; 0: decided). */
  moreBatches?: number | null;
}
