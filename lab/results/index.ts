import { z } from 'zod';
import { rustShimRecordSchema } from '../build/rust-shim.js';
import { LabError } from '../core/errors.js';
import { readJsonFile, writeFileAtomically } from '../core/files.js';
import { describeIssues } from '../core/schema.js';
import { countsSchema } from './counts.js';

/**
 * CPU a contender may use outside its decode calls in one round (its other threads, processes it left running)
 * before its results are not comparable: a thread pool that spins a moment before sleeping stays well under it.
 */
export const OUTSIDE_TURN_ALLOWANCE_MS_PER_ROUND = 2;

const positive = z.number().finite().positive();
const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const intervalSchema = z.object({
  estimate: positive,
  low: positive,
  high: positive,
  confidence: z.number().gt(0).lt(1),
  samples: z.number().int().positive(),
  /** Bootstrap resamples; 0 for a t interval. */
  resamples: z.number().int().nonnegative(),
  method: z.string(),
});

/** One speed ratio (numerator speed / denominator speed) with the cycle ratios it came from, per batch. */
export const comparisonSchema = z.object({
  interval: intervalSchema,
  // A ratio comes from cycles: at least one batch with at least one (an empty list is a damaged file, not a ratio).
  cycleRatios: z
    .array(z.array(positive))
    .refine((batches) => batches.some((batch) => batch.length > 0), 'must hold at least one cycle ratio'),
});

const verdictSchema = z.object({
  kind: z.enum(['regression', 'improvement', 'no change', 'inconclusive']),
  effect: z.number().finite(),
  interval: intervalSchema,
  /** The ± margin a "no change" holds for: the stated tolerance (older results: the run's own margin). */
  threshold: z.number().nonnegative(),
  thresholdSource: z.string(),
  reason: z.string().optional(),
  batches: z.number().int().nonnegative().optional(),
  standardError: z.number().nonnegative().nullable().optional(),
  /** The tolerance asked and the narrowest ± margin the 90% interval fits in (absent before tolerances). */
  tolerance: z.number().positive().optional(),
  resolvedMargin: z.number().nonnegative().nullable().optional(),
  /** The smallest slowdown this run would have called a regression with 95% probability (null: unknown). */
  detectableEffect: z.number().positive().nullable().optional(),
  /** Inconclusive: about how many more batches would likely decide it (null: none would; 0: decided). */
  moreBatches: z.number().int().nonnegative().nullable().optional(),
});

const machineSchema = z.object({
  os: z.string(),
  osRelease: z.string(),
  arch: z.string(),
  /** The CPU's brand string, or on ARM64 Linux its name from MIDR (lab/cpu/arm-parts.json). */
  cpuModel: z.string(),
  logicalCpus: z.number().int(),
  /** ARM64 Linux: the MIDR fields /proc/cpuinfo gave (absent elsewhere and in older results). */
  midr: z
    .object({
      implementer: z.string(),
      part: z.string(),
      variant: z.string().nullable(),
      revision: z.string().nullable(),
    })
    .optional(),
  /** The memory page size (getconf PAGESIZE): 16384 on macOS arm64, 4096 on Ubuntu's arm64 and x86 kernels. */
  pageSizeBytes: z.number().int().positive().optional(),
});
const libdeflateSchema = z.object({
  name: z.string(),
  version: z.string(),
  source: z.string(),
  buildSystem: z.string(),
  compiler: z.string(),
  cflags: z.string(),
});
const decoderSchema = z.object({
  name: z.string(),
  adapter: z.string(),
  description: z.string(),
  rustc: z.string().nullable(),
  llvm: z.string().nullable(),
  compiler: z.string().nullable(),
  /** Threads it was allowed (absent in results written before threads were a setting: 1). */
  threads: z.number().int().positive().optional(),
  /** The rust adapter's exact call and the shim crate the lab generated for it. */
  rust: rustShimRecordSchema.optional(),
});

