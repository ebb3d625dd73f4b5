import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tar from 'tar';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { attempt } from '../core/process.js';
import type { FakeCacheStore, FakeGitHub } from '../testing/fake-github.js';

/*
 * Local stand-ins for the third-party actions the workflows pin (checkout, setup-node, cache restore/save,
 * upload/download-artifact), each doing what that action documents for the inputs it takes, against the rehearsal's
 * own repositories, cache store and fake GitHub; and the tools the setup step and the build counting need on PATH.
 * Each stand-in lists what it does not model (lab/rehearse/README.md has the same list).
 */

/** A step of a stand-in failed, as the real action would fail it (the message is its error annotation). */
export class StepFailure extends Error {}

/** What the rehearsal holds that the stand-ins act on. */
export interface World {
  /** Git repositories the checkout stand-in fetches from, by lower-case owner/name: a bare repository's path. */
  repositories: Map<string, string>;
  /** perf-lab as GitHub serves it at the pinned commit: `git archive` of that commit. */
  perfLab: { repository: string; sha: string; archive: string };
  github: FakeGitHub;
  /** Where saved caches are kept (one tar each) and their index (`gh cache` reaches it through the fake GitHub). */
  cacheDir: string;
  caches: CacheEntry[];
  /** How many caches were ever saved: an entry's id (never reused after a deletion). */
  cachesSaved: number;
}

export interface CacheEntry {
  key: string;
  version: string;
  /** The ref whose runs saved it: caches are visible to that ref and, from the default branch, to every ref. */
  scope: string;
  file: string;
  /** Its id: the later saved, the higher. */
  order: number;
  sizeInBytes: number;
  createdAt: string;
  /** When it was saved or last restored (the order `gh cache list` uses by default). */
  lastAccessedAt: string;
}

/** The github context values a stand-in reads. */
export interface StandInGitHub {
  repository: string;
  ref: string;
  sha: string;
  runId: number;
  eventName: string;
  baseRef: string;
  defaultBranch: string;
  token: string;
  serverUrl: string;
  apiUrl: string;
  /** The event payload (GITHUB_EVENT_PATH). */
  event: Record<string, unknown>;
}

export interface StandInContext {
  /** An input as the runner passes it: the `with:` value over the action's default ('' for none). */
  input: (name: string) => string;
  workspace: string;
  runnerTemp: string;
  github: StandInGitHub;
  world: World;
  log: (line: string) => void;
  annotate: (level: 'error' | 'warning' | 'notice', message: string) => void;
}

export interface StandIn {
  /** The real action's inputs (those of the pinned major) with their defaults; '' for none. */
  inputs: Record<string, string>;
  /** Inputs the real action requires. */
  required?: readonly string[];
  models: string;
  notModelled: readonly string[];
  /** Returns the step's outputs; throws StepFailure where the real action fails the step. */
  run(context: StandInContext): Promise<Record<string, string>>;
}

const isTrue = (value: string | undefined) => (value ?? '').trim().toLowerCase() === 'true';

