import { join } from 'node:path';
import { z } from 'zod';
import { LabError } from '../core/errors.js';
import { fileExists, readJsonFile, readWholeFile, sha256Hex, writeFileAtomically } from '../core/files.js';
import { cacheRoot } from '../core/paths.js';
import { readManifest } from './manifest.js';
import { DeflateFormatError, profileGzip, type DeflateProfile } from './symbols.js';

const count = z.number().int().nonnegative();

const PROFILE_SCHEMA_VERSION = 1;

const storedProfileSchema = z.object({
  schemaVersion: z.literal(PROFILE_SCHEMA_VERSION),
  compressedSha256: z.string().regex(/^[0-9a-f]{64}$/),
  members: count,
  blocks: z.object({ stored: count, fixed: count, dynamic: count }),
  outputBytes: count,
  storedBytes: count,
  literals: count,
  matches: count,
  matchBytes: count,
  matchesByDistance: z.object({ one: count, underWord: count, word: count }),
  bits: count,
  runs: z.array(z.tuple([count, z.number().int().min(0).max(258), z.number().int().positive()])),
});

export type DatasetProfile = DeflateProfile & { compressedSha256: string };

/**
 * Where a compressed file's symbol profile is cached: by the sha256 of its bytes, so an altered file is never reused.
 */
export const profileCachePath = (sha256: string) => join(cacheRoot(), 'profiles', `${sha256}.json`);

/** A cached profile when it is valid and agrees with itself (the counts add up to the output), else undefined. */
async function cachedProfile(sha256: string): Promise<DatasetProfile | undefined> {
  const path = profileCachePath(sha256);
  if (!(await fileExists(path))) return undefined;
  try {
    const parsed = storedProfileSchema.safeParse(await readJsonFile(path, 'profile', 'it is recomputed'));
    if (!parsed.success || parsed.data.compressedSha256 !== sha256) return undefined;
    const { schemaVersion, ...profile } = parsed.data;
    void schemaVersion;
    if (profile.literals + profile.matchBytes + profile.storedBytes !== profile.outputBytes) return undefined;
    return profile;
  } catch {
    return undefined;
  }
}

/**
 * The symbol profile of a gzip file (see profileGzip), cached by its sha256.
 * With `expectedSha256` (from a manifest or a results file) a file whose bytes
 * differ is refused rather than profiled.
 */
/** The largest compressed dataset profiled (read whole): a full-scale one is under 100 MB. */
const MAX_PROFILED_BYTES = 1024 * 1024 * 1024;

export async function datasetProfile(path: string, expectedSha256?: string): Promise<DatasetProfile> {
  let bytes: Uint8Array;
  try {
    bytes = await readWholeFile(path, {
      step: 'profile',
      hint: 'prepare the datasets again (`perf-lab datasets prepare`).',
      maxBytes: MAX_PROFILED_BYTES,
    });
  } catch (error) {
    if (error instanceof LabError) throw error;
    throw new LabError(
      'profile',
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`,
      'prepare the datasets again (`perf-lab datasets prepare`).',
    );
  }
  const sha256 = sha256Hex(bytes);
  if (expectedSha256 !== undefined && sha256 !== expectedSha256) {
    throw new LabError(
      'profile',
      `${path} has sha256 ${sha256}, not the ${expectedSha256} the measurement used.`,
      'profile the file that was measured: prepare the datasets again with the same scale.',
    );
  }
  const cached = await cachedProfile(sha256);
  if (cached) return cached;
  let profile: DeflateProfile;
  try {
    profile = profileGzip(bytes);
  } catch (error) {
    if (error instanceof DeflateFormatError)
      throw new LabError(
        'profile',
        `${path} is not a valid gzip file: ${error.message}.`,
        'prepare the datasets again (`perf-lab datasets prepare`).',
      );
    throw error;
  }
  const stored: DatasetProfile = { compressedSha256: sha256, ...profile };
  // A cache write that fails (full disk, read-only cache) costs a recomputation next time, not this answer.
  await writeFileAtomically(
    profileCachePath(sha256),
    `${JSON.stringify({ schemaVersion: PROFILE_SCHEMA_VERSION, ...stored })}\n`,
  ).catch(() => undefined);
  return stored;
}

/**
 * The profiles of measured datasets, found in `datasetsDir` by the sha256 the
 * measurement recorded (the manifest names the file; the bytes are re-hashed).
 * A dataset without its file is listed in `missing` with the reason.
 */
export async function profilesOfMeasured(
  measured: ReadonlyArray<{ label: string; compressedSha256: string }>,
  datasetsDir: string,
): Promise<{ profiles: Map<string, DatasetProfile>; missing: string[] }> {
  const manifest = await readManifest(datasetsDir);
  const profiles = new Map<string, DatasetProfile>();
  const missing: string[] = [];
  for (const dataset of measured) {
    const entry = manifest?.datasets.find((candidate) => candidate.compressed.sha256 === dataset.compressedSha256);
    if (!entry) {
      missing.push(
        `${dataset.label}: no file with sha256 ${dataset.compressedSha256.slice(0, 12)}… in ` +
          `${datasetsDir}${manifest ? '' : ' (no manifest)'}`,
      );
      continue;
    }
    profiles.set(
      dataset.compressedSha256,
      await datasetProfile(join(datasetsDir, entry.compressed.path), dataset.compressedSha256),
    );
  }
  return { profiles, missing };
}
