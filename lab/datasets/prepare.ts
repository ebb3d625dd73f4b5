import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { copyFile, mkdir, open, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import lockfile from 'proper-lockfile';
import { causeText, LabError } from '../core/errors.js';
import { digestFile, fileExists, NotRegularFileError, writeAtomically, refuseNonFolder } from '../core/files.js';
import { info, startProgress, warn } from '../core/log.js';
import { cacheRoot, sharedCorporaDir } from '../core/paths.js';
import { attempt } from '../core/process.js';
import { FULL_DATASET_BYTES, QUICK_DATASET_BYTES, logChunks, softwareChunks } from './generators.js';
import {
  DATASET_NAMES,
  readManifest,
  verifyDatasetFiles,
  writeManifest,
  type DatasetEntry,
  type DatasetName,
  type Manifest,
  type Scale,
} from './manifest.js';
import { SILESIA_URL, silesiaTarFromZip, standInTar } from './silesia.js';

export interface PrepareOptions {
  dir: string;
  scale: Scale;
  only?: readonly DatasetName[];
  silesiaZip?: string;
  /** Never try to download the Silesia corpus (the stand-in is used when no zip is at hand). */
  offline?: boolean;
  /** The gzip program used to compress (GNU gzip by default). */
  gzip?: string;
  corporaDir?: string;
}

const DATASET_LEVELS: Readonly<Record<DatasetName, number>> = { silesia: 9, software: 9, logs: 1 };

function targetBytes(scale: Scale): number {
  return scale === 'quick' ? QUICK_DATASET_BYTES : FULL_DATASET_BYTES;
}

export function defaultDatasetsDir(scale: Scale): string {
  return join(cacheRoot(), 'datasets', scale);
}

/** Test hook: simulate a full disk after this many bytes (PERF_LAB_SIMULATE_ENOSPC_AFTER_BYTES). */
function simulatedDiskLimit(): number {
  const value = Number(process.env.PERF_LAB_SIMULATE_ENOSPC_AFTER_BYTES);
  return Number.isFinite(value) && value > 0 ? value : Number.POSITIVE_INFINITY;
}

async function writeChunks(path: string, chunks: Iterable<string>): Promise<void> {
  const handle = await open(path, 'w');
  const limit = simulatedDiskLimit();
  let written = 0;
  try {
    for (const chunk of chunks) {
      written += chunk.length;
      if (written > limit)
        throw Object.assign(new Error('ENOSPC: no space left on device, write (simulated)'), { code: 'ENOSPC' });
      await handle.write(chunk, null, 'latin1');
    }
  } catch (error) {
    throw new LabError(
      'datasets: generate',
      `cannot write ${path}: ${(error as Error).message}`,
      'check free disk space and permissions of the datasets folder.',
    );
  } finally {
    await handle.close();
  }
}

/** Copies the first `limitBytes` of a file (the quick-scale prefix of the Silesia tar). */
async function copyPrefix(source: string, target: string, limitBytes: number): Promise<void> {
  await pipeline(createReadStream(source, { start: 0, end: limitBytes - 1 }), createWriteStream(target));
}

/** The compressor's version line; GNU gzip answers --version, libdeflate's gzip program -V. */
async function compressorVersion(gzip: string): Promise<string> {
  for (const flag of ['--version', '-V']) {
    const result = await attempt(gzip, [flag]);
    const line = `${result.stdout}\n${result.stderr}`.trim().split('\n')[0]?.trim();
    if (result.ok && line)
      return /Eric Biggers|libdeflate/.test(`${result.stdout}`) || /^gzip compression program v/.test(line)
        ? `libdeflate-gzip (${line})`
        : line;
  }
  throw new LabError(
    'datasets: compress',
    `cannot run \`${gzip} --version\` or \`${gzip} -V\`: is it installed?`,
    'install GNU gzip (Debian: apt-get install gzip; macOS: brew install gzip) or pass --gzip PATH.',
  );
}

/**
 * GNU gzip gets -n (no name or time stamp in the header, so output is reproducible); libdeflate's gzip has no such
 * flag.
 */
function compressArgs(compressor: string, level: number, rawPath: string): string[] {
  return compressor.startsWith('libdeflate-gzip') ? [`-${level}`, '-c', rawPath] : [`-${level}`, '-n', '-c', rawPath];
}

async function compress(
  gzip: string,
  compressor: string,
  level: number,
  rawPath: string,
  compressedPath: string,
): Promise<void> {
  await writeAtomically(compressedPath, async (tempPath) => {
    const args = compressArgs(compressor, level, rawPath);
    const result = await attempt(gzip, args, { stdoutFile: tempPath });
    if (!result.ok && /No space left on device|ENOSPC|Disk quota exceeded|EDQUOT/i.test(result.stderr)) {
      throw new LabError(
        'datasets: compress',
        `cannot write ${compressedPath}: the disk is full (ENOSPC) — \`${result.reproduce}\` ` +
          `${result.failure}: ${result.stderr.trim()}`,
        'free disk space (or prepare into another --dir) and run again; the datasets already finished are kept.',
      );
    }
    if (!result.ok) {
      throw new LabError(
        'datasets: compress',
        `\`${result.reproduce}\` ${result.failure}${result.stderr ? `: ${result.stderr.trim()}` : ''}`,
        'check free disk space and that gzip works.',
      );
    }
    // Everything downstream trusts this file: it must decompress (zlib, not the compressor itself) to the raw bytes.
    const [raw, roundTrip] = await Promise.all([digestFile(rawPath), gunzipDigest(tempPath)]);
    if (roundTrip === null || roundTrip.sha256 !== raw.sha256) {
      const what =
        roundTrip === null
          ? 'is not a valid gzip stream'
          : `decompresses to ${roundTrip.bytes} bytes that differ from the ${raw.bytes} raw bytes`;
      throw new LabError(
        'datasets: compress',
        `the output of \`${result.reproduce}\` ${what}.`,
        'pass a working gzip compressor with --gzip (GNU gzip or libdeflate-gzip).',
      );
    }
  });
}

/** sha256 and size of a gzip file's decompressed bytes (all members), or null when it is not valid gzip. */
async function gunzipDigest(path: string): Promise<{ sha256: string; bytes: number } | null> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    await pipeline(
      createReadStream(path, { highWaterMark: 1 << 20 }),
      createGunzip(),
      async function (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          bytes += chunk.length;
          hash.update(chunk);
        }
      },
    );
  } catch {
    return null;
  }
  return { sha256: hash.digest('hex'), bytes };
}

