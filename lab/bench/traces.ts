import { z } from 'zod';
import { LabError } from '../core/errors.js';
import { readJsonFile, writeFileAtomically } from '../core/files.js';
import { describeIssues } from '../core/schema.js';
import type { BatchSamples } from './sampling.js';

/**
 * Recorded noise: A/A/A batches of one libdeflate build in three worker
 * processes, as the harness measured them. Kept as test fixtures and used to
 * calibrate verdict thresholds by replaying the sampling procedure on them.
 */
export const noiseTracesSchema = z.object({
  schemaVersion: z.literal(1),
  recordedAt: z.string(),
  machine: z.object({ os: z.string(), arch: z.string(), cpuModel: z.string() }),
  dataset: z.object({
    label: z.string(),
    compressedSha256: z.string().regex(/^[0-9a-f]{64}$/),
    rawBytes: z.number().int().positive(),
  }),
  libdeflate: z.string(),
  contenders: z.array(z.string()).length(3),
  roundsPerBatch: z.number().int().positive(),
  warmupRounds: z.number().int().nonnegative(),
  batches: z
    .array(
      z.object({
        wallSeconds: z.number().positive(),
        /** Per contender (same order as `contenders`): [round, ns] pairs of measured rounds. */
        samples: z.array(z.array(z.tuple([z.number().int().nonnegative(), z.number().int().positive()]))).length(3),
      }),
    )
    .min(2),
});
export type NoiseTraces = z.infer<typeof noiseTracesSchema>;

export async function readNoiseTraces(path: string): Promise<NoiseTraces> {
  const json = await readJsonFile(
    path,
    'noise traces',
    'pass a traces file written by `perf-lab calibrate --traces-dir`.',
  );
  const parsed = noiseTracesSchema.safeParse(json);
  if (!parsed.success)
    throw new LabError(
      'noise traces',
      `${path} is invalid: ${describeIssues(parsed.error)}`,
      'record it again with `perf-lab calibrate --traces-dir`.',
    );
  return parsed.data;
}

export async function writeNoiseTraces(path: string, traces: NoiseTraces): Promise<void> {
  await writeFileAtomically(path, `${JSON.stringify(noiseTracesSchema.parse(traces))}\n`);
}

/**
 * One recorded batch as harness samples, under the given names (names[slot]: who
 * sat in that worker slot); `scale` multiplies a name's times, `slotFactors` a slot's.
 */
export function traceBatch(
  traces: NoiseTraces,
  index: number,
  names: readonly [string, string, string],
  scale: Readonly<Record<string, number>> = {},
  slotFactors: readonly number[] = [1, 1, 1],
): BatchSamples {
  const batch = traces.batches[index]!;
  const samplesNs = new Map<string, Map<number, number>>();
  names.forEach((name, slot) => {
    const factor = (scale[name] ?? 1) * (slotFactors[slot] ?? 1);
    samplesNs.set(name, new Map(batch.samples[slot]!.map(([round, ns]) => [round, ns * factor])));
  });
  return { samplesNs, failures: new Map() };
}
