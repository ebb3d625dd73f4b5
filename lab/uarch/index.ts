import {
  buildControlFlow,
  loadFunctions,
  ownInstructionCount,
  selectFunctions,
  type AsmFunction,
  type ControlFlow,
  type Loop,
} from '../asm/index.js';
import { LabError } from '../core/errors.js';
import { withSlack, type LoopAnalysis, type PathAnalysis } from './analyze.js';
import { findIdioms, type IdiomFinding } from './idioms.js';
import { chooseLoop, type LoopChoice } from './loop-choice.js';
import { machineInfo } from '../bench/machine.js';
import { resolveCpuModel } from './choose-model.js';
import { type CpuModel } from './model.js';
import { analyzePaths, headlineGroup, type LoopPaths, type PathGroup, type PathRole } from './paths.js';
import { mcaCrossCheck, mcaTextLines, type McaCrossCheck, type McaPath } from './mca.js';

export { loadCpuModel, type CpuModel } from './model.js';
export { resolveCpuModel } from './choose-model.js';
export { type LoopAnalysis } from './analyze.js';
export { type McaCrossCheck } from './mca.js';

type Summary = Omit<PathAnalysis, 'nodes' | 'edges'>;

/** One role of the loop's iteration paths, with its usual path analysed. */
export interface RoleReport {
  role: PathRole;
  roleName: string;
  variants: number;
  predictedCycles: { min: number; max: number };
  instructions: { min: number; max: number };
  /** Block addresses of the usual path. */
  pathAddresses: number[];
  analysis: Summary;
  idioms: IdiomFinding[];
}

export interface LoopReport {
  function: string;
  /** The function asked for when it only tail-calls `function` (which is then the one analysed). */
  tailCallFrom?: string;
  /** The other functions --function matched (smaller than the one analysed), when it matched several. */
  otherMatches?: string[];
  source: string;
  model: { name: string; core: string; inheritedFrom: string | null; cpuBrands: string[]; chosenBecause?: string };
  loops: Array<{
    headerAddress: number;
    depth: number;
    instructions: number;
    ownInstructions: number;
    innermost: boolean;
  }>;
  hotLoop: {
    headerAddress: number;
    depth: number;
    instructions: number;
    ownInstructions: number;
    paths: number;
    pathsComplete: boolean;
    pathInstructions: { min: number; max: number };
  };
  /** Why this loop: chosen by its decode-loop evidence or pinned, with the runners-up. */
  loopChoice: {
    how: LoopChoice['how'];
    decodeLoop: boolean;
    /** Loops of the function with a decode loop's shape. */
    decodeLoops: number;
    reason: string;
    sourceLine: string | null;
    runnersUp: Array<{ headerAddress: number; decodeLoop: boolean; ownInstructions: number; reason: string }>;
  };
  /** Every path role of one iteration, the usual match path first. */
  roles: RoleReport[];
  /** Branches leaving the loop (end of block, fast-loop margins, errors): not iterations, not analysed. */
  exits: number[];
  copyLoop: LoopPaths['copyLoop'];
  /** The role the headline figures (`analysis`) describe. */
  headlineRole: string;
  /** The headline role's usual path. */
  pathAddresses: number[];
  analysis: Summary & { listing: Array<{ address: number; text: string; class: string; slackCycles: number | null }> };
  /** Idioms found on any role's usual path (with the roles). */
  idioms: Array<IdiomFinding & { roles: string[] }>;
  /** The model's figures the headline critical chain is priced with: one per class, each with its source. */
  figures: Array<{ class: string; mnemonics: string[]; latenciesCycles: number[]; source: string; inherited: boolean }>;
  /** llvm-mca's cycles for each role's usual path beside the model's, or why not (only when asked: options.mca). */
  mca?: McaCrossCheck;
}

export interface AnalyzeOptions {
  path: string;
  functionName: string;
  /** The model's name when no model is passed (undefined: chosen for this host, see resolveCpuModel). */
  cpu?: string;
  /**
   * Pin the loop: a header address (0x5cc), an offset from the function start (+0x5cc) or a source line (file.c:123).
   */
  loop?: string;
  /** Cross-check each role's usual path with llvm-mca (lab/uarch/mca.ts), when the model names an -mcpu. */
  mca?: boolean;
}

/**
 * The decode loop of a parsed function (or the pinned one), every path of its iteration by role, and the headline role
 * analysed.
 */
