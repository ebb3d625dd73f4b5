import { constants } from 'node:fs';
import { access, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { LabError } from '../core/errors.js';
import { cacheRoot, programOnPath } from '../core/paths.js';
import { attempt } from '../core/process.js';
import { buildTarget, targetCommand } from '../build/target.js';
import { makeTempDir } from '../core/temp.js';
import { warn } from '../core/log.js';
import { allowedCpus, busyCpus, claimCpus } from './cpu-claims.js';
import { formatCpuList, placeContenders, type ContenderPlacement } from './placement.js';
import { OUTSIDE_TURN_ALLOWANCE_MS_PER_ROUND } from '../results/index.js';
import { buildNativeTool } from './native-build.js';

/** One contender as the native harness runs it. */
export type HarnessContender =
  /**
   * cabi/rust-slice/libdeflate decode into the lab's pre-mapped buffer (rust-slice: the rust adapter's export name);
   * owned/libdeflate-alloc allocate their output per decode.
   */
  | { name: string; kind: 'libdeflate' | 'cabi' | 'rust-slice' | 'owned' | 'libdeflate-alloc'; library: string }
  | { name: string; kind: 'cli'; argv: string[] };

export interface HarnessRun {
  compressedPath: string;
  expectedPath: string;
  contenders: HarnessContender[];
  rounds: number;
  warmupRounds: number;
  timeoutMs: number;
  /** Stop starting new rounds after this many seconds (0: no limit). */
  maxSeconds: number;
  /**
   * Pin the contenders to CPUs (Linux; default true): the single-threaded ones share one, a multi-threaded one gets
   * as many as `threads` gives it (see placement.ts).
   */
  pinCpu?: boolean;
  /** Threads per contender name (default 1). */
  threads?: Readonly<Record<string, number>>;
  /** Extra address space each decoder may use, in MiB (Linux; 0 = no limit). */
  memoryLimitMb?: number;
  /** A RAM-backed folder where a CLI contender's stdout goes as a file instead of a pipe (see cliOutputPath). */
  cliOutputDir?: string;
}

const lineSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), contender: z.string() }),
  z.object({
    type: z.literal('sample'),
    contender: z.string(),
    round: z.number().int().nonnegative(),
    warmup: z.boolean(),
    ns: z.number().int().positive(),
    cpuNs: z.number().int().nonnegative().optional(),
  }),
  z.object({ type: z.literal('failure'), contender: z.string(), round: z.number().int(), reason: z.string() }),
  z.object({ type: z.literal('done'), rounds: z.number().int().nonnegative() }),
  z.object({
    type: z.literal('placement'),
    contender: z.string().optional(),
    cpus: z.array(z.number().int().nonnegative()).optional(),
    pinnedCpu: z.number().int().nonnegative().nullable(),
    detail: z.string(),
  }),
  z.object({
    type: z.literal('outside'),
    contender: z.string(),
    round: z.number().int(),
    cpuNs: z.number().int().nonnegative(),
  }),
  z.object({ type: z.literal('fatal'), message: z.string() }),
]);
export type HarnessLine = z.infer<typeof lineSchema>;

export interface HarnessOutcome {
  /** Per contender, measured (non-warm-up) decode times in ns, indexed by round. */
  samplesNs: Map<string, Map<number, number>>;
  failures: Map<string, string>;
  /** Contenders whose worker never became ready (it could not load or start): no decode was run. */
  failedToStart: Set<string>;
  rounds: number;
  /** Where the contenders ran, e.g. "pinned to CPU 1 (sched_setaffinity)". */
  placement: string;
  /** Per contender, CPU time of each measured decode (all its threads and waited-for processes), by round. */
  cpuNs: Map<string, Map<number, number>>;
  /** Per contender, CPU its worker used outside its decode calls over the whole batch (warm-up included). */
  outsideCpuNs: Map<string, number>;
  /** Rounds started (warm-up included): what the outside allowance is counted over. */
  roundsRun: number;
  /** Per contender, the CPUs it was given and why that is not what it asked for (null: not pinned). */
  placements: ContenderPlacement[] | null;
  /** Another bench found on this run's CPUs (see placeContenders), or null. */
  concurrentBench?: string | null;
}

const step = 'bench: native harness';

/** lab/bench/native/harness.c, built for the build target (its link flags: a cross target's -static). */
function buildHarness(): Promise<string> {
  return buildNativeTool({
    source: 'harness.c',
    binary: 'perf-lab-harness',
    linkFlags: buildTarget().harnessLinkFlags,
    step,
  });
}