function lines(value: string): string[] {
  return value
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

async function git(args: readonly string[], cwd: string, context: StandInContext): Promise<string> {
  const result = await attempt('git', args, { cwd });
  context.log(`[command]git ${args.join(' ')}`);
  if (!result.ok) throw new StepFailure(`git ${args.join(' ')} ${result.failure}: ${result.stderr.trim()}`);
  return result.stdout;
}

/** A path input (relative to the workspace, `~` for HOME) as an absolute path; the workspace's own folder for ''. */
function workspacePath(context: StandInContext, path: string): string {
  const expanded = path.startsWith('~') ? join(process.env.HOME ?? '', path.slice(1)) : path;
  return resolve(context.workspace, expanded);
}

function plainPaths(value: string, action: string): string[] {
  const paths = lines(value);
  for (const path of paths)
    if (/[*?[\]{}]/.test(path) || path.startsWith('!'))
      throw new StepFailure(`${action} stand-in: glob patterns are not modelled (${path})`);
  return paths;
}

const checkout: StandIn = {
  inputs: {
    repository: '',
    ref: '',
    token: '',
    'ssh-key': '',
    'ssh-known-hosts': '',
    'ssh-strict': 'true',
    'ssh-user': 'git',
    'persist-credentials': 'true',
    path: '',
    clean: 'true',
    filter: '',
    'sparse-checkout': '',
    'sparse-checkout-cone-mode': 'true',
    'fetch-depth': '1',
    'fetch-tags': 'false',
    'show-progress': 'true',
    lfs: 'false',
    submodules: 'false',
    'set-safe-directory': 'true',
    'github-server-url': '',
    'allow-unsafe-pr-checkout': 'false',
  },
  models:
    "(v7) the workflow's repository is fetched with git from the rehearsal's copy of it, with the refspecs and " +
    'depth actions/checkout uses (fetch-depth 0: every branch and tag, then the ref; otherwise only the commit at ' +
    "that depth) and checked out detached at the event's commit (a pull request's test merge) or at `ref`; v7's " +
    "refusal to fetch a fork's pull request code in a pull_request_target or workflow_run run (unless " +
    'allow-unsafe-pr-checkout), with its rules; persist-credentials keeps the token in a file under RUNNER_TEMP ' +
    'that .git/config includes (v6). perf-lab (job.workflow_repository at job.workflow_sha) is extracted from the ' +
    "`git archive` of the rehearsed commit, as GitHub serves a repository's tarball; any other ref of it is refused.",
  notModelled: [
    'ssh keys, sparse checkout, filter, LFS, submodules, clean of an existing folder, fetch-tags, the post-job cleanup',
    'perf-lab is a plain archive (no .git): nothing in the PR path reads its history',
    "the REST tarball fallback (git older than 2.18) and the token's actual permissions",
  ],
  async run(context) {
    const { input, github } = context;
    const repository = input('repository') || github.repository;
    const dir = workspacePath(context, input('path'));
    if (relative(context.workspace, dir).startsWith('..'))
      throw new StepFailure(`Repository path '${dir}' is not under '${context.workspace}'`);
    const own = repository.toLowerCase() === github.repository.toLowerCase();
    let ref = input('ref');
    let commit = '';
    if (!ref && own) {
      ref = github.ref;
      commit = github.sha;
    } else if (/^[0-9a-f]{40}$/i.test(ref)) {
      commit = ref;
      ref = '';
    }
    assertSafePrCheckout(github, repository, ref, commit, isTrue(input('allow-unsafe-pr-checkout')));
    await mkdir(dir, { recursive: true });
    const { perfLab } = context.world;
    if (repository.toLowerCase() === perfLab.repository.toLowerCase()) {
      if ((ref || commit) && commit !== perfLab.sha)
        throw new StepFailure(
          `checkout stand-in: ${repository} is rehearsed at ${perfLab.sha} only (job.workflow_sha); asked for ` +
            `'${ref || commit}'`,
        );
      await tar.extract({ file: perfLab.archive, cwd: dir });
      context.log(`${repository}@${perfLab.sha}: extracted from its git archive into ${dir}`);
      return { ref: ref || commit, commit: perfLab.sha };
    }
    const remote = context.world.repositories.get(repository.toLowerCase());
    if (!remote)
      throw new StepFailure(`Not Found - repository '${repository}' (the rehearsal holds no such repository)`);
    if (!ref && !commit) ref = `refs/heads/${github.defaultBranch}`;
    else if (ref && !ref.startsWith('refs/')) ref = `refs/heads/${ref}`;
    const depth = Number(input('fetch-depth') || '1');
    await git(['init', '-q', dir], dir, context);
    await git(['remote', 'add', 'origin', `file://${remote}`], dir, context);
    const fetch = ['-c', 'protocol.version=2', 'fetch', '--prune', '--no-recurse-submodules'];
    if (depth <= 0)
      await git([...fetch, 'origin', '+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*'], dir, context);
    const local = ref.startsWith('refs/heads/')
      ? `refs/remotes/origin/${ref.slice('refs/heads/'.length)}`
      : ref.startsWith('refs/pull/')
        ? `refs/remotes/pull/${ref.slice('refs/pull/'.length)}`
        : 'refs/remotes/rehearsal/commit';
    await git(
      [...fetch, ...(depth > 0 ? ['--no-tags', `--depth=${depth}`] : []), 'origin', `+${commit || ref}:${local}`],
      dir,
      context,
    );
    await git(['checkout', '-q', '--force', '--detach', local], dir, context);
    const head = (await git(['rev-parse', 'HEAD'], dir, context)).trim();
    if (input('persist-credentials') !== 'false') {
      // v6 on: the credentials live in a file under RUNNER_TEMP that the repository's config includes.
      const credentials = join(
        context.runnerTemp,
        `git-credentials-${createHash('sha256').update(dir).digest('hex').slice(0, 12)}.config`,
      );
      const basic = Buffer.from(`x-access-token:${input('token') || github.token}`).toString('base64');
      await writeFile(credentials, `[http "${github.serverUrl}/"]\n\textraheader = AUTHORIZATION: basic ${basic}\n`);
      await git(['config', '--local', 'include.path', credentials], dir, context);
    }
    return { ref: ref || commit, commit: head };
  },
};

/** The value at a dotted path of the event payload. */
function fromPayload(event: Record<string, unknown>, path: string): unknown {
  let at: unknown = event;
  for (const key of path.split('.'))
    at = at && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined;
  return at;
}

/**
 * checkout v7 refuses a fork pull request's code in a run with the base repository's token (pull_request_target,
 * workflow_run): the repository is the fork's, the ref a refs/pull/N/head|merge, or the commit one of the PR's
 * (actions/checkout src/unsafe-pr-checkout-helper.ts, v7.0.1).
 */
function assertSafePrCheckout(github: StandInGitHub, repository: string, ref: string, commit: string, allow: boolean) {
  if (allow || (github.eventName !== 'pull_request_target' && github.eventName !== 'workflow_run')) return;
  const event = github.event;
  const baseId = fromPayload(event, 'repository.id');
  if (typeof baseId !== 'number') return;
  const shas: string[] = [];
  const add = (value: unknown) => {
    if (typeof value === 'string' && value) shas.push(value.toLowerCase());
  };
  let headId: unknown;
  let headName: unknown;
  if (github.eventName === 'pull_request_target') {
    headId = fromPayload(event, 'pull_request.head.repo.id');
    headName = fromPayload(event, 'pull_request.head.repo.full_name');
    add(fromPayload(event, 'pull_request.head.sha'));
    add(fromPayload(event, 'pull_request.merge_commit_sha'));
  } else {
    const runEvent = fromPayload(event, 'workflow_run.event');
    if (typeof runEvent !== 'string' || !runEvent.startsWith('pull_request')) return;
    headId = fromPayload(event, 'workflow_run.head_repository.id');
    headName = fromPayload(event, 'workflow_run.head_repository.full_name');
    add(fromPayload(event, 'workflow_run.head_commit.id'));
    if (runEvent !== 'pull_request_target') add(fromPayload(event, 'workflow_run.head_sha'));
  }
  if (typeof headId !== 'number' || headId === baseId) return;
  const forkCode =
    (typeof headName === 'string' && repository.toLowerCase() === headName.toLowerCase()) ||
    /^refs\/pull\/[0-9]+\/(?:head|merge)$/.test(ref) ||
    (commit !== '' && shas.includes(commit.toLowerCase()));
  if (forkCode)
    throw new StepFailure(
      `Refusing to check out fork pull request code from a '${github.eventName}' workflow. This workflow runs with ` +
        "the base repository's GITHUB_TOKEN, secrets, default-branch cache scope, and runner access. (set " +
        "'allow-unsafe-pr-checkout: true' on the actions/checkout step to opt in)",
    );
}

const setupNode: StandIn = {
  inputs: {
    'node-version': '',
    'node-version-file': '',
    architecture: '',
    'check-latest': 'false',
    'registry-url': '',
    scope: '',
    token: '',
    cache: '',
    'package-manager-cache': 'true',
    'cache-dependency-path': '',
    mirror: '',
    'mirror-token': '',
  },
  models:
    "nothing is installed: the host's node runs every later step; a different major than node-version asks for " +
    'is said in the log',
  notModelled: [
    'installing the asked-for Node.js (the steps run on the host node)',
    'registry-url/.npmrc, the npm cache',
  ],
  async run(context) {
    const asked = context.input('node-version');
    const host = process.versions.node;
    const askedMajor = /^v?(\d+)/.exec(asked)?.[1];
    context.log(
      askedMajor && askedMajor !== host.split('.')[0]
        ? `setup-node stand-in: node-version ${asked} asked; the steps run on the host's Node.js v${host}`
        : `setup-node stand-in: the host's Node.js v${host}`,
    );
    if (context.input('cache')) context.log(`setup-node stand-in: cache: ${context.input('cache')} is not modelled`);
    return { 'node-version': `v${host}` };
  },
};

function cacheVersion(paths: readonly string[]): string {
  // actions/cache versions an entry by its paths and compression; only the same paths restore it.
  return createHash('sha256')
    .update([...paths, 'zstd-without-long'].join('|'))
    .digest('hex');
}

/** The refs whose caches a run may restore: its own, then (a pull request's) base branch, then the default branch. */
function cacheScopes(github: StandInGitHub): string[] {
  return [
    ...new Set([
      github.ref,
      ...(github.baseRef ? [`refs/heads/${github.baseRef}`] : []),
      `refs/heads/${github.defaultBranch}`,
    ]),
  ];
}

const cacheRestore: StandIn = {
  inputs: {
    path: '',
    key: '',
    'restore-keys': '',
    enableCrossOsArchive: 'false',
    'fail-on-cache-miss': 'false',
    'lookup-only': 'false',
  },
  required: ['path', 'key'],
  models:
    "GitHub's lookup: in the run's own ref, then the base branch of a pull request, then the default branch — an " +
    'exact key, else the newest entry whose key starts with the key or, in order, with each restore-key; entries ' +
    'match only the same paths (version); extracted into the workspace; cache-hit only for an exact key',
  notModelled: [
    'compression (a plain tar)',
    'size limits and eviction',
    'cross-OS archives',
    'segment download timeouts',
  ],
  async run(context) {
    const { input, world, github } = context;
    const paths = plainPaths(input('path'), 'cache restore');
    const version = cacheVersion(paths);
    const keys = [input('key'), ...lines(input('restore-keys'))];
    const newestFirst = [...world.caches].sort((a, b) => b.order - a.order);
    let found: CacheEntry | undefined;
    for (const scope of cacheScopes(github)) {
      const inScope = newestFirst.filter((entry) => entry.scope === scope && entry.version === version);
      found =
        inScope.find((entry) => entry.key === input('key')) ??
        keys.map((key) => inScope.find((entry) => entry.key.startsWith(key))).find(Boolean);
      if (found) break;
    }
    const outputs: Record<string, string> = { 'cache-primary-key': input('key') };
    if (!found) {
      if (isTrue(input('fail-on-cache-miss')))
        throw new StepFailure(
          `Failed to restore cache entry. Exiting as fail-on-cache-miss is set. Input key: ${input('key')}`,
        );
      context.log(`Cache not found for input keys: ${keys.join(', ')}`);
      return outputs;
    }
    const exact = found.key === input('key');
    if (!isTrue(input('lookup-only'))) {
      await tar.extract({ file: found.file, cwd: context.workspace, preservePaths: false });
      found.lastAccessedAt = new Date().toISOString();
      context.log('Cache restored successfully');
    }
    context.log(`Cache restored from key: ${found.key}`);
    return { ...outputs, 'cache-hit': String(exact), 'cache-matched-key': found.key };
  },
};

const cacheSave: StandIn = {
  inputs: { path: '', key: '', 'upload-chunk-size': '', enableCrossOsArchive: 'false' },
  required: ['path', 'key'],
  models:
    "a tar of the paths (relative to the workspace) kept under the run's ref; a key already saved in that ref is " +
    'not saved again (a warning, as the reservation fails), nor are paths that do not exist',
  notModelled: ['compression, size limits, eviction', 'paths outside the workspace'],
  async run(context) {
    const { input, world, github } = context;
    const paths = plainPaths(input('path'), 'cache save');
    const version = cacheVersion(paths);
    if (
      world.caches.some(
        (entry) => entry.key === input('key') && entry.scope === github.ref && entry.version === version,
      )
    ) {
      context.annotate(
        'warning',
        `Failed to save: Unable to reserve cache with key ${input('key')}, another job may be creating this cache.`,
      );
      return {};
    }
    const members: string[] = [];
    for (const path of paths) {
      const absolute = workspacePath(context, path);
      const inside = relative(context.workspace, absolute);
      if (inside.startsWith('..') || isAbsolute(inside))
        throw new StepFailure(`cache save stand-in: paths outside the workspace are not modelled (${path})`);
      if (await stat(absolute).catch(() => undefined)) members.push(inside || '.');
    }
    if (members.length === 0) {
      context.annotate(
        'warning',
        'Path Validation Error: Path(s) specified in the action for caching do(es) not exist, hence no cache ' +
          'is being saved.',
      );
      return {};
    }
    await mkdir(world.cacheDir, { recursive: true });
    const order = ++world.cachesSaved;
    const file = join(world.cacheDir, `${order}.tar`);
    await tar.create({ file, cwd: context.workspace, portable: true }, members);
    const sizeInBytes = (await stat(file)).size;
    const now = new Date().toISOString();
    world.caches.push({
      key: input('key'),
      version,
      scope: github.ref,
      file,
      order,
      sizeInBytes,
      createdAt: now,
      lastAccessedAt: now,
    });
    context.log(`Cache saved with key: ${input('key')} (scope ${github.ref}, ${sizeInBytes} bytes)`);
    return {};
  },
};

/**
 * The rehearsal's cache store as the fake GitHub's /actions/caches endpoints serve it for `repository` (what
 * `gh cache list` and `gh cache delete` reach): the entries the save stand-in made, deleted from the same store.
 */
export function cacheStoreOf(world: World, repository: string): FakeCacheStore {
  const held = (name: string) => name.toLowerCase() === repository.toLowerCase();
  return {
    list: (name) =>
      held(name)
        ? world.caches.map((entry) => ({
            id: entry.order,
            ref: entry.scope,
            key: entry.key,
            version: entry.version,
            last_accessed_at: entry.lastAccessedAt,
            created_at: entry.createdAt,
            size_in_bytes: entry.sizeInBytes,
          }))
        : undefined,
    remove: (name, ids) => {
      if (!held(name)) return;
      for (const id of ids) {
        const index = world.caches.findIndex((entry) => entry.order === id);
        if (index < 0) continue;
        rmSync(world.caches[index]!.file, { force: true });
        world.caches.splice(index, 1);
      }
    },
  };
}

/** Every regular file under `path` (symlinks followed, as upload-artifact follows them), with its archive name. */
async function artifactFiles(
  path: string,
  root: string,
  hidden: boolean,
): Promise<Array<{ file: string; name: string }>> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return [];
  if (info.isFile()) return [{ file: path, name: relative(root, path).split(sep).join('/') }];
  const found: Array<{ file: string; name: string }> = [];
  for (const entry of (await readdir(path)).sort()) {
    if (!hidden && entry.startsWith('.')) continue;
    found.push(...(await artifactFiles(join(path, entry), root, hidden)));
  }
  return found;
}

