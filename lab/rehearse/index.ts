import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import * as tar from 'tar';
import { parseDocument } from 'yaml';
import { ARTIFACT_FILES } from '../artifact/index.js';
import { attempt } from '../core/process.js';
import { projectRoot } from '../core/paths.js';
import { COMMENT_MARKER } from '../github/comment.js';
import { FakeGitHub, type FakeComment } from '../testing/fake-github.js';
import { treeFiles } from '../testing/tree-files.js';
import { cacheStoreOf, isBuild, writeToolShims, type World } from './stand-ins.js';
import { runWorkflow, type CalledWorkflow, type JobResult, type WorkflowRunResult } from './runner.js';
import { loadAction, loadWorkflow, type WorkflowResolver } from './workflow.js';

/*
 * A rehearsal of perf-lab's PR check as GitHub would run it for a fork's pull request (see README.md here): the
 * example caller workflows, adopted by a decoder repository made from examples/gzippy-shape, call the reusable
 * workflows of a `git archive` of perf-lab; the PR side runs twice, then the comment side against the fake GitHub.
 */

const PERF_LAB = 'perf-lab-org/perf-lab';
const DECODER = 'decoder-org/gzippy';
const FORK = 'contributor/gzippy';
const FORK_BRANCH = 'faster-inflate';
const PR_NUMBER = 7;
/** The fork's run gets a read-only token; the comment side the base repository's. */
const READ_ONLY_TOKEN = 'ghs_rehearsalForkPullRequestReadOnly';
const BASE_TOKEN = 'ghs_rehearsalBaseRepositoryWrite';
/** What the decoder's caller passes instead of the example's full scale: one dataset, quick. */
const REHEARSAL_INPUTS = { scale: 'quick', datasets: 'logs' } as const;
const REGISTRY = '/usr/share/cargo/registry';

export interface RehearsalOptions {
  /** The perf-lab checkout to rehearse (default: the one this runs from). */
  perfLabDir?: string;
  /**
   * `head` (the default): its committed HEAD, which is what GitHub serves at a pinned SHA. `working-tree`: the
   * working tree as `git add -A` would commit it (a temporary index and an unreferenced commit object; no ref moves).
   */
  source?: 'head' | 'working-tree';
  /** Where everything goes (default: a temporary folder, removed afterwards unless `keep`). */
  dir?: string;
  keep?: boolean;
  /**
   * The warm scenario instead of the cold one: two pushes to main first (perf-pr.yml's `warm` job: main's previous
   * commit, then the base commit; each saves the cache PR runs restore and prunes the older entries), then one PR run
   * and its comment run. The decoder's bench config has 2 rounds a batch and no warm-up round here, so the warm job's
   * 30 calibration batches fit a test.
   */
  pushFirst?: boolean;
  /**
   * A folder where the npm stand-in keeps the first `prepare`'s dist/ per rehearsed commit, shared by the rehearsals
   * given it (default: each rehearsal's own, so each runs tsc once).
   */
  prepareMemo?: string;
  onLine?: (line: string) => void;
}

export interface RehearsedRun {
  label: string;
  result: WorkflowRunResult;
  seconds: number;
}

export interface Rehearsal {
  dir: string;
  perfLab: { repository: string; sha: string; source: 'head' | 'working-tree' };
  decoder: {
    repository: string;
    fork: string;
    base: string;
    head: string;
    merge: string;
    pr: number;
    /** Main's commit before the base commit (the first push of the warm scenario); '' in the cold one. */
    earlier: string;
  };
  /** Every workflow and action.yml of the archive, with what the parser reported. */
  parsed: Array<{ file: string; errors: string[] }>;
  runs: RehearsedRun[];
  /** The files of each PR run's perf-lab-results artifact, as the comment side downloaded them. */
  artifacts: Array<{ runId: number; files: string[] }>;
  comments: FakeComment[];
  /** The cache store at the end (what was saved and not pruned): key and the ref each is scoped to, oldest first. */
  caches: Array<{ key: string; scope: string }>;
  /** Requests the fake GitHub saw (path, query), with the token each carried. */
  requests: Array<{ method: string; path: string; search: string; token: string }>;
  readOnlyToken: string;
  seconds: number;
}

