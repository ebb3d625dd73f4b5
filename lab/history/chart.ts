import * as vega from 'vega';
import type { HistoryRecord } from './store.js';

/**
 * An SVG trend chart of one dataset's nightly ratios: one line per toolchain
 * with its 95% CI band, a rule at 1.0 (libdeflate's speed) and a mark where a
 * toolchain's LLVM major version changes. Rendered headless by Vega (no browser).
 */
export async function trendChartSvg(records: readonly HistoryRecord[], dataset: string): Promise<string> {
  const points = records
    .filter((record) => record.dataset === dataset)
    .sort((a, b) => a.date.localeCompare(b.date))
    .map((record) => ({
      date: Date.parse(`${record.date}T00:00:00Z`),
      toolchain: record.toolchain,
      ratio: record.ratio.estimate,
      low: record.ratio.low,
      high: record.ratio.high,
      llvm: record.llvm,
    }));
  const llvmChanges: Array<{ date: number; label: string }> = [];
  const lastMajor = new Map<string, string>();
  for (const point of points) {
    const major = point.llvm.split('.')[0]!;
    const previous = lastMajor.get(point.toolchain);
    if (previous !== undefined && previous !== major)
      llvmChanges.push({ date: point.date, label: `${point.toolchain}: LLVM ${major}` });
    lastMajor.set(point.toolchain, major);
  }
  const spec: vega.Spec = {
    width: 640,
    height: 280,
    padding: 8,
    title: { text: `${dataset}: decoder speed / libdeflate speed, nightly` },
    data: [
      { name: 'points', values: points },
      { name: 'llvm', values: llvmChanges },
      { name: 'parity', values: [{ ratio: 1 }] },
    ],
    scales: [
      { name: 'x', type: 'utc', domain: { data: 'points', field: 'date' }, range: 'width' },
      {
        name: 'y',
        type: 'linear',
        domain: {
          fields: [
            { data: 'points', field: 'low' },
            { data: 'points', field: 'high' },
            { data: 'parity', field: 'ratio' },
          ],
        },
        nice: true,
        zero: false,
        range: 'height',
      },
      { name: 'color', type: 'ordinal', domain: { data: 'points', field: 'toolchain' }, range: 'category' },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: 'night', format: '%Y-%m-%d', labelAngle: -30, labelAlign: 'right' },
      { orient: 'left', scale: 'y', title: 'ratio (above 1: faster than libdeflate)' },
    ],
    legends: [{ fill: 'color', title: 'toolchain' }],
    marks: [
      {
        type: 'rule',
        from: { data: 'parity' },
        encode: {
          enter: {
            x: { value: 0 },
            x2: { signal: 'width' },
            y: { scale: 'y', field: 'ratio' },
            stroke: { value: '#999' },
            strokeDash: { value: [4, 4] },
          },
        },
      },
      {
        type: 'group',
        from: { facet: { name: 'series', data: 'points', groupby: 'toolchain' } },
        marks: [
          {
            type: 'area',
            from: { data: 'series' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'date' },
                y: { scale: 'y', field: 'low' },
                y2: { scale: 'y', field: 'high' },
                fill: { scale: 'color', field: 'toolchain' },
                fillOpacity: { value: 0.2 },
              },
            },
          },
          {
            type: 'line',
            from: { data: 'series' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'date' },
                y: { scale: 'y', field: 'ratio' },
                stroke: { scale: 'color', field: 'toolchain' },
                strokeWidth: { value: 2 },
              },
            },
          },
          {
            type: 'symbol',
            from: { data: 'series' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'date' },
                y: { scale: 'y', field: 'ratio' },
                fill: { scale: 'color', field: 'toolchain' },
                size: { value: 16 },
              },
            },
          },
        ],
      },
      {
        type: 'rule',
        from: { data: 'llvm' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'date' },
            y: { value: 0 },
            y2: { signal: 'height' },
            stroke: { value: '#d62728' },
            strokeDash: { value: [2, 2] },
          },
        },
      },
      {
        type: 'text',
        from: { data: 'llvm' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'date' },
            y: { value: 10 },
            text: { field: 'label' },
            fill: { value: '#d62728' },
            fontSize: { value: 10 },
            dx: { value: 3 },
          },
        },
      },
    ],
  };
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  return view.toSVG();
}