async function zipOf(files: ReadonlyArray<{ file: string; name: string }>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const { file, name } of files) zip.addBuffer(await readFile(file), name, { mode: 0o100644 });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const uploadArtifact: StandIn = {
  inputs: {
    name: 'artifact',
    path: '',
    'if-no-files-found': 'warn',
    'retention-days': '',
    'compression-level': '6',
    overwrite: 'false',
    'include-hidden-files': 'false',
    archive: 'true',
  },
  required: ['path'],
  models:
    "the files under the paths (a single folder is the artifact's root; symlinks followed; hidden files left out " +
    'unless include-hidden-files) zipped and stored with the run in the fake GitHub; a second artifact of the same ' +
    'name in a run fails (409) unless overwrite; if-no-files-found warn/error/ignore',
  notModelled: [
    'glob patterns',
    'archive: false (v7: one file uploaded as it is)',
    'retention',
    'the upload service and its size limits',
    'compression level',
  ],
  async run(context): Promise<Record<string, string>> {
    const { input, world, github } = context;
    if (!isTrue(input('archive'))) throw new StepFailure('upload-artifact stand-in: archive: false is not modelled');
    const paths = plainPaths(input('path'), 'upload-artifact').map((path) => workspacePath(context, path));
    const infos = await Promise.all(paths.map((path) => stat(path).catch(() => undefined)));
    // The root is the search paths' common folder (a lone folder is its own root).
    const folders = paths.map((path, i) => (infos[i]?.isDirectory() ? path : dirname(path)));
    let root = folders[0] ?? context.workspace;
    for (const folder of folders) while (!`${folder}${sep}`.startsWith(`${root}${sep}`)) root = dirname(root);
    const hidden = isTrue(input('include-hidden-files'));
    const files = (await Promise.all(paths.map((path) => artifactFiles(path, root, hidden)))).flat();
    if (files.length === 0) {
      const message =
        `No files were found with the provided path: ${input('path').trim()}. No artifacts will ` + 'be uploaded.';
      if (input('if-no-files-found') === 'error') throw new StepFailure(message);
      if (input('if-no-files-found') === 'warn') context.annotate('warning', message);
      else context.log(message);
      return {};
    }
    const existing = world.github.artifacts.find(
      (artifact) => artifact.runId === github.runId && artifact.name === input('name'),
    );
    if (existing && !isTrue(input('overwrite')))
      throw new StepFailure(
        'Failed to CreateArtifact: Received non-retryable error: Failed request: (409) Conflict: an artifact ' +
          'with this name already exists on the workflow run',
      );
    if (existing) world.github.removeArtifact(existing.id);
    const zip = await zipOf(files);
    const artifact = world.github.addArtifact(github.runId, input('name'), zip);
    context.log(
      `Artifact ${input('name')} has been successfully uploaded! Final size is ${zip.length} bytes. Artifact ` +
        `ID is ${artifact.id}`,
    );
    return {
      'artifact-id': String(artifact.id),
      'artifact-url': `${github.serverUrl}/${github.repository}/actions/runs/${github.runId}/artifacts/${artifact.id}`,
      'artifact-digest': createHash('sha256').update(zip).digest('hex'),
    };
  },
};

