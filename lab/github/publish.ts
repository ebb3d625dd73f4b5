import { simpleGit } from 'simple-git';
import { LabError } from '../core/errors.js';
import { warn } from '../core/log.js';
import { gitAuthConfig } from './credentials.js';

export interface PublishChangesOptions {
  repoDir: string;
  /** Paths (relative to the repository) that `apply` writes; only these are committed. */
  paths: readonly string[];
  message: string;
  /** Writes the change into the working tree; must be safe to run again on a newer upstream. */
  apply: () => Promise<void>;
  /** Push to this new branch; undefined: push to the checked-out branch. */
  newBranch?: string;
  remote?: string;
  attempts?: number;
  step: string;
}

export interface PublishChangesOutcome {
  branch: string;
  upstream: string;
  /** null when there was nothing to commit. */
  commit: string | null;
  attempts: number;
}

/**
 * Applies a change, commits and pushes it. When the push is refused because
 * the branch moved (another writer landed first), resets to the new upstream
 * and applies the change again, so concurrent writers never lose a write.
 */
export async function publishChanges(options: PublishChangesOptions): Promise<PublishChangesOutcome> {
  const git = simpleGit(options.repoDir);
  // The push token (if given) authenticates only the push and fetch, never written to .git/config.
  const remoteGit = simpleGit(options.repoDir, { config: gitAuthConfig() });
  const remote = options.remote ?? 'origin';
  const upstream = (await git.revparse(['--abbrev-ref', 'HEAD'])).trim();
  const branch = options.newBranch ?? upstream;
  if (options.newBranch) await git.checkoutLocalBranch(options.newBranch);
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    await options.apply();
    await git.add([...options.paths]);
    if ((await git.status()).staged.length === 0) return { branch, upstream, commit: null, attempts: attempt };
    const commit = (
      await git.commit(options.message, undefined, { '--author': 'perf-lab <perf-lab@users.noreply.github.com>' })
    ).commit;
    try {
      await remoteGit.push(remote, branch, options.newBranch ? ['--set-upstream'] : []);
      return { branch, upstream, commit, attempts: attempt };
    } catch (error) {
      const message = (error as Error).message;
      if (!/rejected|non-fast-forward|fetch first|failed to push/i.test(message) || attempt === attempts) {
        throw new LabError(
          options.step,
          `cannot push ${branch} to ${remote}: ${message.trim().split('\n').slice(-2).join(' ')}`,
          attempt === attempts
            ? `the branch kept moving; ${attempts} attempts made. Run the job again.`
            : "check the token's contents: write permission.",
        );
      }
      warn(
        `${options.step}: ${branch} moved upstream; applying the change again on top (attempt ${attempt + 1} ` +
          `of ${attempts})`,
      );
      await remoteGit.fetch(remote, branch);
      await git.reset(['--hard', `${remote}/${branch}`]);
    }
  }
  throw new LabError(options.step, 'no attempt left', 'run the job again.');
}