async function git(args: readonly string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  const result = await attempt('git', args, {
    cwd,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'rehearsal',
      GIT_AUTHOR_EMAIL: 'rehearsal@example.invalid',
      GIT_COMMITTER_NAME: 'rehearsal',
      GIT_COMMITTER_EMAIL: 'rehearsal@example.invalid',
      ...env,
    },
  });
  if (!result.ok) throw new Error(`git ${args.join(' ')} (in ${cwd}) ${result.failure}: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

/**
 * perf-lab as GitHub serves it: a `git archive` of the commit (of HEAD, or of the working tree through a temp index).
 */
async function archivePerfLab(
  perfLabDir: string,
  source: 'head' | 'working-tree',
  dir: string,
): Promise<{ sha: string; archive: string }> {
  // An exported copy with no .git (a `git archive`, a fresh-check root): its files, committed in a throwaway
  // repository, are what is rehearsed.
  if (!(await attempt('git', ['rev-parse', '--git-dir'], { cwd: perfLabDir })).ok) {
    const exported = join(dir, 'perf-lab-export');
    for (const file of await treeFiles(perfLabDir)) {
      await mkdir(dirname(join(exported, file)), { recursive: true });
      await cp(join(perfLabDir, file), join(exported, file));
    }
    await git(['init', '-q'], exported);
    await git(['add', '-A'], exported);
    await git(
      ['-c', 'user.name=perf-lab', '-c', 'user.email=perf-lab@invalid', 'commit', '-qm', 'exported tree'],
      exported,
    );
    perfLabDir = exported;
  }
  let sha = await git(['rev-parse', 'HEAD'], perfLabDir);
  if (source === 'working-tree') {
    const index = { GIT_INDEX_FILE: join(dir, 'perf-lab.index') };
    await git(['read-tree', 'HEAD'], perfLabDir, index);
    await git(['add', '-A'], perfLabDir, index);
    const tree = await git(['write-tree'], perfLabDir, index);
    sha = await git(['commit-tree', tree, '-p', 'HEAD', '-m', 'perf-lab rehearsal: the working tree'], perfLabDir);
  }
  const archive = join(dir, 'perf-lab.tar');
  await git(['archive', '--format=tar', '-o', archive, sha], perfLabDir);
  return { sha, archive };
}

/**
 * The example caller as a decoder repository adopts it: the pin (OWNER and SHA) filled in, quick scale, one dataset.
 */
function adoptCaller(text: string, file: string, sha: string, inputs: Record<string, string>): string {
  const document = parseDocument(text);
  const jobs = document.get('jobs') as { items?: Array<{ key: { value?: unknown } }> } | undefined;
  let adopted = 0;
  for (const item of jobs?.items ?? []) {
    const id = String(item.key.value);
    const uses = document.getIn(['jobs', id, 'uses']);
    if (typeof uses !== 'string') continue;
    const pinned = /^OWNER\/perf-lab\/(\.github\/workflows\/[^@]+)@[0-9a-f]{40}$/.exec(uses);
    if (!pinned) throw new Error(`${file}: jobs.${id}.uses is not OWNER/perf-lab/.github/workflows/…@SHA: ${uses}`);
    document.setIn(['jobs', id, 'uses'], `${PERF_LAB}/${pinned[1]}@${sha}`);
    for (const [name, value] of Object.entries(inputs)) document.setIn(['jobs', id, 'with', name], value);
    adopted++;
  }
  if (adopted === 0) throw new Error(`${file}: no job calls perf-lab's reusable workflows`);
  return document.toString();
}

/**
 * The bench settings of the decoder's config: the cold scenario's, and the warm one's (the warm job calibrates 30
 * batches).
 */
const BENCH = { rounds: 6, warmupRounds: 1, minBatches: 2, maxBatches: 2, budgetSeconds: 60 };
const WARM_BENCH = { ...BENCH, rounds: 3, warmupRounds: 0 };

const benchConfig = (bench: typeof BENCH) => ({
  schemaVersion: 1,
  libdeflate: { source: { kind: 'system' } },
  decoder: {
    name: 'gzippy',
    cargo: { path: '.' },
    threads: 1,
    adapter: { kind: 'rust', call: 'gzippy::decompress_with_threads(input, threads)' },
  },
  bench,
});

/**
 * The decoder's repository (examples/gzippy-shape, its bench config and the adopted callers on main = the base
 * commit), the contributor's fork with the head commit on a branch, and the refs GitHub keeps for the pull request
 * (refs/pull/N/head, and refs/pull/N/merge: the test merge the pull_request event runs on). With `earlier`, main's
 * base commit has a parent whose src/lib.rs differs by a comment (so its build is another one).
 */
