import { join } from 'node:path';
import { z } from 'zod';
import { mean } from 'simple-statistics';
import { LabError } from '../core/errors.js';
import { fileExists, readJsonFile, writeFileAtomically } from '../core/files.js';
import { info, startProgress, warn } from '../core/log.js';
import { cacheRoot, projectRoot } from '../core/paths.js';
import { verifyDatasetFiles, type DatasetEntry } from '../datasets/index.js';
import type { BenchConfig } from './config.js';
import { describeIssues } from '../core/schema.js';
import { batchLogScale, cycleRatios, trimmedDf, pairedSpeedRatios, type VerdictPolicy } from '../stats/index.js';
import { runHarness, type HarnessContender } from './harness.js';
import { machineInfo } from './machine.js';
import type { SamplingPlan } from './sampling.js';
import { simulateChecks } from './simulate.js';
import { writeNoiseTraces, type NoiseTraces } from './traces.js';

const calibratedDatasetSchema = z.object({
  /** The dataset the noise was recorded on (a calibration holds only for the same compressed bytes). */
  compressedSha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** The batch shape the noise holds for: one batch's scatter depends on its rounds. */
  rounds: z.number().int().positive(),
  warmupRounds: z.number().int().nonnegative(),
  /**
   * Noise scale of one batch's log-ratio estimate in A/A (batchLogScale): the noisiest subject's, the verdict's floor.
   */
  batchLogScale: z.number().positive(),
  /** Degrees of freedom of that scale's estimate. */
  df: z.number().int().positive(),
  /** Per calibrated subject (libdeflate, head, base: A/A of that build): its batch noise scale. */
  subjects: z.record(
    z.string(),
    z.object({
      batchLogScale: z.number().positive(),
      df: z.number().int().positive(),
      batches: z.number().int().positive(),
    }),
  ),
  /** Replayed through the sampling plan on the recorded noise: what a PR check on this machine would say. */
  simulation: z.object({
    checks: z.number().int().positive(),
    noChangeRate: z.number().min(0).max(1),
    falsePositiveRate: z.number().min(0).max(1),
    coverage: z.number().min(0).max(1),
    meanBatches: z.number().nonnegative(),
    /** Mean smallest slowdown the simulated checks would have caught 95% of the time (their power). */
    meanMargin: z.number().nonnegative(),
    /** Smallest slowdown called a regression in ≥95% of simulated checks (null: none up to 10%). */
    minimumDetectableEffect: z.number().positive().nullable(),
  }),
});

const CALIBRATION_SCHEMA_VERSION = 2;

export const calibrationSchema = z.object({
  schemaVersion: z.literal(CALIBRATION_SCHEMA_VERSION),
  calibratedAt: z.string(),
  /**
   * The runner class: a calibration is looked up by it (see runnerClass). `image` is the hosted runner image, if any.
   */
  machine: z.object({
    os: z.string(),
    arch: z.string(),
    cpuModel: z.string(),
    image: z.string().nullable().optional(),
  }),
  datasets: z.record(z.string(), calibratedDatasetSchema),
});
export type Calibration = z.infer<typeof calibrationSchema>;
export type CalibratedDataset = z.infer<typeof calibratedDatasetSchema>;

/**
 * The runner class a calibration holds for: OS, architecture, CPU model and,
 * on a GitHub-hosted runner, the image (ImageOS, e.g. macos14); the image's
 * weekly version is recorded in the file but does not split the class.
 */
export function runnerClass(): { os: string; arch: string; cpuModel: string; image: string | null; slug: string } {
  const machine = machineInfo();
  const image = process.env.ImageOS
    ? `${process.env.ImageOS}${process.env.ImageVersion ? ` ${process.env.ImageVersion}` : ''}`
    : null;
  const slug = `${machine.os}-${machine.arch}-${machine.cpuModel}-${process.env.ImageOS ?? 'local'}`
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-');
  return { os: machine.os, arch: machine.arch, cpuModel: machine.cpuModel, image, slug };
}

