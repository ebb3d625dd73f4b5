import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileExists } from '../core/files.js';
import { cacheRoot } from '../core/paths.js';
import { attempt, tail } from '../core/process.js';

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
  const sources = await readFile('/etc/apt/sources.list.d/debian.sources', 'utf8').catch(() => '');
  const mirror = /^URIs:\s*(\S+)/m.exec(sources)?.[1] ?? 'http://deb.debian.org/debian';
  await rm(root, { recursive: true, force: true });
  const lists = join(root, 'lists');
  const download = join(root, 'download');
  await mkdir(join(lists, 'partial'), { recursive: true });
  await mkdir(join(root, 'parts'), { recursive: true });
  await mkdir(download, { recursive: true });
  await writeFile(
    join(root, 'sources.list'),
    `deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror.replace(/-security$/, '')} ` +
      `${suite} main\n`,
  );
  const options = [
    '-o',
    `Dir::Etc::SourceList=${join(root, 'sources.list')}`,
    '-o',
    `Dir::Etc::SourceParts=${join(root, 'parts')}`,
    '-o',
    `Dir::State::Lists=${lists}`,
    '-o',
    'APT::Sandbox::User=root',
  ];
  const update = await attempt('apt-get', [...options, 'update'], { timeoutMs: 300_000 });
  if (!update.ok) throw unavailable(`apt-get update failed:\n${tail(update.all, 5)}`);
  const fetched = await attempt('apt-get', [...options, 'source', '--download-only', name], {
    cwd: download,
    timeoutMs: 300_000,
  });
  const orig = (await readdir(download)).find((file) => /\.orig\.tar\.(gz|bz2|xz)$/.test(file));
  if (!orig) throw unavailable(`no upstream tarball arrived:\n${tail(fetched.all, 5)}`);
  const unpack = join(root, 'unpack');
  await mkdir(unpack, { recursive: true });
  const untar = await attempt('tar', ['-xf', join(download, orig), '-C', unpack]);
  if (!untar.ok) throw unavailable(`tar could not unpack ${orig}:\n${tail(untar.all, 5)}`);
  const [top] = await readdir(unpack);
  await rename(join(unpack, top!), done);
  await writeFile(join(root, 'complete'), `${orig}\n`);
  return done;
}
