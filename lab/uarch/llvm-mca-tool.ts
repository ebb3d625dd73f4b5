import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, delimiter, join } from 'node:path';
import { attempt } from '../core/process.js';

/*
 * Where llvm-mca is on the machines the lab runs on, and which one the cross-check runs: the newest found (by its
 * own --version), or the one PERF_LAB_LLVM_MCA names. Where it is, with sources (docs/analyzer.md):
 * - Debian/Ubuntu: the `llvm` package puts llvm-mca on PATH, each `llvm-N` package /usr/lib/llvm-N/bin/llvm-mca and
 *   /usr/bin/llvm-mca-N (ubuntu-24.04-arm installs llvm-16, -17 and -18 that way, none as plain llvm-mca:
 *   actions/runner-images images/ubuntu/scripts/build/install-clang.sh);
 * - macOS runners: Homebrew's keg-only `llvm@18` (macos-15) or `llvm@20` (macos-26), never on PATH:
 *   $(brew --prefix)/opt/llvm@N/bin/llvm-mca, /opt/homebrew on Apple silicon, /usr/local on Intel;
 * - Xcode: `xcrun --find llvm-mca`, asked only when xcrun exists (no source says Xcode ships it).
 */

/** A place llvm-mca is looked for: in each PATH folder by name, a path pattern (`*` within a segment), or xcrun. */
export type LlvmMcaCandidate =
  | { kind: 'path'; names: RegExp; label: string }
  | { kind: 'pattern'; pattern: string; label: string }
  | { kind: 'xcrun'; label: string };

/** Where llvm-mca is looked for, in order ({brew}: `brew --prefix`, when brew is on PATH). */
export const LLVM_MCA_CANDIDATES: readonly LlvmMcaCandidate[] = [
  { kind: 'path', names: /^llvm-mca(-\d+)?$/, label: 'on PATH' },
  { kind: 'pattern', pattern: '/usr/lib/llvm-*/bin/llvm-mca', label: 'Debian/Ubuntu llvm-N package' },
  { kind: 'pattern', pattern: '{brew}/opt/llvm*/bin/llvm-mca', label: 'Homebrew keg (brew --prefix)' },
  { kind: 'pattern', pattern: '/opt/homebrew/opt/llvm*/bin/llvm-mca', label: 'Homebrew keg (/opt/homebrew)' },
  { kind: 'pattern', pattern: '/usr/local/opt/llvm*/bin/llvm-mca', label: 'Homebrew keg (/usr/local)' },
  { kind: 'xcrun', label: 'xcrun --find llvm-mca' },
];

export const LLVM_MCA_ENV = 'PERF_LAB_LLVM_MCA';
/** Tests root the fixed-path candidates in a temporary folder (so the host's llvm-mca is not found). */
const SEARCH_ROOT_ENV = 'PERF_LAB_LLVM_MCA_SEARCH_ROOT';

export interface LlvmMcaTool {
  /** The executable run (a path). */
  command: string;
  version: string;
  major: number;
  /** Which candidate found it ("on PATH", "Debian/Ubuntu llvm-N package", …, or PERF_LAB_LLVM_MCA). */
  foundBy: string;
  /** The other llvm-mca found, with their versions (not run: older, or the override was set). */
  others: Array<{ command: string; version: string }>;
}

export const LLVM_MCA_INSTALL = 'llvm-mca not installed: apt-get install llvm / brew install llvm';

const isExecutable = async (path: string) => {
  try {
    const info = await stat(path);
    return info.isFile() && (info.mode & 0o111) !== 0;
  } catch {
    return false;
  }
};

/** The paths matching a pattern whose segments may hold `*` (each matched against one folder's entries). */
async function expand(pattern: string): Promise<string[]> {
  let paths = [pattern.startsWith('/') ? '/' : ''];
  for (const segment of pattern.split('/').filter(Boolean)) {
    if (!segment.includes('*')) {
      paths = paths.map((path) => join(path, segment));
      continue;
    }
    const regex = new RegExp(`^${segment.split('*').map(escape).join('.*')}$`);
    const next: string[] = [];
    for (const path of paths) {
      const entries = await readdir(path).catch(() => [] as string[]);
      next.push(...entries.filter((entry) => regex.test(entry)).map((entry) => join(path, entry)));
    }
    paths = next.sort();
  }
  return paths;
}
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function output(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const run = await attempt(command, args, { timeoutMs: 20_000, env });
  return run.ok ? run.stdout.trim() : undefined;
}

