import { join } from 'node:path';
import { buildFirstAvailableLibdeflate } from '../build/libdeflate.js';
import { LIBDEFLATE_GIT_URL, LIBDEFLATE_PINNED_TAG, type LibdeflateSource } from '../build/libdeflate-source.js';
import { materializeMinizOxideShim } from '../build/shim.js';
import { info } from '../core/log.js';
import { cacheRoot } from '../core/paths.js';
import { samplingDefaults, type BenchConfig } from '../bench/config.js';

/**
 * Where libdeflate may come from, best first: the pinned tag, then Debian's source packages, then the system library.
 */
const DEMO_LIBDEFLATE_SOURCES: readonly LibdeflateSource[] = [
  { kind: 'git', url: LIBDEFLATE_GIT_URL, ref: LIBDEFLATE_PINNED_TAG },
  { kind: 'debian', suite: 'trixie' },
  { kind: 'debian', suite: 'bookworm' },
  { kind: 'system' },
];

/**
 * The embedded default job: the first libdeflate this machine can reach, and a
 * real Rust decoder (the miniz_oxide C-ABI shim), as a bench config.
 */
export async function demoConfig(options: {
  rounds: number;
  warmupRounds: number;
  budgetSeconds: number;
  offline: boolean;
}): Promise<BenchConfig> {
  const sources = options.offline
    ? DEMO_LIBDEFLATE_SOURCES.filter((source) => source.kind !== 'git')
    : DEMO_LIBDEFLATE_SOURCES;
  const { build, skipped } = await buildFirstAvailableLibdeflate(sources);
  for (const reason of skipped) info(`demo: skipped libdeflate source ${reason}`);
  const decoder = await materializeMinizOxideShim();
  // The source that worked is pinned in the config, so the bench step reuses its cached build.
  const chosen = sources[skipped.length]!;
  info(`demo: libdeflate ${build.version} from ${build.source}`);
  return {
    schemaVersion: 1,
    libdeflate: { source: chosen },
    decoder,
    bench: {
      ...samplingDefaults,
      rounds: options.rounds,
      warmupRounds: options.warmupRounds,
      budgetSeconds: options.budgetSeconds,
    },
  };
}

export function demoOutputPaths(stamp = new Date().toISOString().replace(/[:.]/g, '-')): {
  json: string;
  markdown: string;
} {
  const base = join(cacheRoot(), 'results', `demo-${stamp}`);
  return { json: `${base}.json`, markdown: `${base}.md` };
}
