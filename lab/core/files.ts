import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { visit } from 'jsonc-parser';
import { LabError } from './errors.js';

/** A temp path beside `finalPath`, so the final rename stays on one file system. */
function tempPathFor(finalPath: string): string {
  return join(dirname(finalPath), `.${basename(finalPath)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Produces `finalPath` through `produce(tempPath)` and renames it into place
 * only when production succeeded, so a crash or error never leaves a
 * half-written file under the final name.
 */
export async function writeAtomically<T>(finalPath: string, produce: (tempPath: string) => Promise<T>): Promise<T> {
  await mkdir(dirname(finalPath), { recursive: true });
  const tempPath = tempPathFor(finalPath);
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
    throw error;
  }
}

export async function writeFileAtomically(finalPath: string, contents: string | Uint8Array): Promise<void> {
  await writeAtomically(finalPath, async (tempPath) => {
    const handle = await open(tempPath, 'w');
    try {
      await handle.writeFile(contents);
    } finally {
      await handle.close();
    }
  });
}

export interface FileDigest {
  bytes: number;
  sha256: string;
}

export async function digestFile(path: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
      const buffer = chunk as Buffer;
      bytes += buffer.length;
      hash.update(buffer);
    }
  } catch (error) {
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
export async function readJsonFile(path: string, step: string, hint: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new LabError(
      step,
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`,
      hint,
    );
  }
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
          `the key "${property}" appears twice in one object (second at character ${offset + 1}${parents.length ? `, inside ${parents.join('.')}` : ''})`,
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
