import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError } from '../core/errors.js';
import { info, startProgress } from '../core/log.js';
import { buildCargoDecoder, type DecoderBuild } from '../build/decoder.js';
import { buildLibdeflate, type LibdeflateBuild } from '../build/libdeflate.js';
import { buildTarget, targetCommand } from '../build/target.js';
import {
  DATASET_NAMES,
  prepareDatasets,
  readManifest,
  verifyDatasetFiles,
  type DatasetEntry,
  type DatasetName,
  type Scale,
} from '../datasets/index.js';
import { batchInterval, megabytesPerSecond } from '../stats/index.js';
import { calibrationFor, findCalibration } from './calibrate.js';
import { samplingDefaults, type BenchConfig } from './config.js';
import { cliOutputPath, runHarness, type HarnessContender, type HarnessOutcome, type HarnessRun } from './harness.js';
import { contenderUsage } from './usage.js';
import { countInstructions, detectCountSupport } from './counts.js';
import { GATE_MEMBER_BYTES, runIntegrityGate } from './integrity.js';
import { machineInfo } from './machine.js';
import {
  notComparableContenders,
  outsideTurnFinding,
  RESULTS_SCHEMA_VERSION,
  type BenchResults,
  type Comparison,
  type DatasetResult,
  type Regime,
} from '../results/index.js';
import {
  comparisonCycles,
  contenderOrder,
  headVsBaseDecision,
  sampleDatasets,
  widthStopRule,
  type BatchSamples,
  type DatasetSampling,
} from './sampling.js';

export interface BenchOptions {
  config: BenchConfig;
  scale: Scale;
  datasetsDir: string;
  only?: readonly DatasetName[];
  silesiaZip?: string;
  offline?: boolean;
  /** Where bench.tolerance came from, for the report (default: the config). */
  toleranceSource?: string;
  /**
   * Runs one batch of interleaved rounds (default: the native harness). Tests pass one that replays recorded
   * batches, so sampling, stopping and verdicts run as shipped without timing a decode.
   */
  runBatch?: BatchRunner;
}

/** One batch of the contenders, in the worker-slot order given, as the harness runs it. */
export type BatchRunner = (run: HarnessRun) => Promise<HarnessOutcome>;

export type Role = 'head' | 'base' | 'libdeflate';
type DecoderSummary = BenchResults['head'];

/** One side of the run, built: how the harness runs it on a given input, and how reports describe it. */
export interface Side {
  role: Role;
  name: string;
  contender: (input: string) => HarnessContender;
  summary: DecoderSummary;
  /** How its decodes are timed: into the lab's buffer, allocating its own output, or as a whole process. */
  regime: Regime;
  /** What was built for it (and where the artifact is). */
  build: SideBuild;
}

/** A side's build: a cargo decoder, or libdeflate (the reference, or a decoder that is libdeflate). */
export type SideBuild = { kind: 'cargo'; build: DecoderBuild } | { kind: 'libdeflate'; build: LibdeflateBuild };

/** What a benchmark run measured: its results, and the builds it measured (for steps after it, such as analysis). */
export interface BenchRun {
  results: BenchResults;
  builds: { head: SideBuild; base: SideBuild | undefined; reference: LibdeflateBuild };
}

/**
 * A CLI decoder's command. Built for a cross target, a command whose program is the built binary (`{bin}` first)
 * runs through the target's exec wrapper; any other program is the host's.
 */
function fillCommand(template: readonly string[], bin: string, input: string, threads: number): string[] {
  const argv = template.map((arg) =>
    arg.replaceAll('{bin}', bin).replaceAll('{input}', input).replaceAll('{threads}', String(threads)),
  );
  return template[0] === '{bin}' ? targetCommand(buildTarget(), argv) : argv;
}

