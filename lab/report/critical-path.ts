import type { LoopReport } from '../uarch/index.js';
import { atLeast, unknownNote } from '../uarch/index.js';
import { coverage } from '../uarch/mca.js';
import { escapeCell } from './index.js';
import { center, right, tableLines } from './table.js';

const hex = (address: number) => `0x${address.toString(16)}`;
const cycles = (value: number) => (Number.isInteger(value) ? String(value) : value.toFixed(2));
const signed = (value: number) => (value === 0 ? '0' : `${value > 0 ? '+' : '−'}${cycles(Math.abs(value))}`);

/** An instruction's shape without register numbers, so a re-allocation alone does not count as a change. */
function instructionShape(text: string): string {
  return text
    .replace(/\b[xwvqdshb]\d+\b/g, 'R')
    .replace(/\s+/g, ' ')
    .trim();
}

function chain(report: LoopReport, changedAgainst?: LoopReport): string {
  const before = new Map<string, number>();
  for (const link of changedAgainst?.analysis.criticalChain ?? [])
    before.set(instructionShape(link.text), (before.get(instructionShape(link.text)) ?? 0) + 1);
  const links = report.analysis.criticalChain.map((link) => {
    const shape = instructionShape(link.text);
    const left = before.get(shape) ?? 0;
    const changed = changedAgainst !== undefined && left === 0;
    if (left > 0) before.set(shape, left - 1);
    return `${changed ? '**+** ' : ''}\`${link.text.replace(/`/g, "'")}\` (${link.latencyCycles})`;
  });
  return links.length ? links.join(' → ') : '(no loop-carried dependency)';
}

/** Why a column's loop cannot be compared, or nothing when it has a decode loop's shape. */
export function notADecodeLoop(report: LoopReport): string | undefined {
  // A pinned loop is the maintainer's word for its role.
  if (report.loopChoice.decodeLoop || report.loopChoice.how === 'pinned') return undefined;
  return (
    `the loop analysed in ${report.function} (${hex(report.hotLoop.headerAddress)}, ${report.loopChoice.how}) ` +
    `does not have a decode loop's shape (${report.loopChoice.reason})`
  );
}

/** Per role: usual-path cycles and instructions for each column, matched by role, never by layout. */
function roleTable(base: LoopReport, head: LoopReport, reference?: LoopReport): string[] {
  const columns = [base, head, ...(reference ? [reference] : [])];
  const names = [...new Set(columns.flatMap((report) => report.roles.map((role) => role.roleName)))];
  const order = (name: string) =>
    Math.min(
      ...columns.flatMap((report) =>
        report.roles.map((role, i) => (role.roleName === name ? i : Number.POSITIVE_INFINITY)),
      ),
    );
  names.sort((a, b) => order(a) - order(b));
  const cell = (report: LoopReport, name: string) => {
    const role = report.roles.find((entry) => entry.roleName === name);
    if (!role) return '—';
    return `${atLeast(role.analysis)}${cycles(role.analysis.predictedCycles)} · ${role.analysis.instructions} ins`;
  };
  const delta = (name: string) => {
    const before = base.roles.find((entry) => entry.roleName === name);
    const after = head.roles.find((entry) => entry.roleName === name);
    if (!before || !after) return before ? 'path gone' : after ? 'new path' : '';
    const text = signed(Math.round((after.analysis.predictedCycles - before.analysis.predictedCycles) * 100) / 100);
    return before.analysis.exact && after.analysis.exact ? text : `${text} (not exact)`;
  };
  return tableLines(
    [
      'path role (usual path: predicted cycles · instructions)',
      right('base'),
      right('head'),
      right('Δ head − base'),
      ...(reference ? [right('libdeflate')] : []),
    ],
    names.map((name) => [
      escapeCell(name),
      cell(base, name),
      cell(head, name),
      delta(name),
      ...(reference ? [cell(reference, name)] : []),
    ]),
  );
}

/**
 * The PR-comment section: for base, head and libdeflate, the decode loop each
 * was analysed on, every path role's usual path matched by role (so a layout
 * change alone shows no difference), the headline (match) path's critical path,
 * instructions, ILP and idioms, and each critical chain with the head's
 * instructions that are new against base marked. When a build's loop does not
 * have a decode loop's shape, it says so instead of printing a diff.
 */