/** Where calibrations are kept: committed beside the baselines (hosted runners), then this machine's cache. */
function calibrationDirs(): string[] {
  return [join(projectRoot(), 'baselines', 'calibration'), join(cacheRoot(), 'calibration')];
}

export function calibrationPath(dir = join(cacheRoot(), 'calibration')): string {
  return join(dir, `${runnerClass().slug}.json`);
}

/**
 * This runner class's calibration from the first folder that has one (a fresh hosted runner has only the committed
 * one).
 */
export async function findCalibration(dirs = calibrationDirs()): Promise<Calibration | undefined> {
  for (const dir of dirs) {
    const found = await readCalibration(calibrationPath(dir));
    if (found) return found;
  }
  return undefined;
}

/**
 * The stored calibration of this machine, or undefined. A damaged or outdated
 * file is not silently treated as absent: the warning names it (verdicts then
 * rest on the run's own scatter).
 */
async function readCalibration(path = calibrationPath()): Promise<Calibration | undefined> {
  if (!(await fileExists(path))) return undefined;
  let json: unknown;
  try {
    json = await readJsonFile(path, 'calibration', 'run `perf-lab calibrate` again.');
  } catch (error) {
    warn(
      `calibration ${path} is unreadable (${(error as Error).message}); verdicts use this run's own scatter. ` +
        `Run \`perf-lab calibrate\` again.`,
    );
    return undefined;
  }
  const parsed = calibrationSchema.safeParse(json);
  if (!parsed.success) {
    const version = (json as { schemaVersion?: unknown } | null)?.schemaVersion;
    const why =
      version === CALIBRATION_SCHEMA_VERSION
        ? `is invalid: ${describeIssues(parsed.error)}`
        : `has schemaVersion ${JSON.stringify(version)}; this perf-lab reads version ${CALIBRATION_SCHEMA_VERSION}`;
    warn(`calibration ${path} ${why}; verdicts use this run's own scatter. Run \`perf-lab calibrate\` again.`);
    return undefined;
  }
  return parsed.data;
}

/** The calibration that holds for this dataset and batch shape, or why none does (said in the report). */
export function calibrationFor(
  calibration: Calibration | undefined,
  dataset: { label: string; compressedSha256: string },
  batch: { rounds: number; warmupRounds: number },
): { batchLogScale: number; df: number; source: string } | { missing: string } {
  if (!calibration) return { missing: 'no calibration on this machine' };
  const entry = calibration.datasets[dataset.label];
  if (!entry) return { missing: `the calibration of ${calibration.calibratedAt.slice(0, 10)} has no ${dataset.label}` };
  if (entry.compressedSha256 !== dataset.compressedSha256)
    return { missing: `the calibration of ${dataset.label} was made on other data` };
  if (entry.rounds !== batch.rounds || entry.warmupRounds !== batch.warmupRounds) {
    return {
      missing:
        `the calibration of ${dataset.label} was made with ${entry.rounds} rounds a batch, this run uses ` +
        `${batch.rounds}`,
    };
  }
  const subjects = Object.keys(entry.subjects).join(', ');
  const runner = `${calibration.machine.cpuModel}${calibration.machine.image ? `, ${calibration.machine.image}` : ''}`;
  return {
    batchLogScale: entry.batchLogScale,
    df: entry.df,
    source:
      `A/A calibration of ${calibration.calibratedAt.slice(0, 10)} on ${runner}, ${entry.rounds} rounds a ` +
      `batch (${subjects})`,
  };
}

/** One calibrated build: three worker processes of it make an A/A/A batch. */
export interface CalibrationSubject {
  name: string;
  description: string;
  contender: (input: string) => HarnessContender;
}