const datasetBase = {
  name: z.string(),
  label: z.string(),
  standIn: z.boolean(),
  scale: z.enum(['quick', 'full']),
  rawBytes: z.number().int().nonnegative(),
  rawSha256: sha256,
  compressedBytes: z.number().int().nonnegative(),
  compressedSha256: sha256,
  compressor: z.string(),
  level: z.number().int(),
};

/** How a contender ran: its CPUs, and what its decodes cost in wall and CPU time (absent in older results). */
export const contenderUsageSchema = z.object({
  /** Threads the config gave it (libdeflate: 1). */
  threads: z.number().int().positive(),
  /** CPUs it was pinned to (null: not pinned, the scheduler's choice — macOS, or pinning unavailable). */
  cpus: z.array(z.number().int().nonnegative()).nullable(),
  /** Why its placement is not what it asked for ("asked for 4 CPUs, this machine allows 2"), else null. */
  placementNote: z.string().nullable(),
  /** Sum over its measured decodes. */
  wallTimeMs: z.number().nonnegative(),
  /** CPU time of all its threads and child processes during those decodes. */
  cpuTimeMs: z.number().nonnegative(),
  /** cpuTimeMs / (wallTimeMs × threads): 1 when every thread it was given was busy the whole decode. */
  parallelEfficiency: z.number().nonnegative().nullable(),
  /** CPU time its threads and processes used outside its decode calls (while others decoded, say). */
  outsideTurnCpuMs: z.number().nonnegative(),
  /** The allowance for that before its results are not comparable. */
  outsideTurnAllowanceMs: z.number().nonnegative(),
});

export type ContenderUsage = z.infer<typeof contenderUsageSchema>;

/** "used 412 ms of CPU outside its decode calls (allowance 40 ms)", or undefined when within the allowance. */
export function outsideTurnFinding(usage: ContenderUsage | undefined): string | undefined {
  if (!usage || usage.outsideTurnCpuMs <= usage.outsideTurnAllowanceMs) return undefined;
  return (
    `used ${Math.round(usage.outsideTurnCpuMs)} ms of CPU outside its decode calls ` +
    `(allowance ${usage.outsideTurnAllowanceMs} ms): it can slow the others, so its results are not comparable`
  );
}

const datasetResultObject = z.object({
  ...datasetBase,
  /** Where the contenders ran (core pinning on Linux, QoS class on macOS). */
  placement: z.string(),
  /** Another perf-lab bench found running on the same CPUs during this dataset (its speeds are disturbed). */
  concurrentBench: z.string().optional(),
  batches: z.number().int().nonnegative(),
  /** Measured rounds over all batches. */
  rounds: z.number().int().nonnegative(),
  targetMet: z.boolean(),
  stoppedBecause: z.string(),
  elapsedSeconds: z.number().nonnegative(),
  /** True when every sample of every contender decoded to the expected bytes. */
  verified: z.boolean(),
  contenders: z.array(
    z.object({
      name: z.string(),
      role: z.enum(['head', 'base', 'libdeflate']),
      /** Measured decode times in ns, per batch, in round order (warm-up excluded). */
      samplesNs: z.array(z.array(positive)),
      megabytesPerSecond: positive.nullable(),
      failure: z.string().nullable(),
      usage: contenderUsageSchema.optional(),
    }),
  ),
  headVsLibdeflate: comparisonSchema.nullable(),
  baseVsLibdeflate: comparisonSchema.nullable(),
  headVsBase: comparisonSchema.extend({ verdict: verdictSchema }).nullable(),
  /** Whole-process runs: how the output reached the harness, and `cat` of the expected bytes through it (MB/s). */
  outputPath: z.object({ via: z.string(), ceilingMegabytesPerSecond: positive.nullable() }).optional(),
});

