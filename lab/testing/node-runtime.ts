import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { x as extract } from 'tar';
import { fileExists } from '../core/files.js';
import { cacheRoot } from '../core/paths.js';

/** A Node.js to run code under, or why none is at hand. */
export type NodeRuntime = { node: string; version: string } | { unavailable: string };

/**
 * Node 24, the runtime GitHub runs actions on (`runs.using: node24`): this Node when it is 24, else the
 * `node-<platform>-<arch>` package's Node 24 from the npm registry, unpacked once into the lab's cache
 * (`tools/`). A platform with no such package (there is none for macOS) gives `unavailable` with the reason; any
 * other failure (no registry) throws: a test that needs Node 24 must not pass without it.
 */
export async function node24(): Promise<NodeRuntime> {
  if (process.versions.node.startsWith('24.')) return { node: process.execPath, version: process.version };
  const pkg = `node-${process.platform}-${process.arch}`;
  const dir = join(cacheRoot(), 'tools', `${pkg}-24`);
  const node = join(dir, 'bin', 'node');
  if (!(await fileExists(node))) {
    const view = await execa('npm', ['view', `${pkg}@24`, 'version', '--json'], { reject: false });
    if (view.exitCode !== 0 && /E404/.test(String(view.stderr)))
      return { unavailable: `the npm registry has no ${pkg}@24 (no Node 24 package for this platform)` };
    if (view.exitCode !== 0) throw new Error(`npm view ${pkg}@24 failed: ${String(view.stderr).trim()}`);
    await mkdir(join(cacheRoot(), 'tools'), { recursive: true });
    const temp = await mkdtemp(join(cacheRoot(), 'tools', `${pkg}-`));
    try {
      const pack = await execa('npm', ['pack', `${pkg}@24`, '--silent', '--pack-destination', temp]);
      await extract({ file: join(temp, String(pack.stdout).trim().split('\n').pop()!), cwd: temp, strip: 1 });
      await rm(join(temp, String(pack.stdout).trim().split('\n').pop()!));
      await rm(dir, { recursive: true, force: true });
      await rename(temp, dir);
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }
  const version = await execa(node, ['--version']);
  return { node, version: String(version.stdout).trim() };
}
