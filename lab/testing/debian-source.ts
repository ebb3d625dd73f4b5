import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileExists } from '../core/files.js';
import { cacheRoot } from '../core/paths.js';
import { attempt, tail } from '../core/process.js';
import { debianMirror, downloadDebianOrig } from '../build/debian-source.js';

/**
 * The upstream source of a Debian source package (e.g. zlib from bookworm = 1.2.13), fetched with `apt-get source`
 * through a private deb-src list (the machine's apt configuration is not touched) and cached under the lab's cache,
 * so tests can compile third-party code the repository does not carry. Throws one clear message when it can't.
 */
export async function debianUpstreamSource(name: string, suite: string): Promise<string> {
  const root = join(cacheRoot(), 'debian-sources', `${suite}-${name}`);
  const done = join(root, 'tree');
  if (await fileExists(join(root, 'complete'))) return done;
  const unavailable = (why: string) =>
    new Error(
      `the Debian ${suite} source of ${name} is unavailable: ${why}\n` +
        '  these tests compile it for AArch64 and need apt-get and a reachable Debian archive (scripts/setup.sh).',
    );
  const apt = await attempt('apt-get', ['--version']);
  if (!apt.ok) throw unavailable('apt-get is not installed.');
  const mirror = await debianMirror();
  if (!mirror) throw unavailable('no Debian archive is configured in /etc/apt.');
  await rm(root, { recursive: true, force: true });
  const download = await downloadDebianOrig(name, suite, mirror, root);
  if (download.kind === 'update-failed') throw unavailable(`apt-get update failed:\n${download.log}`);
  if (download.kind === 'no-upstream-tarball') throw unavailable(`no upstream tarball arrived:\n${download.log}`);
  const unpack = join(root, 'unpack');
  await mkdir(unpack, { recursive: true });
  const untar = await attempt('tar', ['-xf', download.origPath, '-C', unpack]);
  if (!untar.ok) throw unavailable(`tar could not unpack ${download.origName}:\n${tail(untar.all, 5)}`);
  const [top] = await readdir(unpack);
  await rename(join(unpack, top!), done);
  await writeFile(join(root, 'complete'), `${download.origName}\n`);
  return done;
}