export function analyzeHotLoop(
  fn: AsmFunction,
  cpu: CpuModel,
  pin?: string,
): {
  flow: ControlFlow;
  loop: Loop;
  choice: LoopChoice;
  paths: LoopPaths;
  headline: PathGroup;
  path: number[];
  analysis: LoopAnalysis;
} {
  const flow = buildControlFlow(fn);
  const choice = chooseLoop(fn, cpu, pin, flow);
  // A loop chosen without a decode loop's shape (a table builder) gets its paths named by what they store.
  const paths = analyzePaths(flow, choice.loop, cpu, undefined, choice.candidate.decodeLoop || choice.how === 'pinned');
  const headline = headlineGroup(paths);
  if (!headline)
    throw new LabError(
      'analyze',
      `no path from the header of the loop at 0x${choice.loop.headerAddress.toString(16)} in ${fn.name} back to it.`,
      'pin another loop with --loop.',
    );
  return {
    flow,
    loop: choice.loop,
    choice,
    paths,
    headline,
    path: headline.representative.blocks,
    analysis: withSlack(headline.analysis),
  };
}

/**
 * Disassembles (or reads) `path`, finds the function and its decode loop, and analyses every path of one iteration on a
 * CPU model.
 */
export async function analyzeLoop(options: AnalyzeOptions, model?: CpuModel): Promise<LoopReport> {
  const cpu = model ?? (await resolveCpuModel(options.cpu, machineInfo));
  const { functions, source } = await loadFunctions(options.path);
  const [selected, ...others] = await selectFunctions(functions, options.functionName, source);
  const callee = options.loop === undefined ? tailCallee(functions, selected!) : undefined;
  const { report, usualPaths } = callee
    ? reportHotLoop(callee, source, cpu)
    : reportHotLoop(selected!, source, cpu, options.loop);
  // Several matches (a Rust function's monomorphised or std-vendored copies): the largest is analysed, and said.
  const chosen = {
    ...report,
    ...(callee ? { tailCallFrom: selected!.name } : {}),
    ...(others.length ? { otherMatches: others.map((fn) => fn.name) } : {}),
  };
  return withMca(chosen, usualPaths, cpu, options.mca);
}

/** The report with llvm-mca's cross-check of its usual paths, when asked. */
async function withMca(report: LoopReport, paths: McaPath[], cpu: CpuModel, asked?: boolean): Promise<LoopReport> {
  return asked ? { ...report, mca: await mcaCrossCheck(cpu, paths) } : report;
}

/**
 * The function a loopless wrapper tail-calls (GCC builds libdeflate_deflate_decompress_ex as one `b` to
 * deflate_decompress_default): its only direct branch to the start of another listed function.
 */
function tailCallee(functions: readonly AsmFunction[], fn: AsmFunction): AsmFunction | undefined {
  if (fn.instructions.length > 16 || buildControlFlow(fn).loops.length > 0) return undefined;
  const starts = new Map(functions.map((other) => [other.instructions[0]!.address, other]));
  const targets = new Set(
    fn.instructions.flatMap((instruction) =>
      instruction.mnemonic === 'b' && instruction.target !== null && starts.has(instruction.target)
        ? [instruction.target]
        : [],
    ),
  );
  const [target] = targets;
  return targets.size === 1 && starts.get(target!) !== fn ? starts.get(target!) : undefined;
}

/** Every function matching the name or /regex/ that has a loop, each with its decode loop analysed. */
export async function analyzeMatchingLoops(options: AnalyzeOptions, model?: CpuModel): Promise<LoopReport[]> {
  const cpu = model ?? (await resolveCpuModel(options.cpu, machineInfo));
  const { functions, source } = await loadFunctions(options.path);
  const matching = await selectFunctions(functions, options.functionName, source);
  const withLoops = matching.filter((fn) => buildControlFlow(fn).loops.length > 0);
  if (withLoops.length === 0)
    throw new LabError(
      'analyze',
      `none of the ${matching.length} function(s) matching "${options.functionName}" has a loop.`,
      'name a function with a decode loop.',
    );
  const reports: LoopReport[] = [];
  for (const fn of withLoops) {
    const { report, usualPaths } = reportHotLoop(fn, source, cpu);
    reports.push(await withMca(report, usualPaths, cpu, options.mca));
  }
  return reports;
}

/** The figures without the graph (and, for the headline, without the slack the listing carries). */
const summaryOf = (analysis: PathAnalysis): Summary => {
  const { nodes, edges, ...summary } = analysis;
  void nodes;
  void edges;
  return summary;
};

