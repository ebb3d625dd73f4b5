/*
 * Instruction counts: a deterministic second signal beside the timings. One decode of each contender per dataset
 * runs under valgrind's callgrind in a small driver (native/count.c) that loads the decoder as the harness does;
 * only the decode call is counted (--toggle-collect). Where valgrind cannot run (macOS arm64 has none) or is not
 * installed, the results say so. Counts are not time: a change can cut instructions and still lose speed.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { LabError } from '../core/errors.js';
import { cacheRoot } from '../core/paths.js';
import { attempt, probe } from '../core/process.js';
import { makeTempDir } from '../core/temp.js';
import { buildTarget } from '../build/target.js';
import type { InstructionCounts } from '../results/counts.js';
import type { HarnessContender } from './harness.js';
import { buildNativeTool } from './native-build.js';

const step = 'bench: instruction counts';

/** The function of count.c that callgrind counts (and nothing outside it). */
const COUNTED_FUNCTION = 'perf_lab_count_decode';

export type CountSupport = { available: true; tool: string } | { available: false; reason: string };

/**
 * Whether instructions can be counted here: valgrind on Linux. `valgrindVersion` is the output of
 * `valgrind --version` (undefined: not installed); passed in so the platform paths are testable.
 */
export function countSupport(platform: NodeJS.Platform, valgrindVersion: string | undefined): CountSupport {
  if (platform === 'darwin') return { available: false, reason: 'not available on macOS (no valgrind on macOS arm64)' };
  if (platform !== 'linux') return { available: false, reason: `not available on ${platform} (valgrind needs Linux)` };
  const version = /^valgrind-(\d+\.\d+(?:\.\d+)?)\s*$/.exec(valgrindVersion ?? '')?.[1];
  if (!valgrindVersion) return { available: false, reason: 'valgrind not installed: apt-get install valgrind' };
  if (!version)
    return { available: false, reason: `valgrind --version said ${JSON.stringify(valgrindVersion.slice(0, 80))}` };
  return { available: true, tool: `valgrind-${version} callgrind, counting only the decode call` };
}

/** countSupport for this machine (and the config's setting). */
export async function detectCountSupport(enabled: boolean): Promise<CountSupport> {
  if (!enabled) return { available: false, reason: 'off (bench.instructionCounts is false)' };
  // A cross build (the qemu test seam) makes aarch64 libraries, which this machine's valgrind cannot load.
  const target = buildTarget();
  if (target.cross)
    return {
      available: false,
      reason: `not counted for the cross target ${target.name} (valgrind runs host code only)`,
    };
  const version = process.platform === 'linux' ? await probe('valgrind', ['--version']) : undefined;
  return countSupport(process.platform, version);
}

/** Builds native/count.c into the build cache as the harness is (the warm cache of a PR run holds it). */
export function buildCountDriver(): Promise<string> {
  return buildNativeTool({ source: 'count.c', binary: 'perf-lab-count', linkFlags: [], step });
}

const driverLineSchema = z.union([
  z.object({ outputBytes: z.number().int().nonnegative() }).strict(),
  z.object({ error: z.string() }).strict(),
]);

/**
 * The instruction total of a callgrind output file, read strictly (tool output, not trusted): exactly one
 * `events: Ir` line and one `totals: N` (or, older files, `summary: N`). Throws naming `who` when it is not there.
 */
export function parseCallgrindTotal(text: string, who: string): number {
  const events = text.match(/^events: (.*)$/gm) ?? [];
  const totals = [...text.matchAll(/^(?:totals|summary): (\d+)$/gm)].map((match) => match[1]!);
  const unique = [...new Set(totals)];
  if (events.length !== 1 || events[0] !== 'events: Ir' || unique.length !== 1)
    throw new LabError(
      step,
      `${who}: callgrind's output has no single instruction total (${events.length} events lines, ` +
        `${totals.length} totals lines).`,
      'check the valgrind installation (valgrind --tool=callgrind --version); rerun with bench.instructionCounts ' +
        'false to skip the counts.',
    );
  const total = Number(unique[0]);
  if (!Number.isSafeInteger(total))
    throw new LabError(step, `${who}: callgrind's total ${unique[0]} is out of range.`, 'report it.');
  return total;
}

export interface CountRequest {
  /** The contender as the harness runs it (CLI decoders are not counted). */
  contender: HarnessContender;
  compressedPath: string;
  expectedPath: string;
  /** Names the count in messages: "gzippy-head on LOGS". */
  who: string;
  timeoutMs: number;
}

