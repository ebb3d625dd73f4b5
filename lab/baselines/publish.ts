import { join, relative } from 'node:path';
import { simpleGit } from 'simple-git';
import type { BenchResults } from '../results/index.js';
import { info, warn } from '../core/log.js';
import { apiError, createGitHubClient } from '../github/client.js';
import { publishChanges } from '../github/publish.js';
import { updateBaselines } from './index.js';
import { calibrationPath, type CalibratedDataset } from '../bench/calibrate.js';
import { storeCalibration } from '../bench/calibrate-run.js';

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

/**
 * Writes the results into baselines/ and publishes them: pushed to the current
 * branch, or to a new branch with a pull request. A moved branch is handled by
 * publishChanges (the update is replayed on top), so no write is lost.
 */
export async function publishBaselines(options: PublishOptions): Promise<PublishOutcome> {
  const newBranch = options.pushDirectly
    ? undefined
    : `perf-lab/baselines-${options.results.createdAt.replace(/[^0-9]/g, '').slice(0, 14)}-` +
      options.resultsSha256.slice(0, 8);
  const published = await publishChanges({
    repoDir: options.repoDir,
    paths: ['baselines'],
    message: options.message,
    apply: async () => {
      await updateBaselines(options.results, options.resultsSha256, join(options.repoDir, 'baselines'));
    },
    newBranch,
    remote: options.remote,
    attempts: options.attempts,
    step: 'baseline publish',
  });
  if (!published.commit) {
    info('baseline publish: nothing to publish (these results are already stored)');
    return {
      branch: published.branch,
      commit: (await simpleGit(options.repoDir).revparse(['HEAD'])).trim(),
      attempts: published.attempts,
    };
  }
  let pullRequestUrl: string | undefined;
  if (newBranch && options.githubRepository && options.token) {
    const [owner, repo] = options.githubRepository.split('/');
    const client = createGitHubClient({ token: options.token, baseUrl: options.apiUrl, onWarning: warn });
    const pull = await client.rest.pulls
      .create({
        owner: owner!,
        repo: repo!,
        head: newBranch,
        base: published.upstream,
        title: options.message,
        body: 'Baselines measured by the perf-baseline workflow (perf-lab baseline publish).',
      })
      .catch((error: unknown) => {
        throw apiError(
          'baseline publish',
          `opening a pull request from ${newBranch} in ${options.githubRepository}`,
          error,
        );
      });
    pullRequestUrl = pull.data.html_url;
  }
  return { branch: published.branch, commit: published.commit, attempts: published.attempts, pullRequestUrl };
}

/**
 * Writes this runner class's calibration into <repoDir>/baselines/calibration (where hosted runners read it) and
 * pushes it to the checked-out branch; the write is replayed when the branch moved. Returns the commit, or null
 * when the stored calibration was already the same.
 */
export async function publishCalibration(
  calibrated: ReadonlyMap<string, CalibratedDataset>,
  repoDir: string,
): Promise<{ commit: string | null; branch: string }> {
  const dir = join(repoDir, 'baselines', 'calibration');
  const path = calibrationPath(dir);
  const outcome = await publishChanges({
    repoDir,
    paths: [relative(repoDir, path)],
    message: `perf-lab calibration for ${relative(dir, path)}`,
    apply: () => storeCalibration(calibrated, path),
    step: 'calibrate: publish',
  });
  return { commit: outcome.commit, branch: outcome.branch };
}
