import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The perf-lab checkout (works from lab/ sources and from compiled dist/lab/). */
export function projectRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const parts = here.split(/[\\/]/);
  const distIndex = parts.lastIndexOf('dist');
  const root = distIndex >= 0 ? parts.slice(0, distIndex).join('/') : resolve(here, '..', '..');
  return root || '/';
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
