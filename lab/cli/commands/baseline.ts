import { resolve } from 'node:path';
import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { updateBaselines } from '../../baselines/index.js';
import { publishBaselines } from '../../baselines/publish.js';
import { digestFile } from '../../core/files.js';
import { readResults } from '../../results/index.js';
import { apiUrlOption, baselinesDir, baselinesOption } from '../options.js';
import { tokenFor } from '../../github/credentials.js';

export function registerBaseline(program: CommandUnknownOpts): void {
  const baseline = program
    .command('baseline')
    .description('the stored baselines (decoder/libdeflate ratio per machine, dataset, libdeflate and toolchain)');
  baseline
    .command('update')
    .description(
      'append the ratios of a verified results file to their baselines (refuses failed, stand-in or mismatched ' +
        'results)',
    )
    .requiredOption('--results <file>', 'results JSON written by bench')
    .addOption(baselinesOption())
    .action(async (options) => {
      const path = resolve(options.results);
      const results = await readResults(path);
      const outcomes = await updateBaselines(results, (await digestFile(path)).sha256, baselinesDir(options.baselines));
      for (const outcome of outcomes)
        process.stdout.write(`${outcome.dataset}: ${outcome.path} (${outcome.entries} entries)\n`);
    });

  baseline
    .command('publish')
    .description(
      'update baselines/ in a clone of the baseline repository and push (to its branch, or a new branch with a PR); ' +
        'replays the update when the branch moved',
    )
    .requiredOption('--results <file>', 'results JSON written by bench')
    .requiredOption('--repo-dir <dir>', 'a clone of the repository holding baselines/')
    .option('--message <text>', 'commit message and PR title', 'Update perf-lab baselines')
    .option('--push-directly', 'push to the checked-out branch instead of opening a PR')
    .option('--remote <name>', 'git remote', 'origin')
    .option('--github-repo <owner/name>', 'open the PR there (token from GITHUB_TOKEN)')
    .addOption(apiUrlOption())
    .action(async (options) => {
      const path = resolve(options.results);
      const outcome = await publishBaselines({
        results: await readResults(path),
        resultsSha256: (await digestFile(path)).sha256,
        repoDir: resolve(options.repoDir),
        message: options.message,
        pushDirectly: Boolean(options.pushDirectly),
        remote: options.remote,
        githubRepository: options.githubRepo,
        token: tokenFor('GITHUB_TOKEN'),
        apiUrl: options.apiUrl,
      });
      const pullRequest = outcome.pullRequestUrl ? `; pull request ${outcome.pullRequestUrl}` : '';
      process.stdout.write(
        `pushed ${outcome.commit.slice(0, 12)} to ${outcome.branch} after ${outcome.attempts} ` +
          `attempt(s)${pullRequest}\n`,
      );
    });
}