export function harnessSpec(request: HarnessRun & { placements?: ContenderPlacement[] | null }): string {
  const line = (key: string, value: string | number) => {
    const text = String(value);
    if (/[\r\n]/.test(text))
      throw new LabError(
        step,
        `${key} contains a line break: ${JSON.stringify(text)}`,
        'rename the file or argument without line breaks.',
      );
    return `${key} ${text}\n`;
  };
  let spec = line('compressed', request.compressedPath) + line('expected', request.expectedPath);
  spec +=
    line('rounds', request.rounds) +
    line('warmup', request.warmupRounds) +
    line('timeout-ms', request.timeoutMs) +
    line('max-seconds', request.maxSeconds);
  spec += line('pin-cpu', request.pinCpu === false ? 'no' : 'yes');
  spec += line('memory-limit-mb', request.memoryLimitMb ?? 0);
  spec += line('outside-allowance-ms', OUTSIDE_TURN_ALLOWANCE_MS_PER_ROUND);
  const cpusOf = (name: string) => request.placements?.find((entry) => entry.name === name)?.cpus;
  const cpus = (name: string) => (cpusOf(name) ? line('cpus', cpusOf(name)!.join(',')) : '');
  if (request.cliOutputDir) spec += line('cli-output-dir', request.cliOutputDir);
  for (const contender of request.contenders) {
    if (contender.kind === 'cli') {
      spec += line('contender', `${contender.name} cli`);
      for (const arg of contender.argv) spec += line('arg', arg);
      spec += 'end\n';
    } else {
      spec += line('contender', `${contender.name} ${contender.kind} ${contender.library}`);
    }
    spec += cpus(contender.name);
  }
  return spec;
}

/** Parses the harness's JSON lines, refusing anything malformed (its output is tool output, not trusted). */
export function parseHarnessOutput(stdout: string, contenderNames: readonly string[]): HarnessOutcome {
  const samplesNs = new Map<string, Map<number, number>>(contenderNames.map((name) => [name, new Map()]));
  const cpuNs = new Map<string, Map<number, number>>(contenderNames.map((name) => [name, new Map()]));
  const outsideCpuNs = new Map<string, number>(contenderNames.map((name) => [name, 0]));
  const roundsSeen = new Set<number>();
  const pinned: string[] = [];
  const failures = new Map<string, string>();
  const failedToStart = new Set<string>();
  let rounds: number | undefined;
  let placement = 'unknown';
  for (const [index, text] of stdout.split('\n').entries()) {
    if (!text.trim()) continue;
    let parsed: HarnessLine;
    try {
      parsed = lineSchema.parse(JSON.parse(text));
    } catch {
      throw new LabError(
        step,
        `unreadable harness output on line ${index + 1}: ${JSON.stringify(text.slice(0, 200))}`,
        'this is a perf-lab bug or a damaged harness build; delete .perf-lab/builds/harness-* and retry.',
      );
    }
    if (parsed.type === 'fatal') throw new LabError(step, parsed.message, 'check the benchmark inputs named above.');
    if (parsed.type === 'done') rounds = parsed.rounds;
    if (parsed.type === 'placement') {
      if (parsed.contender !== undefined && parsed.cpus) {
        const cpus = parsed.cpus;
        pinned.push(`${parsed.contender} on CPU${cpus.length > 1 ? 's' : ''} ${formatCpuList(cpus)}`);
        // In name order, so every batch with the same placement says it the same way (the report lists each once).
        placement = `${[...pinned].sort().join('; ')} (${parsed.detail})`;
      } else
        placement = parsed.pinnedCpu === null ? parsed.detail : `pinned to CPU ${parsed.pinnedCpu} (${parsed.detail})`;
      continue;
    }
    if (parsed.type === 'ready') continue;
    if (parsed.type !== 'done' && !samplesNs.has(parsed.contender)) {
      throw new LabError(
        step,
        `harness output names an unknown contender ${JSON.stringify(parsed.contender)}`,
        'this is a perf-lab bug; please report it.',
      );
    }
    if (parsed.type === 'sample') roundsSeen.add(parsed.round);
    if (parsed.type === 'sample' && !parsed.warmup) {
      samplesNs.get(parsed.contender)!.set(parsed.round, parsed.ns);
      if (parsed.cpuNs !== undefined) cpuNs.get(parsed.contender)!.set(parsed.round, parsed.cpuNs);
    }
    if (parsed.type === 'outside')
      outsideCpuNs.set(parsed.contender, outsideCpuNs.get(parsed.contender)! + parsed.cpuNs);
    if (parsed.type === 'failure') {
      failures.set(parsed.contender, parsed.reason);
      if (parsed.round < 0) failedToStart.add(parsed.contender);
    }
  }
  if (rounds === undefined)
    throw new LabError(
      step,
      'the harness ended without its closing line (it crashed or was killed).',
      'rerun; if it repeats, report it with the output above.',
    );
  const roundsRun = roundsSeen.size === 0 ? 0 : Math.max(...roundsSeen) + 1;
  return { samplesNs, failures, failedToStart, rounds, placement, cpuNs, outsideCpuNs, roundsRun, placements: null };
}

