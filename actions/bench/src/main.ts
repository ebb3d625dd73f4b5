import { resolve } from 'node:path';
import { loadBenchConfig, withTolerance } from '../../../lab/bench/config.js';
import { runBenchmark } from '../../../lab/bench/run.js';
import { parseDatasetList, parseFailOn, parsePositiveInt, parseScale, parseTolerance } from '../../../lab/cli/parse.js';
import { writeFileAtomically } from '../../../lab/core/files.js';
import { defaultDatasetsDir, type DatasetName, type Scale } from '../../../lab/datasets/index.js';
import { prCheck } from '../../../lab/prcheck/index.js';
import { markdownReport } from '../../../lab/report/index.js';
import { runOutcome, writeResults, type BenchResults, type FailOn } from '../../../lab/results/index.js';
import { pairedInputs, parsedInput, requiredInput, runAction, type ActionCore } from '../../shared.js';

/** The bench action's inputs (action.yml), parsed once. */
export interface BenchInputs {
  config: string;
  /** With base and head: the PR check of this decoder checkout. */
  pullRequest?: { repository: string; base: string; head: string; prNumber?: number; artifactDir: string };
  failOn: FailOn;
  /** Head vs base tolerance over the config's (undefined: the config's). */
  tolerance?: number;
  scale: Scale;
  only: DatasetName[];
  cacheDir?: string;
  datasetsDir: string;
  silesiaZip?: string;
  results: string;
}

export function readBenchInputs(actionCore: ActionCore): BenchInputs {
  const input = <T>(name: string, parse: (value: string) => T) => parsedInput(actionCore, 'bench', name, parse);
  const scale = input('scale', parseScale);
  const commits = pairedInputs(
    actionCore,
    'bench',
    ['base', 'head'],
    'pass both commits for a PR check (github.event.pull_request.base.sha and .head.sha), or neither.',
  );
  const prNumber = actionCore.getInput('pr-number') ? input('pr-number', parsePositiveInt) : undefined;
  const cacheDir = actionCore.getInput('cache-dir');
  return {
    config: requiredInput(actionCore, 'bench', 'config'),
    pullRequest: commits
      ? {
          repository: requiredInput(actionCore, 'bench', 'repository'),
          base: commits[0],
          head: commits[1],
          prNumber,
          artifactDir: requiredInput(actionCore, 'bench', 'artifact-dir'),
        }
      : undefined,
    failOn: input('fail-on', parseFailOn),
    tolerance: actionCore.getInput('tolerance') ? input('tolerance', parseTolerance) : undefined,
    scale,
    only: input('datasets', parseDatasetList),
    cacheDir: cacheDir ? resolve(cacheDir) : undefined,
    // The default folder lives in the cache, so PERF_LAB_CACHE must be set first (run() does).
    datasetsDir: actionCore.getInput('datasets-dir'),
    silesiaZip: actionCore.getInput('silesia-zip') || undefined,
    results: resolve(requiredInput(actionCore, 'bench', 'results')),
  };
}

/**
 * The three-way run. With `base` and `head` (commits of the decoder checkout in `repository`) it is the PR check:
 * both built from their commits, measured against libdeflate, the perf-pr artifact written to `artifact-dir`, the
 * build paths given as outputs for the analyze action. Without them it benchmarks `config` as it stands.
 */
export async function run(actionCore: ActionCore): Promise<void> {
  await runAction(actionCore, async () => {
    const inputs = readBenchInputs(actionCore);
    // Datasets, sources, builds and calibrations live where the caller's cache step put them.
    if (inputs.cacheDir) process.env.PERF_LAB_CACHE = inputs.cacheDir;
    const datasetsDir = resolve(inputs.datasetsDir || defaultDatasetsDir(inputs.scale));
    let results: BenchResults;
    if (inputs.pullRequest) {
      const pr = inputs.pullRequest;
      const outcome = await actionCore.group('perf-lab PR check (base, head, libdeflate)', () =>
        prCheck({
          repo: pr.repository,
          baseRef: pr.base,
          headRef: pr.head,
          config: inputs.config,
          scale: inputs.scale,
          datasetsDir,
          only: inputs.only,
          artifactDir: pr.artifactDir,
          prNumber: pr.prNumber,
          analyze: false,
          tolerance: inputs.tolerance,
        }),
      );
      results = outcome.results;
      actionCore.setOutput('base-build', outcome.builds.base);
      actionCore.setOutput('head-build', outcome.builds.head);
      actionCore.setOutput('reference-build', outcome.builds.reference);
    } else {
      const config = withTolerance(await loadBenchConfig(inputs.config), inputs.tolerance, 'the tolerance input');
      results = await actionCore.group('perf-lab bench', () =>
        runBenchmark({
          config,
          scale: inputs.scale,
          datasetsDir,
          only: inputs.only,
          silesiaZip: inputs.silesiaZip,
        }),
      );
    }
    const report = markdownReport(results);
    await writeResults(inputs.results, results);
    await writeFileAtomically(`${inputs.results.replace(/\.json$/, '')}.md`, report);
    actionCore.setOutput('results', inputs.results);
    actionCore.setOutput('datasets-dir', datasetsDir);
    actionCore.setOutput('ok', String(results.ok));
    await actionCore.writeSummary(report);
    // A failed run is red, with the reason in the annotation and the report in the job summary.
    const outcome = runOutcome(results, inputs.failOn);
    if (outcome.failure) actionCore.setFailed(`perf-lab: ${outcome.failure} The report is in the job summary.`);
  });
}
