import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { simpleGit } from 'simple-git';
import { parseBenchConfig, withTolerance, type BenchConfig } from '../bench/config.js';
import type { BenchResults } from '../results/index.js';
import { runBenchmarkWithBuilds, type SideBuild } from '../bench/run.js';
import type { DecoderBuild } from '../build/decoder.js';
import type { LibdeflateBuild } from '../build/libdeflate.js';
import { LabError } from '../core/errors.js';
import { MAX_JSON_BYTES, parseStrictJson, readWholeFile } from '../core/files.js';
import { info } from '../core/log.js';
import { cacheRoot } from '../core/paths.js';
import type { DatasetName, Scale } from '../datasets/index.js';
import { renderComment } from '../github/comment.js';
import { writeArtifact } from '../artifact/index.js';
import { configChanges } from './config-changes.js';
import { makeTempDir } from '../core/temp.js';
import { hotLoopSection } from '../explain/index.js';

export interface PrCheckOptions {
  /** The decoder's git repository. */
  repo: string;
  baseRef: string;
  headRef: string;
  /** Bench config inside the repository (its cargo.path is relative to the repository root). */
  config: string;
  scale: Scale;
  datasetsDir: string;
  only?: readonly DatasetName[];
  /** The decoder's hot function, for the critical-path section (ARM64 hosts only). */
  functionName?: string;
  /** The CPU model for that section; undefined: the one chosen for this machine (lab/uarch/choose-model.ts). */
  cpu?: string;
  /** Write the perf-pr artifact (results.json, pr.json, analysis.md, report.md) here. */
  artifactDir?: string;
  prNumber?: number;
  offline?: boolean;
  /** Run the critical-path analysis here (default true; the GitHub workflow runs the analyze action instead). */
  analyze?: boolean;
  /** Head vs base tolerance from the caller (CLI flag, workflow input), over any config's, and what it is called. */
  tolerance?: { value: number; source: string };
}

export interface PrCheckOutcome {
  results: BenchResults;
  body: string;
  baseSha: string;
  headSha: string;
  analysisMarkdown: string | undefined;
  /** The built artifacts (in the cache), for a separate analysis step. */
  builds: { base: string; head: string; reference: string };
  /** The build records behind them: cache keys, source and built tree hashes, whether each came from the cache. */
  records: { base: DecoderBuild; head: DecoderBuild; reference: LibdeflateBuild };
}

/** The fields that decide head vs base: a PR may change them, but is judged by base's (or the caller's). */
const JUDGEMENT_FIELDS = ['tolerance', 'minimumEffect', 'verdictConfidence'] as const;

/**
 * Head's config with the verdict's bar taken from base's config (the reviewed, merged one), so a PR cannot loosen
 * the bar it is judged by, and the caller's tolerance over both.
 */
function judgedAsBase(
  head: BenchConfig,
  baseJson: unknown,
  options: Pick<PrCheckOptions, 'tolerance' | 'config'>,
  baseDir: string,
): { config: BenchConfig; toleranceSource: string } {
  let bench = head.bench;
  let toleranceSource = `head's ${options.config} (base has no valid one)`;
  if (baseJson !== undefined) {
    try {
      const base = parseBenchConfig(baseJson, `${options.config} (base)`, baseDir).bench;
      bench = { ...bench, ...Object.fromEntries(JUDGEMENT_FIELDS.map((field) => [field, base[field]])) };
      toleranceSource = `base's ${options.config}`;
      const changed = JUDGEMENT_FIELDS.filter((field) => head.bench[field] !== base[field]);
      if (changed.length > 0)
        info(
          `pr-check: head changes bench.${changed.join(', bench.')}; the verdict uses base's` +
            (options.tolerance ? ` (and ${options.tolerance.source} for the tolerance)` : '') +
            ' until it merges',
        );
    } catch {
      // A base without a valid config has no bar of its own: head's applies (the comment lists the change).
    }
  }
  if (!options.tolerance) return { config: { ...head, bench }, toleranceSource };
  return {
    config: withTolerance({ ...head, bench }, options.tolerance.value, options.tolerance.source),
    toleranceSource: options.tolerance.source,
  };
}

function cargoBuild(side: SideBuild | undefined, role: string): DecoderBuild {
  if (side?.kind !== 'cargo')
    throw new LabError('pr-check', `the ${role} side was not built with cargo.`, 'report this as a perf-lab bug.');
  return side.build;
}

/** simple-git at `repo`, refused with a clear message when it is no folder or no git repository. */
async function repositoryAt(repo: string) {
  const hint = 'pass --repo the decoder repository (a git clone holding both refs).';
  let git;
  try {
    git = simpleGit(repo);
  } catch {
    throw new LabError('pr-check', `${repo} is not a folder.`, hint);
  }
  if (!(await git.checkIsRepo().catch(() => false)))
    throw new LabError('pr-check', `${repo} is not a git repository.`, hint);
  return git;
}

/**
 * The PR check, runnable anywhere: check out base and head of the decoder as
 * git worktrees, build both (and libdeflate), run the three-way benchmark,
 * analyse the hot loop when the host is ARM64, and render the comment body the
 * perf-comment workflow would post. CI runs exactly this.
 */
