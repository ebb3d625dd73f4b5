import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { attempt, tail } from '../core/process.js';

/** The Debian archive this machine's apt already uses (so no mirror host is hard-coded); undefined if none. */
export async function debianMirror(): Promise<string | undefined> {
  const candidates = ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list'];
  for (const file of candidates) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const deb822 = /^URIs:\s*(\S+)/m.exec(text)?.[1];
    if (deb822 && !/security/.test(deb822)) return deb822;
    const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+/m.exec(text)?.[1];
    if (oneLine) return oneLine;
  }
  return undefined;
}

export type DebianDownload =
  | { kind: 'downloaded'; origPath: string; origName: string }
  | { kind: 'update-failed'; log: string }
  | { kind: 'no-upstream-tarball'; log: string };

/**
 * Downloads the upstream (orig) tarball of Debian source package `name` from `suite` with `apt-get source`,
 * through a private deb-src list under `work` (the machine's apt configuration is not touched).
 */
export async function downloadDebianOrig(
  name: string,
  suite: string,
  mirror: string,
  work: string,
): Promise<DebianDownload> {
  const lists = join(work, 'lists');
  const download = join(work, 'download');
  await rm(download, { recursive: true, force: true });
  await mkdir(join(lists, 'partial'), { recursive: true });
  await mkdir(join(work, 'parts'), { recursive: true });
  await mkdir(download, { recursive: true });
  const keyring = '/usr/share/keyrings/debian-archive-keyring.gpg';
  await writeFile(join(work, 'sources.list'), `deb-src [signed-by=${keyring}] ${mirror} ${suite} main\n`);
  const options = [
    ...['-o', `Dir::Etc::SourceList=${join(work, 'sources.list')}`],
    ...['-o', `Dir::Etc::SourceParts=${join(work, 'parts')}`],
    ...['-o', `Dir::State::Lists=${lists}`],
    ...['-o', 'APT::Sandbox::User=root'],
  ];
  const update = await attempt('apt-get', [...options, 'update'], { timeoutMs: 300_000 });
  if (!update.ok) return { kind: 'update-failed', log: tail(update.all, 10) };
  // apt exits non-zero when the .dsc is gone from the mirror even though the
  // upstream (orig) tarball arrived, so success is judged by the tarball alone.
  const fetched = await attempt('apt-get', [...options, 'source', '--download-only', name], {
    cwd: download,
    timeoutMs: 300_000,
  });
  const origName = (await readdir(download)).find((file) => /\.orig\.tar\.(gz|bz2|xz)$/.test(file));
  if (!origName) return { kind: 'no-upstream-tarball', log: tail(fetched.all, 10) };
  return { kind: 'downloaded', origPath: join(download, origName), origName };
}
