import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { buildLibdeflate } from '../build/libdeflate.js';
import { writeFileAtomically } from '../core/files.js';
import { info, startProgress } from '../core/log.js';
import { cacheRoot } from '../core/paths.js';
import { verifyDatasetFiles, type DatasetEntry } from '../datasets/index.js';
import type { BenchConfig } from './config.js';
import { runHarness } from './harness.js';
import { machineInfo } from './machine.js';
import type { SamplingPlan } from './sampling.js';
import { simulateChecks, thresholdFromNull } from './simulate.js';
import { writeNoiseTraces, type NoiseTraces } from './traces.js';

export const calibrationSchema = z.object({
  schemaVersion: z.literal(1),
  calibratedAt: z.string(),
  machine: z.object({ os: z.string(), arch: z.string(), cpuModel: z.string() }),
  datasets: z.record(
    z.string(),
    z.object({
      /** Relative speed change below which head vs base is not called a change. */
      threshold: z.number().nonnegative(),
      /** Smallest slowdown the default plan detects in ≥95% of simulated checks (null: none tried was). */
      minimumDetectableEffect: z.number().positive().nullable(),
      falsePositiveRate: z.number(),
      batchesRecorded: z.number().int(),
      simulatedChecks: z.number().int(),
      /** The sampling plan the threshold holds for (a threshold is only valid for the plan it was derived with). */
      plan: z.object({ rounds: z.number().int(), minBatches: z.number().int(), maxBatches: z.number().int(), verdictConfidence: z.number() }).optional(),
    }),
  ),
});
export type Calibration = z.infer<typeof calibrationSchema>;

export function calibrationPath(): string {
  const machine = machineInfo();
  const slug = `${machine.os}-${machine.arch}-${machine.cpuModel}`.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return join(cacheRoot(), 'calibration', `${slug}.json`);
}

export async function readCalibration(path = calibrationPath()): Promise<Calibration | undefined> {
  try {
    return calibrationSchema.parse(JSON.parse(await readFile(path, 'utf8')));
  } catch {
    return undefined;
  }
}

/** Records A/A/A batches: one libdeflate build in three worker processes, fresh processes each batch. */
export async function recordNoiseTraces(config: BenchConfig, datasetsDir: string, entry: DatasetEntry, batches: number, roundsPerBatch: number): Promise<NoiseTraces> {
  const libdeflate = await buildLibdeflate(config.libdeflate.source, { cc: config.libdeflate.cc, cflags: config.libdeflate.cflags });
  await verifyDatasetFiles(datasetsDir, entry);
  const names = ['aa-1', 'aa-2', 'aa-3'] as const;
  const machine = machineInfo();
  const traces: NoiseTraces = {
    schemaVersion: 1,
    recordedAt: new Date().toISOString(),
    machine: { os: machine.os, arch: machine.arch, cpuModel: machine.cpuModel },
    dataset: { label: entry.label, compressedSha256: entry.compressed.sha256, rawBytes: entry.raw.bytes },
    libdeflate: `libdeflate ${libdeflate.version} (${libdeflate.source})`,
    contenders: [...names],
    roundsPerBatch,
    warmupRounds: config.bench.warmupRounds,
    batches: [],
  };
  const progress = startProgress(`calibrate ${entry.label}`);
  for (let batch = 0; batch < batches; batch++) {
    progress.update(`A/A/A batch ${batch + 1}/${batches}`);
    const started = performance.now();
    const outcome = await runHarness({
      compressedPath: join(datasetsDir, entry.compressed.path),
      expectedPath: join(datasetsDir, entry.raw.path),
      contenders: names.map((name) => ({ name, kind: 'libdeflate' as const, library: libdeflate.sharedLibraryPath })),
      rounds: roundsPerBatch,
      warmupRounds: config.bench.warmupRounds,
      timeoutMs: Math.round(config.bench.timeoutSeconds * 1000),
      maxSeconds: 0,
    });
    traces.batches.push({
      wallSeconds: (performance.now() - started) / 1000,
      samples: names.map((name) => [...outcome.samplesNs.get(name)!].sort((a, b) => a[0] - b[0])),
    });
  }
  progress.done(`${batches} batches × ${roundsPerBatch} rounds`);
  return traces;
}

/** Derives the verdict threshold and the minimum detectable effect by replaying the sampling plan on recorded A/A noise. */
export async function calibrateFromTraces(traces: NoiseTraces, plan: SamplingPlan, verdictConfidence: number, checks = 400) {
  const all = traces.batches.map((_, index) => index);
  const nullRun = await simulateChecks(traces, checks, { plan, verdictConfidence, threshold: 0, headSlowdown: 1, batchIndexes: all });
  const threshold = thresholdFromNull(nullRun.absoluteEffects, 0.99);
  const check = await simulateChecks(traces, checks, { plan, verdictConfidence, threshold, headSlowdown: 1, batchIndexes: all, seed: 7 });
  let minimumDetectableEffect: number | null = null;
  for (const effect of [0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1]) {
    const power = await simulateChecks(traces, Math.round(checks / 2), { plan, verdictConfidence, threshold, headSlowdown: 1 + effect, batchIndexes: all, seed: 11 });
    if (power.regressionRate >= 0.95) {
      minimumDetectableEffect = effect;
      break;
    }
  }
  return { threshold, minimumDetectableEffect, falsePositiveRate: check.changeRate, simulatedChecks: checks };
}

export async function saveCalibration(label: string, traces: NoiseTraces, result: Awaited<ReturnType<typeof calibrateFromTraces>>, plan: { rounds: number; minBatches: number; maxBatches: number; verdictConfidence: number }, path = calibrationPath()): Promise<Calibration> {
  const existing = await readCalibration(path);
  const machine = machineInfo();
  const calibration: Calibration = {
    schemaVersion: 1,
    calibratedAt: new Date().toISOString(),
    machine: { os: machine.os, arch: machine.arch, cpuModel: machine.cpuModel },
    datasets: { ...(existing?.datasets ?? {}), [label]: { ...result, batchesRecorded: traces.batches.length, plan } },
  };
  await writeFileAtomically(path, `${JSON.stringify(calibrationSchema.parse(calibration), null, 2)}\n`);
  info(`calibration: ${path}`);
  return calibration;
}

export { writeNoiseTraces };
