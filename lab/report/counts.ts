/*
 * The instruction counts in the report and the PR comment: a column beside the timing verdict (head's
 * instructions per output byte, its exact change vs base and its ratio to libdeflate) and a table with every
 * contender. Counts are not time, and the report says so wherever it shows them.
 */
import type { BenchResults } from '../results/index.js';
import { instructionComparison, type InstructionCounts } from '../results/counts.js';
import { escapeCell } from './cell.js';
import { markdownTable, right, type Column } from './table.js';

/** What a reader must know before reading a count as a speed. */
export const COUNTS_ARE_NOT_TIME =
  'Instruction counts are not time: they are exact and do not move with the runner, but a change can cut ' +
  'instructions and still lose speed (cache misses, branch mispredictions, dependency chains), or add some and win.';

const signedPercent = (value: number) => `${value >= 0 ? '+' : '−'}${Math.abs(value * 100).toFixed(2)}%`;
const perByte = (value: number) => value.toFixed(3);
const signedPerByte = (value: number) => `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(4)}/byte`;

/** The column's header, or null when the results hold no counts section (results written before counts). */
export function countsColumn(results: Pick<BenchResults, 'counts' | 'base'>): Column | null {
  if (!results.counts) return null;
  return right(`instructions/byte (head${results.base ? '; Δ vs base' : ''}; × libdeflate)`);
}

/** A dataset's cell: "3.412 (−1.23% vs base; 1.101× libdeflate)", or why head has no count. */
function countsCell(counts: InstructionCounts, datasetName: string): string {
  if (counts.unavailable) return escapeCell(counts.unavailable);
  const dataset = counts.datasets.find((entry) => entry.name === datasetName);
  if (!dataset) return 'not counted';
  const view = instructionComparison(dataset);
  if (view.headInstructionsPerByte === null) return escapeCell(view.headNotCounted ?? 'not counted');
  const parts = [
    ...(view.headVsBaseChange !== null ? [`${signedPercent(view.headVsBaseChange)} vs base`] : []),
    ...(view.headVsLibdeflate !== null ? [`${view.headVsLibdeflate.toFixed(3)}× libdeflate`] : []),
  ];
  return `${perByte(view.headInstructionsPerByte)}${parts.length ? ` (${parts.join('; ')})` : ''}`;
}

/** The cells a table row gets for the column (none when the results have no counts). */
export function countsCells(results: Pick<BenchResults, 'counts'>, datasetName: string): string[] {
  return results.counts ? [countsCell(results.counts, datasetName)] : [];
}

/** Every contender's count on every dataset, with the note that counts are not time; null without counts. */
export function countsSection(results: Pick<BenchResults, 'counts'>): string | null {
  const counts = results.counts;
  if (!counts) return null;
  if (counts.unavailable) return `Instruction counts: ${escapeCell(counts.unavailable)}. ${COUNTS_ARE_NOT_TIME}`;
  const rows = counts.datasets.flatMap((dataset) => {
    const view = instructionComparison(dataset);
    const libdeflate = dataset.contenders.find((contender) => contender.role === 'libdeflate');
    return dataset.contenders.map((contender) => {
      if (contender.instructions === null || contender.instructionsPerByte === null)
        return [
          escapeCell(dataset.label),
          escapeCell(contender.name),
          contender.role,
          '—',
          escapeCell(contender.notCounted ?? 'not counted'),
          '—',
        ];
      const versusLibdeflate =
        contender.role !== 'libdeflate' && libdeflate?.instructions
          ? `${(contender.instructions / libdeflate.instructions).toFixed(3)}×`
          : '—';
      const versusBase =
        contender.role === 'head' && view.headVsBaseChange !== null && view.headVsBaseInstructionsPerByte !== null
          ? `; ${signedPercent(view.headVsBaseChange)} vs base (${signedPerByte(view.headVsBaseInstructionsPerByte)})`
          : '';
      return [
        escapeCell(dataset.label),
        escapeCell(contender.name),
        contender.role,
        String(contender.instructions),
        `${perByte(contender.instructionsPerByte)}${versusBase}`,
        versusLibdeflate,
      ];
    });
  });
  const table = markdownTable(
    [
      'dataset',
      'contender',
      'role',
      right('instructions (one decode)'),
      right('instructions/byte'),
      right('× libdeflate'),
    ],
    rows,
  );
  return `${table}\n\nInstruction counts by ${escapeCell(counts.tool ?? 'an unknown tool')}. ${COUNTS_ARE_NOT_TIME}`;
}
