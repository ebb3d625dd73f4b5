import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream, type Stats } from 'node:fs';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { visit } from 'jsonc-parser';
import { LabError, systemFailure } from './errors.js';
import { forgetTempPath, rememberTempPath } from './temp.js';

/** A temp path beside `finalPath`, so the final rename stays on one file system. */
function tempPathFor(finalPath: string): string {
  return join(dirname(finalPath), `.${basename(finalPath)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Produces `finalPath` through `produce(tempPath)` and renames it into place
 * only when production succeeded, so a crash or error never leaves a
 * half-written file under the final name.
 */
export async function writeAtomically<T>(
  finalPath: string,
  produce: (tempPath: string) => Promise<T>,
  step?: string,
): Promise<T> {
  await mkdir(dirname(finalPath), { recursive: true });
  const tempPath = tempPathFor(finalPath);
  // A signal that ends the run removes it too (finally blocks do not run then).
  rememberTempPath(tempPath);
  try {
    const result = await produce(tempPath);
    const handle = await open(tempPath, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tempPath, finalPath);
    return result;
  } catch (error) {
    await rm(tempPath, { force: true, recursive: true });
    // A write's ENOSPC names no file: it is finalPath's (and, given the step, said as that step's failure).
    throw systemFailure(error, step, finalPath) ?? error;
  } finally {
    forgetTempPath(tempPath);
  }
}

/** writeAtomically of whole contents; `step` names the lab step in a disk-full or permission message. */
export async function writeFileAtomically(
  finalPath: string,
  contents: string | Uint8Array,
  step?: string,
): Promise<void> {
  await writeAtomically(
    finalPath,
    async (tempPath) => {
      const handle = await open(tempPath, 'w');
      try {
        await handle.writeFile(contents);
      } finally {
        await handle.close();
      }
    },
    step,
  );
}

/** What a path is when it is not a regular file, for a message: "a named pipe (FIFO)", "a character device"… */
export function fileKind(info: Stats): string {
  if (info.isFile()) return 'a regular file';
  if (info.isSymbolicLink()) return 'a symbolic link';
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a named pipe (FIFO)';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'a special file';
}

/** Thrown when an input is not a regular file (a FIFO, a device…): reading it could block or never end. */
export class NotRegularFileError extends LabError {}

/**
 * Opens a file the lab reads, refusing anything but a regular file: opened non-blocking (a FIFO's open would wait
 * for a writer forever) and checked on the open descriptor, so nothing swapped in between is read.
 */
async function openRegularFile(path: string, step: string, hint: string): Promise<FileHandle> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  let info: Stats;
  try {
    info = await handle.stat();
  } catch (error) {
    await handle.close();
    throw error;
  }
  if (!info.isFile()) {
    await handle.close();
    throw new NotRegularFileError(step, `${path} is ${fileKind(info)}, not a regular file.`, hint);
  }
  return handle;
}

/** Largest JSON (or JSON lines) file read whole: results, baselines, configs, manifests, history. */
export const MAX_JSON_BYTES = 64 * 1024 * 1024;

/**
 * Reads a whole input file, refusing a FIFO, a device or a folder, and anything larger than `maxBytes` (said as
 * such, before any of it is read): a LabError naming the file and the step.
 */
export async function readWholeFile(
  path: string,
  options: { step: string; hint: string; maxBytes: number },
): Promise<Buffer> {
  let handle: FileHandle;
  try {
    handle = await openRegularFile(path, options.step, options.hint);
  } catch (error) {
    if (error instanceof LabError) throw error;
    throw new LabError(
      options.step,
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`,
      options.hint,
    );
  }
  try {
    const { size } = await handle.stat();
    if (size > options.maxBytes)
      throw new LabError(
        options.step,
        `${path} is ${size} bytes, more than the ${options.maxBytes} bytes perf-lab reads from such a file.`,
        options.hint,
      );
    // Read at most one byte past the limit: a file that grows while read is refused too.
    const buffer = Buffer.alloc(Math.min(size, options.maxBytes) + 1);
    let filled = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled === buffer.length) break;
    }
    if (filled > options.maxBytes)
      throw new LabError(options.step, `${path} grew past ${options.maxBytes} bytes while it was read.`, options.hint);
    return buffer.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

export interface FileDigest {
  bytes: number;
  sha256: string;
}

export async function digestFile(path: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    const handle = await openRegularFile(path, 'hash', 'pass a regular file.');
    for await (const chunk of createReadStream(path, { fd: handle, highWaterMark: 1 << 20 })) {
      const buffer = chunk as Buffer;
      bytes += buffer.length;
      hash.update(buffer);
    }
  } catch (error) {
    if (error instanceof NotRegularFileError) throw error;
    throw new LabError(
      'hash',
      `cannot read ${path}: ${(error as Error).message}`,
      'check that the file exists and is readable, or regenerate it.',
    );
  }
  return { bytes, sha256: hash.digest('hex') };
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads and parses a JSON file the lab does not trust: a missing file or bad
 * JSON becomes a LabError naming the file; schema checks stay with the caller.
 */
export async function readJsonFile(
  path: string,
  step: string,
  hint: string,
  maxBytes = MAX_JSON_BYTES,
): Promise<unknown> {
  const text = (await readWholeFile(path, { step, hint, maxBytes })).toString('utf8');
  try {
    return parseStrictJson(text);
  } catch (error) {
    throw new LabError(step, `${path} is not valid JSON (${(error as Error).message}).`, hint);
  }
}

/**
 * JSON.parse, refusing what JSON.parse lets through silently: a key given twice in one object (the last would win,
 * so a file could say two things at once). Throws with the key and where it is.
 */
export function parseStrictJson(text: string): unknown {
  const keys: Array<Set<string>> = [];
  const path: string[] = [];
  visit(text, {
    onObjectBegin: () => {
      keys.push(new Set());
    },
    onObjectProperty: (property, offset) => {
      const current = keys.at(-1)!;
      const parents = path.slice(0, keys.length - 1);
      if (current.has(property))
        throw new SyntaxError(
          `the key "${property}" appears twice in one object (second at character ` +
            `${offset + 1}${parents.length ? `, inside ${parents.join('.')}` : ''})`,
        );
      current.add(property);
      path.splice(keys.length - 1, Infinity, property);
    },
    onObjectEnd: () => {
      keys.pop();
      path.splice(keys.length, Infinity);
    },
  });
  return JSON.parse(text);
}

/**
 * Refuses a path that exists but is not a folder (a file given as --dir, --baselines …), with one clear message;
 * a missing folder is fine (the caller creates it or reports it).
 */
export async function refuseNonFolder(path: string, step: string, option: string): Promise<void> {
  let isFolder = true;
  try {
    isFolder = (await stat(path)).isDirectory();
  } catch {
    return; // absent: not this check's business
  }
  if (!isFolder)
    throw new LabError(
      step,
      `${option} ${path} is a file, not a folder.`,
      `pass a folder with ${option} (or remove the file).`,
    );
}
