import { buildControlFlow, fallThroughPath, iterationPaths, loadFunctions, ownInstructionCount, pickHotLoop, selectFunction, selectFunctions, type AsmFunction, type ControlFlow, type Loop } from '../asm/index.js';
import { LabError } from '../core/errors.js';
import { analyzeIteration, type LoopAnalysis } from './analyze.js';
import { findIdioms, type IdiomFinding } from './idioms.js';
import { loadCpuModel, type CpuModel } from './model.js';

export { loadCpuModel, listModels, type CpuModel } from './model.js';
export { analyzeIteration, type LoopAnalysis } from './analyze.js';

export interface LoopReport {
  function: string;
  source: string;
  model: { name: string; core: string; inheritedFrom: string | null };
  loops: Array<{ headerAddress: number; depth: number; instructions: number; ownInstructions: number; innermost: boolean }>;
  hotLoop: { headerAddress: number; depth: number; instructions: number; ownInstructions: number; paths: number; pathInstructions: { min: number; max: number } };
  /** The analysed iteration: the fall-through path from the header back to it. */
  pathAddresses: number[];
  analysis: Omit<LoopAnalysis, 'nodes' | 'edges'> & { listing: Array<{ address: number; text: string; class: string; slackCycles: number | null }> };
  idioms: IdiomFinding[];
}

export interface AnalyzeOptions {
  path: string;
  functionName: string;
  cpu: string;
  /** Header address of the loop to analyse instead of the hot-loop rule's pick. */
  loopAddress?: number;
}

/** The hot loop of a parsed function (or the loop at `loopAddress`) and the analysis of its fall-through iteration. */
export function analyzeHotLoop(fn: AsmFunction, cpu: CpuModel, loopAddress?: number): { flow: ControlFlow; loop: Loop; path: number[]; analysis: LoopAnalysis } {
  const flow = buildControlFlow(fn);
  const loop = pickHotLoop(flow, loopAddress);
  if (!loop) {
    throw new LabError('analyze', loopAddress !== undefined ? `no loop with its header at 0x${loopAddress.toString(16)} in ${fn.name}.` : `${fn.name} has no loop.`, `loops in ${fn.name}: ${flow.loops.map((l) => `0x${l.headerAddress.toString(16)}`).join(', ') || 'none'}; pass --loop ADDRESS of one.`);
  }
  const path = fallThroughPath(flow, loop) ?? iterationPaths(flow, loop, 1)[0];
  if (!path) throw new LabError('analyze', `no path from the header of the loop at 0x${loop.headerAddress.toString(16)} back to it.`, 'pick another loop with --loop.');
  return { flow, loop, path, analysis: analyzeIteration(path.flatMap((id) => flow.blocks[id]!.instructions), cpu) };
}

/** Disassembles (or reads) `path`, finds the function and its hot loop, and analyses one iteration on a CPU model. */
export async function analyzeLoop(options: AnalyzeOptions, model?: CpuModel): Promise<LoopReport> {
  const cpu = model ?? (await loadCpuModel(options.cpu));
  const { functions, source } = await loadFunctions(options.path);
  return reportHotLoop(await selectFunction(functions, options.functionName, source), source, cpu, options.loopAddress);
}

/** Every function matching the name or /regex/ that has a loop, each with its hot loop analysed. */
export async function analyzeMatchingLoops(options: AnalyzeOptions, model?: CpuModel): Promise<LoopReport[]> {
  const cpu = model ?? (await loadCpuModel(options.cpu));
  const { functions, source } = await loadFunctions(options.path);
  const matching = await selectFunctions(functions, options.functionName, source);
  const withLoops = matching.filter((fn) => buildControlFlow(fn).loops.length > 0);
  if (withLoops.length === 0) throw new LabError('analyze', `none of the ${matching.length} function(s) matching "${options.functionName}" has a loop.`, 'name a function with a decode loop.');
  return withLoops.map((fn) => reportHotLoop(fn, source, cpu));
}

