import { apiError, type GitHubClient } from './client.js';

export const TRACKING_MARKER = '<!-- perf-lab:nightly-tracking -->';

/**
 * Creates the nightly tracking issue, or (when an open one with the marker
 * exists) updates its body and adds tonight's events as a comment, so the
 * maintainers get one issue with a running log.
 */
export async function upsertTrackingIssue(
  client: GitHubClient,
  target: { owner: string; repo: string },
  title: string,
  body: string,
  comment: string,
): Promise<{ action: 'created' | 'updated'; number: number; url: string }> {
  const marked = `${TRACKING_MARKER}\n${body}`;
  try {
    const open = await client.paginate(client.rest.issues.listForRepo, {
      owner: target.owner,
      repo: target.repo,
      state: 'open',
      per_page: 100,
    });
    const existing = open.find(
      (issue) => !issue.pull_request && typeof issue.body === 'string' && issue.body.includes(TRACKING_MARKER),
    );
    if (existing) {
      await client.rest.issues.update({
        owner: target.owner,
        repo: target.repo,
        issue_number: existing.number,
        body: marked,
      });
      await client.rest.issues.createComment({
        owner: target.owner,
        repo: target.repo,
        issue_number: existing.number,
        body: comment,
      });
      return { action: 'updated', number: existing.number, url: existing.html_url };
    }
    const created = await client.rest.issues.create({
      owner: target.owner,
      repo: target.repo,
      title,
      body: `${marked}\n\n${comment}`,
    });
    return { action: 'created', number: created.data.number, url: created.data.html_url };
  } catch (error) {
    throw apiError('nightly: tracking issue', `updating the tracking issue of ${target.owner}/${target.repo}`, error);
  }
}
