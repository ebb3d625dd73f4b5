import { attempt } from '../core/process.js';
import type { Instruction } from '../asm/index.js';
import type { ChainLink } from './analyze.js';
import { describeLlvmMca, findLlvmMca } from './llvm-mca-tool.js';
import { llvmRangeHolds, type CpuModel, type LlvmMcaEntry } from './model.js';

/*
 * The run-time cross-check with llvm-mca: each role's usual path, as straight-line code (branches kept, aimed at the
 * start), run through llvm-mca for the -mcpu the CPU model names (its `llvmMca` field), and llvm-mca's cycles per
 * iteration set beside the model's, with why they differ read from llvm-mca's own -bottleneck-analysis and resource
 * pressure. llvm-mca's output is tool output: every figure is validated, and a run that cannot be read is said as
 * "not run: …", never printed as a number.
 */

/**
 * Iterations llvm-mca simulates. Cycles per iteration are the steady state: the total cycles of a second, shorter run
 * (WARM_UP iterations) taken off, so the pipeline's fill and drain are not spread over the iterations.
 */
const MCA_ITERATIONS = 500;
const WARM_UP = 100;

/** Two figures within this many cycles agree. */
const AGREEMENT_CYCLES = 1;

/** This model's figures for a role's usual path, as the cross-check sets them beside llvm-mca's. */
export interface ModelFigures {
  predictedCycles: number;
  criticalPathCycles: number;
  resourceBoundCycles: number;
  resourceBottleneck: string;
  bound: string;
  exact: boolean;
}

/** What llvm-mca's output says about one path. */
export interface McaFigures {
  /** Steady-state cycles per iteration: (total cycles of 500 iterations − those of 100) / 400. */
  cyclesPerIteration: number;
  /** Total cycles of the 500 iterations, as llvm-mca prints them. */
  totalCycles: number;
  /** llvm-mca's static resource bound (Block RThroughput). */
  blockRThroughput: number;
  /** The unit with the most pressure per iteration in its simulation (Resource pressure per iteration). */
  busiestUnit: { resource: string; cyclesPerIteration: number } | null;
  /** Its -bottleneck-analysis summary: resource pressure and data dependencies, percent of cycles. */
  bottleneck: {
    resourcePressurePercent: number;
    resources: Array<{ resource: string; percent: number }>;
    registerDependenciesPercent: number;
    memoryDependenciesPercent: number;
  } | null;
  /** Resources its critical sequence waits for ("RESOURCE interference"), with how often. */
  interference: Array<{ resource: string; count: number }>;
}

export type McaRole = {
  roleName: string;
  ours: ModelFigures;
  /** Instructions of the usual path, and those llvm-mca was not given (undecodable words, lines it refused). */
  instructions: number;
  skipped: string[];
  /** llvm-mca's own warnings (a call: "Assume a latency of 100cy"). */
  warnings: string[];
} & (
  | {
      mca: McaFigures;
      /** What bounds llvm-mca, in words (bottleneckText). */
      boundBy: string;
      agree: boolean;
      why: string;
      /** This model's chain through a store and its reload, which llvm-mca does not model (-noalias=true). */
      memory?: MemoryChain;
    }
  | { notRun: string }
);

export type McaCrossCheck =
  | {
      ran: true;
      /** The llvm-mca run (its path), its version and which candidate found it (lab/uarch/llvm-mca-tool.ts). */
      tool: string;
      version: string;
      foundBy: string;
      /** The tool in words: "llvm-mca 14.0.6 at /usr/bin/llvm-mca (on PATH)". */
      toolText: string;
      mcpu: string;
      schedulingModel: string;
      iterations: number;
      roles: McaRole[];
    }
  | { ran: false; mcpu: string | null; notRun: string };

/** A usual path to cross-check: its role, its instructions in path order, and this model's figures. */
export interface McaPath {
  roleName: string;
  instructions: readonly Instruction[];
  /** This model's critical chain on the path (a link `via memory` is a store its next link, a load, reads). */
  chain?: readonly ChainLink[];
  ours: ModelFigures;
}

const firstLine = (text: string) => {
  const line = text.split('\n').find((candidate) => candidate.trim()) ?? '(no output)';
  return JSON.stringify(line.trim().slice(0, 80));
};

