import * as core from '@actions/core';
import { resolve } from 'node:path';
import { loadBenchConfig } from '../../../lab/bench/config.js';
import { writeResults } from '../../../lab/bench/results.js';
import { runBenchmark } from '../../../lab/bench/run.js';
import { writeFileAtomically } from '../../../lab/core/files.js';
import { DATASET_NAMES, defaultDatasetsDir, type DatasetName, type Scale } from '../../../lab/datasets/index.js';
import { markdownReport } from '../../../lab/report/index.js';
import { runAction } from '../../shared.js';

await runAction(async () => {
  const scale = (core.getInput('scale') || 'full') as Scale;
  if (scale !== 'quick' && scale !== 'full') throw new Error(`input scale must be quick or full, not ${scale}`);
  const only = core.getInput('datasets').split(',').map((name) => name.trim()).filter(Boolean) as DatasetName[];
  for (const name of only) if (!(DATASET_NAMES as readonly string[]).includes(name)) throw new Error(`input datasets: unknown dataset ${name}`);
  const config = await loadBenchConfig(core.getInput('config', { required: true }));
  const datasetsDir = resolve(core.getInput('datasets-dir') || defaultDatasetsDir(scale));
  const results = await core.group('perf-lab bench', () => runBenchmark({ config, scale, datasetsDir, only, silesiaZip: core.getInput('silesia-zip') || undefined }));
  const jsonPath = resolve(core.getInput('results') || 'perf-lab-results.json');
  const report = markdownReport(results);
  await writeResults(jsonPath, results);
  await writeFileAtomically(jsonPath.replace(/\.json$/, '') + '.md', report);
  core.setOutput('results', jsonPath);
  core.setOutput('ok', String(results.ok));
  await core.summary.addRaw(report).write();
  if (!results.ok) core.setFailed('perf-lab: a contender failed verification, crashed or hung; see the report.');
});