async function makeDecoderRepositories(
  dir: string,
  archiveDir: string,
  sha: string,
  options: { bench: typeof BENCH; earlier: boolean },
) {
  const bare = join(dir, 'repos', `${DECODER}.git`);
  const forkBare = join(dir, 'repos', `${FORK}.git`);
  const work = join(dir, 'repos', 'scratch');
  await cp(join(archiveDir, 'examples', 'gzippy-shape'), work, { recursive: true });
  await mkdir(join(work, '.github', 'workflows'), { recursive: true });
  await writeFile(join(work, '.github', 'perf-lab.json'), `${JSON.stringify(benchConfig(options.bench), null, 2)}\n`);
  for (const name of ['perf-pr.yml', 'perf-comment.yml']) {
    const example = join('examples', 'github', name);
    const text = await readFile(join(archiveDir, example), 'utf8');
    await writeFile(
      join(work, '.github', 'workflows', name),
      adoptCaller(text, example, sha, name === 'perf-pr.yml' ? REHEARSAL_INPUTS : {}),
    );
  }
  await writeFile(join(work, '.gitignore'), 'target/\n');
  // Offline where Debian's crate sources are installed (as the lab's own shims do); crates.io elsewhere.
  const registry = await readdir(REGISTRY).catch(() => [] as string[]);
  if (
    ['miniz_oxide-', 'crc32fast-', 'adler-', 'cfg-if-'].every((crate) =>
      registry.some((name) => name.startsWith(crate)),
    )
  ) {
    await mkdir(join(work, '.cargo'), { recursive: true });
    await writeFile(
      join(work, '.cargo', 'config.toml'),
      `[source.crates-io]\nreplace-with = "debian-registry"\n\n[source.debian-registry]\ndirectory = ` +
        `"${REGISTRY}"\n\n[net]\noffline = true\n`,
    );
  }
  await git(['init', '-q', '--initial-branch=main'], work);
  let earlier = '';
  const lib = join(work, 'src', 'lib.rs');
  const source = await readFile(lib, 'utf8');
  if (options.earlier) {
    await writeFile(lib, `${source}\n// main's previous commit\n`);
    await git(['add', '-A'], work);
    await git(['commit', '-q', '-m', 'gzippy: the decoder, its perf-lab config and workflows'], work);
    earlier = await git(['rev-parse', 'HEAD'], work);
    await writeFile(lib, source);
  }
  await git(['add', '-A'], work);
  await git(
    [
      'commit',
      '-q',
      '-m',
      options.earlier ? 'Drop a comment' : 'gzippy: the decoder, its perf-lab config and workflows',
    ],
    work,
  );
  const base = await git(['rev-parse', 'HEAD'], work);
  await git(['checkout', '-q', '-b', FORK_BRANCH], work);
  const manifest = await readFile(join(work, 'Cargo.toml'), 'utf8');
  if (!manifest.includes('opt-level = 3'))
    throw new Error('examples/gzippy-shape/Cargo.toml: no opt-level = 3 to change');
  await writeFile(join(work, 'Cargo.toml'), manifest.replace('opt-level = 3', 'opt-level = 2'));
  await git(['commit', '-q', '-am', 'Try opt-level 2'], work);
  const head = await git(['rev-parse', 'HEAD'], work);
  await git(['checkout', '-q', '--detach', base], work);
  await git(['merge', '-q', '--no-ff', '-m', `Merge ${head} into ${base}`, head], work);
  const merge = await git(['rev-parse', 'HEAD'], work);
  for (const [path, branch] of [
    [bare, 'main'],
    [forkBare, FORK_BRANCH],
  ] as const) {
    await mkdir(path, { recursive: true });
    await git(['init', '-q', '--bare', '--initial-branch=main', path], path);
    // GitHub lets a fetch ask for any commit it has (actions/checkout fetches the event's commit by SHA).
    await git(['config', 'uploadpack.allowAnySHA1InWant', 'true'], path);
    await git(['push', '-q', path, `${branch === 'main' ? base : head}:refs/heads/${branch}`], work);
  }
  await git(['push', '-q', bare, `${head}:refs/pull/${PR_NUMBER}/head`, `${merge}:refs/pull/${PR_NUMBER}/merge`], work);
  return { bare, forkBare, work, base, head, merge, earlier };
}

/** The environment every step starts from: this host's, without what a runner sets itself or the lab reads. */
function hostEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env))
    if (
      value !== undefined &&
      !/^(GITHUB_|RUNNER_|INPUT_|STATE_|ACTIONS_|GH_|PERF_LAB_|npm_|NODE_TEST|NODE_OPTIONS$|NODE_CHANNEL)/i.test(name)
    )
      env[name] = value;
  return env;
}