export function criticalPathDiff(base: LoopReport, head: LoopReport, reference?: LoopReport): string {
  const chosen = head.model.chosenBecause
    ? `\n\nCPU model ${escapeCell(head.model.name)}: ${escapeCell(head.model.chosenBecause)}.`
    : '';
  const title =
    `### Hot decode loop on ${escapeCell(head.model.name)} ` +
    `(${escapeCell(head.model.core)}` +
    (head.model.inheritedFrom ? `; numbers inherited from ${escapeCell(head.model.inheritedFrom)}` : '') +
    `)${chosen}`;
  const unmatched = [base, head].map(notADecodeLoop);
  if (unmatched.some(Boolean)) {
    return `${[
      title,
      '',
      `Not compared: ${unmatched
        .map((why, i) => (why ? `${i === 0 ? 'base' : 'head'}: ${escapeCell(why)}` : ''))
        .filter(Boolean)
        .join('; ')}.`,
      "Pin the decode loop with the analyze action's `loop` input (or `perf-lab analyze --loop`): a header " +
        'address, `+offset` or `file.rs:line`.',
    ].join('\n')}\n`;
  }
  const referenceProblem = reference ? notADecodeLoop(reference) : undefined;
  const shown = referenceProblem ? undefined : reference;
  const columns = [base, head, ...(shown ? [shown] : [])];
  const inexact = columns.filter((report) => !report.analysis.exact);
  // A figure resting on an instruction without a model entry is a lower bound, and so is any difference taken with it.
  const bounded = (report: LoopReport, text: string) => `${atLeast(report.analysis)}${text}`;
  const sameHeadline = columns.every((report) => report.headlineRole === head.headlineRole);
  const row = (
    label: string,
    value: (report: LoopReport) => number,
    format: (n: number) => string = cycles,
    lowerBound = true,
  ) => {
    const cell = (report: LoopReport) => (lowerBound ? bounded(report, format(value(report))) : format(value(report)));
    const delta = signed(Math.round((value(head) - value(base)) * 100) / 100);
    const deltaCell =
      base.headlineRole !== head.headlineRole
        ? 'other role'
        : lowerBound && (!head.analysis.exact || !base.analysis.exact)
          ? `${delta} (not exact)`
          : delta;
    return [label, cell(base), cell(head), deltaCell, ...(shown ? [cell(shown)] : [])];
  };
  const loopLine = (name: string, report: LoopReport) =>
    `- **${name}**: ${escapeCell(report.function)}, loop at ` +
    `${hex(report.hotLoop.headerAddress)}` +
    (report.loopChoice.sourceLine ? ` (${escapeCell(report.loopChoice.sourceLine)})` : '') +
    `, ${report.loopChoice.how === 'pinned' ? 'pinned' : 'chosen by evidence'}; ` +
    `${report.hotLoop.pathsComplete ? '' : 'the shortest '}${report.hotLoop.paths}` +
    `${report.hotLoop.pathsComplete ? '' : ' of more'} paths in ${report.roles.length} roles`;
  const lines = [
    title,
    '',
    ...roleTable(base, head, shown),
    '',
    `Headline: the **${escapeCell(head.headlineRole)}** ` +
      `path${sameHeadline ? '' : ' (⚠️ not every build has this role; its row compares different roles)'}.`,
    '',
    ...tableLines(
      ['', right('base'), right('head'), right('Δ head − base'), ...(shown ? [right('libdeflate')] : [])],
      [
        row('predicted cycles/iteration', (r) => r.analysis.predictedCycles),
        row('critical path (cycles/iteration)', (r) => r.analysis.criticalPathCycles),
        row('instructions/iteration', (r) => r.analysis.instructions, String, false),
        row(
          'ILP (instructions / critical path)',
          (r) => r.analysis.ilp,
          (n) => n.toFixed(2),
          false,
        ),
        ['bound', ...columns.slice(0, 2).map((r) => r.analysis.bound), '', ...(shown ? [shown.analysis.bound] : [])],
      ],
    ),
    ...inexact.map(
      (report) =>
        `\n⚠️ ${report === head ? 'head' : report === base ? 'base' : 'libdeflate'}:` +
        `${escapeCell(unknownNote(report.analysis))}; its cycle figures are lower bounds (≥).`,
    ),
    ...columns
      .filter((report) => !report.hotLoop.pathsComplete)
      .map(
        (report) =>
          `\n⚠️ ${report === head ? 'head' : report === base ? 'base' : 'libdeflate'}: only the ` +
          `${report.hotLoop.paths} shortest paths of its loop were analysed (search capped); a role reached ` +
          `only by longer paths may be missing, and its rows cover the paths found, not all.`,
      ),
    ...(referenceProblem ? [`\n⚠️ libdeflate not shown: ${escapeCell(referenceProblem)}.`] : []),
    '',
    ...tableLines(
      ['idiom (on any path)', center('base'), center('head'), ...(shown ? [center('libdeflate')] : [])],
      head.idioms.map((idiom, i) => [escapeCell(idiom.idiom), ...columns.map((r) => (r.idioms[i]?.found ? '✓' : '✗'))]),
    ),
    '',
    '<details><summary>loops and critical chains (head instructions new against base marked <b>+</b>)</summary>',
    '',
    loopLine('head', head),
    loopLine('base', base),
    ...(shown ? [loopLine('libdeflate', shown)] : []),
    '',
    `- **head** chain: ${chain(head, base)}`,
    `- **base** chain: ${chain(base)}`,
    ...(shown ? [`- **libdeflate** chain: ${chain(shown)}`] : []),
    '',
    '</details>',
    ...mcaSection([['base', base], ['head', head], ...(shown ? [['libdeflate', shown] as [string, LoopReport]] : [])]),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * llvm-mca's cycles beside the model's for each build's roles (reports analysed with `mca`), the headline role's
 * reason, or the one line saying why llvm-mca was not run; nothing for reports analysed without it.
 */
function mcaSection(columns: Array<[string, LoopReport]>): string[] {
  const checked = columns.flatMap(([name, report]) => (report.mca ? [{ name, report, check: report.mca }] : []));
  if (checked.length === 0) return [];
  const notRun = checked.flatMap(({ name, check }) => (check.ran ? [] : [{ name, why: check.notRun }]));
  const reasons = [...new Set(notRun.map(({ why }) => why))];
  if (notRun.length === checked.length && reasons.length === 1)
    return ['', `llvm-mca cross-check: not run (${escapeCell(reasons[0]!)}).`];
  const ran = checked.flatMap(({ name, report, check }) => (check.ran ? [{ name, report, check }] : []));
  const notRunLines = notRun.map(({ name, why }) => `- **${name}**: llvm-mca cross-check not run (${escapeCell(why)})`);
  if (ran.length === 0) return ['', ...notRunLines];
  const first = ran[0]!.check;
  const names = [...new Set(ran.flatMap(({ check }) => check.roles.map((role) => role.roleName)))];
  const cell = (check: typeof first, name: string) => {
    const role = check.roles.find((entry) => entry.roleName === name);
    if (!role) return '—';
    const ours = `${role.ours.exact ? '' : '≥ '}${cycles(role.ours.predictedCycles)}`;
    return 'notRun' in role
      ? `${ours} · not run`
      : `${ours} · ${cycles(role.mca.cyclesPerIteration)}${role.agree ? ' ✓' : ''}`;
  };
  const headline = ran.flatMap(({ name, report, check }) => {
    const role = check.roles.find((entry) => entry.roleName === report.headlineRole);
    if (!role) return [];
    if ('notRun' in role)
      return [`- **${name}** ${escapeCell(role.roleName)}: llvm-mca not run (${escapeCell(role.notRun)})`];
    return [
      `- **${name}** ${escapeCell(role.roleName)}: llvm-mca ${cycles(role.mca.cyclesPerIteration)}, bound by ` +
        `${escapeCell(role.boundBy)}; this model ${cycles(role.ours.predictedCycles)} — ` +
        `${escapeCell(role.why)}; ${escapeCell(coverage(role))}`,
    ];
  });
  return [
    '',
    `<details><summary>llvm-mca cross-check: llvm-mca ${escapeCell(first.version)} -mcpu=${escapeCell(first.mcpu)} ` +
      `(${escapeCell(first.schedulingModel)}) on each role's usual path (✓: within 1 cycle), run from ` +
      `${escapeCell(first.tool)} (${escapeCell(first.foundBy)})</summary>`,
    '',
    ...tableLines(
      ['path role (cycles/iteration: this model · llvm-mca)', ...ran.map(({ name }) => right(name))],
      names.map((name) => [escapeCell(name), ...ran.map(({ check }) => cell(check, name))]),
    ),
    '',
    ...headline,
    ...notRunLines,
    '',
    '</details>',
  ];
}
