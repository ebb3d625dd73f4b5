import * as core from '@actions/core';
import { join, resolve } from 'node:path';
import { readResults } from '../../../lab/results/index.js';
import { writeFileAtomically } from '../../../lab/core/files.js';
import { hotLoopSection } from '../../../lab/explain/index.js';
import { runAction } from '../../shared.js';

/** The base/head/libdeflate critical-path section, written where asked and, optionally, into the perf-pr artifact. */
await runAction(async () => {
  const cpu = core.getInput('cpu') || 'apple-m1';
  const functionName = core.getInput('function', { required: true });
  const builds = {
    base: core.getInput('base', { required: true }),
    head: core.getInput('head', { required: true }),
    reference: core.getInput('reference', { required: true }),
  };
  const pins = {
    loop: core.getInput('loop') || undefined,
    referenceLoop: core.getInput('reference-loop') || undefined,
  };
  const resultsPath = core.getInput('results');
  const datasetsDir = core.getInput('datasets-dir');
  if (Boolean(resultsPath) !== Boolean(datasetsDir))
    throw new Error(
      "inputs results and datasets-dir go together (the bench action's results and datasets-dir outputs)",
    );
  const measurement = resultsPath
    ? { results: await readResults(resolve(resultsPath)), datasetsDir: resolve(datasetsDir) }
    : undefined;
  const markdown = await core.group('perf-lab analyze', () =>
    hotLoopSection(builds, functionName, cpu, pins, measurement),
  );
  const output = resolve(core.getInput('output') || 'perf-lab-analysis.md');
  await writeFileAtomically(output, markdown);
  const artifactDir = core.getInput('artifact-dir');
  if (artifactDir) await writeFileAtomically(join(resolve(artifactDir), 'analysis.md'), markdown);
  core.setOutput('markdown', output);
  await core.summary.addRaw(markdown).write();
});
