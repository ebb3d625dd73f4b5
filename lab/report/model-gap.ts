import type { DeflateProfile } from '../datasets/symbols.js';
import type { LoopReport } from '../uarch/index.js';
import { predictWorkload, type WorkloadPrediction } from '../uarch/predict.js';
import { escapeCell } from './index.js';
import { right, tableLines } from './table.js';

/** One measured dataset: its symbol profile and the measured head/libdeflate speed ratio with its interval. */
export interface ModelGapDataset {
  label: string;
  profile: DeflateProfile;
  measured: { estimate: number; low: number; high: number; confidence: number } | null;
  /** Why there is no measured ratio (a failed contender), when there is none. */
  measuredMissing?: string;
}

export interface ModelGapRow {
  label: string;
  head: WorkloadPrediction | { unpredictable: string };
  libdeflate: WorkloadPrediction | { unpredictable: string };
  /** libdeflate cycles/byte ÷ head cycles/byte: the speed ratio head/libdeflate the loop model predicts. */
  predictedRatio: number | null;
  measured: ModelGapDataset['measured'];
  /** What the comparison says, in words: how much of the measured gap the model explains, or why it cannot say. */
  finding: string;
}

const times = (ratio: number) => `${ratio.toFixed(2)}×`;
const predicted = (prediction: WorkloadPrediction | { unpredictable: string }) =>
  'unpredictable' in prediction ? undefined : prediction;

/** Whether the measurement ran on the modelled core: the CPU brand must be one the model names. */
export function measuredOnModelledCore(
  model: LoopReport['model'],
  machine: { arch: string; cpuModel: string },
): string | undefined {
  const brand = model.cpuBrands.find((name) => machine.cpuModel.includes(name));
  if (machine.arch === 'arm64' && brand) return undefined;
  return (
    `measured on ${machine.cpuModel} (${machine.arch}), not on the modelled ` +
    `${model.core}${model.cpuBrands.length ? ` (${model.cpuBrands.join(', ')})` : ''}`
  );
}

/** The finding for one dataset: how much of the measured gap the loop model accounts for. */
export function gapFinding(
  predictedRatio: number | null,
  measured: ModelGapDataset['measured'],
  notComparable: string | undefined,
  lowerBound: boolean,
): string {
  if (predictedRatio === null) return 'no prediction';
  if (notComparable) return `not comparable: ${notComparable}`;
  if (!measured) return 'no measured ratio';
  if (lowerBound) return 'inconclusive: a prediction is only a lower bound (see notes)';
  const level = `${Math.round(measured.confidence * 100)}%`;
  if (measured.low <= 1 && measured.high >= 1) {
    return (
      `no measured gap (the ${level} interval includes 1.00×); the model predicts ` +
      (Math.abs(1 - predictedRatio) < 0.005
        ? 'none either'
        : `head ${predictedRatio > 1 ? 'faster' : 'slower'} by ${Math.abs(100 * (predictedRatio - 1)).toFixed(0)}%`)
    );
  }
  const measuredGap = measured.estimate - 1;
  const predictedGap = predictedRatio - 1;
  const direction = measuredGap < 0 ? 'slower' : 'faster';
  if (Math.sign(predictedGap) !== Math.sign(measuredGap) || Math.abs(predictedGap) < 0.005) {
    return (
      `the model does not explain it: head is measured ${direction}, the loop model predicts ` +
      `${Math.abs(predictedGap) < 0.005 ? 'no difference' : `head ${predictedGap < 0 ? 'slower' : 'faster'}`}; ` +
      'the cause is outside the modelled loop (or the model is wrong there)'
    );
  }
  const share = predictedGap / measuredGap;
  if (share > 1.05)
    return (
      `the model predicts a larger gap than measured (${(share * 100).toFixed(0)}% of it): something ` +
      `outside the loop narrows it, or the model overstates the loop's cost`
    );
  return (
    `the model explains ${(share * 100).toFixed(0)}% of the gap (head ${direction}); ` +
    `${share > 0.95 ? 'the loop accounts for it' : 'the rest is outside the hot loop or not modelled'}`
  );
}

