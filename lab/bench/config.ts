import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { LabError } from '../core/errors.js';
import { describeIssues } from '../datasets/manifest.js';
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

export const benchConfigSchema = z
  .object({
    schemaVersion: z.literal(1),
    libdeflate: libdeflateSection,
    decoder: z.union([libdeflateDecoderSchema, cargoDecoderSchema.strict()]),
    bench: z
      .object({
        rounds: z.number().int().min(2).max(100_000).default(15),
        warmupRounds: z.number().int().min(0).max(1000).default(2),
        timeoutSeconds: z.number().positive().max(3600).default(120),
        /** Stop starting new rounds on a dataset after this long (0: run all rounds). */
        maxSecondsPerDataset: z.number().nonnegative().default(0),
      })
      .strict()
      .default({ rounds: 15, warmupRounds: 2, timeoutSeconds: 120, maxSecondsPerDataset: 0 }),
  })
  .strict();
export type BenchConfig = z.infer<typeof benchConfigSchema>;

/** Makes every relative path in the config relative to the config file's folder. */
function resolvePaths(config: BenchConfig, baseDir: string): BenchConfig {
  const fixSource = (source: BenchConfig['libdeflate']['source']) => {
    if (source.kind === 'path') return { ...source, path: resolve(baseDir, source.path) };
    if (source.kind === 'tarball' && !/^https?:\/\//.test(source.location)) return { ...source, location: resolve(baseDir, source.location) };
    return source;
  };
  const decoder = config.decoder;
  return {
    ...config,
    libdeflate: { ...config.libdeflate, source: fixSource(config.libdeflate.source) },
    decoder:
      'libdeflate' in decoder
        ? { ...decoder, libdeflate: { ...decoder.libdeflate, source: fixSource(decoder.libdeflate.source) } }
        : 'path' in decoder.cargo
          ? { ...decoder, cargo: { path: resolve(baseDir, decoder.cargo.path) } }
          : decoder,
  };
}

export function parseBenchConfig(json: unknown, source: string, baseDir: string): BenchConfig {
  const parsed = benchConfigSchema.safeParse(json);
  if (!parsed.success) {
    throw new LabError('bench: config', `${source} is invalid: ${describeIssues(parsed.error)}.`, 'fix the named field(s); see the README section "Config file" for the format.');
  }
  return resolvePaths(parsed.data, baseDir);
}

export async function loadBenchConfig(path: string): Promise<BenchConfig> {
  const absolute = resolve(path);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    throw new LabError('bench: config', `cannot read ${absolute}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`, 'pass an existing config file with --config.');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new LabError('bench: config', `${absolute} is not valid JSON: ${(error as Error).message}.`, 'fix the JSON syntax.');
  }
  return parseBenchConfig(json, absolute, dirname(absolute));
}
