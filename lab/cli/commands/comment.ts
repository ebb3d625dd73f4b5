import { resolve } from 'node:path';
import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { LabError } from '../../core/errors.js';
import { commentOnPullRequest } from '../../github/index.js';
import { apiUrlOption, positiveInt } from '../options.js';
import { tokenFor } from '../../github/credentials.js';

export function registerComment(program: CommandUnknownOpts): void {
  program
    .command('comment')
    .description(
      'post or update the sticky PR comment from a perf-pr artifact (token from GITHUB_TOKEN; the PR is verified ' +
        'against the run)',
    )
    .requiredOption('--artifact <dir>', 'the downloaded perf-pr artifact folder')
    .requiredOption('--repo <owner/name>', 'the repository')
    .requiredOption('--run-id <id>', 'the perf-pr workflow run that produced the artifact', positiveInt)
    .addOption(apiUrlOption())
    .option('--author <login>', 'the login the sticky comment is posted as', 'github-actions[bot]')
    .option('--full-report-url <url>', 'linked when the comment must be cut')
    .action(async (options) => {
      const token = tokenFor('GITHUB_TOKEN');
      if (!token)
        throw new LabError(
          'comment',
          'GITHUB_TOKEN is not set.',
          'pass the workflow token as the GITHUB_TOKEN environment variable.',
        );
      const { outcome, prNumber } = await commentOnPullRequest({
        artifactDir: resolve(options.artifact),
        repository: options.repo,
        runId: options.runId,
        token,
        apiUrl: options.apiUrl,
        author: options.author,
        fullReportUrl: options.fullReportUrl,
        summaryPath: process.env.GITHUB_STEP_SUMMARY,
      });
      process.stdout.write(
        outcome.action === 'skipped'
          ? `PR #${prNumber}: comment skipped (${outcome.reason})\n`
          : `PR #${prNumber}: comment ${outcome.action} (${outcome.url})\n`,
      );
    });
}