function modelGapRows(
  head: LoopReport,
  libdeflate: LoopReport,
  datasets: readonly ModelGapDataset[],
  notComparable: string | undefined,
): ModelGapRow[] {
  return datasets.map((dataset) => {
    const headPrediction = predictWorkload(dataset.profile, head);
    const libdeflatePrediction = predictWorkload(dataset.profile, libdeflate);
    const h = predicted(headPrediction);
    const l = predicted(libdeflatePrediction);
    const predictedRatio = h && l && h.cyclesPerByte > 0 ? l.cyclesPerByte / h.cyclesPerByte : null;
    // A head lower bound (≥ cycles) makes the predicted ratio an upper bound and vice versa: no share can be read.
    const lowerBound = Boolean((h && !h.exact) || (l && !l.exact));
    const finding =
      gapFinding(predictedRatio, dataset.measured, notComparable, lowerBound) +
      (dataset.measured ? '' : dataset.measuredMissing ? ` (${dataset.measuredMissing})` : '');
    return {
      label: dataset.label,
      head: headPrediction,
      libdeflate: libdeflatePrediction,
      predictedRatio,
      measured: dataset.measured,
      finding,
    };
  });
}

/**
 * The report section: per dataset, the loop model's cycles per byte for head
 * and libdeflate, the speed ratio they predict beside the measured one, and
 * what the gap between the two says.
 */
export function modelGapSection(
  head: LoopReport,
  libdeflate: LoopReport,
  datasets: readonly ModelGapDataset[],
  machine: { arch: string; cpuModel: string },
  missing: readonly string[] = [],
): string {
  const title = '#### The loop model against the measurement';
  const notProfiled = missing.map((why) => `⚠️ Not profiled: ${escapeCell(why)}.`);
  if (datasets.length === 0)
    return [title, '', 'Not compared: no measured dataset could be profiled.', ...notProfiled, ''].join('\n');
  const notComparable = measuredOnModelledCore(head.model, machine);
  const rows = modelGapRows(head, libdeflate, datasets, notComparable);
  const cell = (prediction: ModelGapRow['head']) => {
    const known = predicted(prediction);
    if (!known) return `not predicted: ${escapeCell((prediction as { unpredictable: string }).unpredictable)}`;
    return `${known.exact ? '' : '≥ '}${known.cyclesPerByte.toFixed(3)}`;
  };
  const measuredCell = (row: ModelGapRow) =>
    row.measured
      ? `${times(row.measured.estimate)} [${row.measured.low.toFixed(2)}, ${row.measured.high.toFixed(2)}]`
      : '—';
  const notes = new Set<string>();
  for (const row of rows) {
    for (const [who, prediction] of [
      ['head', row.head],
      ['libdeflate', row.libdeflate],
    ] as const) {
      const known = predicted(prediction);
      if (!known) continue;
      for (const why of known.lowerBoundBecause) notes.add(`${who}, ${row.label}: lower bound: ${why}`);
      for (const assumption of known.assumptions) notes.add(`${row.label}: ${assumption}`);
    }
  }
  const share = (prediction: ModelGapRow['head']) => {
    const known = predicted(prediction);
    if (!known) return '';
    const total = known.byRole.reduce((sum, role) => sum + role.cycles, 0) + known.copyLoopCycles;
    const parts = known.byRole
      .slice(0, 3)
      .map((role) => `${escapeCell(role.roleName)} ${((100 * role.cycles) / total).toFixed(0)}%`);
    if (known.copyLoopCycles) parts.push(`copy-loop passes ${((100 * known.copyLoopCycles) / total).toFixed(0)}%`);
    return parts.join(', ');
  };
  return [
    title,
    '',
    'Every literal run and match of each dataset (counted from its deflate streams) priced on the loop paths above: ' +
      'cycles per output byte of the decode loop alone, and the speed ratio they predict beside the measured one.',
    '',
    ...tableLines(
      [
        'dataset',
        right('head cycles/byte (model)'),
        right('libdeflate cycles/byte (model)'),
        right('predicted head/libdeflate'),
        right('measured head/libdeflate'),
        'finding',
      ],
      rows.map((row) => [
        escapeCell(row.label),
        cell(row.head),
        cell(row.libdeflate),
        row.predictedRatio === null ? '—' : times(row.predictedRatio),
        measuredCell(row),
        escapeCell(row.finding),
      ]),
    ),
    ...(notProfiled.length ? ['', ...notProfiled] : []),
    '',
    '<details><summary>where the modelled cycles go, and what the model leaves out</summary>',
    '',
    ...rows.flatMap((row) => [
      `- **${escapeCell(row.label)}**: head: ${share(row.head) || '—'}; ` +
        `libdeflate: ${share(row.libdeflate) || '—'}`,
    ]),
    ...[...notes].map((note) => `- ${escapeCell(note)}`),
    "- The loop model sums each iteration's usual-path cycles; it leaves out table builds, stored blocks, the " +
      'slow loop near buffer ends, cache misses and branch mispredictions.',
    '',
    '</details>',
    '',
  ].join('\n');
}