/** Records A/A/A batches: one build in three worker processes, fresh processes each batch. */
export async function recordNoiseTraces(
  subject: CalibrationSubject,
  settings: BenchConfig['bench'],
  datasetsDir: string,
  entry: DatasetEntry,
  batches: number,
): Promise<NoiseTraces> {
  await verifyDatasetFiles(datasetsDir, entry);
  const names = ['aa-1', 'aa-2', 'aa-3'] as const;
  const machine = machineInfo();
  const input = join(datasetsDir, entry.compressed.path);
  const traces: NoiseTraces = {
    schemaVersion: 1,
    recordedAt: new Date().toISOString(),
    machine: { os: machine.os, arch: machine.arch, cpuModel: machine.cpuModel },
    dataset: { label: entry.label, compressedSha256: entry.compressed.sha256, rawBytes: entry.raw.bytes },
    libdeflate: subject.description,
    contenders: [...names],
    roundsPerBatch: settings.rounds,
    warmupRounds: settings.warmupRounds,
    batches: [],
  };
  const progress = startProgress(`calibrate ${entry.label} (${subject.name})`);
  for (let batch = 0; batch < batches; batch++) {
    progress.update(`A/A/A batch ${batch + 1}/${batches}`);
    const started = performance.now();
    const outcome = await runHarness({
      compressedPath: input,
      expectedPath: join(datasetsDir, entry.raw.path),
      contenders: names.map((name) => ({ ...subject.contender(input), name })),
      rounds: settings.rounds,
      warmupRounds: settings.warmupRounds,
      timeoutMs: Math.round(settings.timeoutSeconds * 1000),
      maxSeconds: 0,
      memoryLimitMb: settings.memoryLimitMb,
    });
    const failure = [...outcome.failures].map(([name, reason]) => `${name}: ${reason}`).join('; ');
    if (failure) {
      progress.done('failed');
      throw new LabError(
        `calibrate ${entry.label}`,
        `${subject.name} failed in an A/A/A batch: ${failure}`,
        'fix the contender (it must decode every sample correctly) before calibrating on it.',
        3,
      );
    }
    traces.batches.push({
      wallSeconds: (performance.now() - started) / 1000,
      samples: names.map((name) => [...outcome.samplesNs.get(name)!].sort((a, b) => a[0] - b[0])),
    });
  }
  progress.done(`${batches} batches × ${settings.rounds} rounds`);
  return traces;
}

/**
 * The noise scale of one batch's log-ratio estimate (see batchLogScale) in
 * recorded A/A noise: per pair of the three recorded processes, pooled (root
 * mean square) over the three pairs.
 */
export function batchLogScaleFromTraces(traces: NoiseTraces): { batchLogScale: number; df: number } {
  const pairs: Array<[number, number]> = [
    [0, 1],
    [0, 2],
    [1, 2],
  ];
  const squares = pairs.map(([a, b]) => {
    const clusters = traces.batches.map((batch) =>
      cycleRatios(pairedSpeedRatios(new Map(batch.samples[a]), new Map(batch.samples[b])), 3),
    );
    return batchLogScale(clusters) ** 2;
  });
  // The three pairs share processes, so they count as one estimate's degrees of freedom (Yuen's h − 1).
  return { batchLogScale: Math.sqrt(mean(squares)), df: trimmedDf(traces.batches.length) };
}

/**
 * Calibrates one dataset from the A/A/A traces of each subject: the batch
 * standard deviation (the noisiest subject's is the verdict's floor), then the
 * sampling plan and verdict replayed on the noisiest subject's recording to say
 * what a PR check here would report: no-change rate, false positives, coverage,
 * the margin, and the smallest slowdown found in ≥95% of checks.
 */
