import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError } from '../core/errors.js';
import { digestFile } from '../core/files.js';
import { deterministicTar, extractTarGz, extractZipFlat } from './archive.js';
import { makeTempDir } from '../core/temp.js';

/** The Silesia corpus as published on its home page: 12 files, 211,938,580 bytes. */
const SILESIA_FILES: Readonly<Record<string, number>> = {
  dickens: 10_192_446,
  mozilla: 51_220_480,
  mr: 9_970_564,
  nci: 33_553_445,
  ooffice: 6_152_192,
  osdb: 10_085_684,
  reymont: 6_627_202,
  samba: 21_606_400,
  sao: 7_251_944,
  webster: 41_458_703,
  xml: 5_345_280,
  'x-ray': 8_474_240,
};

export const SILESIA_URL = 'https://sun.aei.polsl.pl/~sdeor/corpus/silesia.zip';

/** The shared public corpora that stand in for Silesia offline, with their published sha256. */
export const STAND_IN_CORPORA: Readonly<Record<string, string>> = {
  'calgary.tar.gz': 'e109eebdc19c5cee533c58bd6a49a4be3a77cc52f84ba234a089148a4f2093b7',
  'cantrbry.tar.gz': 'f140e8a5b73d3f53198555a63bfb827889394a42f20825df33c810c3d5e3f8fb',
};

/**
 * Checks an extracted corpus against its file list and sizes; returns a list of
 * problems (empty when it matches exactly).
 */
export function corpusProblems(
  found: ReadonlyArray<{ name: string; bytes: number }>,
  expected: Readonly<Record<string, number>>,
): string[] {
  const problems: string[] = [];
  const byName = new Map(found.map((entry) => [entry.name, entry.bytes]));
  for (const [name, bytes] of Object.entries(expected)) {
    const actual = byName.get(name);
    if (actual === undefined) problems.push(`${name} is missing`);
    else if (actual !== bytes) problems.push(`${name} has ${actual} bytes, expected ${bytes}`);
  }
  return problems;
}

/** Builds the deterministic Silesia tar from silesia.zip, refusing a zip whose files or sizes differ. */
export async function silesiaTarFromZip(
  zipPath: string,
  tarPath: string,
  expected: Readonly<Record<string, number>> = SILESIA_FILES,
): Promise<void> {
  const staging = await makeTempDir(join(tarPath + '.staging-'));
  try {
    const found = await extractZipFlat(zipPath, staging, (name) => name in expected);
    const problems = corpusProblems(found, expected);
    if (problems.length > 0) {
      throw new LabError(
        'datasets: silesia',
        `${zipPath} is not the Silesia corpus: ${problems.join('; ')}.`,
        `download silesia.zip again from ${SILESIA_URL} and pass it with --silesia-zip.`,
      );
    }
    await deterministicTar(staging, tarPath);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Builds the SILESIA stand-in tar from the Calgary and Canterbury corpora, after checking their sha256. */
export async function standInTar(corporaDir: string, tarPath: string): Promise<void> {
  const staging = await makeTempDir(join(tarPath + '.staging-'));
  try {
    for (const [file, sha256] of Object.entries(STAND_IN_CORPORA)) {
      const path = join(corporaDir, file);
      const digest = await digestFile(path).catch(() => {
        throw new LabError(
          'datasets: silesia stand-in',
          `${path} is missing, and no Silesia zip was given or could be downloaded.`,
          'pass the real corpus with --silesia-zip PATH, or restore ../shared/corpora (or set ' +
            'PERF_LAB_SHARED_CORPORA).',
        );
      });
      if (digest.sha256 !== sha256) {
        throw new LabError(
          'datasets: silesia stand-in',
          `${path} has sha256 ${digest.sha256}, expected ${sha256}: the corpus was altered or is corrupt.`,
          'restore the original file from the shared corpora.',
        );
      }
      await extractTarGz(path, join(staging, file.replace(/\.tar\.gz$/, '')));
    }
    await deterministicTar(staging, tarPath);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
