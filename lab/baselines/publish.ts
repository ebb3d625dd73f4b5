import { join } from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import type { BenchResults } from '../bench/results.js';
import { LabError } from '../core/errors.js';
import { info, warn } from '../core/log.js';
import { apiError, createGitHubClient } from '../github/client.js';
import { updateBaselines } from './index.js';

export interface PublishOptions {
  results: BenchResults;
  resultsSha256: string;
  /** A clone of the repository that holds baselines/ (perf-lab's). */
  repoDir: string;
  message: string;
  pushDirectly: boolean;
  remote?: string;
  /** For a pull request: owner/name, token and API root. */
  githubRepository?: string;
  token?: string;
  apiUrl?: string;
  attempts?: number;
}

export interface PublishOutcome {
  branch: string;
  commit: string;
  attempts: number;
  pullRequestUrl?: string;
}

async function commitBaselines(git: SimpleGit, repoDir: string, options: PublishOptions): Promise<string | undefined> {
  await updateBaselines(options.results, options.resultsSha256, join(repoDir, 'baselines'));
  await git.add(['baselines']);
  const status = await git.status();
  if (status.staged.length === 0) return undefined;
  const commit = await git.commit(options.message, undefined, { '--author': 'perf-lab <perf-lab@users.noreply.github.com>' });
  return commit.commit;
}

/**
 * Writes the results into baselines/ and publishes them: pushed to the current
 * branch, or to a new branch with a pull request. When the push is refused
 * because another update landed first, the write is replayed on top of the new
 * upstream (baseline updates are idempotent per results file), so neither
 * update is lost.
 */
export async function publishBaselines(options: PublishOptions): Promise<PublishOutcome> {
  const git = simpleGit(options.repoDir);
  const remote = options.remote ?? 'origin';
  const upstream = (await git.revparse(['--abbrev-ref', 'HEAD'])).trim();
  const branch = options.pushDirectly ? upstream : `perf-lab/baselines-${options.results.createdAt.replace(/[^0-9]/g, '').slice(0, 14)}-${options.resultsSha256.slice(0, 8)}`;
  if (!options.pushDirectly) await git.checkoutLocalBranch(branch);
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const commit = await commitBaselines(git, options.repoDir, options);
    if (!commit) {
      info('baseline publish: nothing to publish (these results are already stored)');
      return { branch, commit: (await git.revparse(['HEAD'])).trim(), attempts: attempt };
    }
    try {
      await git.push(remote, branch, options.pushDirectly ? [] : ['--set-upstream']);
      let pullRequestUrl: string | undefined;
      if (!options.pushDirectly && options.githubRepository && options.token) {
        const [owner, repo] = options.githubRepository.split('/');
        const client = createGitHubClient({ token: options.token, baseUrl: options.apiUrl, onWarning: warn });
        const pull = await client.rest.pulls
          .create({ owner: owner!, repo: repo!, head: branch, base: upstream, title: options.message, body: 'Baselines measured by the perf-baseline workflow (perf-lab baseline publish).' })
          .catch((error: unknown) => {
            throw apiError('baseline publish', `opening a pull request from ${branch} in ${options.githubRepository}`, error);
          });
        pullRequestUrl = pull.data.html_url;
      }
      return { branch, commit, attempts: attempt, pullRequestUrl };
    } catch (error) {
      const message = (error as Error).message;
      if (!/rejected|non-fast-forward|fetch first|failed to push/i.test(message) || attempt === attempts) {
        throw new LabError('baseline publish', `cannot push ${branch} to ${remote}: ${message.trim().split('\n').slice(-2).join(' ')}`, attempt === attempts ? `the branch kept moving; ${attempts} attempts made. Run the workflow again.` : 'check the token\'s contents: write permission.');
      }
      warn(`baseline publish: ${branch} moved upstream; replaying the update on top (attempt ${attempt + 1} of ${attempts})`);
      await git.fetch(remote, branch);
      await git.reset(['--hard', `${remote}/${branch}`]);
    }
  }
  throw new LabError('baseline publish', 'unreachable', 'report this bug');
}
