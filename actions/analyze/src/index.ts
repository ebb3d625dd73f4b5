import * as core from '@actions/core';
import { resolve } from 'node:path';
import { writeFileAtomically } from '../../../lab/core/files.js';
import { criticalPathDiff } from '../../../lab/report/critical-path.js';
import { analyzeLoop, loadCpuModel } from '../../../lab/uarch/index.js';
import { runAction } from '../../shared.js';

await runAction(async () => {
  const cpu = core.getInput('cpu') || 'apple-m1';
  const functionName = core.getInput('function', { required: true });
  const model = await loadCpuModel(cpu);
  const analyse = (path: string, name: string) => analyzeLoop({ path, functionName: name, cpu }, model);
  const markdown = await core.group('perf-lab analyze', async () => {
    const base = await analyse(core.getInput('base', { required: true }), functionName);
    const head = await analyse(core.getInput('head', { required: true }), functionName);
    const referencePath = core.getInput('reference');
    const reference = referencePath ? await analyse(referencePath, core.getInput('reference-function') || 'libdeflate_deflate_decompress_ex') : undefined;
    return criticalPathDiff(base, head, reference);
  });
  const output = resolve(core.getInput('output') || 'perf-lab-analysis.md');
  await writeFileAtomically(output, markdown);
  core.setOutput('markdown', output);
  await core.summary.addRaw(markdown).write();
});
