import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { simpleGit } from 'simple-git';
import * as tar from 'tar';
import { z } from 'zod';
import { causeText, LabError } from '../core/errors.js';
import { digestFile, fileExists, sha256Hex, writeAtomically } from '../core/files.js';
import { cacheRoot } from '../core/paths.js';
import { debianMirror, downloadDebianOrig } from './debian-source.js';
import { probe } from '../core/process.js';
import { makeTempDir } from '../core/temp.js';

export const LIBDEFLATE_GIT_URL = 'https://github.com/ebiggers/libdeflate';
/** The tag GitHub runs build by default; bump deliberately (it is part of every baseline key). */
export const LIBDEFLATE_PINNED_TAG = 'v1.24';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits');

export const libdeflateSourceSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('git'),
    url: z.string().min(1).default(LIBDEFLATE_GIT_URL),
    ref: z.string().min(1).default(LIBDEFLATE_PINNED_TAG),
  }),
  z.object({ kind: z.literal('tarball'), location: z.string().min(1), sha256: sha256.optional() }),
  z.object({
    kind: z.literal('debian'),
    suite: z
      .string()
      .regex(/^[a-z-]+$/)
      .default('trixie'),
    version: z.string().optional(),
  }),
  z.object({ kind: z.literal('path'), path: z.string().min(1) }),
  z.object({ kind: z.literal('system') }),
]);
export type LibdeflateSource = z.infer<typeof libdeflateSourceSchema>;

export interface SourceTree {
  dir: string;
  /** How a person would name where this came from, e.g. "git https://… v1.24 (commit abc)". */
  description: string;
}

const step = 'build libdeflate: source';

export function describeSource(source: LibdeflateSource): string {
  switch (source.kind) {
    case 'git':
      return `git ${source.url} @ ${source.ref}`;
    case 'tarball':
      return `tarball ${source.location}`;
    case 'debian':
      return `Debian source package (suite ${source.suite}${source.version ? `, version ${source.version}` : ''})`;
    case 'path':
      return `local path ${source.path}`;
    case 'system':
      return 'the system libdeflate';
  }
}

/** Reads LIBDEFLATE_VERSION_STRING from a libdeflate.h. */
export async function libdeflateHeaderVersion(header: string): Promise<string> {
  const text = await readFile(header, 'utf8').catch(() => '');
  const version = /#define\s+LIBDEFLATE_VERSION_STRING\s+"([^"]+)"/.exec(text)?.[1];
  if (!version)
    throw new LabError(
      step,
      `${header} has no LIBDEFLATE_VERSION_STRING: this is not a libdeflate source tree.`,
      'point the libdeflate source at a libdeflate checkout or release.',
    );
  return version;
}

async function extractTarball(archive: string, into: string): Promise<string> {
  await mkdir(into, { recursive: true });
  try {
    await tar.extract({ file: archive, cwd: into, strip: 1, strict: true });
  } catch (error) {
    throw new LabError(
      step,
      `cannot extract ${archive}: ${(error as Error).message}`,
      'check that the tarball is a complete .tar.gz of libdeflate.',
    );
  }
  return into;
}

async function fromTarball(location: string, expectedSha256: string | undefined): Promise<SourceTree> {
  let archive = location;
  if (/^https?:\/\//.test(location)) {
    archive = join(cacheRoot(), 'downloads', `libdeflate-${sha256Hex(location).slice(0, 16)}.tar.gz`);
    if (!(await fileExists(archive))) {
      await writeAtomically(archive, async (tempPath) => {
        const response = await fetch(location, { signal: AbortSignal.timeout(120_000) }).catch((error: Error) => {
          throw new LabError(
            step,
            `cannot download ${location}: ${causeText(error)}`,
            'check the URL and the network, or use a local tarball, a Debian source package or the system libdeflate.',
          );
        });
        if (!response.ok)
          throw new LabError(
            step,
            `cannot download ${location}: HTTP ${response.status}`,
            'check the URL (a release tarball of libdeflate).',
          );
        await writeFile(tempPath, Buffer.from(await response.arrayBuffer()));
      });
    }
  } else {
    archive = resolve(location);
  }
  const digest = await digestFile(archive);
  if (expectedSha256 && digest.sha256 !== expectedSha256) {
    throw new LabError(
      step,
      `${archive} has sha256 ${digest.sha256}, expected ${expectedSha256}.`,
      'the tarball is corrupt or not the pinned release; download it again or fix the sha256 in the config.',
    );
  }
  const dir = join(cacheRoot(), 'sources', `tarball-${digest.sha256.slice(0, 24)}`);
  if (!(await fileExists(join(dir, 'libdeflate.h')))) {
    await mkdir(join(cacheRoot(), 'sources'), { recursive: true });
    const temp = await makeTempDir(`${dir}.tmp-`);
    await extractTarball(archive, temp);
    await rm(dir, { recursive: true, force: true });
    await cp(temp, dir, { recursive: true });
    await rm(temp, { recursive: true, force: true });
  }
  return { dir, description: `tarball ${location} (sha256 ${digest.sha256.slice(0, 12)})` };
}