/** Counts one decode; a decoder that fails under valgrind is `notCounted` with why (valgrind's own failure throws). */
async function countOneDecode(
  driver: string,
  request: CountRequest,
): Promise<{ instructions: number; outputBytes: number } | { notCounted: string }> {
  const { contender, who } = request;
  if (contender.kind === 'cli')
    return { notCounted: 'a whole-process (CLI) decoder: counts cover in-process decode calls only' };
  const dir = await makeTempDir(join(cacheRoot(), 'count-'));
  try {
    const outFile = join(dir, 'callgrind.out');
    const result = await attempt(
      'valgrind',
      [
        '--tool=callgrind',
        '--collect-atstart=no',
        `--toggle-collect=${COUNTED_FUNCTION}`,
        `--callgrind-out-file=${outFile}`,
        '-q',
        driver,
        contender.kind,
        contender.library,
        request.compressedPath,
        request.expectedPath,
      ],
      { timeoutMs: request.timeoutMs, forceKillAfterMs: 5000 },
    );
    const lines = result.stdout.split('\n').filter((line) => line.trim());
    let reply: z.infer<typeof driverLineSchema> | undefined;
    try {
      reply = lines.length === 1 ? driverLineSchema.parse(JSON.parse(lines[0]!)) : undefined;
    } catch {
      reply = undefined;
    }
    if (reply && 'error' in reply) return { notCounted: `failed under valgrind: ${reply.error}` };
    if (!result.ok || !reply) {
      const stderr = result.stderr.trim().slice(-300);
      return { notCounted: `valgrind ${result.failure || 'gave no result'}${stderr ? `: ${stderr}` : ''}` };
    }
    const instructions = parseCallgrindTotal(await readFile(outFile, 'utf8').catch(() => ''), who);
    return { instructions, outputBytes: reply.outputBytes };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One dataset to count: its files, and the contenders that failed its timing bench (not counted, with why). */
export interface CountDataset {
  name: string;
  label: string;
  rawBytes: number;
  compressedPath: string;
  expectedPath: string;
  failures: ReadonlyMap<string, string | null>;
}

export interface CountSide {
  role: 'head' | 'base' | 'libdeflate';
  name: string;
  threads: number;
  contender: (input: string) => HarnessContender;
}

/** The counts section of the results: every contender of every dataset, counted or marked with why not. */
export async function countInstructions(
  support: CountSupport,
  sides: readonly CountSide[],
  datasets: readonly CountDataset[],
  options: { timeoutMs: number; onCount?: (line: string) => void },
): Promise<InstructionCounts> {
  const uncounted = (side: CountSide, why: string) => ({
    name: side.name,
    role: side.role,
    instructions: null,
    instructionsPerByte: null,
    notCounted: why,
  });
  const mark = (reason: string) => (dataset: CountDataset) => ({
    name: dataset.name,
    label: dataset.label,
    rawBytes: dataset.rawBytes,
    contenders: sides.map((side) => uncounted(side, reason)),
  });
  if (!support.available)
    return { tool: null, unavailable: support.reason, datasets: datasets.map(mark(support.reason)) };
  const driver = await buildCountDriver();
  const counted: InstructionCounts['datasets'] = [];
  for (const dataset of datasets) {
    const contenders: InstructionCounts['datasets'][number]['contenders'] = [];
    for (const side of sides) {
      const notCounted = (why: string) => contenders.push(uncounted(side, why));
      const failure = dataset.failures.get(side.name);
      if (failure) {
        notCounted(`not counted: it failed in the timing bench (${failure})`);
        continue;
      }
      if (side.threads > 1) {
        notCounted(`not counted: it runs ${side.threads} threads, and the count covers the calling thread only`);
        continue;
      }
      const who = `${side.name} on ${dataset.label}`;
      const outcome = await countOneDecode(driver, {
        contender: side.contender(dataset.compressedPath),
        compressedPath: dataset.compressedPath,
        expectedPath: dataset.expectedPath,
        who,
        timeoutMs: options.timeoutMs,
      });
      if ('notCounted' in outcome) {
        notCounted(outcome.notCounted);
        continue;
      }
      if (outcome.outputBytes !== dataset.rawBytes)
        throw new LabError(
          step,
          `${who}: the count driver decoded ${outcome.outputBytes} bytes, the dataset has ${dataset.rawBytes}.`,
          'this is a perf-lab bug; please report it.',
        );
      const instructionsPerByte = dataset.rawBytes > 0 ? outcome.instructions / dataset.rawBytes : 0;
      options.onCount?.(`${who}: ${outcome.instructions} instructions, ${instructionsPerByte.toFixed(3)}/byte`);
      contenders.push({
        name: side.name,
        role: side.role,
        instructions: outcome.instructions,
        instructionsPerByte,
        notCounted: null,
      });
    }
    counted.push({ name: dataset.name, label: dataset.label, rawBytes: dataset.rawBytes, contenders });
  }
  return { tool: support.tool, unavailable: null, datasets: counted };
}
