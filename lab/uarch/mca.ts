import { execa } from 'execa';
import type { Instruction } from '../asm/index.js';
import type { CpuModel } from './model.js';

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

const INSTALL = 'llvm-mca not installed: apt-get install llvm / brew install llvm';

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
    }
  | { notRun: string }
);

export type McaCrossCheck =
  | {
      ran: true;
      tool: string;
      version: string;
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
  ours: ModelFigures;
}

const found = new Map<string, Promise<{ command: string; version: string } | { notRun: string }>>();

/** llvm-mca on PATH (llvm-mca, else llvm-mca-14) and its version; looked up once per PATH. */
function findLlvmMca(): Promise<{ command: string; version: string } | { notRun: string }> {
  const key = process.env.PATH ?? '';
  const cached = found.get(key);
  if (cached) return cached;
  const lookup = (async () => {
    for (const command of ['llvm-mca', 'llvm-mca-14']) {
      const run = await execa(command, ['--version'], { reject: false, timeout: 20_000 });
      if ((run as { code?: string }).code === 'ENOENT') continue;
      if (run.exitCode !== 0) return { notRun: `${command} --version failed (exit ${run.exitCode})` };
      const version = /LLVM version (\d+\.\d+(?:\.\d+)?)/.exec(String(run.stdout))?.[1];
      if (!version)
        return {
          notRun: `${command} --version is unparseable (no "LLVM version N.N"): ${firstLine(String(run.stdout))}`,
        };
      return { command, version };
    }
    return { notRun: INSTALL };
  })();
  found.set(key, lookup);
  return lookup;
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

/** Why llvm-mca's figure and this model's differ (or that they agree), from llvm-mca's output and the model. */
function whyTheyDiffer(
  ours: ModelFigures,
  mca: McaFigures,
  model: Pick<CpuModel, 'name' | 'crossCheck'>,
  schedulingModel: string,
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
  if (mca.cyclesPerIteration < ours.predictedCycles - AGREEMENT_CYCLES)
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
): Promise<{ figures: McaFigures | string; skipped: string[]; warnings: string[] }> {
  const input = mcaInput(path.instructions);
  let lines = input.lines;
  const skipped = [...input.skipped];
  for (let attempt = 0; ; attempt++) {
    const run = await execa(command, [...options(mcpu, MCA_ITERATIONS), '-bottleneck-analysis', '-'], {
      input: `0:\n${lines.join('\n')}\n`,
      reject: false,
      timeout: 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    const stderr = String(run.stderr ?? '');
    if (/is not a recognized processor/.test(stderr))
      return { figures: `llvm-mca does not know -mcpu=${mcpu}`, skipped, warnings: [] };
    // <stdin>:N: the label is line 1, instruction i line i + 2.
    const refused = new Set([...stderr.matchAll(/^<stdin>:(\d+):\d+: error:/gm)].map((match) => Number(match[1]) - 2));
    if (refused.size > 0 && attempt < 3) {
      skipped.push(...lines.filter((_, i) => refused.has(i)).map((line) => `${line} (refused by its assembler)`));
      lines = lines.filter((_, i) => !refused.has(i));
      if (lines.length > 0) continue;
      return { figures: "llvm-mca's assembler refused every instruction of the path", skipped, warnings: [] };
    }
    if (run.timedOut) return { figures: 'llvm-mca timed out (60 s)', skipped, warnings: [] };
    if (run.exitCode !== 0)
      return {
        figures:
          `llvm-mca failed (exit ${run.exitCode ?? run.signal ?? '?'}): ` + firstLine(stderr || String(run.stdout)),
        skipped,
        warnings: [],
      };
    const warnings = [...stderr.matchAll(/^(?:warning|note): (.*)$/gm)].map((match) => match[1]!.trim());
    const figures = parseMcaOutput(String(run.stdout), MCA_ITERATIONS, lines.length);
    if (typeof figures === 'string') return { figures, skipped, warnings };
    const short = await execa(
      command,
      [...options(mcpu, WARM_UP), '-instruction-info=false', '-resource-pressure=false', '-'],
      { input: `0:\n${lines.join('\n')}\n`, reject: false, timeout: 60_000 },
    );
    const warm = short.exitCode === 0 ? parseMcaOutput(String(short.stdout), WARM_UP, lines.length, false) : undefined;
    if (typeof warm !== 'object')
      return {
        figures:
          `llvm-mca's ${WARM_UP}-iteration run failed or is unparseable: ` + (warm ?? firstLine(String(short.stderr))),
        skipped,
        warnings,
      };
    const steady = (figures.totalCycles - warm.totalCycles) / (MCA_ITERATIONS - WARM_UP);
    if (!(steady > 0))
      return {
        figures: `llvm-mca's cycles do not grow with its iterations (${warm.totalCycles} → ${figures.totalCycles})`,
        skipped,
        warnings,
      };
    return { figures: { ...figures, cyclesPerIteration: Math.round(steady * 100) / 100 }, skipped, warnings };
  }
}

/** The cross-check of every usual path on the CPU model, or why it was not run. */
export async function mcaCrossCheck(model: CpuModel, paths: readonly McaPath[]): Promise<McaCrossCheck> {
  const fit = model.llvmMca;
  if (!fit) return { ran: false, mcpu: null, notRun: `the ${model.name} model names no llvm-mca -mcpu` };
  if (fit.mcpu === null)
    return { ran: false, mcpu: null, notRun: `no llvm-mca -mcpu fits ${model.name} — ${fit.schedulingModel}` };
  const tool = await findLlvmMca();
  if ('notRun' in tool) return { ran: false, mcpu: fit.mcpu, notRun: tool.notRun };
  const roles: McaRole[] = [];
  for (const path of paths) {
    const { figures, skipped, warnings } = await runPath(tool.command, fit.mcpu, path);
    const base = {
      roleName: path.roleName,
      ours: path.ours,
      instructions: path.instructions.length,
      skipped,
      warnings,
    };
    roles.push(
      typeof figures === 'string'
        ? { ...base, notRun: figures }
        : {
            ...base,
            mca: figures,
            boundBy: bottleneckText(figures),
            ...whyTheyDiffer(path.ours, figures, model, fit.schedulingModel),
          },
    );
  }
  // One failure for every path (the tool is broken, its output unreadable) is the cross-check's, said once.
  const reasons = new Set(roles.map((role) => ('notRun' in role ? role.notRun : '')));
  if (roles.length > 0 && reasons.size === 1 && !reasons.has(''))
    return { ran: false, mcpu: fit.mcpu, notRun: [...reasons][0]! };
  return {
    ran: true,
    tool: tool.command,
    version: tool.version,
    mcpu: fit.mcpu,
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
    `llvm-mca cross-check: llvm-mca ${check.version} -mcpu=${check.mcpu} (${check.schedulingModel}), each role's ` +
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