/** The report of a function's decode loop, and each role's usual path as instructions (for llvm-mca). */
function reportHotLoop(
  fn: AsmFunction,
  source: string,
  cpu: CpuModel,
  pin?: string,
): { report: LoopReport; usualPaths: McaPath[] } {
  const { flow, loop, choice, paths, headline, analysis } = analyzeHotLoop(fn, cpu, pin);
  const usualPaths = paths.groups.map((group) => ({
    roleName: group.roleName,
    instructions: group.representative.blocks.flatMap((id) => flow.blocks[id]!.instructions),
    chain: group.analysis.criticalChain,
    ours: {
      predictedCycles: group.analysis.predictedCycles,
      criticalPathCycles: group.analysis.criticalPathCycles,
      resourceBoundCycles: group.analysis.resourceBoundCycles,
      resourceBottleneck: group.analysis.resourceBottleneck,
      bound: group.analysis.bound,
      exact: group.analysis.exact,
    },
  }));
  const { slackCycles, ...pathAnalysis } = analysis;
  void slackCycles;
  const roles = paths.groups.map((group): RoleReport => ({
    role: group.role,
    roleName: group.roleName,
    variants: group.variants,
    predictedCycles: group.predictedCycles,
    instructions: group.instructions,
    pathAddresses: group.representative.addresses,
    analysis: summaryOf(group.analysis),
    idioms: findIdioms(group.analysis, flow),
  }));
  const idioms =
    roles[0]?.idioms.map((idiom, i) => {
      const found = roles.filter((role) => role.idioms[i]!.found);
      return {
        ...idiom,
        found: found.length > 0,
        at: [...new Set(found.flatMap((role) => role.idioms[i]!.at))].sort((a, b) => a - b),
        roles: found.map((role) => role.roleName),
      };
    }) ?? [];
  const sizes = paths.groups.flatMap((group) => [group.instructions.min, group.instructions.max]);
  const report: LoopReport = {
    function: fn.name,
    source,
    model: {
      name: cpu.name,
      core: cpu.core,
      inheritedFrom: cpu.inheritedFrom,
      cpuBrands: cpu.cpuBrands,
      ...(cpu.chosenBecause ? { chosenBecause: cpu.chosenBecause } : {}),
    },
    loops: flow.loops
      .map((l) => ({
        headerAddress: l.headerAddress,
        depth: l.depth,
        instructions: l.instructionCount,
        ownInstructions: ownInstructionCount(flow, l),
        innermost: l.innermost,
      }))
      .sort((a, b) => a.headerAddress - b.headerAddress),
    hotLoop: {
      headerAddress: loop.headerAddress,
      depth: loop.depth,
      instructions: loop.instructionCount,
      ownInstructions: ownInstructionCount(flow, loop),
      paths: paths.paths,
      pathsComplete: paths.complete,
      pathInstructions: { min: Math.min(...sizes), max: Math.max(...sizes) },
    },
    loopChoice: {
      how: choice.how,
      decodeLoop: choice.candidate.decodeLoop,
      decodeLoops: choice.decodeLoops,
      reason: choice.candidate.reason,
      sourceLine: choice.candidate.sourceLine,
      runnersUp: choice.runnersUp.map((entry) => ({
        headerAddress: entry.loop.headerAddress,
        decodeLoop: entry.decodeLoop,
        ownInstructions: entry.ownInstructions,
        reason: entry.reason,
      })),
    },
    roles,
    exits: paths.exits,
    copyLoop: paths.copyLoop,
    headlineRole: headline.roleName,
    pathAddresses: headline.representative.addresses,
    analysis: {
      ...summaryOf(pathAnalysis),
      listing: analysis.nodes.map((node, i) => ({
        address: node.instruction.address,
        text: `${node.instruction.mnemonic} ${node.instruction.operands}`.trim(),
        class: node.semantics.class,
        slackCycles: analysis.slackCycles[i]!,
      })),
    },
    idioms,
    figures: chainFigures(analysis),
  };
  return { report, usualPaths };
}

/** The model's timing of each class on the critical chain: the latencies the chain takes from it, and their source. */
function chainFigures(analysis: LoopAnalysis): LoopReport['figures'] {
  const figures = new Map<string, LoopReport['figures'][number]>();
  for (const link of analysis.criticalChain) {
    const node = analysis.nodes[link.index]!;
    const key = `${node.semantics.class}\0${node.timing.source}`;
    const entry = figures.get(key) ?? {
      class: node.semantics.class,
      mnemonics: [],
      latenciesCycles: [],
      source: node.timing.source,
      inherited: node.timing.inherited ?? false,
    };
    if (!entry.mnemonics.includes(node.instruction.mnemonic)) entry.mnemonics.push(node.instruction.mnemonic);
    if (!entry.latenciesCycles.includes(link.latencyCycles)) entry.latenciesCycles.push(link.latencyCycles);
    figures.set(key, entry);
  }
  return [...figures.values()];
}

