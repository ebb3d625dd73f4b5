import { resolve } from 'node:path';
import { writeArtifactAnalysis } from '../../../lab/artifact/index.js';
import { writeFileAtomically } from '../../../lab/core/files.js';
import { hotLoopSection } from '../../../lab/explain/index.js';
import { readResults } from '../../../lab/results/index.js';
import { pairedInputs, requiredInput, runAction, type ActionCore } from '../../shared.js';

/** The analyze action's inputs (action.yml), read once. */
export interface AnalyzeInputs {
  builds: { base: string; head: string; reference: string };
  functionName: string;
  cpu: string | undefined;
  pins: { loop?: string; referenceLoop?: string };
  /** The bench action's results and datasets folder, for the model-against-measurement section. */
  measurement?: { results: string; datasetsDir: string };
  output: string;
  artifactDir?: string;
}

export function readAnalyzeInputs(actionCore: ActionCore): AnalyzeInputs {
  const required = (name: string) => requiredInput(actionCore, 'analyze', name);
  const measurement = pairedInputs(
    actionCore,
    'analyze',
    ['results', 'datasets-dir'],
    "pass both (the bench action's results and datasets-dir outputs), or neither.",
  );
  const artifactDir = actionCore.getInput('artifact-dir');
  return {
    builds: { base: required('base'), head: required('head'), reference: required('reference') },
    functionName: required('function'),
    // Empty: the model chosen for this runner's CPU (an Apple M-series model on macOS, neoverse-n2 on Cobalt 100).
    cpu: actionCore.getInput('cpu') || undefined,
    pins: {
      loop: actionCore.getInput('loop') || undefined,
      referenceLoop: actionCore.getInput('reference-loop') || undefined,
    },
    measurement: measurement && { results: resolve(measurement[0]), datasetsDir: resolve(measurement[1]) },
    output: resolve(required('output')),
    artifactDir: artifactDir ? resolve(artifactDir) : undefined,
  };
}

/** The base/head/libdeflate critical-path section, written where asked and, optionally, into the perf-pr artifact. */
export async function run(actionCore: ActionCore): Promise<void> {
  await runAction(actionCore, async () => {
    const inputs = readAnalyzeInputs(actionCore);
    const measurement = inputs.measurement
      ? { results: await readResults(inputs.measurement.results), datasetsDir: inputs.measurement.datasetsDir }
      : undefined;
    const markdown = await actionCore.group('perf-lab analyze', () =>
      hotLoopSection(inputs.builds, inputs.functionName, inputs.cpu, inputs.pins, measurement),
    );
    await writeFileAtomically(inputs.output, markdown);
    if (inputs.artifactDir) await writeArtifactAnalysis(inputs.artifactDir, markdown);
    actionCore.setOutput('markdown', inputs.output);
    await actionCore.writeSummary(markdown);
  });
}