type RawSource = { source: string; standIn: boolean; produce: (rawPath: string) => Promise<void> };

async function downloadSilesia(target: string): Promise<boolean> {
  const progress = startProgress('datasets: download silesia.zip');
  try {
    await writeAtomically(target, async (tempPath) => {
      const response = await fetch(SILESIA_URL, { signal: AbortSignal.timeout(600_000) });
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      await pipeline(response.body as unknown as NodeJS.ReadableStream, createWriteStream(tempPath));
    });
    progress.done();
    return true;
  } catch (error) {
    progress.done(`failed (${causeText(error)})`);
    return false;
  }
}

async function silesiaSource(options: PrepareOptions, scale: Scale): Promise<RawSource> {
  const cachedZip = join(cacheRoot(), 'downloads', 'silesia.zip');
  let zip = options.silesiaZip ? resolve(options.silesiaZip) : undefined;
  if (zip && !(await fileExists(zip))) {
    throw new LabError(
      'datasets: silesia',
      `--silesia-zip ${zip} does not exist.`,
      `download it from ${SILESIA_URL} or omit --silesia-zip to use the stand-in.`,
    );
  }
  if (!zip && (await fileExists(cachedZip))) zip = cachedZip;
  if (!zip && !options.offline && (await downloadSilesia(cachedZip))) zip = cachedZip;
  const limit = targetBytes(scale);
  if (zip) {
    const zipPath = zip;
    const zipDigest = await digestFile(zipPath);
    return {
      source:
        `silesia.zip sha256 ${zipDigest.sha256}, deterministic ` +
        `tar${scale === 'quick' ? `, first ${limit} bytes` : ''}`,
      standIn: false,
      produce: async (rawPath) => {
        const fullTar = `${rawPath}.full-tar`;
        try {
          await silesiaTarFromZip(zipPath, fullTar);
          if (scale === 'quick') await copyPrefix(fullTar, rawPath, limit);
          else await copyFile(fullTar, rawPath);
        } finally {
          await rm(fullTar, { force: true });
        }
      },
    };
  }
  const corporaDir = options.corporaDir ?? sharedCorporaDir();
  warn(
    'SILESIA: no Silesia corpus at hand (no --silesia-zip, none cached, ' +
      `${options.offline ? 'offline' : 'download failed'}); ` +
      `using a stand-in built from the Calgary and Canterbury corpora in ${corporaDir}. Reports label it ` +
      '"SILESIA (stand-in)".',
  );
  return {
    source: 'stand-in: deterministic tar of calgary.tar.gz + cantrbry.tar.gz',
    standIn: true,
    produce: (rawPath) => standInTar(corporaDir, rawPath),
  };
}