async function buildSide(role: 'head' | 'base', decoder: BenchConfig['decoder']): Promise<Side> {
  if ('libdeflate' in decoder) {
    const build = await buildLibdeflate(decoder.libdeflate.source, {
      cc: decoder.libdeflate.cc,
      cflags: decoder.libdeflate.cflags,
    });
    return {
      role,
      name: decoder.name,
      contender: () => ({ name: decoder.name, kind: 'libdeflate', library: build.sharedLibraryPath }),
      summary: {
        name: decoder.name,
        adapter: 'libdeflate',
        description: `libdeflate ${build.version} from ${build.source}`,
        rustc: null,
        llvm: null,
        compiler: build.compiler,
        threads: 1,
      },
      regime: 'in-process',
      build: { kind: 'libdeflate', build },
    };
  }
  const build = await buildCargoDecoder(decoder);
  const summary = {
    name: build.name,
    adapter: build.adapter,
    description: build.rust
      ? `${build.description}, called as \`${build.rust.call}\` through a generated shim`
      : build.description,
    rustc: build.toolchain.rustc,
    llvm: build.toolchain.llvm,
    compiler: null,
    threads: decoder.threads,
    ...(build.rust ? { rust: build.rust } : {}),
  };
  const library = build.artifactPath;
  const built: SideBuild = { kind: 'cargo', build };
  if (build.adapter === 'cabi')
    return {
      role,
      name: build.name,
      contender: () => ({ name: build.name, kind: 'cabi', library }),
      summary,
      regime: 'in-process',
      build: built,
    };
  if (build.rust?.output === 'slice')
    return {
      role,
      name: build.name,
      contender: () => ({ name: build.name, kind: 'rust-slice', library }),
      summary,
      regime: 'in-process',
      build: built,
    };
  if (build.rust)
    return {
      role,
      name: build.name,
      contender: () => ({ name: build.name, kind: 'owned', library }),
      summary,
      regime: 'in-process-allocating',
      build: built,
    };
  const command = build.command!;
  return {
    role,
    name: build.name,
    contender: (input) => ({
      name: build.name,
      kind: 'cli',
      argv: fillCommand(command, library, input, decoder.threads),
    }),
    summary,
    regime: 'process',
    build: built,
  };
}

/** libdeflate in the head's regime: into the lab's buffer, a fresh allocation per decode, or its own gzip program. */
function referenceSide(reference: LibdeflateBuild, regime: Side['regime']): Side {
  const name = `libdeflate-${reference.version}`;
  const summary = {
    name,
    adapter: regime === 'process' ? 'cli' : 'libdeflate',
    description: reference.source,
    rustc: null,
    llvm: null,
    compiler: reference.compiler,
    threads: 1,
  };
  const build: SideBuild = { kind: 'libdeflate', build: reference };
  if (regime === 'in-process')
    return {
      role: 'libdeflate',
      name,
      contender: () => ({ name, kind: 'libdeflate', library: reference.sharedLibraryPath }),
      summary,
      regime,
      build,
    };
  if (regime === 'in-process-allocating')
    return {
      role: 'libdeflate',
      name,
      contender: () => ({ name, kind: 'libdeflate-alloc', library: reference.sharedLibraryPath }),
      summary,
      regime,
      build,
    };
  const gzipProgram = reference.gzipProgramPath;
  if (!gzipProgram) {
    throw new LabError(
      'bench: contenders',
      `the libdeflate build (${reference.source}) has no gzip program, needed to compare with a CLI decoder.`,
      'build libdeflate from source (git, tarball, debian, path), or install libdeflate-tools for the system library.',
    );
  }
  // A CLI decoder is timed as a whole process, so libdeflate is too (through its own gzip program): like for like.
  return {
    role: 'libdeflate',
    name,
    contender: (input) => ({ name, kind: 'cli', argv: targetCommand(buildTarget(), [gzipProgram, '-d', '-c', input]) }),
    summary,
    regime,
    build,
  };
}

/** Builds every contender of a config (also for `calibrate`, which measures each against itself). */
export async function buildSides(
  config: BenchConfig,
): Promise<{ sides: Side[]; reference: LibdeflateBuild; regime: Regime }> {
  const reference = await buildLibdeflate(config.libdeflate.source, {
    cc: config.libdeflate.cc,
    cflags: config.libdeflate.cflags,
  });
  const head = await buildSide('head', config.decoder);
  const base = config.base ? await buildSide('base', config.base) : undefined;
  if (base && base.regime !== head.regime) {
    throw new LabError(
      'bench: config',
      `decoder and base are timed differently (${head.regime} vs ${base.regime}).`,
      'give base the same adapter (and rust output shape) as decoder so the three are timed alike.',
    );
  }
  const libdeflate = referenceSide(reference, head.regime);
  const sides = [head, ...(base ? [base] : []), libdeflate];
  const names = sides.map((side) => side.name);
  if (new Set(names).size !== names.length) {
    throw new LabError(
      'bench: config',
      `contender names must be unique, got ${names.join(', ')} (the reference is named after its version).`,
      'rename decoder or base.',
    );
  }
  return { sides, reference, regime: head.regime };
}