const hex = (address: number) => `0x${address.toString(16)}`;
const cycles = (value: number) => (Number.isInteger(value) ? String(value) : value.toFixed(2));

/** "≥ " when an instruction of the iteration has no model entry: its figures are then lower bounds. */
export const atLeast = (analysis: { exact: boolean }) => (analysis.exact ? '' : '≥ ');

/** " (2 unknown instructions, each counted as 1 cycle: crc32cx, unknown)", or nothing when all are modelled. */
export function unknownNote(analysis: {
  exact: boolean;
  unknownInstructions: number;
  unknownMnemonics: readonly string[];
}): string {
  if (analysis.exact) return '';
  const count = analysis.unknownInstructions;
  const calls = analysis.unknownMnemonics.some((name) => /^blr? /.test(name))
    ? "; a call's callee is not modelled"
    : '';
  return (
    ` (${count} unknown instruction${count === 1 ? '' : 's'}, each counted as 1 cycle: ` +
    `${analysis.unknownMnemonics.join(', ')}${calls})`
  );
}

/** A loop that lacks the decode-loop shape: pinned, the maintainer chose it (no advice to pin); chosen, say to pin. */
function choiceWarning(choice: LoopReport['loopChoice']): string {
  if (choice.decodeLoop) return '';
  const shape = ' — NOT the shape of a decode loop (no bit-buffer shift feeding masked table loads)';
  if (choice.how === 'pinned') return `${shape}; analysed as pinned`;
  const named = '; its paths are named by what they store, not as literals or matches';
  return choice.decodeLoops === 0
    ? `${shape}, and no loop of this function has it: not a decode loop${named}`
    : `${shape}: pin the decode loop with --loop${named}`;
}

/** "3 exit branch(es) not analysed (0xa4, …)", or "no exit branches" (never "0 … ()"). */
function exitsNote(exits: readonly number[]): string {
  if (exits.length === 0) return 'no exit branches';
  const listed = `${exits.slice(0, 6).map(hex).join(', ')}${exits.length > 6 ? ', …' : ''}`;
  return `${exits.length} exit branch${exits.length === 1 ? '' : 'es'} not analysed (${listed})`;
}

/** Plain-text report; has a `critical path: N cycles/iteration` line for the headline role's usual path. */
/**
 * A finding when the headline chain shifts a value by a register and passes it through a stack slot (miniz_oxide's
 * bit buffer at [sp, #168] on aarch64): every iteration then pays store-to-load forwarding.
 */
function bitBufferInMemory(chain: LoopReport['analysis']['criticalChain']): string[] {
  const at = chain.findIndex((link) => link.via === 'memory' && /\[(sp|x29)\b/.test(link.text));
  if (at < 0 || !chain.some((link) => /^lsrv? [wx]\d+, [wx]\d+, [wx]\d+$/.test(link.text))) return [];
  const store = chain[at]!;
  const load = chain[(at + 1) % chain.length]!;
  const slot = /\[[^\]]+\]/.exec(store.text)![0];
  return [
    `finding: the bit buffer is kept in memory (${slot}): each iteration pays store-to-load forwarding ` +
      `(${store.text} at ${hex(store.address)} → ${load.text} at ${hex(load.address)}, ${store.latencyCycles} ` +
      'cycles in the model); keeping it in a register takes them off the chain',
  ];
}

