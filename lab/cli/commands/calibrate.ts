import { resolve } from 'node:path';
import { Option, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { publishCalibration } from '../../baselines/publish.js';
import { calibrationPath } from '../../bench/calibrate.js';
import { calibrateMachine, storeCalibration } from '../../bench/calibrate-run.js';
import { loadBenchConfig } from '../../bench/config.js';
import { datasetSelection, positiveInt, subjectList, withDatasetOptions } from '../options.js';

export function registerCalibrate(program: CommandUnknownOpts): void {
  withDatasetOptions(
    program
      .command('calibrate')
      .description(
        "measure this machine's noise: A/A/A runs of each subject (libdeflate, and the configured head/base), " +
          'replayed through the sampling plan: batch noise, no-change and false-positive rates, minimum detectable ' +
          'effect',
      )
      .requiredOption('--config <file>', 'bench config (its contenders and bench settings are used)'),
  )
    .addOption(
      new Option(
        '--subjects <roles>',
        'comma-separated contenders to calibrate on: libdeflate, head, base (the noisiest decides)',
      )
        .argParser(subjectList)
        .default(['libdeflate' as const], 'libdeflate'),
    )
    .option('--batches <n>', 'A/A/A batches to record per dataset and subject', positiveInt, 30)
    .option('--traces-dir <dir>', 'also keep the recorded traces here (JSON, one file a dataset and subject)')
    .option(
      '--repo <dir>',
      'a decoder repository: --config is inside it and its relative paths are from its root (as in pr-check)',
    )
    .option(
      '--store-dir <dir>',
      'write the calibration to this folder (default: the cache, which is what PR runs restore; a perf-lab ' +
        "checkout's baselines/calibration is read by runs of that checkout)",
    )
    .option(
      '--publish <repo-dir>',
      'write it to <repo-dir>/baselines/calibration and commit and push there (replayed when the branch moved)',
    )
    .action(async (options) => {
      const calibrated = await calibrateMachine({
        config: await loadBenchConfig(options.config, options.repo),
        subjects: options.subjects,
        batches: options.batches,
        ...datasetSelection(options),
        tracesDir: options.tracesDir,
        onDataset: (line) => process.stdout.write(`${line}\n`),
      });
      if (options.publish) {
        const outcome = await publishCalibration(calibrated, resolve(options.publish));
        process.stdout.write(
          'calibration ' +
            `${outcome.commit ? `pushed as ${outcome.commit.slice(0, 12)} to ${outcome.branch}` : 'unchanged'}\n`,
        );
      } else {
        await storeCalibration(calibrated, calibrationPath(options.storeDir ? resolve(options.storeDir) : undefined));
      }
    });
}
