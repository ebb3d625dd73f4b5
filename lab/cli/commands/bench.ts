import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { loadBenchConfig, withTolerance } from '../../bench/config.js';
import { REPLAY_VARIABLE, replayRunner } from '../../bench/replay.js';
import { runBenchmark } from '../../bench/run.js';
import { warn } from '../../core/log.js';
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
      const config = withTolerance(await loadBenchConfig(options.config), options.tolerance, '--tolerance');
      // The test seam (docs/cli.md): recorded batches instead of timed ones, said loudly so it is never mistaken.
      const replay = process.env[REPLAY_VARIABLE];
      if (replay) warn(`bench: ${REPLAY_VARIABLE} is set: batch times are replayed from ${replay}, not measured`);
      const results = await runBenchmark({
        config,
        toleranceSource: options.tolerance === undefined ? options.config : '--tolerance',
        ...datasetSelection(options),
        silesiaZip: options.silesiaZip,
        ...(replay ? { runBatch: await replayRunner(replay, config.bench) } : {}),
      });
      await writeOutputs(results, options.json, options.markdown);
      exitAsJudged('bench', results);
    });
}