/** The requested datasets from the folder's manifest, preparing those missing at this scale. */
export async function ensureDatasets(
  options: Pick<BenchOptions, 'datasetsDir' | 'scale' | 'only' | 'silesiaZip' | 'offline'>,
): Promise<DatasetEntry[]> {
  const wanted = options.only?.length ? options.only : DATASET_NAMES;
  const manifest = await readManifest(options.datasetsDir);
  const present = new Set(
    manifest?.datasets.filter((entry) => entry.scale === options.scale).map((entry) => entry.name) ?? [],
  );
  const missing = wanted.filter((name) => !present.has(name));
  const prepared =
    missing.length > 0
      ? await prepareDatasets({
          dir: options.datasetsDir,
          scale: options.scale,
          only: missing,
          silesiaZip: options.silesiaZip,
          offline: options.offline,
        })
      : manifest!;
  return wanted.map((name) => prepared.datasets.find((entry) => entry.name === name)!);
}

function comparison(
  batches: readonly BatchSamples[],
  numerator: Side | undefined,
  denominator: Side | undefined,
  contenders: number,
): Comparison | null {
  if (!numerator || !denominator) return null;
  const cycles = comparisonCycles(batches, numerator.name, denominator.name, contenders);
  // One batch says nothing of the between-process noise: no ratio, rather than an interval of e^±50 ("not enough
  // batches" in the report).
  if (cycles.filter((cluster) => cluster.length > 0).length < 2) return null;
  return { interval: batchInterval(cycles, 0.95), cycleRatios: cycles };
}

/** runBenchmarkWithBuilds, for callers that want only the results. */
export async function runBenchmark(options: BenchOptions): Promise<BenchResults> {
  return (await runBenchmarkWithBuilds(options)).results;
}

/**
 * A batch's ratios come from whole rotations (AB BA; ABC BCA CAB): fewer rounds than contenders give none, and
 * every interval after that would be empty. Refused before anything is built.
 */
export function requireFullRotation(rounds: number, contenders: number, step: string): void {
  if (rounds < contenders)
    throw new LabError(
      `${step}: config`,
      `bench.rounds is ${rounds}, fewer than the ${contenders} contenders a batch rotates through, so no batch ` +
        'would hold one complete rotation to take a ratio from.',
      `set bench.rounds to at least ${contenders} (the default is ${samplingDefaults.rounds}).`,
    );
}

/**
 * Builds every side, verifies each dataset, samples it in batches of fresh
 * worker processes until the primary ratio is tight enough or the budget ends,
 * and summarises: ratios vs libdeflate, and head vs base with a verdict.
 * Returns the results and the builds it measured, so a later step (the PR
 * check's analysis) reads those very artifacts instead of building again.
 */