export function textReport(report: LoopReport): string {
  const a = report.analysis;
  const choice = report.loopChoice;
  const roleRows = report.roles.map((role) => {
    const r = role.analysis;
    const range =
      role.predictedCycles.min === role.predictedCycles.max
        ? ''
        : ` (variants ${cycles(role.predictedCycles.min)}–${cycles(role.predictedCycles.max)})`;
    return (
      `  ${role.roleName.padEnd(36)} ${String(role.variants).padStart(5)}  ` +
      `${`${atLeast(r)}${cycles(r.predictedCycles)}${range}`.padEnd(24)} ` +
      `${`${atLeast(r)}${cycles(r.criticalPathCycles)}`.padStart(8)} ${String(r.instructions).padStart(6)} ` +
      `${r.ilp.toFixed(2).padStart(6)}  ${r.bound}`
    );
  });
  const lines = [
    `function ${report.function} in ${report.source}` +
      (report.tailCallFrom
        ? ` (reached by ${report.tailCallFrom}'s tail call: ${report.tailCallFrom} has no loop)`
        : ''),
    ...(report.otherMatches
      ? [
          `  the largest of ${report.otherMatches.length + 1} functions matching the name; not analysed: ` +
            `${report.otherMatches.slice(0, 3).join(', ')}${report.otherMatches.length > 3 ? ', …' : ''} ` +
            '(name one exactly, e.g. its mangled name, or pass --all)',
        ]
      : []),
    `model: ${report.model.name} ` +
      `(${report.model.core})` +
      (report.model.inheritedFrom ? `, numbers inherited from ${report.model.inheritedFrom}` : '') +
      (report.model.chosenBecause ? ` — ${report.model.chosenBecause}` : ''),
    `loops: ${report.loops.length}; ${choice.decodeLoop || choice.how === 'pinned' ? 'decode loop' : 'loop'} at ` +
      `${hex(report.hotLoop.headerAddress)}${choice.sourceLine ? ` (${choice.sourceLine})` : ''}, depth ` +
      `${report.hotLoop.depth}, ${report.hotLoop.instructions} instructions, ${report.hotLoop.ownInstructions} ` +
      `outside nested loops`,
    `  ${choice.how === 'pinned' ? 'pinned by --loop' : 'chosen by evidence'}: ` +
      `${choice.reason}${choiceWarning(choice)}`,
    ...choice.runnersUp.map(
      (entry) => `  runner-up ${hex(entry.headerAddress)} (${entry.ownInstructions} own instructions): ${entry.reason}`,
    ),
    'paths through one iteration: ' +
      (report.hotLoop.pathsComplete
        ? `${report.hotLoop.paths}`
        : `the ${report.hotLoop.paths} shortest of more (search capped: a role reached only by longer paths may be ` +
          "missing; each role's figures cover the paths found)") +
      ` in ${report.roles.length} roles; ${exitsNote(report.exits)}`,
    `  ${'role'.padEnd(36)} ${'paths'.padStart(5)}  ${'predicted cycles'.padEnd(24)} ` +
      `${'critical'.padStart(8)} ${'instr'.padStart(6)} ${'ILP'.padStart(6)}  bound`,
    ...roleRows,
    ...(report.copyLoop
      ? [
          `  copy loop at ${hex(report.copyLoop.headerAddress)}: ${report.copyLoop.bytesPerIteration} ` +
            `bytes/iteration, ${cycles(report.copyLoop.bounds.predictedCycles)} cycles/iteration ` +
            `(${report.copyLoop.bounds.bound} bound)`,
        ]
      : []),
    `headline role: ${report.headlineRole}; its usual path, ${a.instructions} instructions (blocks ` +
      `${report.pathAddresses.map(hex).join(' ')})`,
    `critical path: ${atLeast(a)}${cycles(a.criticalPathCycles)} cycles/iteration${unknownNote(a)}`,
    `  chain: ` +
      (a.criticalChain
        .map((link) => `${hex(link.address)} ${link.text} [${link.latencyCycles} via ${link.via}]`)
        .join(' → ') || '(no loop-carried dependency)'),
    `  ${report.model.name} figures on the chain (lab/uarch/models/${report.model.name}.json):`,
    ...report.figures.map(
      (figure) =>
        `    ${figure.class} (${figure.mnemonics.join(', ')}): latency ` +
        `${figure.latenciesCycles.map(cycles).join(', ')}` +
        `${figure.inherited ? ' (inherited)' : ''} — source: ${figure.source}`,
    ),
    `resource bound: ${cycles(a.resourceBoundCycles)} cycles/iteration (${a.resourceBottleneck})`,
    `front-end bound: ${cycles(a.frontEndBoundCycles)} cycles/iteration`,
    `predicted: ${atLeast(a)}${cycles(a.predictedCycles)} cycles/iteration (${a.bound} bound); ILP ` +
      `${a.exact ? '' : '≤ '}${a.ilp.toFixed(2)}`,
    ...mcaTextLines(report.mca),
    `idioms (any role): ` +
      report.idioms
        .map(
          (idiom) =>
            `${idiom.found ? '✓' : '✗'} ${idiom.idiom}` +
            (idiom.found ? ` (${idiom.roles.slice(0, 2).join(', ')}${idiom.roles.length > 2 ? ', …' : ''})` : ''),
        )
        .join('; '),
    ...bitBufferInMemory(a.criticalChain),
    `unknown instructions: ${a.unknownMnemonics.length ? a.unknownMnemonics.join(', ') : 'none'}; store/load ` +
      `pairs assumed independent: ${a.memoryPairsAssumedIndependent}`,
    'slack (latency each instruction could gain before the loop slows; - = on no loop-carried cycle):',
    ...a.listing.map(
      (row) =>
        `  ${hex(row.address).padStart(8)}  ${row.text.padEnd(40)} ${row.class.padEnd(16)} ` +
        `${row.slackCycles === null ? '-' : cycles(row.slackCycles)}`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