export async function calibrateFromTraces(
  subjects: ReadonlyMap<string, NoiseTraces>,
  plan: SamplingPlan,
  policy: Omit<VerdictPolicy, 'calibration'>,
  checks = 400,
): Promise<CalibratedDataset> {
  const perSubject = [...subjects].map(([name, traces]) => ({ name, traces, ...batchLogScaleFromTraces(traces) }));
  if (perSubject.length === 0) throw new Error('calibrateFromTraces needs at least one subject');
  const noisiest = perSubject.reduce((worst, subject) =>
    subject.batchLogScale > worst.batchLogScale ? subject : worst,
  );
  const traces = noisiest.traces;
  const calibrated = {
    ...policy,
    calibration: { batchLogScale: noisiest.batchLogScale, df: noisiest.df, source: 'calibration' },
  };
  const all = traces.batches.map((_, index) => index);
  const aa = await simulateChecks(traces, checks, {
    plan,
    policy: calibrated,
    headSlowdown: 1,
    batchIndexes: all,
    seed: 7,
  });
  let minimumDetectableEffect: number | null = null;
  for (const effect of [0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1]) {
    const power = await simulateChecks(traces, Math.round(checks / 2), {
      plan,
      policy: calibrated,
      headSlowdown: 1 + effect,
      batchIndexes: all,
      seed: 11,
    });
    if (power.regressionRate >= 0.95) {
      minimumDetectableEffect = effect;
      break;
    }
  }
  return {
    compressedSha256: traces.dataset.compressedSha256,
    rounds: traces.roundsPerBatch,
    warmupRounds: traces.warmupRounds,
    batchLogScale: noisiest.batchLogScale,
    df: noisiest.df,
    subjects: Object.fromEntries(
      perSubject.map((subject) => [
        subject.name,
        { batchLogScale: subject.batchLogScale, df: subject.df, batches: subject.traces.batches.length },
      ]),
    ),
    simulation: {
      checks,
      noChangeRate: aa.noChangeRate,
      falsePositiveRate: aa.changeRate,
      coverage: aa.verdictCoverage,
      meanBatches: aa.meanBatches,
      meanMargin: aa.meanMargin,
      minimumDetectableEffect,
    },
  };
}

export async function saveCalibration(
  label: string,
  entry: CalibratedDataset,
  path = calibrationPath(),
): Promise<Calibration> {
  const existing = await readCalibration(path);
  const runner = runnerClass();
  const calibration: Calibration = {
    schemaVersion: CALIBRATION_SCHEMA_VERSION,
    calibratedAt: new Date().toISOString(),
    machine: { os: runner.os, arch: runner.arch, cpuModel: runner.cpuModel, image: runner.image },
    datasets: { ...(existing?.datasets ?? {}), [label]: entry },
  };
  await writeFileAtomically(path, `${JSON.stringify(calibrationSchema.parse(calibration), null, 2)}\n`);
  info(`calibration: ${path}`);
  return calibration;
}

/** One line a dataset for the `calibrate` command. */
export function calibrationSummary(label: string, entry: CalibratedDataset, tolerance: number): string {
  const pct = (value: number, digits = 1) => `${(value * 100).toFixed(digits)}%`;
  const subjects = Object.entries(entry.subjects)
    .map(([name, subject]) => `${name} ${pct(subject.batchLogScale, 2)}`)
    .join(', ');
  const sim = entry.simulation;
  const mde = sim.minimumDetectableEffect === null ? 'above 10%' : pct(sim.minimumDetectableEffect);
  return (
    `${label}: batch noise scale ${subjects}; over ${sim.checks} simulated A/A checks: ` +
    `no change ${pct(sim.noChangeRate)} at the ±${pct(tolerance, 1)} tolerance (mean power: caught ≥ ` +
    `${pct(sim.meanMargin, 2)}), false changes ${pct(sim.falsePositiveRate)}, ` +
    `coverage ${pct(sim.coverage)}, ${sim.meanBatches.toFixed(1)} batches; slowdown detected in ≥95%: ${mde}`
  );
}

/**
 * Thresholds for baseline drift (two separate runs): the margin a PR check on
 * this machine typically resolves, from the calibration's simulation.
 */
export function driftThresholds(
  calibration: Calibration | undefined,
): Record<string, { threshold: number; source: string }> {
  if (!calibration) return {};
  return Object.fromEntries(
    Object.entries(calibration.datasets).map(([label, entry]) => [
      label,
      {
        threshold: entry.simulation.meanMargin,
        source: `power of a PR check here (A/A calibration of ${calibration.calibratedAt.slice(0, 10)})`,
      },
    ]),
  );
}

export { writeNoiseTraces };