async function rawSourceFor(name: DatasetName, options: PrepareOptions): Promise<RawSource> {
  const limit = targetBytes(options.scale);
  if (name === 'software') {
    return {
      source: `SOFTWARE generator v1, records until ${limit} bytes`,
      standIn: false,
      produce: (raw) => writeChunks(raw, softwareChunks(limit)),
    };
  }
  if (name === 'logs') {
    return {
      source: `LOGS generator v1, lines until ${limit} bytes`,
      standIn: false,
      produce: (raw) => writeChunks(raw, logChunks(limit)),
    };
  }
  return silesiaSource(options, options.scale);
}

async function isReusable(
  dir: string,
  entry: DatasetEntry | undefined,
  wanted: { source: string; compressor: string; level: number; scale: Scale },
): Promise<boolean> {
  if (!entry) return false;
  if (
    entry.source !== wanted.source ||
    entry.compressed.compressor !== wanted.compressor ||
    entry.compressed.level !== wanted.level ||
    entry.scale !== wanted.scale
  )
    return false;
  try {
    await verifyDatasetFiles(dir, entry);
    return true;
  } catch (error) {
    // A FIFO or device where a data file belongs is the user's to remove, not to be written over.
    if (error instanceof NotRegularFileError) throw error;
    return false;
  }
}

/**
 * Removes temp files left by a run that was killed (their process is gone): a partial `.software.raw.tmp-PID-…`, a
 * Silesia `….full-tar` or its staging folder. `bestEffort` (a folder otherwise up to date, maybe read-only): a file
 * that cannot be removed is said, not an error.
 */
async function removeStaleTempFiles(dir: string, bestEffort = false): Promise<void> {
  for (const name of await readdir(dir)) {
    const match = /^\..+?\.tmp-(\d+)-[0-9a-f]{8}(\..+)?$/.exec(name);
    if (!match) continue;
    const pid = Number(match[1]);
    let alive = pid === process.pid;
    if (!alive) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch {
        alive = false;
      }
    }
    if (!alive) {
      try {
        await rm(join(dir, name), { recursive: true, force: true });
      } catch (error) {
        if (!bestEffort) throw error;
        warn(`datasets: cannot remove ${name}, left by an interrupted run: ${(error as Error).message}`);
        continue;
      }
      info(`datasets: removed ${name}, left by an interrupted run`);
    }
  }
}

/**
 * Data files of datasets the manifest does not list: what a run interrupted between writing a dataset and
 * recording it leaves (a complete raw file of hundreds of MB at full scale). Removed under the folder's lock.
 */
async function unlistedDataFiles(dir: string, listed: ReadonlySet<DatasetName>): Promise<string[]> {
  const present = new Set(await readdir(dir).catch(() => [] as string[]));
  return DATASET_NAMES.filter((name) => !listed.has(name)).flatMap((name) =>
    [`${name}.raw`, `${name}.raw.gz`].filter((file) => present.has(file)),
  );
}

async function removeUnlistedDataFiles(dir: string, listed: ReadonlySet<DatasetName>): Promise<void> {
  for (const file of await unlistedDataFiles(dir, listed)) {
    await rm(join(dir, file), { force: true });
    info(`datasets: removed ${file}, left by an interrupted run (not in the manifest)`);
  }
}

