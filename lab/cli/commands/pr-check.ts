import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { prCheck } from '../../prcheck/index.js';
import {
  cpuOption,
  datasetSelection,
  failOnOption,
  positiveInt,
  toleranceOption,
  withDatasetOptions,
} from '../options.js';
import { exitAsJudged } from '../output.js';

export function registerPrCheck(program: CommandUnknownOpts): void {
  withDatasetOptions(
    program
      .command('pr-check')
      .description(
        'the PR check, locally: build base and head of a decoder repository, benchmark three-way, analyse, and print ' +
          'the comment it would post',
      )
      .requiredOption('--base <ref>', 'base commit/branch/tag')
      .requiredOption('--head <ref>', 'head commit/branch/tag')
      .option('--repo <path>', 'the decoder repository', '.')
      .option(
        '--config <file>',
        'bench config inside the repository (cargo.path relative to its root)',
        '.github/perf-lab.json',
      ),
  )
    .option('--function <name>', "the decoder's hot function, for the critical-path section (ARM64 hosts)")
    .addOption(cpuOption())
    .option('--artifact-dir <dir>', 'also write the perf-pr artifact (results.json, pr.json, analysis.md, report.md)')
    .option('--pr <number>', 'PR number recorded in pr.json', positiveInt)
    .addOption(failOnOption("exit with code 4 when a dataset's head-vs-base verdict is this", 'never'))
    .addOption(toleranceOption())
    .action(async (options) => {
      const outcome = await prCheck({
        repo: options.repo,
        baseRef: options.base,
        headRef: options.head,
        config: options.config,
        ...datasetSelection(options),
        functionName: options.function,
        cpu: options.cpu,
        artifactDir: options.artifactDir,
        prNumber: options.pr,
        tolerance: options.tolerance,
      });
      process.stdout.write(`${outcome.body}\n`);
      exitAsJudged('pr-check', outcome.results, options.failOn);
    });
}
