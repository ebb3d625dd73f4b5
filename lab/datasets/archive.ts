import { createWriteStream } from 'node:fs';
import { chmod, mkdir, readdir, utimes } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import yauzl from 'yauzl';
import { LabError } from '../core/errors.js';

/** A fixed timestamp for every tar entry, so the tar's bytes do not depend on when files were extracted. */
const FIXED_MTIME = new Date('2000-01-01T00:00:00Z');

async function listFilesSorted(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Tars every file under `root` deterministically: names sorted bytewise, no
 * directory entries, mode 0644, fixed mtime, no owner/host metadata. The same
 * inputs give the same sha256 on Linux and macOS.
 */
export async function deterministicTar(root: string, outputPath: string): Promise<string[]> {
  const names = await listFilesSorted(root);
  for (const name of names) {
    await chmod(join(root, name), 0o644);
    await utimes(join(root, name), FIXED_MTIME, FIXED_MTIME);
  }
  await tar.create(
    { cwd: root, file: outputPath, portable: true, mtime: FIXED_MTIME, noDirRecurse: true, noPax: true },
    names,
  );
  return names;
}

export async function extractTarGz(archivePath: string, destination: string): Promise<void> {
  await mkdir(destination, { recursive: true });
  try {
    await tar.extract({ file: archivePath, cwd: destination, strict: true, preservePaths: false });
  } catch (error) {
    throw new LabError(
      'datasets: extract',
      `cannot extract ${archivePath}: ${(error as Error).message}`,
      'the archive is damaged; restore it from its source.',
    );
  }
}

export interface ZipEntryInfo {
  name: string;
  bytes: number;
}

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolvePromise, reject) => {
    yauzl.open(path, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true }, (error, zip) => {
      if (error || !zip) reject(error ?? new Error('no zip file'));
      else resolvePromise(zip);
    });
  });
}

/**
 * Extracts the regular files of a zip, flattening any leading folder, keeping
 * only names that `accept` allows. Returns the names and sizes found.
 */
export async function extractZipFlat(
  zipPath: string,
  destination: string,
  accept: (name: string) => boolean,
): Promise<ZipEntryInfo[]> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(zipPath);
  } catch (error) {
    throw new LabError(
      'datasets: silesia zip',
      `cannot open ${zipPath} as a zip: ${(error as Error).message}`,
      'download silesia.zip again from the Silesia corpus home page and pass it with --silesia-zip.',
    );
  }
  await mkdir(destination, { recursive: true });
  const found: ZipEntryInfo[] = [];
  try {
    await new Promise<void>((resolvePromise, reject) => {
      zip.on('error', reject);
      zip.on('end', () => resolvePromise());
      zip.on('entry', (entry: yauzl.Entry) => {
        const name = entry.fileName.split('/').pop() ?? '';
        if (entry.fileName.endsWith('/') || !accept(name)) {
          zip.readEntry();
          return;
        }
        zip.openReadStream(entry, (error, stream) => {
          if (error || !stream) {
            reject(error ?? new Error(`cannot read ${entry.fileName}`));
            return;
          }
          const target = join(destination, name);
          mkdir(dirname(target), { recursive: true })
            .then(() => pipeline(stream, createWriteStream(target)))
            .then(() => {
              found.push({ name, bytes: entry.uncompressedSize });
              zip.readEntry();
            })
            .catch(reject);
        });
      });
      zip.readEntry();
    });
  } catch (error) {
    throw new LabError(
      'datasets: silesia zip',
      `cannot extract ${zipPath}: ${(error as Error).message}`,
      'the zip is damaged; download it again and pass it with --silesia-zip.',
    );
  } finally {
    zip.close();
  }
  return found;
}
