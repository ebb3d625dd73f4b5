import { cp, readFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { LabError } from '../core/errors.js';
import { fileExists } from '../core/files.js';
import { startProgress } from '../core/log.js';
import { cacheRoot } from '../core/paths.js';
import { probe, run } from '../core/process.js';
import { buildIntoCache, cacheKey, hashTree, readCachedBuild } from './cache.js';
import {
  describeSource,
  libdeflateHeaderVersion,
  obtainLibdeflateSource,
  type LibdeflateSource,
} from './libdeflate-source.js';
import { cCompiler } from './toolchain.js';
import { buildTarget } from './target.js';

const libdeflateBuildSchema = z.object({
  version: z.string(),
  source: z.string(),
  buildSystem: z.enum(['cmake', 'make', 'system']),
  compiler: z.string(),
  cflags: z.string(),
  /** Paths are relative to the build folder (absolute for the system library), so the cache can move. */
  sharedLibrary: z.string(),
  gzipProgram: z.string().nullable(),
  cacheKey: z.string(),
});
export type LibdeflateBuildRecord = z.infer<typeof libdeflateBuildSchema>;

export interface LibdeflateBuild extends LibdeflateBuildRecord {
  /** Absolute paths, resolved from the record. */
  sharedLibraryPath: string;
  gzipProgramPath: string | null;
}

export interface LibdeflateBuildOptions {
  cc?: string;
  /** Extra C flags appended to the build system's own release flags. */
  cflags?: string;
}

const step = 'build libdeflate';
const isMac = process.platform === 'darwin';

function resolveRecord(dir: string, record: LibdeflateBuildRecord): LibdeflateBuild {
  const absolute = (path: string) => (path.startsWith('/') ? path : join(dir, path));
  return {
    ...record,
    sharedLibraryPath: absolute(record.sharedLibrary),
    gzipProgramPath: record.gzipProgram ? absolute(record.gzipProgram) : null,
  };
}

/** Finds the real (non-symlink-named) shared library a build produced, relative to `root`. */
async function findSharedLibrary(root: string, folder: string): Promise<string | undefined> {
  const names = await readdir(join(root, folder)).catch(() => [] as string[]);
  const pattern = isMac ? /^libdeflate(\.\d+)?\.dylib$/ : /^libdeflate\.so(\.\d+)?$/;
  const found = names.filter((name) => pattern.test(name)).sort((a, b) => b.length - a.length)[0];
  return found ? join(folder, found) : undefined;
}

async function buildWithCmake(
  dir: string,
  cc: string,
  extraCflags: string,
): Promise<Omit<LibdeflateBuildRecord, 'version' | 'source' | 'compiler' | 'cacheKey'>> {
  const args = [
    '-S',
    'src',
    '-B',
    'out',
    '-DCMAKE_BUILD_TYPE=Release',
    '-DLIBDEFLATE_BUILD_GZIP=ON',
    `-DCMAKE_C_COMPILER=${cc}`,
  ];
  if (extraCflags) args.push(`-DCMAKE_C_FLAGS=${extraCflags}`);
  await run('cmake', args, { cwd: dir, step: `${step}: cmake configure`, hint: 'install cmake and a C compiler.' });
  await run('cmake', ['--build', 'out', '--parallel', '2'], { cwd: dir, step: `${step}: cmake build` });
  const cache = await readFile(join(dir, 'out', 'CMakeCache.txt'), 'utf8');
  const flag = (name: string) => new RegExp(`^${name}:\\w+=(.*)$`, 'm').exec(cache)?.[1]?.trim() ?? '';
  const sharedLibrary = await findSharedLibrary(dir, 'out');
  if (!sharedLibrary)
    throw new LabError(
      step,
      `cmake built no shared libdeflate library in ${join(dir, 'out')}.`,
      'check the build log with the command above; the source may be too old for CMake (use make).',
    );
  const gzipProgram = (await fileExists(join(dir, 'out', 'programs', 'libdeflate-gzip')))
    ? 'out/programs/libdeflate-gzip'
    : (await fileExists(join(dir, 'out', 'libdeflate-gzip')))
      ? 'out/libdeflate-gzip'
      : null;
  return {
    buildSystem: 'cmake',
    cflags: `${flag('CMAKE_C_FLAGS')} ${flag('CMAKE_C_FLAGS_RELEASE')}`.trim(),
    sharedLibrary,
    gzipProgram,
  };
}

async function buildWithMake(
  dir: string,
  cc: string,
  extraCflags: string,
): Promise<Omit<LibdeflateBuildRecord, 'version' | 'source' | 'compiler' | 'cacheKey'>> {
  const args = ['-C', 'src', '-j2', `CC=${cc}`, 'all'];
  if (extraCflags) args.push(`CFLAGS=${extraCflags}`);
  await run('make', args, { cwd: dir, step: `${step}: make`, hint: 'install make and a C compiler.' });
  // libdeflate's Makefile records the effective flags in .build-config.
  const config = await readFile(join(dir, 'src', '.build-config'), 'utf8').catch(() => '');
  const cflags = /^CFLAGS=(.*)$/m.exec(config)?.[1]?.trim() ?? '(Makefile defaults)';
  const sharedLibrary = await findSharedLibrary(dir, 'src');
  if (!sharedLibrary)
    throw new LabError(
      step,
      `make built no shared libdeflate library in ${join(dir, 'src')}.`,
      'check the build log with the command above.',
    );
  const gzipProgram = (await fileExists(join(dir, 'src', 'gzip'))) ? 'src/gzip' : null;
  return { buildSystem: 'make', cflags, sharedLibrary, gzipProgram };
}

async function systemLibdeflate(): Promise<LibdeflateBuild> {
  const libdir = await probe('pkg-config', ['--variable=libdir', 'libdeflate']);
  const includedir = await probe('pkg-config', ['--variable=includedir', 'libdeflate']);
  if (!libdir || !includedir) {
    throw new LabError(
      step,
      'no system libdeflate found (pkg-config knows no libdeflate).',
      'install it (Debian: apt-get install libdeflate-dev libdeflate-tools pkg-config; macOS: brew install ' +
        'libdeflate pkg-config) or choose another source.',
    );
  }
  // Debian's libdeflate.pc names /usr/lib although the library sits in the multiarch folder beside the .pc file.
  const pcPath = await probe('pkg-config', ['--path', 'libdeflate']);
  const candidates = [libdir, ...(pcPath ? [dirname(dirname(pcPath))] : [])];
  let sharedLibrary: string | undefined;
  for (const dir of candidates) {
    const found = await findSharedLibrary(dir, '.');
    if (found) {
      sharedLibrary = join(dir, found);
      break;
    }
  }
  if (!sharedLibrary)
    throw new LabError(
      step,
      `no shared libdeflate library in ${candidates.join(' or ')}.`,
      'install the development package (Debian: libdeflate-dev; macOS: brew install libdeflate).',
    );
  const version = await libdeflateHeaderVersion(join(includedir, 'libdeflate.h'));
  const gzipPath = await probe('sh', ['-c', 'command -v libdeflate-gzip']);
  const record: LibdeflateBuildRecord = {
    version,
    source: `system library ${sharedLibrary}`,
    buildSystem: 'system',
    compiler: 'unknown (prebuilt by the system package)',
    cflags: 'unknown (prebuilt by the system package)',
    sharedLibrary,
    gzipProgram: gzipPath || null,
    cacheKey: 'system',
  };
  return resolveRecord('/', record);
}

/**
 * Builds libdeflate from the given source (or locates the system library) and
 * returns the shared library and gzip program to benchmark. Builds are cached
 * by a key over the source tree, compiler version and flags.
 */
export async function buildLibdeflate(
  source: LibdeflateSource,
  options: LibdeflateBuildOptions = {},
): Promise<LibdeflateBuild> {
  if (source.kind === 'system') {
    const target = buildTarget();
    if (target.cross)
      throw new LabError(
        step,
        `the system libdeflate is this machine's, not built for ${target.name} (PERF_LAB_TARGET).`,
        'build libdeflate from source for it (kind debian, git, tarball or path).',
      );
    return systemLibdeflate();
  }
  const progress = startProgress(`${step} (${describeSource(source)})`);
  progress.update('fetching source');
  const tree = (await obtainLibdeflateSource(source))!;
  const version = await libdeflateHeaderVersion(join(tree.dir, 'libdeflate.h'));
  const compiler = await cCompiler(options.cc);
  const buildSystem = (await fileExists(join(tree.dir, 'CMakeLists.txt'))) ? 'cmake' : 'make';
  const key = cacheKey({
    tree: await hashTree(tree.dir),
    compiler: compiler.version,
    cc: compiler.command,
    cflags: options.cflags ?? '',
    buildSystem,
    platform: process.platform,
    arch: process.arch,
  });
  const finalDir = join(cacheRoot(), 'builds', `libdeflate-${version}-${key}`);
  const cached = await readCachedBuild(finalDir, libdeflateBuildSchema, (record) => [
    join(finalDir, record.sharedLibrary),
  ]);
  if (cached) {
    progress.done(`libdeflate ${version} (cached)`);
    // The same tree may arrive by another route (a path, a tarball): the build is the same, the description is this
    // one's.
    return resolveRecord(finalDir, { ...cached, source: tree.description });
  }
  try {
    const record = await buildIntoCache(finalDir, async (temp): Promise<LibdeflateBuildRecord> => {
      await cp(tree.dir, join(temp, 'src'), {
        recursive: true,
        filter: (path) => !/[\\/](\.git|build|out)$/.test(path),
      });
      progress.update(`compiling with ${buildSystem}`);
      const built =
        buildSystem === 'cmake'
          ? await buildWithCmake(temp, compiler.command, options.cflags ?? '')
          : await buildWithMake(temp, compiler.command, options.cflags ?? '');
      return { version, source: tree.description, compiler: compiler.version, cacheKey: key, ...built };
    });
    progress.done(`libdeflate ${version} built (${buildSystem}, ${compiler.version})`);
    return resolveRecord(finalDir, record);
  } catch (error) {
    progress.done('failed');
    throw error;
  }
}

/** Tries sources in order and returns the first that builds, with why the others failed. */
export async function buildFirstAvailableLibdeflate(
  sources: readonly LibdeflateSource[],
  options: LibdeflateBuildOptions = {},
): Promise<{ build: LibdeflateBuild; skipped: string[] }> {
  const skipped: string[] = [];
  for (const source of sources) {
    try {
      return { build: await buildLibdeflate(source, options), skipped };
    } catch (error) {
      skipped.push(`${describeSource(source)}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  throw new LabError(
    step,
    `no libdeflate source could be built here:\n  - ${skipped.join('\n  - ')}`,
    'install libdeflate (Debian: apt-get install libdeflate-dev libdeflate-tools) or give a source that is ' +
      'reachable (git, tarball, path).',
  );
}
