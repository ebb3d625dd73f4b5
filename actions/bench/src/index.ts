import * as core from '@actions/core';
import { resolve } from 'node:path';
import { loadBenchConfig } from '../../../lab/bench/config.js';
import { verdictFailures, writeResults, type BenchResults, type FailOn } from '../../../lab/results/index.js';
import { runBenchmark } from '../../../lab/bench/run.js';
import { writeFileAtomically } from '../../../lab/core/files.js';
import { DATASET_NAMES, defaultDatasetsDir, type DatasetName } from '../../../lab/datasets/index.js';
import { prCheck } from '../../../lab/prcheck/index.js';
import { markdownReport } from '../../../lab/report/index.js';
import { runAction } from '../../shared.js';

/**
 * The three-way run. With `base` and `head` (commits of the decoder checkout in
 * `repository`) it is the PR check: both built from their commits, measured
 * against libdeflate, the perf-pr artifact written to `artifact-dir`, the build
 * paths given as outputs for the analyze action. Without them it benchmarks
 * `config` as it stands.
 */
await runAction(async () => {
  const cacheDir = core.getInput('cache-dir');
  // Datasets, sources, builds and calibrations live where the caller's cache step put them.
  if (cacheDir) process.env.PERF_LAB_CACHE = resolve(cacheDir);
  const scale = core.getInput('scale') || 'full';
  if (scale !== 'quick' && scale !== 'full') throw new Error(`input scale must be quick or full, not ${scale}`);
  const only = core
    .getInput('datasets')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean) as DatasetName[];
  for (const name of only)
    if (!(DATASET_NAMES as readonly string[]).includes(name))
      throw new Error(`input datasets: unknown dataset ${name}`);
  const failOn = (core.getInput('fail-on') || 'never') as FailOn;
  if (!['never', 'regression', 'change'].includes(failOn))
    throw new Error(`input fail-on must be never, regression or change, not ${failOn}`);
  const datasetsDir = resolve(core.getInput('datasets-dir') || defaultDatasetsDir(scale));
  const base = core.getInput('base');
  const head = core.getInput('head');
  if (Boolean(base) !== Boolean(head))
    throw new Error('inputs base and head go together (both commits, for a PR check)');
  const prNumber = core.getInput('pr-number') ? Number(core.getInput('pr-number')) : undefined;
  if (prNumber !== undefined && !(Number.isInteger(prNumber) && prNumber > 0))
    throw new Error('input pr-number must be a PR number');

  let results: BenchResults;
  if (base && head) {
    const outcome = await core.group('perf-lab PR check (base, head, libdeflate)', () =>
      prCheck({
        repo: core.getInput('repository') || '.',
        baseRef: base,
        headRef: head,
        config: core.getInput('config') || '.github/perf-lab.json',
        scale,
        datasetsDir,
        only,
        cpu: 'apple-m1',
        artifactDir: core.getInput('artifact-dir') || 'perf-lab-artifact',
        prNumber,
        analyze: false,
      }),
    );
    results = outcome.results;
    core.setOutput('base-build', outcome.builds.base);
    core.setOutput('head-build', outcome.builds.head);
    core.setOutput('reference-build', outcome.builds.reference);
  } else {
    const config = await loadBenchConfig(core.getInput('config', { required: true }));
    results = await core.group('perf-lab bench', () =>
      runBenchmark({ config, scale, datasetsDir, only, silesiaZip: core.getInput('silesia-zip') || undefined }),
    );
  }
  const jsonPath = resolve(core.getInput('results') || 'perf-lab-results.json');
  const report = markdownReport(results);
  await writeResults(jsonPath, results);
  await writeFileAtomically(`${jsonPath.replace(/\.json$/, '')}.md`, report);
  core.setOutput('results', jsonPath);
  core.setOutput('datasets-dir', datasetsDir);
  core.setOutput('ok', String(results.ok));
  await core.summary.addRaw(report).write();
  // A failed run is red, with the reason in the annotation and the report in the job summary.
  if (!results.ok) {
    const failed = results.datasets.flatMap((dataset) =>
      dataset.contenders.filter((c) => c.failure).map((c) => `${dataset.label} ${c.name}: ${c.failure}`),
    );
    core.setFailed(`perf-lab: verification failed (exit 3): ${failed.join('; ')}. The report is in the job summary.`);
    return;
  }
  const failing = verdictFailures(results, failOn);
  if (failing.length > 0)
    core.setFailed(`perf-lab: fail-on ${failOn}: ${failing.join('; ')}. The report is in the job summary.`);
});
