import { resolve } from 'node:path';
import { Option, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { loadBenchConfig } from '../../bench/config.js';
import { writeFileAtomically } from '../../core/files.js';
import { info } from '../../core/log.js';
import { defaultHistoryPath, runNightly } from '../../history/nightly.js';
import { apiUrlOption, cpuOption, datasetSelection, markdownOption, withDatasetOptions } from '../options.js';
import { commaList } from '../parse.js';
import { EXIT_CONTENDER_FAILED } from '../../results/index.js';
import { tokenFor } from '../../github/credentials.js';

export function registerNightly(program: CommandUnknownOpts): void {
  withDatasetOptions(
    program
      .command('nightly')
      .description(
        'build the decoder with several Rust toolchains (and libdeflate with several C compilers), measure the ' +
          'ratios, append them to the history and report events',
      )
      .requiredOption('--config <file>', 'bench config')
      .addOption(
        new Option('--toolchains <list>', 'rustup toolchains, comma-separated')
          .argParser(commaList)
          .default(['stable'], 'stable'),
      )
      .option(
        '--clang <list>',
        'clang versions for libdeflate, comma-separated (e.g. 14,19 → clang-14, clang-19)',
        commaList,
      ),
  )
    .option('--history <file>', 'history file (JSON lines)')
    .option('--function <name>', "the decoder's hot function, for the critical path per toolchain (ARM64 hosts)")
    .addOption(cpuOption())
    .option('--date <yyyy-mm-dd>', 'the night to record (default: today, UTC)')
    .addOption(markdownOption('write the report here'))
    .option(
      '--publish <repo-dir>',
      'commit the history and charts in this clone and push (retried when the branch moved)',
    )
    .option(
      '--github-repo <owner/name>',
      'open or update the tracking issue there when tonight has events (token from GITHUB_TOKEN)',
    )
    .addOption(apiUrlOption())
    .action(async (options) => {
      const outcome = await runNightly({
        config: await loadBenchConfig(options.config),
        toolchains: options.toolchains,
        compilers: options.clang ?? [],
        ...datasetSelection(options),
        historyPath: resolve(options.history ?? defaultHistoryPath()),
        functionName: options.function,
        cpu: options.cpu,
        date: options.date,
        publishRepoDir: options.publish,
        githubRepository: options.githubRepo,
        token: tokenFor('GITHUB_TOKEN'),
        apiUrl: options.apiUrl,
      });
      if (options.markdown) await writeFileAtomically(resolve(options.markdown), outcome.markdown);
      if (outcome.issueUrl) info(`tracking issue: ${outcome.issueUrl}`);
      process.stdout.write(outcome.markdown);
      if (outcome.runs.some((run) => !run.results || !run.results.ok)) process.exitCode = EXIT_CONTENDER_FAILED;
    });
}
