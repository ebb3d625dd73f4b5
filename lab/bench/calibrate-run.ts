import { resolve } from 'node:path';
import { LabError } from '../core/errors.js';
import type { DatasetName, Scale } from '../datasets/index.js';
import {
  calibrateFromTraces,
  calibrationSummary,
  recordNoiseTraces,
  saveCalibration,
  writeNoiseTraces,
  type CalibratedDataset,
} from './calibrate.js';
import type { BenchConfig } from './config.js';
import { buildCountDriver, detectCountSupport } from './counts.js';
import { buildSides, ensureDatasets, requireFullRotation, type Role } from './run.js';
import type { NoiseTraces } from './traces.js';

export interface CalibrateMachineOptions {
  config: BenchConfig;
  /** The contenders to record A/A/A batches of; the noisiest decides each dataset's floor. */
  subjects: readonly Role[];
  batches: number;
  scale: Scale;
  datasetsDir: string;
  only?: readonly DatasetName[];
  offline?: boolean;
  /** Also keep the recorded traces here (one JSON file a dataset and subject). */
  tracesDir?: string;
  /** Called with each dataset's summary line as soon as it is calibrated. */
  onDataset?: (line: string) => void;
}

/**
 * Measures this machine's noise: builds the subjects, records A/A/A batches of each on every dataset, and replays
 * them through the sampling plan and verdict policy of the config. Returns the calibration per dataset label.
 */
export async function calibrateMachine(options: CalibrateMachineOptions): Promise<Map<string, CalibratedDataset>> {
  const { config } = options;
  // A/A/A: three copies of each subject rotate in a batch.
  requireFullRotation(config.bench.rounds, 3, 'calibrate');
  const { sides } = await buildSides(config);
  // The bench's count driver is built here too, so a PR run that restores this warm cache compiles nothing.
  if ((await detectCountSupport(config.bench.instructionCounts)).available) await buildCountDriver();
  const subjects = options.subjects.map((role) => {
    const side = sides.find((candidate) => candidate.role === role);
    if (!side)
      throw new LabError(
        'calibrate',
        `the config has no ${role} contender to calibrate on.`,
        'drop it from --subjects, or add it to the config.',
      );
    return { name: role, description: side.summary.description, contender: side.contender };
  });
  const plan = {
    targetHalfWidth: config.bench.targetHalfWidth,
    confidence: 0.95,
    minBatches: config.bench.minBatches,
    maxBatches: config.bench.maxBatches,
    budgetSeconds: config.bench.budgetSeconds,
  };
  const policy = {
    confidence: config.bench.verdictConfidence,
    minimumEffect: config.bench.minimumEffect,
    tolerance: config.bench.tolerance,
  };
  const calibrated = new Map<string, CalibratedDataset>();
  const entries = await ensureDatasets({
    datasetsDir: options.datasetsDir,
    scale: options.scale,
    only: options.only,
    offline: options.offline,
  });
  for (const entry of entries) {
    const recorded = new Map<string, NoiseTraces>();
    for (const subject of subjects) {
      const traces = await recordNoiseTraces(subject, config.bench, options.datasetsDir, entry, options.batches);
      if (options.tracesDir) {
        const name = `noise-${entry.name}-${entry.scale}-${subject.name}.json`;
        await writeNoiseTraces(resolve(options.tracesDir, name), traces);
      }
      recorded.set(subject.name, traces);
    }
    const result = await calibrateFromTraces(recorded, plan, policy);
    calibrated.set(entry.label, result);
    options.onDataset?.(calibrationSummary(entry.label, result, config.bench.tolerance));
  }
  return calibrated;
}

/** Writes each dataset's calibration into the calibration file at `path` (other datasets there are kept). */
export async function storeCalibration(calibrated: ReadonlyMap<string, CalibratedDataset>, path: string) {
  for (const [label, result] of calibrated) await saveCalibration(label, result, path);
}
