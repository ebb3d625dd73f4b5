import { resolve } from 'node:path';
import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { runBenchmark } from '../../bench/run.js';
import { info } from '../../core/log.js';
import { demoConfig, demoOutputPaths } from '../../demo/index.js';
import {
  datasetSelection,
  jsonOption,
  markdownOption,
  positiveInt,
  silesiaZipOption,
  withDatasetOptions,
} from '../options.js';
import { exitAsJudged, writeOutputs } from '../output.js';

export function registerDemo(program: CommandUnknownOpts): void {
  withDatasetOptions(
    program
      .command('demo')
      .description(
        'the main job on an embedded default: reachable libdeflate vs a real Rust decoder (miniz_oxide shim), quick ' +
          'datasets, verified paired benchmark, report',
      ),
    'never download (libdeflate from Debian or the system; SILESIA stand-in)',
  )
    .option('--rounds <n>', 'measured rounds per batch (each batch starts fresh worker processes)', positiveInt, 12)
    .option('--warmup <n>', 'warm-up rounds per batch', (value) => (value === '0' ? 0 : positiveInt(value)), 2)
    .option('--budget <seconds>', 'sampling time budget per dataset', positiveInt, 20)
    .addOption(silesiaZipOption('the Silesia corpus silesia.zip'))
    .addOption(jsonOption('write the results JSON here (default: .perf-lab/results/demo-<time>.json)'))
    .addOption(markdownOption('write the markdown report here (default: beside the JSON)'))
    .action(async (options) => {
      const config = await demoConfig({
        rounds: options.rounds,
        warmupRounds: options.warmup,
        budgetSeconds: options.budget,
        offline: Boolean(options.offline),
      });
      const results = await runBenchmark({
        config,
        ...datasetSelection(options),
        silesiaZip: options.silesiaZip,
      });
      const defaults = demoOutputPaths();
      const jsonPath = options.json ?? defaults.json;
      const markdownPath =
        options.markdown ?? (options.json ? `${options.json.replace(/\.json$/, '')}.md` : defaults.markdown);
      await writeOutputs(results, jsonPath, markdownPath);
      info(`\nresults JSON: ${resolve(jsonPath)}\nmarkdown report: ${resolve(markdownPath)}`);
      exitAsJudged('demo', results);
    });
}