/** A ratio comes from measured batches: a dataset with a ratio and 0 batches or rounds is a damaged file. */
export const datasetResultSchema = datasetResultObject.superRefine((dataset, context) => {
  if (!(dataset.headVsLibdeflate || dataset.baseVsLibdeflate || dataset.headVsBase)) return;
  for (const field of ['batches', 'rounds'] as const)
    if (dataset[field] < 1)
      context.addIssue({
        code: 'custom',
        path: [field],
        message: `is ${dataset[field]}, but the dataset has a ratio, which needs at least one measured batch`,
      });
});

export const INTEGRITY_CASES = ['crc32', 'isize', 'truncated', 'deflate-bit'] as const;
export type IntegrityCase = (typeof INTEGRITY_CASES)[number];
const integrityOutcomeSchema = z.enum(['rejected', 'accepted', 'crashed', 'hung', 'not run']);
export type IntegrityOutcome = z.infer<typeof integrityOutcomeSchema>;

/** The integrity gate (bench/integrity.ts): how each contender met corrupted members before timing. */
export const integrityResultSchema = z.object({
  memberBytes: z.number().int().nonnegative(),
  source: z.string(),
  contenders: z.array(
    z.object({
      name: z.string(),
      cases: z.array(z.object({ case: z.enum(INTEGRITY_CASES), outcome: integrityOutcomeSchema, detail: z.string() })),
      /** Null when it rejected every corrupted member; else why its speed is not comparable. */
      notComparable: z.string().nullable(),
    }),
  ),
});
export type IntegrityResult = z.infer<typeof integrityResultSchema>;

/**
 * Whether a ratio between two contenders means what it says: not when either accepted a corrupted member (the
 * integrity gate), nor between different thread counts unless the config asked for that (then it is labelled).
 */
export function comparability(
  results: Pick<BenchResults, 'integrity' | 'settings'> & { datasets?: BenchResults['datasets'] },
  sides: ReadonlyArray<{ name: string; threads?: number }>,
): { notComparable: string[]; label: string | null } {
  const outside = outsideTurnContenders(results);
  const notComparable = sides.flatMap((side) => {
    if (outside.has(side.name)) return [`${side.name} ${outside.get(side.name)!}`];
    const gate = integrityFinding(results, side.name);
    if (!gate) return [];
    return [
      `${side.name} ` +
        `${gate === 'not checked' ? 'was not checked by the integrity gate' : 'accepted a corrupted member'}`,
    ];
  });
  const threads = sides.map((side) => side.threads ?? 1);
  const crossThread = new Set(threads).size > 1;
  if (crossThread && !results.settings.compareAcrossThreads) notComparable.push(`${threads.join(' vs ')} threads`);
  return {
    notComparable,
    label:
      crossThread && results.settings.compareAcrossThreads ? `cross-thread: ${threads.join(' vs ')} threads` : null,
  };
}

/**
 * Datasets on which libdeflate, the reference, failed too: then the dataset (or libdeflate's build) is what is bad,
 * not the decoder under test. "LOGS: libdeflate-1.23: wrong bytes …" for each.
 */
function datasetsTheReferenceFailed(results: Pick<BenchResults, 'datasets'>): string[] {
  return results.datasets.flatMap((dataset) =>
    dataset.contenders
      .filter((contender) => contender.role === 'libdeflate' && contender.failure)
      .map((contender) => `${dataset.label}: ${contender.name}: ${contender.failure}`),
  );
}

/**
 * What the integrity gate found against a contender, read from its cases: it could not run it ('not checked'), or
 * it returned success on a corrupted member ('accepted'); undefined when it rejected every one (or no gate ran).
 */
export function integrityFinding(
  results: { integrity?: IntegrityResult },
  name: string,
): 'not checked' | 'accepted' | undefined {
  const cases = results.integrity?.contenders.find((entry) => entry.name === name)?.cases ?? [];
  if (cases.some((entry) => entry.outcome === 'not run')) return 'not checked';
  return cases.some((entry) => entry.outcome === 'accepted') ? 'accepted' : undefined;
}

