import { resolve } from 'node:path';
import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { defaultDatasetsDir, prepareDatasets, requireManifest, verifyDatasetFiles } from '../../datasets/index.js';
import { offlineOption, onlyOption, scaleOption, silesiaZipOption } from '../options.js';

export function registerDatasets(program: CommandUnknownOpts): void {
  const datasets = program.command('datasets').description('prepare and check the SILESIA, SOFTWARE and LOGS datasets');
  datasets
    .command('prepare')
    .description('generate/compress the datasets and write DIR/manifest.json')
    .addOption(scaleOption())
    .addOption(onlyOption())
    .option('--dir <dir>', 'output folder (default: .perf-lab/datasets/<scale>)')
    .addOption(
      silesiaZipOption('the Silesia corpus silesia.zip (otherwise cached, downloaded, or a labelled stand-in)'),
    )
    .addOption(offlineOption())
    .option('--gzip <program>', 'the gzip used to compress', 'gzip')
    .action(async (options) => {
      const dir = resolve(options.dir ?? defaultDatasetsDir(options.scale));
      const manifest = await prepareDatasets({
        dir,
        scale: options.scale,
        only: options.only,
        silesiaZip: options.silesiaZip,
        offline: options.offline,
        gzip: options.gzip,
      });
      for (const entry of manifest.datasets) {
        const { raw, compressed } = entry;
        process.stdout.write(
          `${entry.label.padEnd(20)} raw ${String(raw.bytes).padStart(10)} B  sha256 ${raw.sha256.slice(0, 16)}…  ` +
            `${compressed.compressor} -${compressed.level} → ${String(compressed.bytes).padStart(9)} B  ` +
            `sha256 ${compressed.sha256.slice(0, 16)}…\n`,
        );
      }
      process.stdout.write(`manifest: ${resolve(dir, 'manifest.json')}\n`);
    });
  datasets
    .command('verify')
    .description('re-check sizes and sha256 of every file in DIR/manifest.json')
    .addOption(scaleOption())
    .option('--dir <dir>', 'datasets folder (default: .perf-lab/datasets/<scale>)')
    .action(async (options) => {
      const dir = resolve(options.dir ?? defaultDatasetsDir(options.scale));
      const manifest = await requireManifest(dir);
      for (const entry of manifest.datasets) {
        await verifyDatasetFiles(dir, entry);
        process.stdout.write(
          `${entry.label}: ok (${entry.raw.bytes} raw bytes, ${entry.compressed.bytes} compressed bytes)\n`,
        );
      }
    });
}
