import { appendFile } from 'node:fs/promises';
import { LabError } from '../core/errors.js';
import { warn } from '../core/log.js';
import { createGitHubClient } from './client.js';
import { renderComment, upsertStickyComment, type UpsertOutcome } from './comment.js';
import { readArtifact } from '../artifact/index.js';
import { verifyPullRequest } from './trust.js';

export { type GitHubClient } from './client.js';
export { renderComment } from './comment.js';

export interface CommentOptions {
  artifactDir: string;
  /** owner/name */
  repository: string;
  runId: number;
  token: string;
  apiUrl?: string;
  author?: string;
  fullReportUrl?: string;
  /** The job summary file ($GITHUB_STEP_SUMMARY), written whatever happens to the comment. */
  summaryPath?: string;
  retryBaseMs?: number;
}

/**
 * The perf-comment job: validate the artifact, make sure the PR it names is
 * the one the run measured, then create or update the sticky comment. A PR that
 * moved on since the run is skipped (the outcome says why); a token that may not
 * comment fails, after the job summary is written.
 */
export async function commentOnPullRequest(
  options: CommentOptions,
): Promise<{ outcome: UpsertOutcome; prNumber: number; body: string }> {
  const [owner, repo] = options.repository.split('/');
  if (!owner || !repo || options.repository.split('/').length !== 2) {
    throw new LabError(
      'comment',
      `--repo ${JSON.stringify(options.repository)} is not owner/name.`,
      'pass the repository as owner/name (in Actions: ${{ github.repository }}).',
    );
  }
  const artifact = await readArtifact(options.artifactDir);
  const client = createGitHubClient({
    token: options.token,
    baseUrl: options.apiUrl,
    retryBaseMs: options.retryBaseMs,
    onWarning: warn,
  });
  const verified = await verifyPullRequest(client, owner, repo, options.runId, artifact.pr);
  if ('stale' in verified)
    return { outcome: { action: 'skipped', reason: verified.stale }, prNumber: artifact.pr.prNumber, body: '' };
  const prNumber = verified.prNumber;
  const body = renderComment(artifact.results, {
    analysisMarkdown: artifact.analysisMarkdown,
    fullReportUrl: options.fullReportUrl,
    headSha: artifact.pr.headSha,
    baseSha: artifact.pr.baseSha,
    configChanges: artifact.pr.configChanges,
  });
  if (options.summaryPath) await appendFile(options.summaryPath, `${body.replace(/^<!--[^>]*-->\n*/, '')}\n`);
  const outcome = await upsertStickyComment(
    client,
    { owner, repo, issueNumber: prNumber, author: options.author },
    body,
  );
  return { outcome, prNumber, body };
}
