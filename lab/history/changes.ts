import type { HistoryRecord } from './store.js';

/**
 * Change points in a series of nightly ratios, by binary segmentation on the
 * log ratio: a split is kept when the jump between the two sides is larger
 * than `z` standard errors, where the noise comes from the measurements
 * themselves (each night's CI width and the scatter inside each side), not
 * from a fixed percentage. Segments shorter than `minSegment` are not split.
 */
export interface ChangePoint {
  /** Index of the first point after the change. */
  index: number;
  before: number;
  after: number;
  /** after / before − 1 */
  relativeChange: number;
  score: number;
}

export function changePoints(
  values: readonly number[],
  noise: readonly number[],
  options: { z?: number; minSegment?: number } = {},
): ChangePoint[] {
  const z = options.z ?? 4;
  const minSegment = options.minSegment ?? 3;
  const logs = values.map(Math.log);
  const found: ChangePoint[] = [];
  const mean = (from: number, to: number) => logs.slice(from, to).reduce((sum, v) => sum + v, 0) / (to - from);
  const variance = (from: number, to: number) => {
    const m = mean(from, to);
    const scatter =
      to - from > 1 ? logs.slice(from, to).reduce((sum, v) => sum + (v - m) ** 2, 0) / (to - from - 1) : 0;
    const measured = noise.slice(from, to).reduce((sum, v) => sum + v * v, 0) / (to - from);
    return Math.max(scatter, measured);
  };
  const split = (from: number, to: number) => {
    if (to - from < 2 * minSegment) return;
    let best: ChangePoint | undefined;
    for (let k = from + minSegment; k <= to - minSegment; k++) {
      const left = mean(from, k);
      const right = mean(k, to);
      const se = Math.sqrt(variance(from, k) / (k - from) + variance(k, to) / (to - k));
      const score = se > 0 ? Math.abs(right - left) / se : 0;
      if (!best || score > best.score)
        best = {
          index: k,
          before: Math.exp(left),
          after: Math.exp(right),
          relativeChange: Math.exp(right - left) - 1,
          score,
        };
    }
    if (!best || best.score < z) return;
    found.push(best);
    split(from, best.index);
    split(best.index, to);
  };
  split(0, values.length);
  return found.sort((a, b) => a.index - b.index);
}

export interface HistoryEvent {
  kind: 'ratio moved' | 'new LLVM major' | 'gap closed';
  series: string;
  date: string;
  text: string;
}

const seriesName = (record: HistoryRecord) => `${record.dataset} · ${record.toolchain} · ${record.cpuModel}`;

/** Events over the whole history: change points per series, new LLVM majors, and ratios reaching libdeflate. */
export function historyEvents(records: readonly HistoryRecord[]): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const series = new Map<string, HistoryRecord[]>();
  for (const record of [...records].sort((a, b) => a.date.localeCompare(b.date)))
    series.set(seriesName(record), [...(series.get(seriesName(record)) ?? []), record]);
  for (const [name, points] of series) {
    // Noise of one night's estimate in log space, from its 95% CI.
    const noise = points.map((p) => (Math.log(p.ratio.high) - Math.log(p.ratio.low)) / (2 * 1.96));
    for (const change of changePoints(
      points.map((p) => p.ratio.estimate),
      noise,
    )) {
      const at = points[change.index]!;
      events.push({
        kind: 'ratio moved',
        series: name,
        date: at.date,
        text:
          `${name}: ratio ${change.before.toFixed(3)} → ${change.after.toFixed(3)} ` +
          `(${change.relativeChange >= 0 ? '+' : ''}${(change.relativeChange * 100).toFixed(1)}%) from ` +
          `${at.date} (${at.rustc}, LLVM ${at.llvm})`,
      });
    }
    const major = (p: HistoryRecord) => Number(/^(\d+)/.exec(p.llvm)?.[1] ?? 0);
    for (let i = 1; i < points.length; i++) {
      if (major(points[i]!) > Math.max(...points.slice(0, i).map(major)))
        events.push({
          kind: 'new LLVM major',
          series: name,
          date: points[i]!.date,
          text:
            `${name}: LLVM ${points[i]!.llvm} first seen on ${points[i]!.date} (ratio ` +
            `${points[i]!.ratio.estimate.toFixed(3)})`,
        });
      if (points[i]!.ratio.estimate >= 1 && points[i - 1]!.ratio.estimate < 1)
        events.push({
          kind: 'gap closed',
          series: name,
          date: points[i]!.date,
          text:
            `${name}: the decoder reached libdeflate's speed on ${points[i]!.date} (ratio ` +
            `${points[i]!.ratio.estimate.toFixed(3)}, CI ` +
            `${points[i]!.ratio.low.toFixed(3)}–${points[i]!.ratio.high.toFixed(3)})`,
        });
    }
  }
  return events.sort((a, b) => a.date.localeCompare(b.date) || a.series.localeCompare(b.series));
}
