import * as core from '@actions/core';
import { join, resolve } from 'node:path';
import { writeFileAtomically } from '../../../lab/core/files.js';
import { hotLoopSection } from '../../../lab/prcheck/index.js';
import { runAction } from '../../shared.js';

/** The base/head/libdeflate critical-path section, written where asked and, optionally, into the perf-pr artifact. */
await runAction(async () => {
  const cpu = core.getInput('cpu') || 'apple-m1';
  const functionName = core.getInput('function', { required: true });
  const builds = { base: core.getInput('base', { required: true }), head: core.getInput('head', { required: true }), reference: core.getInput('reference', { required: true }) };
  const pins = { loop: core.getInput('loop') || undefined, referenceLoop: core.getInput('reference-loop') || undefined };
  const markdown = await core.group('perf-lab analyze', () => hotLoopSection(builds, functionName, cpu, pins));
  const output = resolve(core.getInput('output') || 'perf-lab-analysis.md');
  await writeFileAtomically(output, markdown);
  const artifactDir = core.getInput('artifact-dir');
  if (artifactDir) await writeFileAtomically(join(resolve(artifactDir), 'analysis.md'), markdown);
  core.setOutput('markdown', output);
  await core.summary.addRaw(markdown).write();
});
