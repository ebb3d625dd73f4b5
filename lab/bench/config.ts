import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { LabError } from '../core/errors.js';
import { readJsonFile } from '../core/files.js';
import { describeIssues } from '../core/schema.js';
import { cargoDecoderSchema, contenderNameSchema } from '../build/decoder.js';
import { libdeflateSourceSchema } from '../build/libdeflate-source.js';

const libdeflateSection = z
  .object({
    source: libdeflateSourceSchema,
    cc: z.string().min(1).optional(),
    cflags: z.string().optional(),
  })
  .strict();

/** A decoder under test that is itself a libdeflate build (e.g. another version), timed in-process. */
const libdeflateDecoderSchema = z.object({ name: contenderNameSchema, libdeflate: libdeflateSection }).strict();

const decoderSchema = z.union([libdeflateDecoderSchema, cargoDecoderSchema.strict()]);

export const samplingDefaults = {
  rounds: 24,
  warmupRounds: 3,
  timeoutSeconds: 120,
  minBatches: 6,
  maxBatches: 21,
  targetHalfWidth: 0.005,
  budgetSeconds: 120,
  verdictConfidence: 0.99,
  minimumEffect: 0.005,
  tolerance: 0.015,
  memoryLimitMb: 4096,
  compareAcrossThreads: false,
  instructionCounts: true,
};

export const benchConfigSchema = z
  .object({
    schemaVersion: z.literal(1),
    libdeflate: libdeflateSection,
    /** The decoder under test (the PR's head when `base` is given). */
    decoder: decoderSchema,
    /** The same decoder before the change: enables the three-way run and the head-vs-base verdict. */
    base: decoderSchema.optional(),
    bench: z
      .object({
        /** Measured rounds per batch; every batch starts fresh worker processes. */
        rounds: z.number().int().min(2).max(100_000).default(samplingDefaults.rounds),
        warmupRounds: z.number().int().min(0).max(1000).default(samplingDefaults.warmupRounds),
        timeoutSeconds: z.number().positive().max(3600).default(samplingDefaults.timeoutSeconds),
        minBatches: z.number().int().min(1).max(1000).default(samplingDefaults.minBatches),
        maxBatches: z.number().int().min(1).max(1000).default(samplingDefaults.maxBatches),
        /** Stop sampling a dataset once the primary ratio's 95% CI is within ±this (relative). */
        targetHalfWidth: z.number().positive().max(1).default(samplingDefaults.targetHalfWidth),
        /** Time budget per dataset, in seconds. */
        budgetSeconds: z.number().positive().max(86_400).default(samplingDefaults.budgetSeconds),
        /** Confidence of the interval head-vs-base verdicts are decided on. */
        verdictConfidence: z.number().gt(0.5).lt(1).default(samplingDefaults.verdictConfidence),
        /** The smallest head-vs-base change worth a verdict (relative); smaller ones count as no change. */
        minimumEffect: z.number().nonnegative().max(0.5).default(samplingDefaults.minimumEffect),
        /**
         * The change head vs base that does not matter (relative, 0.015 = ±1.5%): "no change" only when the 90%
         * interval lies inside ±tolerance; sampling stops once the verdict is decided at it.
         */
        tolerance: z.number().positive().max(0.5).default(samplingDefaults.tolerance),
        /** Address space each decoder may add beyond its inputs and outputs, in MiB (Linux; 0 = no limit). */
        // At most 16 TiB: the harness computes the limit in bytes, and a larger figure would wrap around.
        memoryLimitMb: z
          .number()
          .int()
          .nonnegative()
          .max(16 * 1024 * 1024)
          .default(samplingDefaults.memoryLimitMb),
        /**
         * Print ratios between contenders with different thread counts (labelled cross-thread); else they are not
         * comparable.
         */
        compareAcrossThreads: z.boolean().default(samplingDefaults.compareAcrossThreads),
        /**
         * Count the instructions of one decode of each contender per dataset (valgrind's callgrind, Linux): a
         * deterministic signal beside the timings. Where it cannot run, the results say why.
         */
        instructionCounts: z.boolean().default(samplingDefaults.instructionCounts),
      })
      .strict()
      .default(samplingDefaults),
  })
  .strict()
  .refine((config) => !config.base || config.base.name !== config.decoder.name, {
    message: 'base.name must differ from decoder.name',
    path: ['base', 'name'],
  })
  .refine((config) => config.bench.minimumEffect <= config.bench.tolerance, {
    message:
      'must be at least bench.minimumEffect (a change between the two would be neither a change nor no change); ' +
      'the defaults are 0.005 and 0.015',
    path: ['bench', 'tolerance'],
  })
  .refine((config) => config.bench.minBatches <= config.bench.maxBatches, {
    message: 'minBatches must not exceed maxBatches',
    path: ['bench', 'minBatches'],
  });