/** Contenders that used more CPU outside their decode calls than allowed, on any dataset, with why. */
export function outsideTurnContenders(results: { datasets?: BenchResults['datasets'] }): Map<string, string> {
  const found = new Map<string, string>();
  for (const dataset of results.datasets ?? [])
    for (const contender of dataset.contenders) {
      const finding = outsideTurnFinding(contender.usage);
      if (finding && !found.has(contender.name)) found.set(contender.name, `${finding} (${dataset.label})`);
    }
  return found;
}

/**
 * Contenders whose ratios are not comparable, with why: the integrity gate found them accepting corrupted members,
 * or they used CPU outside their decode calls beyond the allowance (see outsideTurnFinding).
 */
export function notComparableContenders(results: {
  integrity?: IntegrityResult;
  datasets?: BenchResults['datasets'];
}): Map<string, string> {
  const found = new Map(
    results.integrity?.contenders.flatMap((entry) =>
      entry.notComparable ? [[entry.name, entry.notComparable] as const] : [],
    ) ?? [],
  );
  for (const [name, why] of outsideTurnContenders(results))
    found.set(name, found.has(name) ? `${found.get(name)!}; ${why}` : why);
  return found;
}

/** 3: `regime` (was `mode`, version 2). Only the current version is read; an older file is refused, naming both. */
export const RESULTS_SCHEMA_VERSION = 3;

/** How a run times its contenders (the same word as a side's regime and a baseline key's). */
export const REGIMES = ['in-process', 'process', 'in-process-allocating'] as const;
export type Regime = (typeof REGIMES)[number];

export const resultsSchema = z.object({
  schemaVersion: z.literal(RESULTS_SCHEMA_VERSION),
  createdAt: z.string().datetime({ message: 'must be an ISO 8601 date and time (as the lab writes it)' }),
  machine: machineSchema,
  /**
   * in-process: decodes into the lab's pre-mapped buffer; in-process-allocating: each decode allocates its output
   * (libdeflate too); process: whole CLI processes.
   */
  regime: z.enum(REGIMES),
  libdeflate: libdeflateSchema,
  head: decoderSchema,
  base: decoderSchema.nullable(),
  settings: z.object({
    roundsPerBatch: z.number().int(),
    warmupRounds: z.number().int(),
    timeoutMs: z.number().int(),
    minBatches: z.number().int(),
    maxBatches: z.number().int(),
    targetHalfWidth: z.number(),
    budgetSeconds: z.number(),
    verdictConfidence: z.number().gt(0).lt(1),
    minimumEffect: z.number().optional(),
    /** The head-vs-base tolerance and where it came from (absent in results written before tolerances). */
    tolerance: z.number().optional(),
    toleranceSource: z.string().optional(),
    compareAcrossThreads: z.boolean().optional(),
  }),
  datasets: z.array(datasetResultSchema),
  /** How each contender met corrupted members before timing (absent in results written before the gate). */
  integrity: integrityResultSchema.optional(),
  /** Instructions of one decode per contender and dataset, or why there are none (absent before counts). */
  counts: countsSchema.optional(),
  ok: z.boolean(),
});
export type BenchResults = z.infer<typeof resultsSchema>;
export type DatasetResult = z.infer<typeof datasetResultSchema>;
export type Comparison = z.infer<typeof comparisonSchema>;

export async function writeResults(path: string, results: BenchResults): Promise<void> {
  await writeFileAtomically(path, `${JSON.stringify(resultsSchema.parse(results), null, 2)}\n`);
}

const RESULTS_HINT = 'pass a results file that `perf-lab bench --json`, `demo` or `pr-check` wrote.';

