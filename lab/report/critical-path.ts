import type { LoopReport } from '../uarch/index.js';
import { atLeast, unknownNote } from '../uarch/index.js';
import { escapeCell } from './index.js';

const hex = (address: number) => `0x${address.toString(16)}`;
const cycles = (value: number) => (Number.isInteger(value) ? String(value) : value.toFixed(2));
const signed = (value: number) => (value === 0 ? '0' : `${value > 0 ? '+' : '−'}${cycles(Math.abs(value))}`);

/** An instruction's shape without register numbers, so a re-allocation alone does not count as a change. */
export function instructionShape(text: string): string {
  return text.replace(/\b[xwvqdshb]\d+\b/g, 'R').replace(/\s+/g, ' ').trim();
}

function chain(report: LoopReport, changedAgainst?: LoopReport): string {
  const before = new Map<string, number>();
  for (const link of changedAgainst?.analysis.criticalChain ?? []) before.set(instructionShape(link.text), (before.get(instructionShape(link.text)) ?? 0) + 1);
  const links = report.analysis.criticalChain.map((link) => {
    const shape = instructionShape(link.text);
    const left = before.get(shape) ?? 0;
    const changed = changedAgainst !== undefined && left === 0;
    if (left > 0) before.set(shape, left - 1);
    return `${changed ? '**+** ' : ''}\`${link.text.replace(/`/g, "'")}\` (${link.latencyCycles})`;
  });
  return links.length ? links.join(' → ') : '(no loop-carried dependency)';
}

/**
 * The PR-comment section: cycles/iteration, critical path, instructions, ILP
 * and idioms for base, head and libdeflate, and each critical chain with the
 * head's instructions that are new against base marked.
 */
export function criticalPathDiff(base: LoopReport, head: LoopReport, reference?: LoopReport): string {
  const columns = [base, head, ...(reference ? [reference] : [])];
  const inexact = columns.filter((report) => !report.analysis.exact);
  // A figure resting on an instruction without a model entry is a lower bound, and so is any difference taken with it.
  const bounded = (report: LoopReport, text: string) => `${atLeast(report.analysis)}${text}`;
  const row = (label: string, value: (report: LoopReport) => number, format: (n: number) => string = cycles, lowerBound = true) => {
    const cell = (report: LoopReport) => (lowerBound ? bounded(report, format(value(report))) : format(value(report)));
    const delta = signed(Math.round((value(head) - value(base)) * 100) / 100);
    const deltaCell = lowerBound && (!head.analysis.exact || !base.analysis.exact) ? `${delta} (not exact)` : delta;
    return `| ${label} | ${cell(base)} | ${cell(head)} | ${deltaCell} |${reference ? ` ${cell(reference)} |` : ''}`;
  };
  const lines = [
    `### Hot decode loop on ${escapeCell(head.model.name)} (${escapeCell(head.model.core)}${head.model.inheritedFrom ? `; numbers inherited from ${escapeCell(head.model.inheritedFrom)}` : ''})`,
    '',
    `| | base | head | Δ head − base |${reference ? ' libdeflate |' : ''}`,
    `|---|---:|---:|---:|${reference ? '---:|' : ''}`,
    row('predicted cycles/iteration', (r) => r.analysis.predictedCycles),
    row('critical path (cycles/iteration)', (r) => r.analysis.criticalPathCycles),
    row('instructions/iteration', (r) => r.analysis.instructions, String, false),
    row('ILP (instructions / critical path)', (r) => r.analysis.ilp, (n) => n.toFixed(2), false),
    `| bound | ${base.analysis.bound} | ${head.analysis.bound} | |${reference ? ` ${reference.analysis.bound} |` : ''}`,
    ...inexact.map((report) => `\n⚠️ ${report === head ? 'head' : report === base ? 'base' : 'libdeflate'}:${escapeCell(unknownNote(report.analysis))}; its cycle figures are lower bounds (≥).`),
    '',
    `| idiom | base | head |${reference ? ' libdeflate |' : ''}`,
    `|---|:-:|:-:|${reference ? ':-:|' : ''}`,
    ...head.idioms.map((idiom, i) => `| ${escapeCell(idiom.idiom)} | ${columns.map((r) => (r.idioms[i]?.found ? '✓' : '✗')).join(' | ')} |`),
    '',
    '<details><summary>critical chains (head instructions new against base marked <b>+</b>)</summary>',
    '',
    `- **head** (${escapeCell(head.function)}, loop at ${hex(head.hotLoop.headerAddress)}): ${chain(head, base)}`,
    `- **base** (${escapeCell(base.function)}, loop at ${hex(base.hotLoop.headerAddress)}): ${chain(base)}`,
    ...(reference ? [`- **libdeflate** (${escapeCell(reference.function)}, loop at ${hex(reference.hotLoop.headerAddress)}): ${chain(reference)}`] : []),
    '',
    '</details>',
  ];
  return `${lines.join('\n')}\n`;
}