/** Writes a zip's entries under `destination`, every one as a regular file (a symlink entry's target becomes text). */
async function extractFlattened(zip: Buffer, destination: string): Promise<string[]> {
  const archive = await new Promise<yauzl.ZipFile>((resolvePromise, reject) =>
    yauzl.fromBuffer(zip, { lazyEntries: true }, (error, file) =>
      error || !file ? reject(error ?? new Error('no zip')) : resolvePromise(file),
    ),
  );
  const written: string[] = [];
  await new Promise<void>((resolvePromise, reject) => {
    archive.on('error', reject);
    archive.on('end', () => resolvePromise());
    archive.on('entry', (entry: yauzl.Entry) => {
      const target = resolve(destination, entry.fileName);
      if (relative(destination, target).startsWith('..')) {
        reject(new StepFailure(`download-artifact stand-in: entry ${entry.fileName} is outside the destination`));
        return;
      }
      if (entry.fileName.endsWith('/')) {
        void mkdir(target, { recursive: true }).then(() => archive.readEntry(), reject);
        return;
      }
      archive.openReadStream(entry, (error, stream) => {
        if (error || !stream) return reject(error ?? new Error('no stream'));
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('error', reject);
        stream.on('end', () => {
          void mkdir(dirname(target), { recursive: true })
            .then(() => writeFile(target, Buffer.concat(chunks), { mode: 0o644 }))
            .then(() => {
              written.push(entry.fileName);
              archive.readEntry();
            }, reject);
        });
      });
    });
    archive.readEntry();
  });
  return written;
}