export type BenchConfig = z.infer<typeof benchConfigSchema>;

type LibdeflateSourceConfig = BenchConfig['libdeflate']['source'];
type DecoderConfig = BenchConfig['decoder'];

/** Makes every relative path in the config relative to the config file's folder. */
function resolvePaths(config: BenchConfig, baseDir: string): BenchConfig {
  const fixSource = (source: LibdeflateSourceConfig): LibdeflateSourceConfig => {
    if (source.kind === 'path') return { ...source, path: resolve(baseDir, source.path) };
    if (source.kind === 'tarball' && !/^https?:\/\//.test(source.location))
      return { ...source, location: resolve(baseDir, source.location) };
    return source;
  };
  const fixDecoder = (decoder: DecoderConfig): DecoderConfig =>
    'libdeflate' in decoder
      ? { ...decoder, libdeflate: { ...decoder.libdeflate, source: fixSource(decoder.libdeflate.source) } }
      : 'path' in decoder.cargo
        ? { ...decoder, cargo: { path: resolve(baseDir, decoder.cargo.path) } }
        : decoder;
  return {
    ...config,
    libdeflate: { ...config.libdeflate, source: fixSource(config.libdeflate.source) },
    decoder: fixDecoder(config.decoder),
    ...(config.base ? { base: fixDecoder(config.base) } : {}),
  };
}

export function parseBenchConfig(json: unknown, source: string, baseDir: string): BenchConfig {
  const parsed = benchConfigSchema.safeParse(json);
  if (!parsed.success) {
    throw new LabError(
      'bench: config',
      `${source} is invalid: ${describeIssues(parsed.error)}.`,
      'fix the named field(s); see the README section "Config file" for the format.',
    );
  }
  return resolvePaths(parsed.data, baseDir);
}

/**
 * Reads a bench config. Relative paths in it are relative to the config's
 * folder, or to `repositoryRoot` when given (a decoder repository's
 * .github/perf-lab.json names its crate as "." — the repository root).
 */
export async function loadBenchConfig(path: string, repositoryRoot?: string): Promise<BenchConfig> {
  const absolute = repositoryRoot ? resolve(repositoryRoot, path) : resolve(path);
  const json = await readJsonFile(
    absolute,
    'bench: config',
    'pass an existing bench config (JSON) with --config; see the README section "Config file".',
  );
  return parseBenchConfig(json, absolute, repositoryRoot ? resolve(repositoryRoot) : dirname(absolute));
}

/**
 * The config with head vs base judged at `tolerance` (a CLI flag or workflow input over the config's own), checked
 * like the config file: the minimum effect must not exceed it.
 */
export function withTolerance(config: BenchConfig, tolerance: number | undefined, source: string): BenchConfig {
  if (tolerance === undefined) return config;
  if (config.bench.minimumEffect > tolerance)
    throw new LabError(
      'bench: config',
      `${source}: a tolerance of ${percentOf(tolerance)} is below bench.minimumEffect ` +
        `(${percentOf(config.bench.minimumEffect)}): a change between the two would be neither a change nor no change.`,
      'ask for a tolerance of at least bench.minimumEffect, or lower bench.minimumEffect in the config.',
    );
  return { ...config, bench: { ...config.bench, tolerance } };
}

function percentOf(fraction: number): string {
  return `${Number((fraction * 100).toFixed(3))}%`;
}
