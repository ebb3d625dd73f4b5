import { resolve } from 'node:path';
import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { compareWithBaselines, driftFailures } from '../../baselines/index.js';
import { driftTable } from '../../report/index.js';
import { EXIT_VERDICT_FAILED, readResults } from '../../results/index.js';
import { baselinesDir, baselinesOption, failOnOption } from '../options.js';

export function registerCompare(program: CommandUnknownOpts): void {
  program
    .command('compare')
    .description('compare the decoder/libdeflate ratios of a results file with the stored baselines of the same key')
    .requiredOption('--results <file>', 'results JSON written by bench')
    .addOption(baselinesOption())
    .addOption(failOnOption('exit with code 4 when a dataset shows this', 'regression'))
    .action(async (options) => {
      const results = await readResults(resolve(options.results));
      const drifts = await compareWithBaselines(results, baselinesDir(options.baselines));
      process.stdout.write(driftTable(drifts));
      if (driftFailures(drifts, options.failOn).length > 0) process.exitCode = EXIT_VERDICT_FAILED;
    });
}