const downloadArtifact: StandIn = {
  inputs: {
    name: '',
    'artifact-ids': '',
    path: '',
    pattern: '',
    'merge-multiple': 'false',
    'github-token': '',
    repository: '',
    'run-id': '',
    'skip-decompress': 'false',
    'digest-mismatch': 'error',
  },
  models:
    "(v8) with github-token and run-id, the run's artifacts listed and downloaded through the REST API of the fake " +
    "GitHub (list by name, the /zip redirect to a blob); without, the current run's; the digest checked against " +
    "the listing's (digest-mismatch: error by default, warn, info, ignore); a download that is not a zip kept as " +
    'it is; `name` is extracted into path itself, no name puts each artifact in path/<name>; every entry is written ' +
    'as a regular file (symlinks flattened); a missing artifact fails the step',
  notModelled: ['artifact-ids, pattern, merge-multiple, skip-decompress', 'download retries'],
  async run(context) {
    const { input, github, world } = context;
    if (
      input('artifact-ids') ||
      input('pattern') ||
      isTrue(input('merge-multiple')) ||
      isTrue(input('skip-decompress'))
    )
      throw new StepFailure(
        'download-artifact stand-in: artifact-ids, pattern, merge-multiple and skip-decompress are not modelled',
      );
    const repository = input('repository') || github.repository;
    const runId = Number(input('run-id') || github.runId);
    const destination = workspacePath(context, input('path'));
    let artifacts: Array<{ name: string; bytes: Buffer; zip: boolean; digest?: string }>;
    if (input('github-token')) {
      const headers = { authorization: `Bearer ${input('github-token')}`, accept: 'application/vnd.github+json' };
      const query = input('name') ? `?name=${encodeURIComponent(input('name'))}` : '';
      const listing = await fetch(`${github.apiUrl}/repos/${repository}/actions/runs/${runId}/artifacts${query}`, {
        headers,
      });
      if (!listing.ok) throw new StepFailure(`Unable to download artifact(s): listing answered ${listing.status}`);
      const listed = (await listing.json()) as {
        artifacts: Array<{ id: number; name: string; archive_download_url: string; digest?: string }>;
      };
      artifacts = [];
      for (const artifact of listed.artifacts.sort((a, b) => b.id - a.id)) {
        if (artifacts.some((known) => known.name === artifact.name)) continue;
        const download = await fetch(artifact.archive_download_url, { headers });
        if (!download.ok) throw new StepFailure(`Unable to download artifact ${artifact.name}: ${download.status}`);
        artifacts.push({
          name: artifact.name,
          bytes: Buffer.from(await download.arrayBuffer()),
          zip: /zip/.test(download.headers.get('content-type') ?? ''),
          digest: artifact.digest,
        });
      }
    } else {
      artifacts = world.github.artifacts
        .filter((artifact) => artifact.runId === runId && (!input('name') || artifact.name === input('name')))
        .map((artifact) => ({ name: artifact.name, bytes: artifact.zip, zip: true, digest: artifact.digest }));
    }
    if (input('name') && artifacts.length === 0)
      throw new StepFailure(
        `Unable to download artifact(s): Artifact not found for name: ${input('name')}\n        Please ensure ` +
          'that your artifact is not expired and the artifact was uploaded using a compatible version of ' +
          'toolkit/upload-artifact.',
      );
    for (const artifact of artifacts) {
      const actual = `sha256:${createHash('sha256').update(artifact.bytes).digest('hex')}`;
      if (artifact.digest && artifact.digest !== actual) {
        const message = `Digest validation failed for artifact(s): ${artifact.name}`;
        const policy = input('digest-mismatch');
        if (policy === 'error' || !['warn', 'info', 'ignore'].includes(policy)) throw new StepFailure(message);
        if (policy === 'warn') context.annotate('warning', message);
        else if (policy === 'info') context.log(message);
      }
      const into = input('name') ? destination : join(destination, artifact.name);
      if (!artifact.zip) {
        await mkdir(into, { recursive: true });
        await writeFile(join(into, artifact.name), artifact.bytes);
        context.log(`Artifact ${artifact.name} downloaded to ${into} as it is (not a zip)`);
        continue;
      }
      const files = await extractFlattened(artifact.bytes, into);
      context.log(`Artifact ${artifact.name} downloaded to ${into}: ${files.join(', ')}`);
    }
    return { 'download-path': destination };
  },
};

