import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { execa } from 'execa';

/** What git ignores here (.gitignore), for a copy of the tree that has no .git (a `git archive`, fresh-check). */
const IGNORED_DIRS = new Set(['.git', 'node_modules', '.perf-lab', 'scratch']);

/**
 * The files a clone of this tree would have: git's tracked files plus new ones it does not ignore, or, where the
 * tree is not a git checkout (an exported copy), every file outside what .gitignore names (node_modules/, /dist/,
 * .perf-lab/, scratch/, *.tmp-*).
 */
export async function treeFiles(root: string): Promise<string[]> {
  const git = await execa('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: root,
    reject: false,
  });
  if (git.exitCode === 0) return String(git.stdout).split('\0').filter(Boolean);
  if (!/not a git repository/.test(String(git.stderr))) throw new Error(`git ls-files failed: ${String(git.stderr)}`);
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (IGNORED_DIRS.has(entry.name) || (dir === root && entry.name === 'dist')) continue;
        await walk(path);
      } else if (entry.isFile() && !entry.name.includes('.tmp-')) files.push(relative(root, path));
    }
  };
  await walk(root);
  return files.sort();
}
