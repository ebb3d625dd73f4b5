import { cp, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheRoot, projectRoot } from '../core/paths.js';
import type { CargoDecoderSpec } from './decoder.js';

/** Debian installs crate sources here (librust-*-dev); cargo can build from it offline. */
export const DEBIAN_CARGO_REGISTRY = '/usr/share/cargo/registry';

async function debianRegistryHas(crates: readonly string[]): Promise<boolean> {
  const names = await readdir(DEBIAN_CARGO_REGISTRY).catch(() => [] as string[]);
  return crates.every((crate) => names.some((name) => name.startsWith(`${crate}-`)));
}

/**
 * Writes the miniz_oxide C-ABI shim (lab/build/shims/miniz-oxide) into the cache
 * as a cargo project and returns its decoder spec. Where Debian's cargo registry
 * has the crates, the project is pointed at it and built offline; elsewhere
 * cargo fetches them from crates.io as usual.
 */
export async function materializeMinizOxideShim(options: { flipByte?: boolean; name?: string; features?: Array<'skip-crc32' | 'skip-isize'> } = {}): Promise<CargoDecoderSpec> {
  const dir = join(cacheRoot(), 'shims', 'miniz-oxide');
  await mkdir(dir, { recursive: true });
  await cp(join(projectRoot(), 'lab', 'build', 'shims', 'miniz-oxide'), dir, { recursive: true });
  if (await debianRegistryHas(['miniz_oxide', 'adler', 'crc32fast', 'cfg-if'])) {
    await mkdir(join(dir, '.cargo'), { recursive: true });
    await writeFile(
      join(dir, '.cargo', 'config.toml'),
      `[source.crates-io]\nreplace-with = "debian-registry"\n\n[source.debian-registry]\ndirectory = "${DEBIAN_CARGO_REGISTRY}"\n\n[net]\noffline = true\n`,
    );
  }
  return {
    name: options.name ?? (options.flipByte ? 'miniz_oxide-flipbyte' : 'miniz_oxide'),
    cargo: { path: dir },
    features: [...(options.flipByte ? ['flip-byte'] : []), ...(options.features ?? [])],
    env: {},
    adapter: { kind: 'cabi' },
  };
}