export async function prCheck(options: PrCheckOptions): Promise<PrCheckOutcome> {
  const repo = resolve(options.repo);
  const git = await repositoryAt(repo);
  const resolveRef = async (ref: string) => {
    try {
      return (await git.revparse([`${ref}^{commit}`])).trim();
    } catch {
      throw new LabError(
        'pr-check',
        `${ref} is not a commit in ${repo}.`,
        'pass refs that exist there (fetch them first).',
      );
    }
  };
  const baseSha = await resolveRef(options.baseRef);
  const headSha = await resolveRef(options.headRef);
  await mkdir(join(cacheRoot(), 'worktrees'), { recursive: true });
  const work = await makeTempDir(join(cacheRoot(), 'worktrees', 'pr-check-'));
  const baseDir = join(work, 'base');
  const headDir = join(work, 'head');
  try {
    await git.raw(['worktree', 'add', '--detach', baseDir, baseSha]);
    await git.raw(['worktree', 'add', '--detach', headDir, headSha]);
    let json: unknown;
    const configPath = join(headDir, options.config);
    try {
      const hint = 'commit a perf-lab bench config (JSON) to the repository and pass its path with --config.';
      const bytes = await readWholeFile(configPath, { step: 'pr-check: config', hint, maxBytes: MAX_JSON_BYTES });
      json = parseStrictJson(bytes.toString('utf8'));
    } catch (error) {
      throw new LabError(
        'pr-check: config',
        `cannot read ${options.config} at ${headSha.slice(0, 12)}: ${(error as Error).message}`,
        'commit a perf-lab bench config (JSON) to the repository and pass its path with --config.',
      );
    }
    const template = parseBenchConfig(json, `${options.config} (head)`, headDir);
    // Both sides are measured with head's config; what the PR changed in it is said in the comment.
    const baseJson = await readWholeFile(join(baseDir, options.config), {
      step: 'pr-check: config',
      hint: 'base config',
      maxBytes: MAX_JSON_BYTES,
    }).then(
      (bytes) => {
        const text = bytes.toString('utf8');
        try {
          return parseStrictJson(text);
        } catch {
          return '(not valid JSON)';
        }
      },
      () => undefined,
    );
    const changedConfig = configChanges(baseJson, json);
    if (changedConfig.length > 0)
      info(`pr-check: ${options.config} differs between base and head (both measured with head's):
  ${changedConfig.join('\n  ')}`);
    if ('libdeflate' in template.decoder)
      throw new LabError(
        'pr-check: config',
        'decoder must be a cargo project for a PR check.',
        'set decoder.cargo.path to "." (the repository root).',
      );
    const decoder = template.decoder;
    if (!('path' in decoder.cargo))
      throw new LabError(
        'pr-check: config',
        'decoder.cargo must be a path (the repository itself) for a PR check.',
        'set decoder.cargo.path to "." (or the crate\'s folder in the repository).',
      );
    const relative = 'path' in decoder.cargo ? decoder.cargo.path.slice(headDir.length) : '';
    if (!('path' in decoder.cargo) || !decoder.cargo.path.startsWith(headDir))
      throw new LabError(
        'pr-check: config',
        'decoder.cargo.path must lie inside the repository.',
        'use a path relative to the repository root, such as ".".',
      );
    const judged = judgedAsBase(template, baseJson, options, baseDir);
    const config: BenchConfig = {
      ...judged.config,
      decoder: { ...decoder, name: `${decoder.name}-head`, cargo: { path: headDir + relative } },
      base: { ...decoder, name: `${decoder.name}-base`, cargo: { path: baseDir + relative } },
    };
    info(`pr-check: base ${baseSha.slice(0, 12)}, head ${headSha.slice(0, 12)}`);
    const run = await runBenchmarkWithBuilds({
      config,
      scale: options.scale,
      datasetsDir: options.datasetsDir,
      only: options.only,
      offline: options.offline,
      toleranceSource: judged.toleranceSource,
    });
    const { results } = run;
    // The very builds the benchmark measured (nothing is built again: codegen would run again, and could differ).
    const records = {
      head: cargoBuild(run.builds.head, 'head'),
      base: cargoBuild(run.builds.base, 'base'),
      reference: run.builds.reference,
    };
    for (const [role, build] of [
      ['head', records.head],
      ['base', records.base],
    ] as const)
      info(
        `pr-check: ${role} ${build.name}: build ${build.cacheKey}${build.cached ? ' (cached)' : ''}, ` +
          `tree ${build.builtTree.slice(0, 12)}` +
          (build.builtTree === build.sourceTree ? '' : ` after codegen (source ${build.sourceTree.slice(0, 12)})`),
      );
    const builds = {
      head: records.head.artifactPath,
      base: records.base.artifactPath,
      reference: records.reference.sharedLibraryPath,
    };
    const analysisMarkdown =
      options.functionName && options.analyze !== false
        ? await hotLoopSection(
            builds,
            options.functionName,
            options.cpu,
            {},
            { results, datasetsDir: options.datasetsDir },
          )
        : undefined;
    const body = renderComment(results, { analysisMarkdown, headSha, baseSha, configChanges: changedConfig });
    if (options.artifactDir) {
      await writeArtifact(resolve(options.artifactDir), {
        results,
        analysisMarkdown,
        pr: options.prNumber
          ? {
              prNumber: options.prNumber,
              headSha,
              baseSha,
              ...(changedConfig.length > 0 ? { configChanges: changedConfig } : {}),
            }
          : undefined,
      });
    }
    return { results, body, baseSha, headSha, analysisMarkdown, builds, records };
  } finally {
    await git.raw(['worktree', 'remove', '--force', baseDir]).catch(() => undefined);
    await git.raw(['worktree', 'remove', '--force', headDir]).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
    await git.raw(['worktree', 'prune']).catch(() => undefined);
  }
}