export async function runBenchmarkWithBuilds(options: BenchOptions): Promise<BenchRun> {
  requireFullRotation(options.config.bench.rounds, options.config.base ? 3 : 2, 'bench');
  const { sides, reference, regime } = await buildSides(options.config);
  const datasets = await ensureDatasets(options);
  const settings = options.config.bench;
  const machine = machineInfo();
  // This runner class's calibration: committed beside the baselines, else the cache.
  const calibration = await findCalibration();
  const head = sides.find((side) => side.role === 'head')!;
  const base = sides.find((side) => side.role === 'base');
  const libdeflate = sides.find((side) => side.role === 'libdeflate')!;
  // The gate reads the first dataset's bytes: checked first (a FIFO there would block that read for good).
  await verifyDatasetFiles(options.datasetsDir, datasets[0]!);
  const integrity = await integrityGate(sides, datasets[0]!, options.datasetsDir, settings);
  // Whole-process timing: the output goes where it is cheapest to receive, and that path's own ceiling is measured.
  const output = regime === 'process' ? await cliOutputPath() : undefined;
  const notComparable = notComparableContenders({ integrity });
  const policy = {
    confidence: settings.verdictConfidence,
    minimumEffect: settings.minimumEffect,
    tolerance: settings.tolerance,
  };
  // Who cannot be compared head vs base whatever the numbers say: the verdict says why.
  const notComparableReasons = base
    ? [
        ...[head, base].flatMap((side) =>
          notComparable.has(side.name) ? [`${side.role} (${side.name}) ${notComparable.get(side.name)!}`] : [],
        ),
        ...(head.summary.threads !== base.summary.threads && !settings.compareAcrossThreads
          ? [`head runs ${head.summary.threads} threads, base ${base.summary.threads}`]
          : []),
      ]
    : [];
  const plan = {
    targetHalfWidth: settings.targetHalfWidth,
    confidence: 0.95,
    minBatches: settings.minBatches,
    maxBatches: settings.maxBatches,
    budgetSeconds: settings.budgetSeconds,
  };
  const prepared: PreparedDataset[] = [];
  // Each dataset's harness runs (CPU time, CPU outside the decode calls, placement), for the usage in its results.
  const harnessRuns = new Map<DatasetName, HarnessOutcome[]>();
  const threads = Object.fromEntries(sides.map((side) => [side.name, side.summary.threads ?? 1]));
  for (const entry of datasets) {
    await verifyDatasetFiles(options.datasetsDir, entry);
    const input = join(options.datasetsDir, entry.compressed.path);
    const contenders = sides.map((side) => side.contender(input));
    const outputPath = output
      ? {
          via: output.via,
          ceilingMegabytesPerSecond: await outputPathCeiling(
            join(options.datasetsDir, entry.raw.path),
            entry.raw.bytes,
            output.dir,
            settings,
          ),
        }
      : undefined;
    const datasetKey = { label: entry.label, compressedSha256: entry.compressed.sha256 };
    const decision = base
      ? headVsBaseDecision(
          { head: head.name, base: base.name, libdeflate: libdeflate.name },
          sides.length,
          calibrationFor(calibration, datasetKey, { rounds: settings.rounds, warmupRounds: settings.warmupRounds }),
          policy,
          plan,
        )
      : undefined;
    // The PR question (head vs base) drives sampling when there is a base; else head/libdeflate's interval width.
    const rule =
      decision?.rule ??
      widthStopRule(
        { numerator: head.name, denominator: libdeflate.name, contenders: sides.length },
        plan.targetHalfWidth,
      );
    const placements = new Set<string>();
    const concurrentBenches = new Set<string>();
    // A different worker-slot order every batch, so no contender keeps the first slot (see contenderOrder).
    const orderFor = (index: number) => contenderOrder(index, contenders.length).map((at) => contenders[at]!);
    const names = contenders.map((c) => c.name).join(', ');
    let progress = startProgress(`bench ${entry.label}`);
    const sampling: DatasetSampling = {
      rule,
      runBatch: async (index, remainingSeconds) => {
        progress.update(`batch ${index + 1}: ${settings.rounds} interleaved rounds of ${names}`);
        const batch = await (options.runBatch ?? runHarness)({
          compressedPath: input,
          expectedPath: join(options.datasetsDir, entry.raw.path),
          contenders: orderFor(index),
          rounds: settings.rounds,
          warmupRounds: settings.warmupRounds,
          timeoutMs: Math.round(settings.timeoutSeconds * 1000),
          maxSeconds: Math.max(1, remainingSeconds),
          memoryLimitMb: settings.memoryLimitMb,
          cliOutputDir: output?.dir,
          threads,
        });
        placements.add(batch.placement);
        if (batch.concurrentBench) concurrentBenches.add(batch.concurrentBench);
        harnessRuns.set(entry.name, [...(harnessRuns.get(entry.name) ?? []), batch]);
        return batch;
      },
      started: (resumed) => {
        if (resumed) progress = startProgress(`bench ${entry.label} (resumed with time other datasets left)`);
      },
      finished: (outcome) => {
        const failed = [...outcome.failures].map(([name, failure]) => `${name}: ${failure}`);
        progress.done(
          failed.length
            ? `FAILED: ${failed.join('; ')}`
            : `${outcome.batches.length} batches, ${outcome.stoppedBecause}`,
        );
      },
    };
    prepared.push({ entry, decision, placements, concurrentBenches, outputPath, sampling });
  }
  // Batches go where they decide something: time the decided datasets left over goes to the undecided ones.
  const outcomes = await sampleDatasets(
    prepared.map((dataset) => dataset.sampling),
    plan,
  );
  const sampled = prepared.map((dataset, index) => ({ ...dataset, outcome: outcomes[index]! }));
  const datasetResults: DatasetResult[] = sampled.map(
    ({ entry, outcome, decision, placements, concurrentBenches, outputPath }) => {
      const failed = outcome.failures.size > 0;
      const contenderResults = sides.map((side) => {
        const samplesNs = outcome.batches.map((batch) =>
          [...(batch.samplesNs.get(side.name) ?? new Map())].sort((a, b) => a[0] - b[0]).map(([, ns]) => ns as number),
        );
        const failure = outcome.failures.get(side.name) ?? null;
        const all = samplesNs.flat();
        return {
          name: side.name,
          role: side.role,
          samplesNs,
          failure,
          megabytesPerSecond: failure || all.length === 0 ? null : megabytesPerSecond(entry.raw.bytes, all),
          usage: contenderUsage(harnessRuns.get(entry.name) ?? [], side.name, threads[side.name]!),
        };
      });
      // CPU used outside its decode calls on this dataset makes a side not comparable too.
      const outsideTurn = [head, ...(base ? [base] : [])].flatMap((side) => {
        const finding = outsideTurnFinding(contenderResults.find((c) => c.name === side.name)?.usage);
        return finding ? [`${side.role} (${side.name}) ${finding}`] : [];
      });
      const headVsLibdeflate = failed ? null : comparison(outcome.batches, head, libdeflate, sides.length);
      const baseVsLibdeflate = failed ? null : comparison(outcome.batches, base, libdeflate, sides.length);
      const headVsBaseComparison = failed ? null : comparison(outcome.batches, head, base, sides.length);
      const headVsBase =
        headVsBaseComparison && decision
          ? {
              ...headVsBaseComparison,
              verdict: decision.verdict(outcome.batches, [...notComparableReasons, ...outsideTurn]),
            }
          : null;
      return {
        name: entry.name,
        label: entry.label,
        standIn: entry.standIn,
        scale: entry.scale,
        rawBytes: entry.raw.bytes,
        rawSha256: entry.raw.sha256,
        compressedBytes: entry.compressed.bytes,
        compressedSha256: entry.compressed.sha256,
        compressor: entry.compressed.compressor,
        level: entry.compressed.level,
        placement: [...placements].join(', '),
        ...(concurrentBenches.size ? { concurrentBench: [...concurrentBenches].join('; ') } : {}),
        batches: outcome.batches.length,
        rounds: contenderResults[0]!.samplesNs.reduce((sum, batch) => sum + batch.length, 0),
        targetMet: outcome.targetMet,
        stoppedBecause: outcome.stoppedBecause,
        elapsedSeconds: outcome.elapsedSeconds,
        verified: !failed && contenderResults.every((contender) => contender.samplesNs.flat().length > 0),
        contenders: contenderResults,
        headVsLibdeflate,
        baseVsLibdeflate,
        headVsBase,
        ...(outputPath ? { outputPath } : {}),
      };
    },
  );
  for (const dataset of datasetResults) info(datasetLine(dataset));
  const counts = await instructionCounts(options, sides, datasetResults, datasets);
  const results: BenchResults = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    createdAt: new Date().toISOString(),
    machine,
    regime,
    libdeflate: {
      name: libdeflate.name,
      version: reference.version,
      source: reference.source,
      buildSystem: reference.buildSystem,
      compiler: reference.compiler,
      cflags: reference.cflags,
    },
    head: head.summary,
    base: base?.summary ?? null,
    settings: {
      roundsPerBatch: settings.rounds,
      warmupRounds: settings.warmupRounds,
      timeoutMs: Math.round(settings.timeoutSeconds * 1000),
      minBatches: settings.minBatches,
      maxBatches: settings.maxBatches,
      targetHalfWidth: settings.targetHalfWidth,
      budgetSeconds: settings.budgetSeconds,
      verdictConfidence: settings.verdictConfidence,
      minimumEffect: settings.minimumEffect,
      tolerance: settings.tolerance,
      toleranceSource: options.toleranceSource ?? 'the config',
      compareAcrossThreads: settings.compareAcrossThreads,
    },
    datasets: datasetResults,
    integrity,
    counts,
    ok: datasetResults.every((dataset) => dataset.verified),
  };
  return { results, builds: { head: head.build, base: base?.build, reference } };
}