/** The stand-ins by action (owner/repo[/path], lower case), whatever ref the workflow pins. */
export const STAND_INS: ReadonlyMap<string, StandIn> = new Map([
  ['actions/checkout', checkout],
  ['actions/setup-node', setupNode],
  ['actions/cache/restore', cacheRestore],
  ['actions/cache/save', cacheSave],
  ['actions/upload-artifact', uploadArtifact],
  ['actions/download-artifact', downloadArtifact],
]);

/** A tool call the wrappers on PATH recorded. */
export interface ToolCall {
  tool: string;
  args: string;
  /** `cargo` when a cargo build made it (rustc's linker, a build script's compiler: CARGO_PKG_NAME is set). */
  via?: 'cargo';
}

/** The tools whose calls are recorded (a build is a cargo build, a cmake run or a compile or link by cc). */
const RECORDED_TOOLS = ['cargo', 'cc', 'cmake'] as const;

/** Tools that stand in for part of the setup step; see STAND_IN_TOOLS for what each does. */
export const STAND_IN_TOOLS = {
  'apt-get':
    'leading -o options are accepted; update is skipped; install checks with dpkg-query that every package ' +
    'asked for is installed on this host and ' +
    'fails (exit 100) naming the missing ones — nothing is installed (Linux hosts only)',
  sudo: 'runs the command as it is (the rehearsal does not change users)',
  gh:
    "the warm job's prune: `gh cache list --key PREFIX [--limit N] --json key --jq '.[].key'` prints the keys with " +
    "that prefix on any ref, last accessed first (gh's default order; 30 unless --limit), `gh cache delete KEY` " +
    'deletes every entry with that key (no entry: exit 1, as gh), both against the cache store the cache stand-ins ' +
    "use, through the fake GitHub's REST endpoints with GH_TOKEN (none: exit 4, as gh in a workflow) and GH_REPO; " +
    'not modelled: any other command or flag (--ref, --sort, --order, other --json fields or --jq, delete by id or ' +
    "--all), GH_HOST (it talks to GITHUB_API_URL), the repository from the git remote, the token's permissions " +
    '(actions: write), terminal output; nothing reaches github.com',
  npm:
    "ci in a perf-lab checkout whose package-lock.json is the host checkout's: node_modules linked to the host's, " +
    'then the prepare script (tsc) run for real — once a rehearsal, later jobs get that dist/; ' +
    'anything else goes to the real npm',
  'cargo, cc, cmake':
    'each call recorded (to count builds; a cc call made by a cargo build, as its linker or from a build script, is ' +
    'part of that build), then the real tool runs',
} as const;

