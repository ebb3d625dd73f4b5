import * as core from '@actions/core';
import { commentOnPullRequest } from '../../../lab/github/index.js';
import { runAction } from '../../shared.js';

await runAction(async () => {
  const token = core.getInput('token', { required: true });
  core.setSecret(token);
  const runId = Number(core.getInput('run-id', { required: true }));
  if (!Number.isInteger(runId) || runId <= 0) throw new Error('input run-id must be a workflow run id');
  const { outcome, prNumber } = await core.group('perf-lab comment', () =>
    commentOnPullRequest({
      artifactDir: core.getInput('artifact', { required: true }),
      repository: core.getInput('repository', { required: true }),
      runId,
      token,
      apiUrl: process.env.GITHUB_API_URL,
      fullReportUrl: core.getInput('full-report-url') || undefined,
      author: core.getInput('author') || undefined,
      summaryPath: process.env.GITHUB_STEP_SUMMARY,
    }),
  );
  if (outcome.action === 'skipped') core.notice(outcome.reason);
  core.setOutput('pr', String(prNumber));
  core.setOutput('comment-url', outcome.action === 'skipped' ? '' : outcome.url);
});