/**
 * One decode of each contender per dataset under valgrind (bench/counts.ts), after the timings: a contender that
 * failed there is marked, not counted; where valgrind cannot run, every cell says why.
 */
async function instructionCounts(
  options: BenchOptions,
  sides: readonly Side[],
  datasets: readonly DatasetResult[],
  entries: readonly DatasetEntry[],
) {
  const support = await detectCountSupport(options.config.bench.instructionCounts);
  const progress = startProgress('instruction counts');
  const counts = await countInstructions(
    support,
    sides.map((side) => ({ ...side, threads: side.summary.threads ?? 1 })),
    datasets.map((dataset) => {
      const entry = entries.find((candidate) => candidate.name === dataset.name)!;
      return {
        name: dataset.name,
        label: dataset.label,
        rawBytes: dataset.rawBytes,
        compressedPath: join(options.datasetsDir, entry.compressed.path),
        expectedPath: join(options.datasetsDir, entry.raw.path),
        failures: new Map(dataset.contenders.map((contender) => [contender.name, contender.failure])),
      };
    }),
    {
      // Callgrind runs a decode some 50 times slower than the hardware.
      timeoutMs: Math.min(2 ** 31 - 1, Math.round(options.config.bench.timeoutSeconds * 1000) * 50),
      onCount: (line) => progress.update(line),
    },
  );
  progress.done(counts.unavailable ?? `counted with ${counts.tool}`);
  return counts;
}

