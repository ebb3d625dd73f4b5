import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import lockfile from 'proper-lockfile';
import { z } from 'zod';
import { LabError } from '../core/errors.js';
import { fileExists, readJsonFile } from '../core/files.js';
import { info } from '../core/log.js';
import { makeTempDir } from '../core/temp.js';

/** Hashes every regular file under `root` (path + contents), skipping build outputs and VCS data. */
export async function hashTree(
  root: string,
  skip: readonly string[] = ['.git', 'target', 'build', 'node_modules'],
): Promise<string> {
  const hash = createHash('sha256');
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .filter((path) => !path.split('/').some((part) => skip.includes(part)))
    .sort();
  for (const path of files) {
    hash.update(`${path}\0`);
    hash.update(await readFile(join(root, path)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

export function cacheKey(parts: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 24);
}

/**
 * Returns the cached record in `dir` if it parses and its artifacts still exist;
 * a damaged or mismatched cache entry is removed so it gets rebuilt.
 */
export async function readCachedBuild<T>(
  dir: string,
  schema: z.ZodType<T>,
  artifacts: (record: T) => string[],
): Promise<T | undefined> {
  const recordPath = join(dir, 'build.json');
  if (!(await fileExists(recordPath))) return undefined;
  try {
    const record = schema.parse(await readJsonFile(recordPath, 'build cache', 'it is rebuilt.'));
    for (const path of artifacts(record)) if (!(await fileExists(path))) throw new Error(`missing ${path}`);
    return record;
  } catch {
    await rm(dir, { recursive: true, force: true });
    return undefined;
  }
}

/**
 * Builds into the cache slot `finalDir`: `build` fills a fresh temporary folder beside it and returns the record,
 * which is written there as build.json before the folder is moved into place. A failed or interrupted build leaves
 * nothing in the cache (the folder is removed, on a signal too), so a slot with build.json is always complete.
 */
export async function buildIntoCache<T>(finalDir: string, build: (tempDir: string) => Promise<T>): Promise<T> {
  await mkdir(dirname(finalDir), { recursive: true });
  const temp = await makeTempDir(`${finalDir}.tmp-`);
  try {
    const record = await build(temp);
    await writeFile(join(temp, 'build.json'), `${JSON.stringify(record, null, 2)}\n`);
    await publishBuild(temp, finalDir);
    return record;
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

/** Moves a finished build folder into its cache slot (a concurrent identical build may have won). */
async function publishBuild(tempDir: string, finalDir: string): Promise<void> {
  try {
    await rename(tempDir, finalDir);
  } catch (error) {
    if (await fileExists(join(finalDir, 'build.json'))) await rm(tempDir, { recursive: true, force: true });
    else throw error;
  }
}

/**
 * Runs `work` holding the lock at `lockPath` (a folder, made and removed by proper-lockfile): another perf-lab
 * process that wants the same lock waits, and says so. A lock left by a killed process goes stale after 30 s.
 */
export async function withBuildLock<T>(lockPath: string, step: string, work: () => Promise<T>): Promise<T> {
  await mkdir(dirname(lockPath), { recursive: true });
  const options = { realpath: false, lockfilePath: lockPath, stale: 30_000, update: 10_000 };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(lockPath, { ...options, retries: 0 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    info(`${step}: another perf-lab process is building into the same folders; waiting for it`);
    try {
      release = await lockfile.lock(lockPath, {
        ...options,
        retries: { retries: 3600, factor: 1, minTimeout: 1000, maxTimeout: 1000 },
      });
    } catch (waited) {
      throw new LabError(
        step,
        `${lockPath} stayed locked by another build for an hour: ${(waited as Error).message}.`,
        `if no other perf-lab runs, remove ${lockPath} and run again.`,
      );
    }
  }
  try {
    return await work();
  } finally {
    await release();
  }
}