/** The executables each candidate finds, in candidate order (a path found twice, through links, once). */
async function candidates(env: NodeJS.ProcessEnv): Promise<Array<{ command: string; foundBy: string }>> {
  const root = env[SEARCH_ROOT_ENV] ?? '';
  const found: Array<{ command: string; foundBy: string }> = [];
  const seen = new Set<string>();
  const add = async (command: string, foundBy: string) => {
    if (!(await isExecutable(command))) return;
    const real = await realpath(command).catch(() => command);
    if (seen.has(real)) return;
    seen.add(real);
    found.push({ command, foundBy });
  };
  const brewPrefix = (await output('brew', ['--prefix'], env).catch(() => undefined)) || undefined;
  for (const candidate of LLVM_MCA_CANDIDATES) {
    if (candidate.kind === 'path') {
      for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
        const entries = await readdir(dir).catch(() => [] as string[]);
        // llvm-mca first, then llvm-mca-N newest first.
        const rank = (name: string) => Number(/-(\d+)$/.exec(name)?.[1] ?? Infinity);
        const names = entries.filter((entry) => candidate.names.test(entry)).sort((a, b) => rank(b) - rank(a));
        for (const name of names) await add(join(dir, name), candidate.label);
      }
    } else if (candidate.kind === 'pattern') {
      const brew = candidate.pattern.startsWith('{brew}');
      if (brew && !brewPrefix) continue;
      // brew --prefix is where brew is; the fixed paths are rooted for tests.
      const pattern = brew ? candidate.pattern.replace('{brew}', brewPrefix!) : root + candidate.pattern;
      for (const path of await expand(pattern)) await add(path, candidate.label);
    } else {
      const path = await output('xcrun', ['--find', 'llvm-mca'], env).catch(() => undefined);
      if (path) await add(path, candidate.label);
    }
  }
  return found;
}

const firstLine = (text: string) => {
  const line = text.split('\n').find((candidate) => candidate.trim()) ?? '(no output)';
  return JSON.stringify(line.trim().slice(0, 80));
};

/** An llvm-mca's version from its --version, or why it has none. */
async function versionOf(command: string, env: NodeJS.ProcessEnv): Promise<{ version: string } | { notRun: string }> {
  const run = await attempt(command, ['--version'], { timeoutMs: 20_000, env });
  const name = `${basename(command)} --version`;
  if (run.missing) return { notRun: `${command} not found` };
  if (!run.ok) return { notRun: `${name} failed (exit ${run.exitCode}) at ${command}` };
  const version = /LLVM version (\d+\.\d+(?:\.\d+)?)/.exec(run.stdout)?.[1];
  if (!version)
    return {
      notRun: `${name} is unparseable (no "LLVM version N.N") at ${command}: ${firstLine(run.stdout)}`,
    };
  return { version };
}

const parts = (version: string) => version.split('.').map(Number);
const newer = (a: string, b: string) => {
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
  return false;
};

const found = new Map<string, Promise<LlvmMcaTool | { notRun: string }>>();

/**
 * The llvm-mca the cross-check runs: PERF_LAB_LLVM_MCA when set, else the newest of those the candidates find (the
 * first found among equals); or why there is none. Looked up once per PATH, override and search root.
 */
export function findLlvmMca(env: NodeJS.ProcessEnv = process.env): Promise<LlvmMcaTool | { notRun: string }> {
  const key = [env.PATH, env[LLVM_MCA_ENV], env[SEARCH_ROOT_ENV]].join('\0');
  const cached = found.get(key);
  if (cached) return cached;
  const lookup = (async (): Promise<LlvmMcaTool | { notRun: string }> => {
    const override = env[LLVM_MCA_ENV];
    if (override) {
      const version = await versionOf(override, env);
      if ('notRun' in version) return { notRun: `${LLVM_MCA_ENV}=${override}: ${version.notRun}` };
      return { command: override, ...version, major: parts(version.version)[0]!, foundBy: LLVM_MCA_ENV, others: [] };
    }
    const runs: Array<{ command: string; foundBy: string; version: string }> = [];
    let failure: string | undefined;
    for (const candidate of await candidates(env)) {
      const version = await versionOf(candidate.command, env);
      if ('notRun' in version) failure ??= version.notRun;
      else runs.push({ ...candidate, version: version.version });
    }
    if (runs.length === 0) return { notRun: failure ?? LLVM_MCA_INSTALL };
    const best = runs.reduce((a, b) => (newer(b.version, a.version) ? b : a));
    return {
      command: best.command,
      version: best.version,
      major: parts(best.version)[0]!,
      foundBy: best.foundBy,
      others: runs.filter((run) => run !== best).map(({ command, version }) => ({ command, version })),
    };
  })();
  found.set(key, lookup);
  return lookup;
}

/** The tool in words: "llvm-mca 14.0.6 at /usr/bin/llvm-mca (on PATH; also found: …)". */
export function describeLlvmMca(tool: LlvmMcaTool): string {
  const others = tool.others.map((other) => `${other.version} at ${other.command}`);
  return (
    `llvm-mca ${tool.version} at ${tool.command} (${tool.foundBy}` +
    `${others.length ? `; also found: ${others.join(', ')}` : ''})`
  );
}