async function which(tool: string): Promise<string | undefined> {
  const found = await attempt('bash', ['-c', `command -v ${tool}`]);
  return found.ok ? found.stdout.trim() : undefined;
}

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * Writes the tool wrappers into `dir` (put first on every step's PATH): the setup step's stand-ins (apt-get, sudo,
 * npm) and the recording wrappers of the build tools. Returns where the recorded calls go.
 */
export async function writeToolShims(dir: string, options: { hostRoot: string; memoDir: string }): Promise<string> {
  await mkdir(dir, { recursive: true });
  const log = join(dir, '..', 'tool-calls.tsv');
  await writeFile(log, '');
  const write = async (name: string, body: string) => {
    await writeFile(join(dir, name), `#!/usr/bin/env bash\n${body}\n`);
    await chmod(join(dir, name), 0o755);
  };
  for (const tool of RECORDED_TOOLS) {
    const real = await which(tool);
    if (!real) continue;
    // Cargo sets CARGO_PKG_NAME for rustc (whose linker is cc) and for build scripts.
    await write(
      tool,
      `printf '%s\\t%s\\t%s\\n' ${tool} "\${CARGO_PKG_NAME:+cargo}" "$*" >> ${quote(log)}\nexec ${quote(real)} "$@"`,
    );
  }
  if ((await which('dpkg-query')) && (await which('apt-get')))
    await write(
      'apt-get',
      [
        '# rehearsal stand-in: nothing is installed; what is asked for must already be there.',
        '# -o KEY=VALUE before the command (setup.sh waits for the dpkg lock): accepted, nothing to wait for here.',
        'while [ "$1" = -o ]; do shift 2; done',
        'case "$1" in',
        '  update) echo "rehearsal: apt-get update skipped (stand-in)";;',
        '  install)',
        '    shift; missing=(); count=0',
        '    for a in "$@"; do case "$a" in -*) ;; *) count=$((count + 1))',
        `      dpkg-query -W -f='\${Status}' "$a" 2>/dev/null | grep -q 'install ok installed' || ` +
          'missing+=("$a");; esac; done',
        '    if [ ${#missing[@]} -gt 0 ]; then',
        '      echo "rehearsal: apt-get install stand-in: not installed on this host: ${missing[*]} (a runner ' +
          'would install them; install them here, as scripts/setup.sh does)" >&2',
        '      exit 100',
        '    fi',
        '    echo "rehearsal: apt-get install stand-in: all $count packages are installed";;',
        '  *) echo "rehearsal: apt-get $1 is not modelled" >&2; exit 100;;',
        'esac',
      ].join('\n'),
    );
  await write('sudo', '# rehearsal stand-in: the command as it is.\nexec "$@"');
  // Nothing may reach github.com from a rehearsal: gh models the warm job's two cache calls against the fake GitHub
  // (lab/rehearse/gh.ts, run from its TypeScript source through tsx's loader, as the rehearsal itself runs).
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const ghMain = fileURLToPath(new URL('./gh.ts', import.meta.url));
  await write('gh', `exec ${quote(process.execPath)} --import ${quote(tsx)} ${quote(ghMain)} "$@"`);
  const npm = await which('npm');
  if (npm) {
    const lock = join(options.hostRoot, 'package-lock.json');
    await write(
      'npm',
      [
        `if [ "$1" = ci ] && grep -q '"name": "perf-lab"' package.json 2>/dev/null && cmp -s package-lock.json ` +
          `${quote(lock)}; then`,
        `  echo "rehearsal: npm ci stand-in: node_modules linked from ${options.hostRoot} (the same ` +
          'package-lock.json)"',
        `  rm -rf node_modules && ln -s ${quote(join(options.hostRoot, 'node_modules'))} node_modules`,
        `  if [ -d ${quote(join(options.memoDir, 'dist'))} ]; then`,
        `    cp -R ${quote(join(options.memoDir, 'dist'))} dist && echo "rehearsal: npm ci stand-in: dist/ ` +
          `from this rehearsal's first prepare"`,
        '  else',
        `    ${quote(npm)} run prepare && mkdir -p ${quote(options.memoDir)} && cp -R dist ` +
          `${quote(join(options.memoDir, 'dist'))}`,
        '  fi',
        '  exit $?',
        'fi',
        `exec ${quote(npm)} "$@"`,
      ].join('\n'),
    );
  }
  return log;
}

/** The recorded calls in the log from byte `from` on. */
export async function toolCallsSince(log: string, from: number): Promise<ToolCall[]> {
  const text = (await readFile(log)).subarray(from).toString('utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [tool = '', via = '', ...args] = line.split('\t');
      return { tool, args: args.join('\t'), ...(via === 'cargo' ? { via } : {}) };
    });
}

/**
 * Whether a recorded call built something: a cargo build, any cmake run, a compile or link by cc that no cargo build
 * made (rustc's links and a build script's compiles are that cargo build's).
 */
export function isBuild(call: ToolCall): boolean {
  if (call.via === 'cargo') return false;
  if (call.tool === 'cargo') return /^(build|b|rustc)\b/.test(call.args);
  if (call.tool === 'cmake') return !/^--version\b/.test(call.args);
  return /(^|\s)-(c|o)(\s|$)/.test(call.args);
}