/**
 * llvm-mca's input for a path: one instruction a line under a label `0`, every direct branch (and adr/adrp/literal
 * load) aimed at it; undecodable words (`unknown`) are left out and named.
 */
export function mcaInput(instructions: readonly Instruction[]): { lines: string[]; skipped: string[] } {
  const lines: string[] = [];
  const skipped: string[] = [];
  for (const instruction of instructions) {
    if (!/^[a-z][a-z0-9.]*$/.test(instruction.mnemonic) || instruction.mnemonic === 'unknown') {
      skipped.push(instruction.text.trim() || instruction.mnemonic);
      continue;
    }
    const operands = instruction.operands.replace(/(^|[\s,])#?0x[0-9a-f]+(\s*<[^>]*>)?$/, '$10b');
    lines.push(`${instruction.mnemonic} ${operands}`.trim());
  }
  return { lines, skipped };
}

const number = (text: string | undefined): number | undefined =>
  text !== undefined && /^\d+(\.\d+)?$/.test(text) ? Number(text) : undefined;

/**
 * llvm-mca's figures from its output (default views and -bottleneck-analysis), or why they cannot be read: the
 * iterations and instruction count must be the ones asked for, the cycles a positive integer.
 */
export function parseMcaOutput(
  stdout: string,
  iterations: number,
  instructions: number,
  views = true,
): McaFigures | string {
  const field = (name: string) => new RegExp(`^${name}:\\s+(\\S+)\\s*$`, 'm').exec(stdout)?.[1];
  const ran = number(field('Iterations'));
  const total = number(field('Instructions'));
  const cycles = number(field('Total Cycles'));
  const rthroughput = number(field('Block RThroughput'));
  if (ran === undefined || total === undefined || cycles === undefined || rthroughput === undefined)
    return (
      "llvm-mca's output is unparseable (no Iterations, Instructions, Total Cycles and Block RThroughput lines): " +
      firstLine(stdout)
    );
  if (ran !== iterations) return `llvm-mca ran ${ran} iterations, not the ${iterations} asked for`;
  if (total !== iterations * instructions)
    return (
      `llvm-mca ran ${total / iterations} instructions an iteration, not the ${instructions} given ` +
      '(it dropped some)'
    );
  if (!Number.isInteger(cycles) || cycles <= 0) return `llvm-mca's Total Cycles (${cycles}) is not a positive count`;
  return {
    cyclesPerIteration: Math.round((cycles / iterations) * 100) / 100,
    totalCycles: cycles,
    blockRThroughput: rthroughput,
    busiestUnit: views ? busiestUnit(stdout) : null,
    bottleneck: views ? bottleneck(stdout) : null,
    interference: views ? interference(stdout) : [],
  };
}

/** The -bottleneck-analysis summary (null when llvm-mca found none or printed none). */
function bottleneck(stdout: string): McaFigures['bottleneck'] {
  const start = stdout.indexOf('Throughput Bottlenecks:');
  if (start < 0) return null;
  const section = stdout.slice(start).split('\n\n')[0]!;
  const percent = (label: string) =>
    number(new RegExp(`${label}[^\\[\\n]*\\[\\s*([\\d.]+)%\\s*\\]`).exec(section)?.[1]);
  const pressure = percent('Resource Pressure');
  const register = percent('- Register Dependencies');
  const memory = percent('- Memory Dependencies');
  if (pressure === undefined || register === undefined || memory === undefined) return null;
  const dependencies = section.indexOf('Data Dependencies');
  const resources = [
    ...section.slice(0, dependencies < 0 ? undefined : dependencies).matchAll(/^\s+- (\S+)\s+\[\s*([\d.]+)%\s*\]/gm),
  ]
    .map((match) => ({ resource: match[1]!, percent: Number(match[2]) }))
    .sort((a, b) => b.percent - a.percent);
  return {
    resourcePressurePercent: pressure,
    resources,
    registerDependenciesPercent: register,
    memoryDependenciesPercent: memory,
  };
}

/** The unit with the most cycles per iteration in "Resource pressure per iteration", named from "Resources:". */
function busiestUnit(stdout: string): McaFigures['busiestUnit'] {
  const names = new Map(
    [...stdout.matchAll(/^\[(\d+(?:\.\d+)?)\]\s+- (\S+)\s*$/gm)].map((match) => [match[1]!, match[2]!]),
  );
  const table = /^Resource pressure per iteration:\n(.*)\n(.*)$/m.exec(stdout);
  if (!table) return null;
  const indices = [...table[1]!.matchAll(/\[(\d+(?:\.\d+)?)\]/g)].map((match) => match[1]!);
  const values = table[2]!.trim().split(/\s+/);
  if (indices.length === 0 || values.length !== indices.length) return null;
  let best: McaFigures['busiestUnit'] = null;
  indices.forEach((index, i) => {
    const value = values[i] === '-' ? 0 : number(values[i]);
    const resource = names.get(index);
    if (value !== undefined && resource && (!best || value > best.cyclesPerIteration))
      best = { resource, cyclesPerIteration: value };
  });
  return best;
}

/** Resources named by "RESOURCE interference" on llvm-mca's critical sequence, most often first. */
function interference(stdout: string): McaFigures['interference'] {
  const counts = new Map<string, number>();
  for (const match of stdout.matchAll(/## RESOURCE interference:\s+(\S+)/g))
    counts.set(match[1]!, (counts.get(match[1]!) ?? 0) + 1);
  return [...counts].map(([resource, count]) => ({ resource, count })).sort((a, b) => b.count - a.count);
}

const cycles = (value: number) => String(Math.round(value * 100) / 100);
const percent = (value: number) => `${value.toFixed(1)}%`;

/**
 * What bounds llvm-mca, from its -bottleneck-analysis: "register dependencies (68.6% of cycles) and resource pressure
 * (56.1%: CyUnitIS 40.5%, CyUnitI 12.5%)"; a cause under 10% of cycles (a unit under 5%) is left out.
 */
function bottleneckText(figures: McaFigures): string {
  const b = figures.bottleneck;
  if (!b) return 'nothing its -bottleneck-analysis reports';
  const units = b.resources.filter((r) => r.percent >= 5).map((r) => `${r.resource} ${percent(r.percent)}`);
  const causes = [
    {
      percent: b.resourcePressurePercent,
      text:
        `resource pressure (${percent(b.resourcePressurePercent)} of cycles` +
        `${units.length ? `: ${units.join(', ')}` : ''})`,
    },
    {
      percent: b.registerDependenciesPercent,
      text: `register dependencies (${percent(b.registerDependenciesPercent)} of cycles)`,
    },
    {
      percent: b.memoryDependenciesPercent,
      text: `memory dependencies (${percent(b.memoryDependenciesPercent)} of cycles)`,
    },
  ]
    .filter((cause) => cause.percent >= 10)
    .sort((x, y) => y.percent - x.percent);
  return causes.length ? causes.map((cause) => cause.text).join(' and ') : 'nothing its -bottleneck-analysis reports';
}

/** A store and its reload on this model's critical chain, and llvm-mca's cycles when loads wait for stores. */
export interface MemoryChain {
  store: string;
  load: string;
  storeToLoadCycles: number;
  /** llvm-mca's steady state with -noalias=false (null: that run failed). */
  noAliasFalseCycles: number | null;
}

/** The store → load link of a critical chain (a link `via memory` is the store, the next link its load). */
function memoryLink(chain: readonly ChainLink[] | undefined): Omit<MemoryChain, 'noAliasFalseCycles'> | null {
  if (!chain) return null;
  const at = chain.findIndex((link) => link.via === 'memory');
  if (at < 0) return null;
  const store = chain[at]!;
  const load = chain[(at + 1) % chain.length]!;
  const where = (link: ChainLink) => `${link.text} at 0x${link.address.toString(16)}`;
  return { store: where(store), load: where(load), storeToLoadCycles: store.latencyCycles };
}

/** Why a chain through memory is not in llvm-mca's figure (its -noalias=true), and what -noalias=false gives. */
function memoryReason(memory: MemoryChain): string {
  return (
    `this model's critical chain runs through memory, a store and its reload (${memory.store} → ${memory.load}, ` +
    `${cycles(memory.storeToLoadCycles)} cycles store to load here): llvm-mca does not model a load's dependence on ` +
    'an earlier store (its default -noalias=true lets every load pass older stores), so that chain is not in its ' +
    'figure' +
    (memory.noAliasFalseCycles === null
      ? ''
      : `; with -noalias=false (every load waits for every older store, whatever the address) it gives ` +
        `${cycles(memory.noAliasFalseCycles)}`)
  );
}

/** Why llvm-mca's figure and this model's differ (or that they agree), from llvm-mca's output and the model. */
function whyTheyDiffer(
  ours: ModelFigures,
  mca: McaFigures,
  model: Pick<CpuModel, 'name' | 'crossCheck'>,
  schedulingModel: string,
  memory?: MemoryChain,
): { agree: boolean; why: string } {
  const difference = Math.round((mca.cyclesPerIteration - ours.predictedCycles) * 100) / 100;
  if (Math.abs(difference) <= AGREEMENT_CYCLES)
    return { agree: true, why: `they agree within ${AGREEMENT_CYCLES} cycle` };
  const reasons: string[] = [];
  if (!model.crossCheck) reasons.push(`llvm-mca prices with ${schedulingModel}, not ${model.name}'s numbers`);
  const busiest = mca.busiestUnit
    ? ` (busiest unit ${mca.busiestUnit.resource}, ${cycles(mca.busiestUnit.cyclesPerIteration)} cycles/iteration)`
    : '';
  if (Math.abs(mca.blockRThroughput - ours.resourceBoundCycles) > AGREEMENT_CYCLES)
    reasons.push(
      `llvm-mca's resource bound is ${cycles(mca.blockRThroughput)}${busiest}, this model's ` +
        `${cycles(ours.resourceBoundCycles)} (${ours.resourceBottleneck})`,
    );
  const bounds = Math.max(mca.blockRThroughput, ours.criticalPathCycles, ours.resourceBoundCycles);
  if (mca.cyclesPerIteration > bounds + AGREEMENT_CYCLES) {
    const waits = mca.interference.length
      ? `its critical sequence waits for ${mca.interference.map((i) => `${i.resource} (${i.count}×)`).join(', ')} ` +
        '(RESOURCE interference): '
      : '';
    reasons.push(
      `llvm-mca's simulation is ${cycles(mca.cyclesPerIteration - bounds)} cycles above both bounds: ${waits}` +
        "chain instructions queue behind others for units, which this model's max(critical path, resource bound) " +
        'does not simulate',
    );
  }
  if (memory) reasons.push(memoryReason(memory));
  else if (mca.cyclesPerIteration < ours.predictedCycles - AGREEMENT_CYCLES)
    reasons.push(
      `this model's ${ours.bound} bound (${cycles(ours.predictedCycles)}) is above llvm-mca's simulation: ` +
        'its latencies or units are higher than those llvm-mca reads',
    );
  if (reasons.length === 0) reasons.push('the two bounds agree; llvm-mca simulates the issue order the model does not');
  return { agree: false, why: `they differ by ${cycles(Math.abs(difference))}: ${reasons.join('; ')}` };
}

const options = (mcpu: string, iterations: number) => [
  '-mtriple=aarch64',
  `-mcpu=${mcpu}`,
  `-iterations=${iterations}`,
];

/** One path through llvm-mca: refused lines (its assembler's errors) are dropped, named and the rest run again. */
async function runPath(
  command: string,
  mcpu: string,
  path: McaPath,
): Promise<{ figures: McaFigures | string; skipped: string[]; warnings: string[]; lines: string[] }> {
  const input = mcaInput(path.instructions);
  let lines = input.lines;
  const skipped = [...input.skipped];
  for (let attempt = 0; ; attempt++) {
    const run = await runMca(command, [...options(mcpu, MCA_ITERATIONS), '-bottleneck-analysis'], lines);
    const stderr = run.stderr;
    if (/is not a recognized processor/.test(stderr))
      return { figures: `llvm-mca does not know -mcpu=${mcpu}`, skipped, warnings: [], lines };
    // <stdin>:N: the label is line 1, instruction i line i + 2.
    const refused = new Set([...stderr.matchAll(/^<stdin>:(\d+):\d+: error:/gm)].map((match) => Number(match[1]) - 2));
    if (refused.size > 0 && attempt < 3) {
      skipped.push(...lines.filter((_, i) => refused.has(i)).map((line) => `${line} (refused by its assembler)`));
      lines = lines.filter((_, i) => !refused.has(i));
      if (lines.length > 0) continue;
      return { figures: "llvm-mca's assembler refused every instruction of the path", skipped, warnings: [], lines };
    }
    if (run.timedOut) return { figures: 'llvm-mca timed out (60 s)', skipped, warnings: [], lines };
    if (!run.ok)
      return {
        figures:
          `llvm-mca failed (${run.exitCode === undefined ? run.failure : `exit ${run.exitCode}`}): ` +
          firstLine(stderr || run.stdout),
        skipped,
        warnings: [],
        lines,
      };
    const warnings = [...stderr.matchAll(/^(?:warning|note): (.*)$/gm)].map((match) => match[1]!.trim());
    const figures = parseMcaOutput(run.stdout, MCA_ITERATIONS, lines.length);
    if (typeof figures === 'string') return { figures, skipped, warnings, lines };
    const warm = await totalCycles(command, mcpu, lines, [], WARM_UP);
    if (typeof warm === 'string')
      return {
        figures: `llvm-mca's ${WARM_UP}-iteration run failed or is unparseable: ` + warm,
        skipped,
        warnings,
        lines,
      };
    const steady = (figures.totalCycles - warm) / (MCA_ITERATIONS - WARM_UP);
    if (!(steady > 0))
      return {
        figures: `llvm-mca's cycles do not grow with its iterations (${warm} → ${figures.totalCycles})`,
        skipped,
        warnings,
        lines,
      };
    return { figures: { ...figures, cyclesPerIteration: Math.round(steady * 100) / 100 }, skipped, warnings, lines };
  }
}

/** llvm-mca run on `lines` (the path, under a label its branches aim at) from stdin. */
function runMca(command: string, args: string[], lines: readonly string[]) {
  return attempt(command, [...args, '-'], {
    input: `0:\n${lines.join('\n')}\n`,
    timeoutMs: 60_000,
    maxBufferBytes: 64 * 1024 * 1024,
  });
}

/** llvm-mca's total cycles for `iterations` of `lines` with `extra` options, or why there are none. */
async function totalCycles(
  command: string,
  mcpu: string,
  lines: readonly string[],
  extra: string[],
  iterations: number,
): Promise<number | string> {
  const run = await runMca(
    command,
    [...options(mcpu, iterations), ...extra, '-instruction-info=false', '-resource-pressure=false'],
    lines,
  );
  if (!run.ok) return firstLine(run.stderr);
  const figures = parseMcaOutput(run.stdout, iterations, lines.length, false);
  return typeof figures === 'string' ? figures : figures.totalCycles;
}

/** llvm-mca's steady-state cycles per iteration of `lines` with `extra` options (null: a run failed). */
async function steadyCycles(command: string, mcpu: string, lines: string[], extra: string[]): Promise<number | null> {
  const long = await totalCycles(command, mcpu, lines, extra, MCA_ITERATIONS);
  const short = await totalCycles(command, mcpu, lines, extra, WARM_UP);
  if (typeof long !== 'number' || typeof short !== 'number' || !(long > short)) return null;
  return Math.round(((long - short) / (MCA_ITERATIONS - WARM_UP)) * 100) / 100;
}

/** The LLVM range of each entry in words: "LLVM 14", "LLVM 15–16", "LLVM ≥ 19". */
const rangeText = (range: string) => `LLVM ${range.startsWith('>=') ? `≥ ${range.slice(2)}` : range.replace('-', '–')}`;

/** What the other LLVM versions offer for a model, for a not-run line: "with LLVM ≥ 15: -mcpu=neoverse-n2 (…)". */
function otherVersions(entries: readonly LlvmMcaEntry[], except?: LlvmMcaEntry): string {
  const fits = entries.filter((entry) => entry !== except && entry.mcpu !== null);
  return fits.length
    ? `; ${fits
        .map((entry) => `${rangeText(entry.llvm)} runs -mcpu=${entry.mcpu} (${entry.schedulingModel})`)
        .join(', ')}`
    : '';
}

/**
 * The cross-check of every usual path on the CPU model, or why it was not run: the llvm-mca found
 * (lab/uarch/llvm-mca-tool.ts) runs the -mcpu of the model's llvmMca entry for its major version.
 */
export async function mcaCrossCheck(model: CpuModel, paths: readonly McaPath[]): Promise<McaCrossCheck> {
  const entries = model.llvmMca?.entries;
  if (!entries) return { ran: false, mcpu: null, notRun: `the ${model.name} model names no llvm-mca -mcpu` };
  const mcpus = [...new Set(entries.flatMap((entry) => (entry.mcpu === null ? [] : [entry.mcpu])))];
  const tool = await findLlvmMca();
  if ('notRun' in tool) return { ran: false, mcpu: mcpus.length === 1 ? mcpus[0]! : null, notRun: tool.notRun };
  const fit = entries.find((entry) => llvmRangeHolds(entry.llvm, tool.major));
  if (!fit)
    return {
      ran: false,
      mcpu: null,
      notRun:
        `the ${model.name} model has no llvm-mca entry for LLVM ${tool.major} (${describeLlvmMca(tool)}): ` +
        `it was checked on ${entries.map((entry) => rangeText(entry.llvm)).join(', ')}` +
        otherVersions(entries),
    };
  if (fit.mcpu === null)
    return {
      ran: false,
      mcpu: null,
      notRun: `no llvm-mca -mcpu fits ${model.name} — ${fit.schedulingModel}${otherVersions(entries, fit)}`,
    };
  const mcpu = fit.mcpu;
  const roles: McaRole[] = [];
  for (const path of paths) {
    const { figures, skipped, warnings, lines } = await runPath(tool.command, mcpu, path);
    const base = {
      roleName: path.roleName,
      ours: path.ours,
      instructions: path.instructions.length,
      skipped,
      warnings,
    };
    if (typeof figures === 'string') {
      roles.push({ ...base, notRun: figures });
      continue;
    }
    const link = memoryLink(path.chain);
    const memory = link
      ? { ...link, noAliasFalseCycles: await steadyCycles(tool.command, mcpu, lines, ['-noalias=false']) }
      : undefined;
    roles.push({
      ...base,
      mca: figures,
      boundBy: bottleneckText(figures),
      ...(memory ? { memory } : {}),
      ...whyTheyDiffer(path.ours, figures, model, fit.schedulingModel, memory),
    });
  }
  // One failure for every path (the tool is broken, its output unreadable) is the cross-check's, said once.
  const reasons = new Set(roles.map((role) => ('notRun' in role ? role.notRun : '')));
  if (roles.length > 0 && reasons.size === 1 && !reasons.has('')) return { ran: false, mcpu, notRun: [...reasons][0]! };
  return {
    ran: true,
    tool: tool.command,
    version: tool.version,
    foundBy: tool.foundBy,
    toolText: describeLlvmMca(tool),
    mcpu,
    schedulingModel: fit.schedulingModel,
    iterations: MCA_ITERATIONS,
    roles,
  };
}

/** The cross-check as report lines: one header, then a line a role ("not run: …" when it was not). */
export function mcaTextLines(check: McaCrossCheck | undefined): string[] {
  if (!check) return [];
  if (!check.ran) return [`llvm-mca cross-check: not run (${check.notRun})`];
  const lines = [
    `llvm-mca cross-check: llvm-mca ${check.version} -mcpu=${check.mcpu} (${check.schedulingModel}), run from ` +
      `${check.tool} (${check.foundBy}), each role's ` +
      'usual path as straight-line code (branches kept, aimed at its start), steady state of ' +
      `${check.iterations} iterations:`,
  ];
  for (const role of check.roles) {
    const bound =
      role.ours.bound === 'critical path'
        ? 'its critical path'
        : `its ${role.ours.bound.replace('resources', 'resource')} bound`;
    const ours = `this model: ${role.ours.exact ? '' : '≥ '}${cycles(role.ours.predictedCycles)}, ${bound}`;
    if ('notRun' in role) {
      lines.push(`  ${role.roleName}: llvm-mca not run (${role.notRun}); ${ours}`);
      continue;
    }
    lines.push(
      `  ${role.roleName}: llvm-mca: ${cycles(role.mca.cyclesPerIteration)} cycles/iteration, bound by ` +
        `${role.boundBy}; ${ours} — ${role.why}`,
    );
    lines.push(`    ${coverage(role)}`);
  }
  return lines;
}

/** Which instructions llvm-mca's figure covers against the model's, and its warnings. */
export function coverage(role: McaRole): string {
  const covered =
    role.skipped.length === 0
      ? `llvm-mca covers the same ${role.instructions} instructions`
      : `llvm-mca covers ${role.instructions - role.skipped.length} of the ${role.instructions} instructions ` +
        `(left out: ${role.skipped.slice(0, 4).join(', ')}${role.skipped.length > 4 ? ', …' : ''})`;
  return covered + (role.warnings.length ? `; llvm-mca warns: ${role.warnings.join(' ')}` : '');
}
