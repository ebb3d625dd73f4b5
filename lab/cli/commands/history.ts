import { resolve } from 'node:path';
import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { historyEvents } from '../../history/changes.js';
import { defaultHistoryPath } from '../../history/nightly.js';
import { readHistory } from '../../history/store.js';
import { LabError } from '../../core/errors.js';
import { fileExists } from '../../core/files.js';

export function registerHistory(program: CommandUnknownOpts): void {
  program
    .command('history')
    .description('query the nightly history: records and detected events')
    .option('--history <file>', 'history file (JSON lines; default: baselines/history/nightly.jsonl)')
    .option('--dataset <label>', 'only this dataset (e.g. LOGS)')
    .option('--toolchain <name>', 'only this toolchain')
    .action(async (options) => {
      const path = resolve(options.history ?? defaultHistoryPath());
      // The nightly job starts a missing history; a query of one is a wrong path, not an empty history.
      if (!(await fileExists(path)))
        throw new LabError(
          'history',
          `there is no history file at ${path}.`,
          'pass --history <the nightly.jsonl perf-lab nightly writes> (the nightly workflow pushes it to the data ' +
            'repository: read it from a clone of that); no nightly run has written one here.',
        );
      const records = (await readHistory(path)).filter(
        (r) =>
          (!options.dataset || r.dataset === options.dataset) &&
          (!options.toolchain || r.toolchain === options.toolchain),
      );
      for (const r of records) {
        const ratio = `${r.ratio.estimate.toFixed(3)} (${r.ratio.low.toFixed(3)}–${r.ratio.high.toFixed(3)})`;
        process.stdout.write(
          `${r.date}  ${r.toolchain.padEnd(10)} ${r.dataset.padEnd(20)} ratio ${ratio}  ${r.rustc}, LLVM ${r.llvm}\n`,
        );
      }
      const events = historyEvents(records);
      process.stdout.write(
        `${records.length} records; ${events.length} events${events.length ? ':' : ''}\n` +
          events.map((event) => `  ${event.kind}: ${event.text}\n`).join(''),
      );
    });
}
