import { isAbsolute, join, normalize } from 'node:path';
import { z } from 'zod';
import { LabError } from '../core/errors.js';
import { describeIssues } from '../core/schema.js';
import { digestFile, fileExists, readJsonFile, refuseNonFolder, writeFileAtomically } from '../core/files.js';

export const DATASET_NAMES = ['silesia', 'software', 'logs'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];
export const SCALES = ['quick', 'full'] as const;
export type Scale = (typeof SCALES)[number];

/** A path inside the manifest's folder: never absolute, never climbing out of it. */
const relativePath = z
  .string()
  .min(1)
  .refine(
    (path) => !isAbsolute(path) && !normalize(path).startsWith('..'),
    'must be a path inside the manifest folder',
  );

const fileEntry = z.object({
  path: relativePath,
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits'),
});

export const datasetEntrySchema = z.object({
  name: z.enum(DATASET_NAMES),
  /** What reports show: "SILESIA", or "SILESIA (stand-in)" when built from other corpora. */
  label: z.string().min(1),
  standIn: z.boolean(),
  scale: z.enum(SCALES),
  /** Where the raw bytes came from (generator definition, zip hash, stand-in corpora). */
  source: z.string().min(1),
  raw: fileEntry,
  compressed: fileEntry.extend({
    compressor: z.string().min(1),
    level: z.number().int().min(1).max(9),
  }),
});
export type DatasetEntry = z.infer<typeof datasetEntrySchema>;

export const manifestSchema = z.object({
  schemaVersion: z.literal(1),
  datasets: z.array(datasetEntrySchema),
});
export type Manifest = z.infer<typeof manifestSchema>;

const MANIFEST_FILE = 'manifest.json';

/** Reads DIR/manifest.json; returns undefined when absent, throws a LabError when invalid. */
export async function readManifest(dir: string): Promise<Manifest | undefined> {
  await refuseNonFolder(dir, 'datasets', 'the datasets folder');
  const path = join(dir, MANIFEST_FILE);
  if (!(await fileExists(path))) return undefined;
  const json = await readJsonFile(path, 'datasets: manifest', 'delete it and run `perf-lab datasets prepare` again.');
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new LabError(
      'datasets: manifest',
      `${path} is invalid: ${describeIssues(parsed.error)}.`,
      'delete it and run `perf-lab datasets prepare` again.',
    );
  }
  return parsed.data;
}

export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  await writeFileAtomically(join(dir, MANIFEST_FILE), `${JSON.stringify(manifestSchema.parse(manifest), null, 2)}\n`);
}

export async function requireManifest(dir: string): Promise<Manifest> {
  const manifest = await readManifest(dir);
  if (!manifest) {
    throw new LabError(
      'datasets',
      `no ${MANIFEST_FILE} in ${dir}.`,
      'run `perf-lab datasets prepare` (with the same --scale and --dir) first.',
    );
  }
  return manifest;
}

/**
 * Re-checks size and sha256 of a dataset's compressed file and expected output.
 * Runs before every benchmark: a benchmark of altered bytes is worthless.
 */
export async function verifyDatasetFiles(dir: string, entry: DatasetEntry): Promise<void> {
  for (const [role, file] of [
    ['compressed file', entry.compressed],
    ['expected output', entry.raw],
  ] as const) {
    const path = join(dir, file.path);
    let actual;
    try {
      actual = await digestFile(path);
    } catch {
      throw new LabError(
        `datasets: verify ${entry.label}`,
        `the ${role} ${path} is missing or unreadable.`,
        'run `perf-lab datasets prepare` again.',
      );
    }
    if (actual.bytes !== file.bytes || actual.sha256 !== file.sha256) {
      throw new LabError(
        `datasets: verify ${entry.label}`,
        `the ${role} ${path} does not match the manifest: expected ${file.bytes} bytes sha256 ${file.sha256}, found ${actual.bytes} bytes sha256 ${actual.sha256}.`,
        'the file was altered or is corrupt; delete it and run `perf-lab datasets prepare` again.',
      );
    }
  }
}
