import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { LabError } from '../core/errors.js';
import { writeFileAtomically } from '../core/files.js';
import { describeIssues } from '../datasets/manifest.js';

const positive = z.number().finite().positive();

export const intervalSchema = z.object({
  estimate: positive,
  low: positive,
  high: positive,
  confidence: z.number().gt(0).lt(1),
  samples: z.number().int().positive(),
  resamples: z.number().int().positive(),
  method: z.string(),
});

export const contenderResultSchema = z.object({
  name: z.string(),
  role: z.enum(['decoder', 'libdeflate']),
  /** Measured decode times in ns, one per round, in round order (warm-up rounds excluded). */
  samplesNs: z.array(positive),
  megabytesPerSecond: positive.nullable(),
  failure: z.string().nullable(),
});

export const datasetResultSchema = z.object({
  name: z.string(),
  label: z.string(),
  standIn: z.boolean(),
  scale: z.enum(['quick', 'full']),
  rawBytes: z.number().int().nonnegative(),
  rawSha256: z.string().regex(/^[0-9a-f]{64}$/),
  compressedBytes: z.number().int().nonnegative(),
  compressedSha256: z.string().regex(/^[0-9a-f]{64}$/),
  compressor: z.string(),
  level: z.number().int(),
  rounds: z.number().int().nonnegative(),
  /** Where the contenders ran (core pinning on Linux, QoS class on macOS). */
  placement: z.string(),
  /** True when every sample of every contender decoded to the expected bytes. */
  verified: z.boolean(),
  contenders: z.array(contenderResultSchema),
  /** Decoder speed / libdeflate speed, from paired rounds; null when a contender failed. */
  ratio: intervalSchema.nullable(),
});

export const resultsSchema = z.object({
  schemaVersion: z.literal(1),
  createdAt: z.string(),
  machine: z.object({ os: z.string(), osRelease: z.string(), arch: z.string(), cpuModel: z.string(), logicalCpus: z.number().int() }),
  mode: z.enum(['in-process', 'process']),
  libdeflate: z.object({ name: z.string(), version: z.string(), source: z.string(), buildSystem: z.string(), compiler: z.string(), cflags: z.string() }),
  decoder: z.object({
    name: z.string(),
    adapter: z.string(),
    description: z.string(),
    rustc: z.string().nullable(),
    llvm: z.string().nullable(),
    compiler: z.string().nullable(),
  }),
  settings: z.object({ rounds: z.number().int(), warmupRounds: z.number().int(), timeoutMs: z.number().int(), maxSecondsPerDataset: z.number() }),
  datasets: z.array(datasetResultSchema),
  ok: z.boolean(),
});
export type BenchResults = z.infer<typeof resultsSchema>;
export type DatasetResult = z.infer<typeof datasetResultSchema>;

export async function writeResults(path: string, results: BenchResults): Promise<void> {
  await writeFileAtomically(path, `${JSON.stringify(resultsSchema.parse(results), null, 2)}\n`);
}

export async function readResults(path: string): Promise<BenchResults> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new LabError('results', `cannot read ${path} as JSON: ${(error as Error).message}`, 'pass a results file written by `perf-lab bench --json`.');
  }
  const parsed = resultsSchema.safeParse(json);
  if (!parsed.success) throw new LabError('results', `${path} is not a valid results file: ${describeIssues(parsed.error)}`, 'pass a results file written by `perf-lab bench --json` (schemaVersion 1).');
  return parsed.data;
}