function reportHotLoop(fn: AsmFunction, source: string, cpu: CpuModel, loopAddress?: number): LoopReport {
  const { flow, loop, path, analysis } = analyzeHotLoop(fn, cpu, loopAddress);
  const paths = iterationPaths(flow, loop, 64);
  const sizes = paths.map((p) => p.reduce((sum, id) => sum + flow.blocks[id]!.instructions.length, 0));
  const { nodes, edges, ...summary } = analysis;
  void edges;
  return {
    function: fn.name,
    source,
    model: { name: cpu.name, core: cpu.core, inheritedFrom: cpu.inheritedFrom },
    loops: flow.loops.map((l) => ({ headerAddress: l.headerAddress, depth: l.depth, instructions: l.instructionCount, ownInstructions: ownInstructionCount(flow, l), innermost: l.innermost })).sort((a, b) => a.headerAddress - b.headerAddress),
    hotLoop: { headerAddress: loop.headerAddress, depth: loop.depth, instructions: loop.instructionCount, ownInstructions: ownInstructionCount(flow, loop), paths: paths.length, pathInstructions: { min: Math.min(...sizes), max: Math.max(...sizes) } },
    pathAddresses: path.map((id) => flow.blocks[id]!.instructions[0]!.address),
    analysis: { ...summary, listing: nodes.map((node, i) => ({ address: node.instruction.address, text: `${node.instruction.mnemonic} ${node.instruction.operands}`.trim(), class: node.semantics.class, slackCycles: analysis.slackCycles[i]! })) },
    idioms: findIdioms(analysis, flow),
  };
}

const hex = (address: number) => `0x${address.toString(16)}`;
const cycles = (value: number) => (Number.isInteger(value) ? String(value) : value.toFixed(2));

/** "≥ " when an instruction of the iteration has no model entry: its figures are then lower bounds. */
export const atLeast = (analysis: { exact: boolean }) => (analysis.exact ? '' : '≥ ');

/** " (2 unknown instructions, each counted as 1 cycle: crc32cx, unknown)", or nothing when all are modelled. */
export function unknownNote(analysis: { exact: boolean; unknownInstructions: number; unknownMnemonics: readonly string[] }): string {
  if (analysis.exact) return '';
  const count = analysis.unknownInstructions;
  return ` (${count} unknown instruction${count === 1 ? '' : 's'}, each counted as 1 cycle: ${analysis.unknownMnemonics.join(', ')})`;
}

/** Plain-text report; has a `critical path: N cycles/iteration` line for the loop. */
export function textReport(report: LoopReport): string {
  const a = report.analysis;
  const lines = [
    `function ${report.function} in ${report.source}`,
    `model: ${report.model.name} (${report.model.core})${report.model.inheritedFrom ? `, numbers inherited from ${report.model.inheritedFrom}` : ''}`,
    `loops: ${report.loops.length}; hot loop at ${hex(report.hotLoop.headerAddress)} (depth ${report.hotLoop.depth}, ${report.hotLoop.instructions} instructions, ${report.hotLoop.ownInstructions} outside nested loops; ${report.hotLoop.paths}${report.hotLoop.paths >= 64 ? '+' : ''} paths per iteration, ${report.hotLoop.pathInstructions.min}–${report.hotLoop.pathInstructions.max} instructions)`,
    `analysed iteration: the fall-through path, ${a.instructions} instructions (blocks ${report.pathAddresses.map(hex).join(' ')})`,
    `critical path: ${atLeast(a)}${cycles(a.criticalPathCycles)} cycles/iteration${unknownNote(a)}`,
    `  chain: ${a.criticalChain.map((link) => `${hex(link.address)} ${link.text} [${link.latencyCycles} via ${link.via}]`).join(' → ') || '(no loop-carried dependency)'}`,
    `resource bound: ${cycles(a.resourceBoundCycles)} cycles/iteration (${a.resourceBottleneck})`,
    `front-end bound: ${cycles(a.frontEndBoundCycles)} cycles/iteration`,
    `predicted: ${atLeast(a)}${cycles(a.predictedCycles)} cycles/iteration (${a.bound} bound); ILP ${a.exact ? '' : '≤ '}${a.ilp.toFixed(2)}`,
    `idioms: ${report.idioms.map((idiom) => `${idiom.found ? '✓' : '✗'} ${idiom.idiom}${idiom.found ? ` (${idiom.at.slice(0, 3).map(hex).join(', ')})` : ''}`).join('; ')}`,
    `unknown instructions: ${a.unknownMnemonics.length ? a.unknownMnemonics.join(', ') : 'none'}; store/load pairs assumed independent: ${a.memoryPairsAssumedIndependent}`,
    'slack (latency each instruction could gain before the loop slows; - = on no loop-carried cycle):',
    ...a.listing.map((row) => `  ${hex(row.address).padStart(8)}  ${row.text.padEnd(40)} ${row.class.padEnd(16)} ${row.slackCycles === null ? '-' : cycles(row.slackCycles)}`),
  ];
  return `${lines.join('\n')}\n`;
}