/** Validates untrusted results JSON of the current version. */
export function parseResults(json: unknown, source: string): BenchResults {
  const version =
    typeof json === 'object' && json !== null ? (json as { schemaVersion?: unknown }).schemaVersion : undefined;
  if (version !== RESULTS_SCHEMA_VERSION) {
    throw new LabError(
      'results',
      `${source} has schemaVersion ${JSON.stringify(version)}; this perf-lab reads version ${RESULTS_SCHEMA_VERSION}.`,
      'write it again with this version of perf-lab, or upgrade perf-lab.',
    );
  }
  const parsed = resultsSchema.safeParse(json);
  if (!parsed.success)
    throw new LabError(
      'results',
      `${source} is not a valid results file: ${describeIssues(parsed.error)}`,
      RESULTS_HINT,
    );
  return parsed.data;
}

export async function readResults(path: string): Promise<BenchResults> {
  return parseResults(await readJsonFile(path, 'results', RESULTS_HINT), path);
}

/** What may fail a run: --fail-on and the bench action's fail-on take these. */
export const FAIL_ON = ['never', 'regression', 'change'] as const;
export type FailOn = (typeof FAIL_ON)[number];

/** Whether a verdict of this kind fails a run under --fail-on: a regression, or with "change" an improvement too. */
export function failsOn(kind: string, failOn: FailOn): boolean {
  return failOn !== 'never' && (kind === 'regression' || (failOn === 'change' && kind === 'improvement'));
}

/** The datasets whose head-vs-base verdict is what `failOn` names (a PR check fails on them when asked to). */
export function verdictFailures(results: BenchResults, failOn: FailOn): string[] {
  return results.datasets
    .filter((dataset) => dataset.headVsBase && failsOn(dataset.headVsBase.verdict.kind, failOn))
    .map(
      (dataset) =>
        `${dataset.label}: ${dataset.headVsBase!.verdict.kind} ` +
        `${(dataset.headVsBase!.verdict.effect * 100).toFixed(1)}%`,
    );
}

/** Exit code when the benchmark ran but a contender failed verification, crashed or hung. */
export const EXIT_CONTENDER_FAILED = 3;
/** Exit code of `compare` and `pr-check` when a dataset shows what --fail-on names. */
export const EXIT_VERDICT_FAILED = 4;

/** How a finished run ends, the one judgement the CLI commands and the bench action share: an exit code and why. */
export interface RunOutcome {
  /** 0 passed; 1 libdeflate (the reference) failed too, so the lab could not judge; 3 a contender failed; 4 fail-on. */
  exitCode: 0 | 1 | 3 | 4;
  /** What failed and what to do, one message (absent when the run passed). */
  failure?: string;
}

export function runOutcome(results: BenchResults, failOn: FailOn): RunOutcome {
  if (!results.ok) {
    const bad = datasetsTheReferenceFailed(results);
    if (bad.length > 0)
      return {
        exitCode: 1,
        failure:
          `libdeflate, the reference, failed too — the dataset (or libdeflate's build) is bad, not the decoders: ` +
          (`${bad.join('; ')}\n  what to do: check the dataset with \`perf-lab datasets verify\` and prepare ` +
            `it again; `) +
          'if libdeflate still fails, rebuild it (delete .perf-lab/builds/libdeflate-*). The results above are kept.',
      };
    const failed = results.datasets.flatMap((dataset) =>
      dataset.contenders
        .filter((contender) => contender.failure)
        .map((contender) => `${dataset.label} ${contender.name}: ${contender.failure}`),
    );
    return {
      exitCode: EXIT_CONTENDER_FAILED,
      failure:
        `verification failed (exit 3): ${failed.join('; ')}. The report has the details; no speed is given for ` +
        `it.`,
    };
  }
  const failing = verdictFailures(results, failOn);
  if (failing.length > 0) return { exitCode: EXIT_VERDICT_FAILED, failure: `fail-on ${failOn}: ${failing.join('; ')}` };
  return { exitCode: 0 };
}
