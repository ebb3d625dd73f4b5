import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleGit } from 'simple-git';

/**
 * Test support: a bare "remote" repository with one commit on main, and a
 * clone of it with a committer configured — what publishing code pushes to.
 */
export async function remoteWithClone(work: string, cloneName = 'clone'): Promise<{ remote: string; clone: string }> {
  const remote = join(work, 'remote.git');
  await simpleGit().raw(['init', '--bare', '--initial-branch=main', remote]);
  const clone = await cloneWithCommitter(remote, join(work, cloneName));
  const git = simpleGit(clone);
  await git.raw(['checkout', '-b', 'main']);
  await writeFile(join(clone, 'README.md'), 'perf-lab\n');
  await git.add('.').commit('start');
  await git.push('origin', 'main');
  return { remote, clone };
}

export async function cloneWithCommitter(remote: string, dir: string): Promise<string> {
  await simpleGit().clone(remote, dir);
  await simpleGit(dir).addConfig('user.email', 'test@example.invalid').addConfig('user.name', 'test');
  return dir;
}
