import { lstat, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, normalize, relative } from 'node:path';
import { z } from 'zod';
import { LabError } from '../core/errors.js';
import { describeIssues } from '../core/schema.js';
import {
  digestFile,
  fileExists,
  fileKind,
  NotRegularFileError,
  readJsonFile,
  refuseNonFolder,
  writeFileAtomically,
} from '../core/files.js';

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
  await writeFileAtomically(
    join(dir, MANIFEST_FILE),
    `${JSON.stringify(manifestSchema.parse(manifest), null, 2)}\n`,
    'datasets: manifest',
  );
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
    await requireRegularDataFile(dir, path, `the ${role}`, entry.label);
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
      // (the size was checked before hashing too, so a wrong size never costs a full read)
      throw new LabError(
        `datasets: verify ${entry.label}`,
        `the ${role} ${path} does not match the manifest: expected ${file.bytes} bytes sha256 ${file.sha256}, ` +
          `found ${actual.bytes} bytes sha256 ${actual.sha256}.`,
        'the file was altered or is corrupt; delete it and run `perf-lab datasets prepare` again.',
      );
    }
  }
}

/**
 * A dataset file must be a regular file in the folder (or a symlink to one inside it): a FIFO would block the read
 * forever, /dev/zero never end it, a link out of the folder measure bytes the manifest does not own. Checked with
 * lstat before anything opens it.
 */
async function requireRegularDataFile(dir: string, path: string, role: string, label: string): Promise<void> {
  const step = `datasets: verify ${label}`;
  const hint = `remove ${path} and run \`perf-lab datasets prepare\` again (a dataset file must be a regular file).`;
  let info;
  try {
    info = await lstat(path);
  } catch {
    return; // missing: reported as such by the hash below
  }
  if (info.isSymbolicLink()) {
    let target: string;
    try {
      target = await realpath(path);
    } catch {
      return; // a dangling link reads as missing
    }
    const inside = relative(await realpath(dir), target);
    if (inside.startsWith('..') || isAbsolute(inside))
      throw new NotRegularFileError(
        step,
        `${role} ${path} is a symbolic link to ${target}, outside the datasets folder.`,
        hint,
      );
    info = await stat(path);
  }
  if (!info.isFile())
    throw new NotRegularFileError(step, `${role} ${path} is ${fileKind(info)}, not a regular file.`, hint);
}