/** One dataset ready to sample: what the summary needs besides its outcome. */
interface PreparedDataset {
  entry: DatasetEntry;
  decision: ReturnType<typeof headVsBaseDecision> | undefined;
  placements: Set<string>;
  concurrentBenches: Set<string>;
  outputPath: DatasetResult['outputPath'];
  sampling: DatasetSampling;
}

/** The one line a dataset gets once it is summarised. */
function datasetLine(dataset: DatasetResult): string {
  if (!dataset.verified) return `${dataset.label}: FAILED (${dataset.stoppedBecause})`;
  const versus = dataset.headVsLibdeflate?.interval.estimate.toFixed(3) ?? 'n/a';
  const headVsBase = dataset.headVsBase
    ? `, head/base ${dataset.headVsBase.interval.estimate.toFixed(4)} (${dataset.headVsBase.verdict.kind})`
    : '';
  const outside = dataset.contenders.flatMap((c) =>
    outsideTurnFinding(c.usage) ? [`; ⚠️ ${c.name} ${outsideTurnFinding(c.usage)!}`] : [],
  );
  return `${dataset.label}: head/libdeflate ${versus}${headVsBase}; all outputs verified${outside.join('')}`;
}

/**
 * The fastest a whole-process decoder's output can arrive here: `cat` of the expected bytes through the same output
 * path, timed by the same harness (median of 5 rounds). Null when it could not be measured.
 */
async function outputPathCeiling(
  rawPath: string,
  rawBytes: number,
  dir: string | undefined,
  settings: BenchConfig['bench'],
): Promise<number | null> {
  const name = 'output-path-ceiling';
  const outcome = await runHarness({
    compressedPath: rawPath,
    expectedPath: rawPath,
    contenders: [{ name, kind: 'cli', argv: ['cat', rawPath] }],
    rounds: 5,
    warmupRounds: 1,
    timeoutMs: Math.round(settings.timeoutSeconds * 1000),
    maxSeconds: 0,
    cliOutputDir: dir,
  });
  const samples = [...(outcome.samplesNs.get(name)?.values() ?? [])];
  return outcome.failures.has(name) || samples.length === 0 ? null : megabytesPerSecond(rawBytes, samples);
}

/** The integrity gate on a member made from the first dataset's bytes (see bench/integrity.ts). */
async function integrityGate(
  sides: readonly Side[],
  dataset: DatasetEntry,
  datasetsDir: string,
  settings: BenchConfig['bench'],
) {
  const progress = startProgress('integrity gate');
  const raw = await readPrefix(join(datasetsDir, dataset.raw.path), GATE_MEMBER_BYTES);
  progress.update(`${sides.length} contenders on a corrupted CRC32, ISIZE, truncation and deflate bit`);
  const gate = await runIntegrityGate(sides, raw, `the first ${raw.length} bytes of ${dataset.label}`, {
    timeoutMs: Math.min(30_000, Math.round(settings.timeoutSeconds * 1000)),
    memoryLimitMb: settings.memoryLimitMb,
  });
  const careless = gate.contenders.filter((entry) => entry.notComparable);
  progress.done(
    careless.length
      ? `⚠️ ${careless.map((entry) => `${entry.name} ${entry.notComparable}`).join('; ')}`
      : 'every contender rejected every corrupted member',
  );
  return gate;
}

async function readPrefix(path: string, bytes: number): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
