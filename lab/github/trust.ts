import type { PrInfo } from '../artifact/index.js';
import { LabError } from '../core/errors.js';
import { apiError, type GitHubClient } from './client.js';

/**
 * The PR a workflow run may comment on: the artifact's claim is believed only
 * when GitHub says that PR's head is the commit the run measured, so a fork
 * cannot steer the comment onto another PR. A PR whose head moved on is
 * `stale`: skipped with a notice, not a failed job.
 */
export async function verifyPullRequest(
  client: GitHubClient,
  owner: string,
  repo: string,
  runId: number,
  claimed: PrInfo,
): Promise<{ prNumber: number } | { stale: string }> {
  const run = await client.rest.actions.getWorkflowRun({ owner, repo, run_id: runId }).catch((error: unknown) => {
    throw apiError('comment: verify', `reading workflow run ${runId} of ${owner}/${repo}`, error);
  });
  const runSha = run.data.head_sha;
  if (claimed.headSha !== runSha) {
    throw new LabError(
      'comment: verify',
      `the artifact says it measured ${claimed.headSha}, but workflow run ${runId} ran on ${runSha}.`,
      'refusing to comment: the artifact does not belong to this run.',
    );
  }
  const pull = await client.rest.pulls
    .get({ owner, repo, pull_number: claimed.prNumber })
    .catch((error: { status?: number }) => {
      if (error.status === 404)
        throw new LabError(
          'comment: verify',
          `PR #${claimed.prNumber} does not exist in ${owner}/${repo}.`,
          'refusing to comment.',
        );
      throw apiError('comment: verify', `reading PR #${claimed.prNumber} of ${owner}/${repo}`, error);
    });
  if (pull.data.head.sha !== runSha) {
    // A push since the run (or a forged PR number): nothing is written; a newer run posts its own results.
    return {
      stale:
        `PR #${claimed.prNumber}'s head is ${pull.data.head.sha}, not ${runSha} (the commit workflow run ` +
        `${runId} measured): the PR moved on since this run, or the PR number in the artifact is forged or ` +
        `stale. Not commenting; the run for the newer head posts its own results.`,
    };
  }
  return { prNumber: claimed.prNumber };
}
