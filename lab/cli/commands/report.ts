import { resolve } from 'node:path';
import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { markdownReport } from '../../report/index.js';
import { readResults } from '../../results/index.js';

export function registerReport(program: CommandUnknownOpts): void {
  program
    .command('report')
    .description('render the markdown report of a results JSON file')
    .requiredOption('--results <file>', 'results JSON written by bench or demo')
    .action(async (options) => {
      process.stdout.write(markdownReport(await readResults(resolve(options.results))));
    });
}