async function fromDebian(suite: string, version: string | undefined): Promise<SourceTree> {
  const apt = await probe('apt-get', ['--version']);
  if (!apt)
    throw new LabError(
      step,
      'apt-get is not available, so a Debian source package cannot be fetched here.',
      'use source kind git, tarball, path or system on this machine.',
    );
  const mirror = await debianMirror();
  if (!mirror)
    throw new LabError(
      step,
      'no Debian archive is configured in /etc/apt (is this Debian?).',
      'use another libdeflate source: git, a tarball, a local path or the system library.',
    );
  const download = await downloadDebianOrig('libdeflate', suite, mirror, join(cacheRoot(), 'apt', suite));
  if (download.kind === 'update-failed') {
    throw new LabError(
      step,
      `apt-get update for suite ${suite} failed:\n${download.log}`,
      'check the suite name (e.g. bookworm, trixie) and that Debian archives are reachable.',
    );
  }
  if (download.kind === 'no-upstream-tarball' || !/^libdeflate_[^_]+\.orig\.tar\.gz$/.test(download.origName)) {
    const log = download.kind === 'downloaded' ? `it has ${download.origName}` : download.log;
    throw new LabError(
      step,
      `Debian suite ${suite} has no libdeflate source tarball to download:\n${log}`,
      'try another suite (bookworm has 1.14, trixie 1.23) or another source kind.',
    );
  }
  const found = /^libdeflate_([^_]+)\.orig/.exec(download.origName)![1]!;
  if (version && found !== version) {
    throw new LabError(
      step,
      `libdeflate ${version} can't be had from Debian suite ${suite}: it has ${found}.`,
      `use suite that carries ${version}, or source kind git/tarball pinned to v${version}.`,
    );
  }
  const tree = await fromTarball(download.origPath, undefined);
  return {
    dir: tree.dir,
    description:
      `Debian ${suite} source package ${download.origName} ` +
      `(${tree.description.replace(/^tarball .* \(/, '').replace(/\)$/, '')})`,
  };
}

async function fromGit(url: string, ref: string): Promise<SourceTree> {
  const dir = join(cacheRoot(), 'sources', `git-${sha256Hex(`${url}@${ref}`).slice(0, 24)}`);
  if (!(await fileExists(join(dir, 'libdeflate.h')))) {
    await rm(dir, { recursive: true, force: true });
    await mkdir(join(cacheRoot(), 'sources'), { recursive: true });
    const temp = await makeTempDir(`${dir}.tmp-`);
    try {
      const git = simpleGit();
      try {
        await git.clone(url, temp, ['--depth', '1', '--branch', ref]);
      } catch {
        // A commit hash cannot be cloned with --branch: clone fully, then check it out.
        await rm(temp, { recursive: true, force: true });
        await git.clone(url, temp);
        await simpleGit(temp).checkout(ref);
      }
      await cp(temp, dir, { recursive: true });
    } catch (error) {
      throw new LabError(
        step,
        `cannot get ${url} at ${ref}: ${(error as Error).message.trim().split('\n').slice(-3).join(' ')}`,
        'check the URL, the ref (tag, branch or commit) and the network; offline, use a Debian source package, ' +
          'a tarball or a local path.',
      );
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }
  const commit = (await simpleGit(dir).revparse(['HEAD'])).trim();
  return { dir, description: `git ${url} @ ${ref} (commit ${commit.slice(0, 12)})` };
}

/** Brings the libdeflate source to a local folder (cached); returns undefined for the system library. */
export async function obtainLibdeflateSource(source: LibdeflateSource): Promise<SourceTree | undefined> {
  switch (source.kind) {
    case 'git':
      return fromGit(source.url, source.ref);
    case 'tarball':
      return fromTarball(source.location, source.sha256);
    case 'debian':
      return fromDebian(source.suite, source.version);
    case 'path': {
      const dir = resolve(source.path);
      if (!(await fileExists(join(dir, 'libdeflate.h')))) {
        throw new LabError(
          step,
          `${dir} has no libdeflate.h: not a libdeflate source tree.`,
          'point `path` at the root of a libdeflate checkout.',
        );
      }
      return { dir, description: `local path ${dir}` };
    }
    case 'system':
      return undefined;
  }
}