const TMPFS_MAGIC = 0x01021994;

/**
 * Where a CLI decoder's output is cheapest to receive: a file in /dev/shm where it is tmpfs (Linux), else a pipe
 * drained with large reads (macOS has no RAM-backed folder by default).
 */
export async function cliOutputPath(): Promise<{ dir: string | undefined; via: string }> {
  try {
    if ((await statfs('/dev/shm')).type === TMPFS_MAGIC) {
      await access('/dev/shm', constants.W_OK);
      return { dir: '/dev/shm', via: 'an unlinked file in /dev/shm (tmpfs), read back after the command exits' };
    }
  } catch {
    // no /dev/shm here
  }
  return { dir: undefined, via: 'a pipe drained with large reads' };
}

/** Runs one interleaved benchmark of all contenders on one dataset. */
export async function runHarness(request: HarnessRun): Promise<HarnessOutcome> {
  const names = request.contenders.map((contender) => contender.name);
  if (new Set(names).size !== names.length)
    throw new LabError(
      step,
      `contender names must be unique, got ${names.join(', ')}`,
      'give each contender its own name.',
    );
  // A program that is not there is a setup error (exit 1), not a contender that failed verification (exit 3).
  for (const contender of request.contenders) {
    if (contender.kind !== 'cli') continue;
    const program = contender.argv[0] ?? '';
    if (programOnPath(program) === undefined) {
      throw new LabError(
        step,
        `${contender.name}: the program ${JSON.stringify(program)} does not exist or is not ` +
          `executable${program.includes('/') ? '' : ' (searched PATH)'}.`,
        "check the adapter's binary and command in the config (the {bin} placeholder names the built binary).",
      );
    }
  }
  const binary = await buildHarness();
  const placed = await placementFor(request);
  const placements = placed?.contenders ?? null;
  const release = await claimCpus([...new Set(placements?.flatMap((entry) => entry.cpus) ?? [])]);
  const specDir = await makeTempDir(join(cacheRoot(), 'harness-spec-'));
  const specPath = join(specDir, 'spec.txt');
  try {
    await writeFile(specPath, harnessSpec({ ...request, placements }));
    // The parent's own budget: every round can take up to timeout per contender, plus start-up.
    // Node's timers hold at most 2^31 − 1 ms (24.8 days); a longer budget would fire at once.
    const budgetMs = Math.min(
      2 ** 31 - 1,
      (request.rounds + request.warmupRounds + 2) * request.timeoutMs * request.contenders.length + 60_000,
    );
    // On its timeout the harness gets SIGTERM (it kills its workers), then SIGKILL 5 s later if it is still there.
    // A cross target's harness runs through its exec wrapper (qemu-user), which its CLI contenders inherit.
    const target = buildTarget();
    const [program, ...args] = targetCommand(target, [binary, specPath]);
    const result = await attempt(program!, args, {
      env: target.runEnv,
      timeoutMs: budgetMs,
      forceKillAfterMs: 5000,
      maxBufferBytes: 256 * 1024 * 1024,
    });
    if (result.exitCode !== 0 && result.exitCode !== 3) {
      const fatal = parseFatal(result.stdout);
      throw new LabError(
        step,
        fatal ?? `the harness ${result.failure || 'failed'}.\n${result.stderr.slice(-2000)}`,
        'check the inputs named above; rerun with fewer rounds if it timed out.',
      );
    }
    return {
      ...parseHarnessOutput(result.stdout, names),
      placements,
      concurrentBench: placed?.concurrentBench ?? null,
    };
  } finally {
    await rm(specDir, { recursive: true, force: true });
    await release();
  }
}

const warned = new Set<string>();

/** Where each contender runs (Linux, pinned): its threads' worth of CPUs, said once when it is less or shared. */
async function placementFor(
  request: HarnessRun,
): Promise<{ contenders: ContenderPlacement[]; concurrentBench: string | null } | null> {
  const allowed = allowedCpus();
  if (request.pinCpu === false || !allowed || allowed.length === 0) return null;
  const placement = placeContenders(
    allowed,
    await busyCpus(),
    request.contenders.map((contender) => ({ name: contender.name, threads: request.threads?.[contender.name] ?? 1 })),
  );
  for (const warning of placement.warnings) {
    if (warned.has(warning)) continue;
    warned.add(warning);
    warn(`bench: ${warning}`);
  }
  return { contenders: placement.contenders, concurrentBench: placement.concurrentBench };
}

function parseFatal(stdout: string): string | undefined {
  for (const line of stdout.split('\n')) {
    try {
      const parsed = lineSchema.parse(JSON.parse(line));
      if (parsed.type === 'fatal') return parsed.message;
    } catch {
      // not a fatal line
    }
  }
  return undefined;
}