export async function rehearse(options: RehearsalOptions = {}): Promise<Rehearsal> {
  const started = Date.now();
  const perfLabDir = resolve(options.perfLabDir ?? projectRoot());
  const source = options.source ?? 'head';
  const dir = options.dir ? resolve(options.dir) : await mkdtemp(join(tmpdir(), 'perf-lab-rehearsal-'));
  await mkdir(dir, { recursive: true });
  const say = (line: string) => options.onLine?.(line);
  const github = new FakeGitHub();
  try {
    const { sha, archive } = await archivePerfLab(perfLabDir, source, dir);
    say(`perf-lab ${source === 'head' ? 'HEAD' : 'working tree'} ${sha}: git archive ${archive}`);
    const archiveDir = join(dir, 'perf-lab');
    await mkdir(archiveDir, { recursive: true });
    await tar.extract({ file: archive, cwd: archiveDir });

    // Reusable workflows: perf-lab's, at the pinned commit (any owner for the examples' placeholder OWNER).
    const calledWorkflow = (uses: string): CalledWorkflow | undefined => {
      const match = /^([^/]+)\/perf-lab\/(\.github\/workflows\/[^@]+)@([0-9a-f]{40})$/.exec(uses);
      if (!match) return undefined;
      return {
        path: join(archiveDir, match[2]!),
        name: match[2]!,
        repository: `${match[1]}/perf-lab`,
        sha: match[3]!,
        filePath: match[2]!,
        ref: uses,
      };
    };
    const resolver: WorkflowResolver = async (reference) => {
      const called =
        'repository' in reference
          ? calledWorkflow(`${reference.owner}/${reference.repository}/${reference.path}@${reference.version}`)
          : undefined;
      if (!called) throw new Error(`not a perf-lab workflow: ${JSON.stringify(reference)}`);
      return { path: called.path, name: called.name };
    };

    // Every workflow and action.yml of the archive, through the parser.
    const parsed: Rehearsal['parsed'] = [];
    for (const folder of ['.github/workflows', 'examples/github'])
      for (const name of (await readdir(join(archiveDir, folder))).filter((file) => /\.ya?ml$/.test(file)).sort()) {
        const file = `${folder}/${name}`;
        parsed.push({ file, errors: (await loadWorkflow(join(archiveDir, file), file, resolver)).errors });
      }
    for (const name of (await readdir(join(archiveDir, 'actions'), { withFileTypes: true })).filter((e) =>
      e.isDirectory(),
    ))
      for (const manifest of ['action.yml', 'action.yaml']) {
        const file = `actions/${name.name}/${manifest}`;
        const found = await readFile(join(archiveDir, file), 'utf8').catch(() => undefined);
        if (found !== undefined) parsed.push({ file, errors: (await loadAction(join(archiveDir, file), file)).errors });
      }
    for (const { file, errors } of parsed) say(`parsed ${file}: ${errors.length ? errors.join('; ') : 'no errors'}`);

    const pushFirst = options.pushFirst ?? false;
    const decoder = await makeDecoderRepositories(dir, archiveDir, sha, {
      bench: pushFirst ? WARM_BENCH : BENCH,
      earlier: pushFirst,
    });
    say(
      `decoder ${DECODER}: base ${decoder.base}, fork ${FORK} head ${decoder.head}, PR #${PR_NUMBER} merge ` +
        `${decoder.merge}`,
    );
    await github.start();
    github.pulls.set(PR_NUMBER, { headSha: decoder.head, headRepo: FORK });
    const world: World = {
      repositories: new Map([
        [DECODER, decoder.bare],
        [FORK, decoder.forkBare],
      ]),
      perfLab: { repository: PERF_LAB, sha, archive },
      github,
      cacheDir: join(dir, 'caches'),
      caches: [],
      cachesSaved: 0,
    };
    // gh cache list/delete (the warm job's prune) reach the same store through the fake GitHub.
    github.cacheStore = cacheStoreOf(world, DECODER);
    const shimDir = join(dir, 'tools', 'bin');
    const toolLog = await writeToolShims(shimDir, {
      hostRoot: perfLabDir,
      memoDir: options.prepareMemo ? join(resolve(options.prepareMemo), sha) : join(dir, 'npm-ci-memo'),
    });
    const hostEnv = hostEnvironment();
    const callers = join(decoder.work, '.github', 'workflows');
    const perfPr = await loadWorkflow(join(callers, 'perf-pr.yml'), '.github/workflows/perf-pr.yml', resolver);
    const perfComment = await loadWorkflow(
      join(callers, 'perf-comment.yml'),
      '.github/workflows/perf-comment.yml',
      resolver,
    );
    for (const caller of [perfPr, perfComment])
      if (caller.errors.length) throw new Error(`${caller.file} (adopted): ${caller.errors.join('; ')}`);

    const repository = {
      id: 1001,
      full_name: DECODER,
      name: 'gzippy',
      owner: { login: 'decoder-org' },
      default_branch: 'main',
      private: false,
    };
    const common = {
      repository: DECODER,
      repository_owner: 'decoder-org',
      server_url: 'https://github.com',
      api_url: github.url,
      run_attempt: '1',
      retention_days: '90',
    };
    const runs: RehearsedRun[] = [];
    const play = async (
      label: string,
      request: Omit<Parameters<typeof runWorkflow>[0], 'dir' | 'world' | 'hostEnv' | 'shimDir' | 'toolLog' | 'onLine'>,
    ) => {
      say(`== ${label}: ${request.caller.file} on ${request.eventName} (run ${request.runId})`);
      const at = Date.now();
      const result = await runWorkflow({
        ...request,
        dir: join(dir, 'runs'),
        world,
        hostEnv,
        shimDir,
        toolLog,
        onLine: options.onLine,
      });
      const seconds = (Date.now() - at) / 1000;
      runs.push({ label, result, seconds });
      say(`== ${label}: ${result.conclusion} in ${seconds.toFixed(1)} s`);
      return result;
    };

    const prRun = (attemptNumber: number, action: string) => {
      const runId = 5100 + attemptNumber;
      github.runs.set(runId, { headSha: decoder.head, event: 'pull_request' });
      const pullRequest = {
        number: PR_NUMBER,
        state: 'open',
        title: 'Try opt-level 2',
        user: { login: 'contributor' },
        head: {
          sha: decoder.head,
          ref: FORK_BRANCH,
          label: `contributor:${FORK_BRANCH}`,
          repo: { id: 2002, full_name: FORK, fork: true },
        },
        base: {
          sha: decoder.base,
          ref: 'main',
          label: 'decoder-org:main',
          repo: { id: 1001, full_name: DECODER, fork: false },
        },
        merge_commit_sha: decoder.merge,
      };
      return play(`PR run ${attemptNumber} (pull_request ${action})`, {
        caller: perfPr,
        called: calledWorkflow,
        eventName: 'pull_request',
        payload: { action, number: PR_NUMBER, pull_request: pullRequest, repository, sender: { login: 'contributor' } },
        github: {
          ...common,
          ref: `refs/pull/${PR_NUMBER}/merge`,
          ref_name: `${PR_NUMBER}/merge`,
          sha: decoder.merge,
          head_ref: FORK_BRANCH,
          base_ref: 'main',
          actor: 'contributor',
          triggering_actor: 'contributor',
          workflow: 'perf-pr',
          workflow_ref: `${DECODER}/.github/workflows/perf-pr.yml@refs/pull/${PR_NUMBER}/merge`,
          workflow_sha: decoder.merge,
          run_number: String(attemptNumber),
        },
        token: READ_ONLY_TOKEN,
        runId,
      });
    };
    const commentRun = (attemptNumber: number, measured: { runId: number; conclusion: string }) =>
      play(`comment run ${attemptNumber} (workflow_run of ${measured.conclusion} run ${measured.runId})`, {
        caller: perfComment,
        called: calledWorkflow,
        eventName: 'workflow_run',
        payload: {
          action: 'completed',
          workflow_run: {
            id: measured.runId,
            name: 'perf-pr',
            event: 'pull_request',
            status: 'completed',
            conclusion: measured.conclusion,
            head_sha: decoder.head,
            head_commit: { id: decoder.head },
            head_branch: FORK_BRANCH,
            html_url: `https://github.com/${DECODER}/actions/runs/${measured.runId}`,
            // GitHub lists no pull requests on a workflow_run from a fork.
            pull_requests: [],
            head_repository: { id: 2002, full_name: FORK },
            repository: { id: 1001, full_name: DECODER },
          },
          workflow: { name: 'perf-pr', path: '.github/workflows/perf-pr.yml' },
          repository,
          sender: { login: 'contributor' },
        },
        github: {
          ...common,
          ref: 'refs/heads/main',
          ref_name: 'main',
          sha: decoder.base,
          actor: 'contributor',
          triggering_actor: 'contributor',
          workflow: 'perf-comment',
          workflow_ref: `${DECODER}/.github/workflows/perf-comment.yml@refs/heads/main`,
          workflow_sha: decoder.base,
          run_number: String(attemptNumber),
        },
        token: BASE_TOKEN,
        runId: 5200 + attemptNumber,
      });

    const pushRun = (pushNumber: number, before: string, after: string) =>
      play(`push ${pushNumber} to main (warm)`, {
        caller: perfPr,
        called: calledWorkflow,
        eventName: 'push',
        payload: {
          ref: 'refs/heads/main',
          before,
          after,
          head_commit: { id: after },
          pusher: { name: 'maintainer' },
          repository,
          sender: { login: 'maintainer' },
        },
        github: {
          ...common,
          ref: 'refs/heads/main',
          ref_name: 'main',
          sha: after,
          actor: 'maintainer',
          triggering_actor: 'maintainer',
          workflow: 'perf-pr',
          workflow_ref: `${DECODER}/.github/workflows/perf-pr.yml@refs/heads/main`,
          workflow_sha: after,
          run_number: String(pushNumber),
        },
        token: BASE_TOKEN,
        runId: 5000 + pushNumber,
      });

    // Warm: main's previous commit, then the base commit (whose warm job prunes the first one's cache), then the PR.
    // Cold: the PR on an empty cache store, run twice, and a cancelled run's comment side.
    if (pushFirst) {
      await pushRun(1, '0'.repeat(40), decoder.earlier);
      await pushRun(2, decoder.earlier, decoder.base);
    }
    const artifacts: Rehearsal['artifacts'] = [];
    for (const [attemptNumber, action] of pushFirst
      ? ([[1, 'opened']] as const)
      : ([
          [1, 'opened'],
          [2, 'reopened'],
        ] as const)) {
      const measured = await prRun(attemptNumber, action);
      const commented = await commentRun(attemptNumber, measured);
      const downloaded = commented.jobs.find((job) => job.conclusion !== 'skipped')?.workspace;
      const files = downloaded ? await readdir(join(downloaded, 'artifact')).catch(() => [] as string[]) : [];
      artifacts.push({ runId: measured.runId, files: files.sort() });
    }
    // A run cancelled by a newer push: pr-comment.yml's job-level if: (a folded block scalar) skips the job.
    if (!pushFirst) await commentRun(3, { runId: 5103, conclusion: 'cancelled' });
    const tokens = new Map([
      [READ_ONLY_TOKEN, 'read-only'],
      [BASE_TOKEN, 'base'],
    ]);
    return {
      dir,
      perfLab: { repository: PERF_LAB, sha, source },
      decoder: {
        repository: DECODER,
        fork: FORK,
        base: decoder.base,
        head: decoder.head,
        merge: decoder.merge,
        pr: PR_NUMBER,
        earlier: decoder.earlier,
      },
      parsed,
      runs,
      artifacts,
      comments: github.comments.map((comment) => ({ ...comment })),
      caches: world.caches.map((entry) => ({ key: entry.key, scope: entry.scope })),
      requests: github.requests.map((request) => ({
        method: request.method,
        path: request.path,
        search: request.search,
        token: [...tokens].find(([token]) => request.authorization?.includes(token))?.[1] ?? 'none',
      })),
      readOnlyToken: READ_ONLY_TOKEN,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await github.stop();
    if (!options.keep && !options.dir) await rm(dir, { recursive: true, force: true });
  }
}

export function jobOf(run: RehearsedRun | undefined, id: string): JobResult | undefined {
  return run?.result.jobs.find((job) => job.id === id);
}

/** The builds a job made: recorded cargo builds, cmake runs and cc compiles or links. */
export function buildsOf(job: JobResult | undefined): string[] {
  return (job?.steps ?? []).flatMap((step) => step.tools.filter(isBuild).map((call) => `${call.tool} ${call.args}`));
}

/**
 * What the sticky comment must say: who was measured, the ratio table, the dataset's row with its head/libdeflate
 * ratio.
 */
export const COMMENT_CONTENT: readonly RegExp[] = [
  /^#+ perf-lab: gzippy-head \(head\) vs gzippy-base \(base\) vs libdeflate-[\d.]+$/m,
  /^\| dataset \|.*\| head \/ libdeflate \|$/m,
  /^\| LOGS \|.*\| \d+\.\d+× \|$/m,
];

/** `2 cargo build, 5 cc` for a list of build calls. */
export function describeBuilds(builds: readonly string[]): string {
  if (builds.length === 0) return 'no build calls';
  const counts = new Map<string, number>();
  for (const call of builds) {
    const [tool = '', first = ''] = call.split(' ');
    const name = tool === 'cargo' ? `${tool} ${first}` : tool;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts].map(([name, count]) => `${count}× ${name}`).join(', ');
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** The key a job's cache save step saved under ('' for none). */
export function savedKey(job: JobResult | undefined): string {
  const save = job?.steps.find((step) => step.uses?.startsWith('actions/cache/save'));
  return save?.log.map((line) => /^Cache saved with key: (\S+)/.exec(line)?.[1]).find(Boolean) ?? '';
}

/** The key a job's cache restore step restored ('' for none). */
export function restoredKey(job: JobResult | undefined): string {
  const restore = job?.steps.find((step) => step.uses?.startsWith('actions/cache/restore'));
  return restore?.log.map((line) => /^Cache restored from key: (\S+)/.exec(line)?.[1]).find(Boolean) ?? '';
}

/** What a good rehearsal shows; each check says what it saw. */
export function checkRehearsal(rehearsal: Rehearsal): Check[] {
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  const failing = rehearsal.parsed.filter((file) => file.errors.length > 0);
  check(
    'the workflow parser reports no errors',
    rehearsal.parsed.length > 0 && failing.length === 0,
    failing.length
      ? failing.map((file) => `${file.file}: ${file.errors.join('; ')}`).join(' | ')
      : `${rehearsal.parsed.length} files`,
  );
  const failedSteps = (run: RehearsedRun) =>
    run.result.jobs
      .flatMap((job) =>
        job.steps
          .filter((step) => step.conclusion === 'failure')
          .map((step) => `${job.id}: ${step.name}: ${step.annotations.map((a) => a.message).join(' / ')}`),
      )
      .join(' | ');
  const jobsOf = (run: RehearsedRun) =>
    `${run.result.jobs.map((job) => `${job.id} ${job.conclusion}`).join(', ')}` +
    `${failedSteps(run) ? ` — ${failedSteps(run)}` : ''}`;
  const store = () => rehearsal.caches.map((entry) => `${entry.key} (${entry.scope})`).join(', ') || 'none';
  const pushes = rehearsal.runs.filter((run) => run.result.event === 'push');
  const prRuns = rehearsal.runs.filter((run) => run.result.event === 'pull_request');
  const commentRuns = rehearsal.runs.filter((run) => run.result.event === 'workflow_run');
  const warmKeys = pushes.map((run) => savedKey(jobOf(run, 'perf / warm')));
  for (const [index, push] of pushes.entries()) {
    const warm = jobOf(push, 'perf / warm');
    check(
      `push ${index + 1} to main runs the warm job (measure skipped), which saves a cache for the default branch`,
      push.result.conclusion === 'success' &&
        warm?.conclusion === 'success' &&
        jobOf(push, 'perf / measure')?.conclusion === 'skipped' &&
        warmKeys[index]!.endsWith(`-${push.result.runId}`),
      `${jobsOf(push)}; saved: ${warmKeys[index] || 'nothing'}; ${describeBuilds(buildsOf(warm))}`,
    );
  }
  if (pushes.length > 1) {
    const restored = restoredKey(jobOf(pushes[1], 'perf / warm'));
    check(
      "push 2's warm job restores push 1's cache",
      restored !== '' && restored === warmKeys[0],
      `restored: ${restored || 'nothing'}`,
    );
    const prefix = warmKeys.at(-1)!.replace(/\d+$/, '');
    const left = rehearsal.caches.filter((entry) => entry.key.startsWith(prefix));
    const deletes = rehearsal.requests.filter(
      (request) => request.method === 'DELETE' && request.path.endsWith('/actions/caches'),
    );
    check(
      `the prune leaves one ${prefix}* entry, the newest, on main (push 2 deleted push 1's; push 1 had none older)`,
      left.length === 1 &&
        left[0]!.key === warmKeys.at(-1) &&
        left[0]!.scope === 'refs/heads/main' &&
        deletes.length === 1 &&
        new URLSearchParams(deletes[0]!.search).get('key') === warmKeys[0] &&
        deletes[0]!.token === 'base',
      `store: ${store()}; deletes: ` +
        `${deletes.map((request) => `${request.search} (${request.token} token)`).join(', ') || 'none'}`,
    );
  }
  for (const [index, run] of prRuns.entries()) {
    check(
      `PR run ${index + 1} succeeds (measure runs, warm is skipped)`,
      run.result.conclusion === 'success' &&
        jobOf(run, 'perf / measure')?.conclusion === 'success' &&
        jobOf(run, 'perf / warm')?.conclusion === 'skipped',
      jobsOf(run),
    );
    const files = rehearsal.artifacts.find((artifact) => artifact.runId === run.result.runId)?.files ?? [];
    const expected = [ARTIFACT_FILES.results, ARTIFACT_FILES.report, ARTIFACT_FILES.pr];
    check(
      `PR run ${index + 1}'s artifact has ${expected.slice(0, -1).join(', ')} and ${expected.at(-1)}`,
      expected.every((file) => files.includes(file)),
      files.join(', ') || 'no artifact downloaded',
    );
  }
  const restoreSaid = (job: JobResult | undefined) =>
    job?.steps
      .find((step) => step.uses?.startsWith('actions/cache/restore'))
      ?.log.find((line) => /Cache (restored from key|not found)/.test(line)) ?? 'no restore step';
  if (pushes.length > 0) {
    const measure = jobOf(prRuns[0], 'perf / measure');
    const builds = buildsOf(measure);
    const bench = measure?.steps.find((step) => step.uses === './perf-lab/actions/bench');
    check(
      "the PR run restores main's newest warm cache",
      restoredKey(measure) !== '' && restoredKey(measure) === warmKeys.at(-1),
      `cache restore said: ${restoreSaid(measure)}; store: ${store()}`,
    );
    check(
      "the PR run builds only head: one cargo build, base's build the warm job's, no libdeflate or harness build",
      builds.length === 1 &&
        builds[0]!.startsWith('cargo build') &&
        Boolean(bench?.log.some((line) => /build decoder gzippy-base: gzippy-base \(cached\)/.test(line))),
      `${describeBuilds(builds)}; ` +
        `${bench?.log.find((line) => line.startsWith('build decoder gzippy-base')) ?? 'no base build line'}`,
    );
  } else {
    const cold = buildsOf(jobOf(prRuns[0], 'perf / measure'));
    check('PR run 1 (cold) builds (the count of builds works)', cold.length > 0, describeBuilds(cold));
    const warm = jobOf(prRuns[1], 'perf / measure');
    const warmBuilds = buildsOf(warm);
    check(
      'PR run 2 (warm from the saved cache) builds nothing',
      Boolean(warm) && warmBuilds.length === 0,
      `${describeBuilds(warmBuilds)}; cache restore said: ${restoreSaid(warm)}; saved caches: ${store()}`,
    );
  }
  for (const [index, run] of commentRuns.slice(0, prRuns.length).entries()) {
    const comment = run.result.jobs.find((job) => job.conclusion !== 'skipped');
    const posted = comment?.steps.find((step) => step.uses === './perf-lab/actions/comment');
    check(
      `comment run ${index + 1} succeeds and its Comment step ran`,
      run.result.conclusion === 'success' && posted?.outcome === 'success',
      jobsOf(run),
    );
  }
  const sticky = rehearsal.comments.filter((comment) => comment.issueNumber === rehearsal.decoder.pr);
  const updated = rehearsal.requests.some(
    (request) => request.method === 'PATCH' && /\/issues\/comments\/\d+$/.test(request.path),
  );
  if (pushes.length === 0) {
    const cancelled = commentRuns.find((run) => run.result.jobs.every((job) => job.conclusion === 'skipped'));
    check(
      "a cancelled run's workflow_run skips the comment job (pr-comment.yml's if:)",
      commentRuns.length === 3 && cancelled === commentRuns[2],
      commentRuns
        .map((run) => `${run.label}: ${run.result.jobs.map((job) => `${job.id} ${job.conclusion}`).join(', ')}`)
        .join(' | '),
    );
  }
  check(
    pushes.length === 0
      ? 'one sticky comment on the PR, created by the first comment run and updated by the second'
      : 'one sticky comment on the PR, created by the comment run',
    sticky.length === 1 &&
      sticky[0]!.body.startsWith(COMMENT_MARKER) &&
      sticky[0]!.user.login === 'github-actions[bot]' &&
      updated === prRuns.length > 1,
    `${sticky.length} comments on #${rehearsal.decoder.pr}; updated: ${updated}`,
  );
  const body = sticky[0]?.body ?? '';
  const { base, head } = rehearsal.decoder;
  check(
    "the comment names the contenders, has the ratio table's LOGS row and names the commits",
    COMMENT_CONTENT.every((pattern) => pattern.test(body)) &&
      body.includes(`base \`${base.slice(0, 12)}\` → head \`${head.slice(0, 12)}\``),
    body
      ? `${
          COMMENT_CONTENT.filter((pattern) => !pattern.test(body))
            .map((pattern) => `missing ${String(pattern)}`)
            .join('; ') || 'all there'
        }: ${body.split('\n').slice(0, 8).join(' ⏎ ').slice(0, 400)}`
      : 'no comment',
  );
  const leaked = rehearsal.requests.filter((request) => request.token === 'read-only');
  check(
    "the fork's read-only token never reached the API",
    leaked.length === 0,
    leaked.map((request) => `${request.method} ${request.path}`).join(', ') ||
      `${rehearsal.requests.length} requests, none with it`,
  );
  return checks;
}