/** Holds the folder's prepare lock (another prepare into it waits, and says so); returns its release. */
async function lockFolder(dir: string): Promise<() => Promise<void>> {
  const options = { realpath: false, lockfilePath: join(dir, '.prepare.lock'), stale: 30_000, update: 10_000 };
  try {
    return await lockfile.lock(dir, { ...options, retries: 0 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') {
      throw new LabError(
        'datasets: prepare',
        `cannot lock ${dir}: ${(error as Error).message}.`,
        'check that the folder is writable.',
      );
    }
  }
  info(`datasets: another \`datasets prepare\` is writing ${dir}; waiting for it`);
  try {
    return await lockfile.lock(dir, {
      ...options,
      retries: { retries: 3600, factor: 1, minTimeout: 1000, maxTimeout: 1000 },
    });
  } catch (error) {
    throw new LabError(
      'datasets: prepare',
      `${dir} stayed locked by another prepare for an hour: ${(error as Error).message}.`,
      `if no other perf-lab runs, remove ${join(dir, '.prepare.lock')} and run again.`,
    );
  }
}

const manifestOf = (entries: ReadonlyMap<DatasetName, DatasetEntry>): Manifest => ({
  schemaVersion: 1,
  datasets: DATASET_NAMES.flatMap((n) => entries.get(n) ?? []),
});

/**
 * Prepares the requested datasets in `dir` and writes its manifest.json. Files already present and matching the
 * manifest are reused (a folder already up to date is not written at all, so it may be read-only); everything new
 * is written under a temp name and renamed only once complete. Concurrent prepares into one folder take turns
 * (a lock), so each one's datasets end up in the manifest.
 */
export async function prepareDatasets(options: PrepareOptions): Promise<Manifest> {
  const dir = resolve(options.dir);
  await refuseNonFolder(dir, 'datasets: prepare', '--dir');
  const gzip = options.gzip ?? 'gzip';
  const compressor = await compressorVersion(gzip);
  const names = options.only?.length ? options.only : DATASET_NAMES;
  const wanted = new Map<DatasetName, Awaited<ReturnType<typeof rawSourceFor>>>();
  for (const name of names) wanted.set(name, await rawSourceFor(name, options));
  const want = (name: DatasetName) => ({
    source: wanted.get(name)!.source,
    compressor,
    level: DATASET_LEVELS[name],
    scale: options.scale,
  });
  const upToDate = async (manifest: Manifest | undefined) => {
    if (!manifest) return false;
    const entries = new Map(manifest.datasets.map((entry) => [entry.name, entry]));
    for (const name of names) if (!(await isReusable(dir, entries.get(name), want(name)))) return false;
    return true;
  };
  const current = await readManifest(dir).catch(() => undefined);
  if (
    (await upToDate(current)) &&
    (await unlistedDataFiles(dir, new Set(current!.datasets.map((entry) => entry.name)))).length === 0
  ) {
    for (const name of names) info(`datasets: ${name} is up to date in ${dir}`);
    await removeStaleTempFiles(dir, true);
    return current!;
  }
  await mkdir(dir, { recursive: true });
  const release = await lockFolder(dir);
  try {
    await removeStaleTempFiles(dir);
    // Read again under the lock: another prepare may have just finished some of these.
    const existing = await readManifest(dir).catch((error: unknown) => {
      warn(`${(error as Error).message} It will be rewritten.`);
      return undefined;
    });
    const entries = new Map<DatasetName, DatasetEntry>((existing?.datasets ?? []).map((entry) => [entry.name, entry]));
    await removeUnlistedDataFiles(dir, new Set(entries.keys()));
    for (const name of names) {
      const level = DATASET_LEVELS[name];
      const rawSource = wanted.get(name)!;
      if (await isReusable(dir, entries.get(name), want(name))) {
        info(`datasets: ${name} is up to date in ${dir}`);
        continue;
      }
      const rawFile = `${name}.raw`;
      const compressedFile = `${name}.raw.gz`;
      const progress = startProgress(`datasets: ${name}`);
      progress.update('generating raw bytes');
      await writeAtomically(join(dir, rawFile), rawSource.produce, 'datasets: generate');
      progress.update(`compressing with ${compressor} -${level}`);
      await compress(gzip, compressor, level, join(dir, rawFile), join(dir, compressedFile));
      const raw = await digestFile(join(dir, rawFile));
      const compressed = await digestFile(join(dir, compressedFile));
      const entry: DatasetEntry = {
        name,
        label: rawSource.standIn ? `${name.toUpperCase()} (stand-in)` : name.toUpperCase(),
        standIn: rawSource.standIn,
        scale: options.scale,
        source: rawSource.source,
        raw: { path: rawFile, ...raw },
        compressed: { path: compressedFile, ...compressed, compressor, level },
      };
      entries.set(name, entry);
      progress.done(`${raw.bytes} raw bytes → ${compressed.bytes} compressed bytes`);
      // The manifest is rewritten after each dataset so an interrupted run keeps what it finished.
      await writeManifest(dir, manifestOf(entries));
    }
    const manifest = manifestOf(entries);
    if (JSON.stringify(manifest) !== JSON.stringify(existing)) await writeManifest(dir, manifest);
    return manifest;
  } finally {
    await release().catch(() => undefined);
  }
}
