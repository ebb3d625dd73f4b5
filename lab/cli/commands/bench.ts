import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { loadBenchConfig, withTolerance } from '../../bench/config.js';
import { runBenchmark } from '../../bench/run.js';
import {
  datasetSelection,
  jsonOption,
  markdownOption,
  silesiaZipOption,
  toleranceOption,
  withDatasetOptions,
} from '../options.js';
import { exitAsJudged, writeOutputs } from '../output.js';

export function registerBench(program: CommandUnknownOpts): void {
  withDatasetOptions(
    program
      .command('bench')
      .description(
        'build libdeflate and the decoder under test from a config file, then benchmark them interleaved on each ' +
          'dataset',
      )
      .requiredOption('--config <file>', 'bench config (JSON, see docs/config.md)'),
  )
    .addOption(silesiaZipOption())
    .addOption(jsonOption())
    .addOption(markdownOption())
    .addOption(toleranceOption())
    .action(async (options) => {
      const results = await runBenchmark({
        config: withTolerance(await loadBenchConfig(options.config), options.tolerance, '--tolerance'),
        toleranceSource: options.tolerance === undefined ? options.config : '--tolerance',
        ...datasetSelection(options),
        silesiaZip: options.silesiaZip,
      });
      await writeOutputs(results, options.json, options.markdown);
      exitAsJudged('bench', results);
    });
}
