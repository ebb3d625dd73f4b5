import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The perf-lab checkout: the nearest folder above this module whose
 * package.json is perf-lab's. Works from lab/ sources, compiled dist/lab/ and
 * the bundled actions/<name>/dist/ alike (an action runs from a full checkout).
 */
export function projectRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'perf-lab') return (root = dir);
      } catch {
        // not ours; keep climbing
      }
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(
        'perf-lab: cannot find the perf-lab checkout (package.json named perf-lab) above ' +
          fileURLToPath(import.meta.url),
      );
    dir = parent;
  }
}

/** Everything the lab caches (datasets, builds) lives here unless overridden; git ignores it. */
export function cacheRoot(): string {
  return process.env.PERF_LAB_CACHE ? resolve(process.env.PERF_LAB_CACHE) : join(projectRoot(), '.perf-lab');
}

/** The shared corpora shipped beside the checkout (../shared/corpora), overridable for CI layouts. */
export function sharedCorporaDir(): string {
  return process.env.PERF_LAB_SHARED_CORPORA
    ? resolve(process.env.PERF_LAB_SHARED_CORPORA)
    : resolve(projectRoot(), '..', 'shared', 'corpora');
}

/** The executable file `program` names, found as the shell would find it (a path, or a name on PATH), or undefined. */
export function programOnPath(program: string): string | undefined {
  const candidates = program.includes('/')
    ? [program]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, program));
  return candidates.find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return statSync(candidate).isFile();
    } catch {
      return false;
    }
  });
}
