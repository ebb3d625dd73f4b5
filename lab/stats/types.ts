/* The shapes the statistics hand on: an interval around an estimate, and the verdict decided on it. */

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

export type VerdictKind = 'regression' | 'improvement' | 'no change' | 'inconclusive';

export interface Verdict {
  kind: VerdictKind;
  /** Relative speed change, e.g. -0.021 = 2.1% slower. */
  effect: number;
  interval: Interval;
  /** The smallest relative change called a change (from A/A calibration, or 0 when uncalibrated). */
  threshold: number;
  thresholdSource: string;
  /** Why this verdict (what decided it, or what an inconclusive run lacked). */
  reason?: string;
  /** Batches the verdict rests on, and the standard error of the mean batch log-ratio (null: unknown). */
  batches?: number;
  standardError?: number | null;
}
