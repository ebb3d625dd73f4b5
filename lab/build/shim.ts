import { cp, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileExists } from '../core/files.js';
import { cacheRoot, projectRoot } from '../core/paths.js';
import { attempt } from '../core/process.js';
import type { CargoDecoderSpec } from './decoder.js';
import { buildTarget } from './target.js';

/** Debian installs crate sources here (librust-*-dev); cargo can build from it offline. */
const DEBIAN_CARGO_REGISTRY = '/usr/share/cargo/registry';

async function debianRegistryHas(crates: readonly string[]): Promise<boolean> {
  const names = await readdir(DEBIAN_CARGO_REGISTRY).catch(() => [] as string[]);
  return crates.every((crate) => names.some((name) => name.startsWith(`${crate}-`)));
}

/**
 * Copies a cargo project of the lab's into the cache under `name`. Where Debian's cargo registry has its crates, the
 * copy is pointed at it and builds offline; elsewhere cargo fetches them from crates.io as usual.
 */
async function materializeCrate(source: string, name: string, crates: readonly string[]): Promise<string> {
  // Per build target: another target's cargo (Debian's 1.63 for aarch64) cannot read a newer cargo's lock file.
  const dir = join(cacheRoot(), 'shims', `${name}${buildTarget().folderSuffix}`);
  await mkdir(dir, { recursive: true });
  await cp(source, dir, { recursive: true });
  if (await debianRegistryHas(crates)) {
    await mkdir(join(dir, '.cargo'), { recursive: true });
    await writeFile(
      join(dir, '.cargo', 'config.toml'),
      `[source.crates-io]\nreplace-with = "debian-registry"\n\n[source.debian-registry]\ndirectory = ` +
        `"${DEBIAN_CARGO_REGISTRY}"\n\n[net]\noffline = true\n`,
    );
  }
  // The lock file now, not at the first build: cargo would write it into the folder then, the folder's tree (what the
  // build's cache key covers) would change under it, and a fresh cache built the same decoder twice. Where this fails
  // (no registry reachable yet) the build resolves the crates itself, as before.
  if (!(await fileExists(join(dir, 'Cargo.lock')))) {
    const target = buildTarget();
    await attempt(target.cargo, ['generate-lockfile'], { cwd: dir, env: { ...process.env, ...target.cargoEnv } });
  }
  return dir;
}

const MINIZ_CRATES = ['miniz_oxide', 'adler', 'crc32fast', 'cfg-if'];

/** The miniz_oxide C-ABI shim (lab/build/shims/miniz-oxide) as a cargo decoder spec. */
export async function materializeMinizOxideShim(
  options: { flipByte?: boolean; name?: string; features?: Array<'skip-crc32' | 'skip-isize'> } = {},
): Promise<CargoDecoderSpec> {
  const dir = await materializeCrate(
    join(projectRoot(), 'lab', 'build', 'shims', 'miniz-oxide'),
    'miniz-oxide',
    MINIZ_CRATES,
  );
  return {
    name: options.name ?? (options.flipByte ? 'miniz_oxide-flipbyte' : 'miniz_oxide'),
    cargo: { path: dir },
    features: [...(options.flipByte ? ['flip-byte'] : []), ...(options.features ?? [])],
    env: {},
    threads: 1,
    adapter: { kind: 'cabi' },
  };
}

/**
 * examples/gzippy-shape (gzippy's API over miniz_oxide) in the cache, called through the rust adapter: `vec` as
 * gzippy is called (`decompress_with_threads(input, threads)`), `slice` through its `decompress_into`.
 */
export async function materializeGzippyShape(
  options: { name?: string; output?: 'vec' | 'slice'; folder?: string } = {},
): Promise<CargoDecoderSpec> {
  const dir = await materializeCrate(
    join(projectRoot(), 'examples', 'gzippy-shape'),
    options.folder ?? 'gzippy-shape',
    MINIZ_CRATES,
  );
  const output = options.output ?? 'vec';
  return {
    name: options.name ?? `gzippy-shape-${output}`,
    cargo: { path: dir },
    features: [],
    env: {},
    threads: 1,
    adapter: {
      kind: 'rust',
      call:
        output === 'vec' ? 'gzippy::decompress_with_threads(input, threads)' : 'gzippy::decompress_into(input, output)',
      output,
    },
  };
}
