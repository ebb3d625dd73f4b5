import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { COMMENT_MARKER } from '../github/comment.js';
import {
  buildsOf,
  checkRehearsal,
  COMMENT_CONTENT,
  describeBuilds,
  jobOf,
  rehearse,
  restoredKey,
  savedKey,
  type Rehearsal,
} from './index.js';
import { gh } from './gh.js';
import { parseFileCommands, type JobResult } from './runner.js';
import { cacheStoreOf, STAND_INS, StepFailure, type StandInContext, type World } from './stand-ins.js';
import { FakeGitHub } from '../testing/fake-github.js';
import { child, conditionHolds, evaluateString, loadWorkflow } from './workflow.js';

/** The log tail of every failed step of a job, for an assertion's message. */
function failedSteps(job: JobResult | undefined): string {
  if (!job) return 'no such job';
  return job.steps
    .filter((step) => step.outcome === 'failure')
    .map((step) => `${step.name}:\n  ${step.log.slice(-30).join('\n  ')}`)
    .join('\n');
}

describe('the rehearsal engine (workflow parsing and evaluation)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'perf-lab-rehearse-unit-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('evaluates a folded if: as GitHub folds it, not as the raw source the parser splits', async () => {
    const file = join(dir, 'folded.yml');
    await writeFile(
      file,
      [
        'on: workflow_run',
        'jobs:',
        '  comment:',
        '    if: >-',
        "      ${{ github.event.workflow_run.event == 'pull_request' &&",
        "      github.event.workflow_run.conclusion != 'cancelled' }}",
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - run: echo "${{ inputs.a }}-${{ inputs.b }}"',
        '        env:',
        '          TEXT: |',
        '            one ${{ inputs.a }}',
        '            two',
      ].join('\n'),
    );
    const workflow = await loadWorkflow(file, 'folded.yml');
    assert.deepEqual(workflow.errors, []);
    const condition = child(workflow.root, 'jobs', 'comment', 'if');
    const run = (conclusion: string) => ({
      github: { event: { workflow_run: { event: 'pull_request', conclusion } } },
    });
    assert.equal(conditionHolds(condition, run('success'), { failed: false }), true);
    assert.equal(conditionHolds(condition, run('cancelled'), { failed: false }), false);
    // No status function: success() && (…), so a failed step before it skips it.
    assert.equal(conditionHolds(condition, run('success'), { failed: true }), false);
    const step = child(workflow.root, 'jobs', 'comment', 'steps', 0);
    const contexts = { github: {}, inputs: { a: 'x', b: 'y' } };
    assert.equal(evaluateString(child(step, 'run'), contexts), 'echo "x-y"');
    assert.equal(evaluateString(child(step, 'env', 'TEXT'), contexts), 'one x\ntwo\n');
  });

  it("reads GITHUB_OUTPUT's name=value and heredoc entries, and refuses an unclosed one", () => {
    assert.deepEqual(parseFileCommands('a=1\nb<<EOF\nline one\nline=two\nEOF\nc=x=y\n'), {
      a: '1',
      b: 'line one\nline=two',
      c: 'x=y',
    });
    assert.throws(() => parseFileCommands('b<<EOF\nnever closed\n'), /no closing delimiter EOF/);
  });

  /** A stand-in's context with these inputs, for a workflow_run of a fork's pull request. */
  function standInContext(inputs: Record<string, string>, world: Partial<World> = {}): StandInContext {
    return {
      input: (name) => inputs[name] ?? STAND_INS.get('actions/checkout')?.inputs[name] ?? '',
      workspace: dir,
      runnerTemp: dir,
      github: {
        repository: 'decoder-org/gzippy',
        ref: 'refs/heads/main',
        sha: 'a'.repeat(40),
        runId: 9,
        eventName: 'workflow_run',
        baseRef: '',
        defaultBranch: 'main',
        token: 'token',
        serverUrl: 'https://github.com',
        apiUrl: world.github?.url ?? '',
        event: {
          repository: { id: 1 },
          workflow_run: {
            event: 'pull_request',
            head_sha: 'b'.repeat(40),
            head_repository: { id: 2, full_name: 'fork/gzippy' },
          },
        },
      },
      world: world as World,
      log: () => undefined,
      annotate: () => undefined,
    };
  }

  it("refuses, as checkout v7 does, a fork's PR code in a workflow_run, by ref, commit or repository", async () => {
    const checkout = STAND_INS.get('actions/checkout')!;
    for (const inputs of [
      { ref: 'refs/pull/7/merge' },
      { ref: 'b'.repeat(40) },
      { repository: 'fork/gzippy' },
    ] as Array<Record<string, string>>)
      await assert.rejects(checkout.run(standInContext(inputs)), (error: Error) => {
        assert.ok(error instanceof StepFailure);
        assert.match(error.message, /Refusing to check out fork pull request code from a 'workflow_run' workflow/);
        return true;
      });
  });

  it(
    'fails a download whose digest is not the one GitHub ' + 'lists (download-artifact v8), warns when asked to',
    async () => {
      const github = new FakeGitHub();
      await github.start();
      try {
        github.addArtifact(9, 'perf-lab-results', Buffer.from('not the zip that was listed')).digest =
          `sha256:${'0'.repeat(64)}`;
        const download = STAND_INS.get('actions/download-artifact')!;
        const inputs = { name: 'perf-lab-results', path: 'artifact', 'github-token': 't', 'run-id': '9' };
        await assert.rejects(download.run(standInContext(inputs, { github })), /Digest validation failed/);
        const warnings: string[] = [];
        const context = standInContext({ ...inputs, 'digest-mismatch': 'warn' }, { github });
        context.annotate = (_level, message) => warnings.push(message);
        // Past the digest, the bytes are no zip: the stand-in fails reading it, after the warning.
        await assert.rejects(download.run(context));
        assert.deepEqual(warnings, ['Digest validation failed for artifact(s): perf-lab-results']);
      } finally {
        await github.stop();
      }
    },
  );

  it("counts a cargo build and a cc compile as builds, cargo metadata, cc --version and cargo's own links not", () => {
    const job = {
      id: 'j',
      conclusion: 'success',
      runsOn: '',
      summary: '',
      workspace: '',
      steps: [
        {
          tools: [
            { tool: 'cargo', args: 'metadata --no-deps' },
            { tool: 'cargo', args: 'build --release' },
            // rustc's link, made by that cargo build: part of it.
            { tool: 'cc', args: '-m64 shim.o -o libshim.so', via: 'cargo' },
            { tool: 'cc', args: '--version' },
            { tool: 'cc', args: '-O2 -o harness harness.c' },
          ],
        },
      ],
    } as unknown as JobResult;
    assert.deepEqual(buildsOf(job), ['cargo build --release', 'cc -O2 -o harness harness.c']);
    assert.equal(describeBuilds(buildsOf(job)), '1× cargo build, 1× cc');
  });

  it("models the warm job's gh cache list and delete against the cache store, and refuses the rest", async () => {
    const github = new FakeGitHub();
    await github.start();
    try {
      const world = { caches: [], cachesSaved: 0 } as unknown as World;
      github.cacheStore = cacheStoreOf(world, 'decoder-org/gzippy');
      const add = (key: string, scope: string, lastAccessedAt: string) =>
        world.caches.push({
          key,
          version: 'v',
          scope,
          file: join(dir, `${key}.tar`),
          order: ++world.cachesSaved,
          sizeInBytes: 1,
          createdAt: lastAccessedAt,
          lastAccessedAt,
        });
      add('perf-lab-macos-15-Linux-X64-quick-1', 'refs/heads/main', '2026-01-01T00:00:03.000Z');
      add('perf-lab-macos-15-Linux-X64-quick-2', 'refs/heads/main', '2026-01-01T00:00:01.000Z');
      add('perf-lab-macos-15-Linux-X64-quick-3', 'refs/pull/7/merge', '2026-01-01T00:00:02.000Z');
      add('other-key', 'refs/heads/main', '2026-01-01T00:00:04.000Z');
      const env = {
        GH_TOKEN: 'ghs_base',
        GH_REPO: 'decoder-org/gzippy',
        GITHUB_API_URL: github.url,
        GITHUB_ACTIONS: 'true',
      };
      const list = ['cache', 'list', '--key', 'perf-lab-macos-15-Linux-X64-quick-'];
      const json = ['--json', 'key', '--jq', '.[].key'];
      // Every ref's entries with the prefix, last accessed first; --limit pages through the API.
      const listed = await gh([...list, '--limit', '100', ...json], env);
      assert.equal(listed.code, 0, listed.stderr);
      assert.equal(listed.stdout, ['1', '3', '2'].map((n) => `perf-lab-macos-15-Linux-X64-quick-${n}\n`).join(''));
      assert.equal((await gh([...list, '--limit=1', ...json], env)).stdout, 'perf-lab-macos-15-Linux-X64-quick-1\n');
      assert.deepEqual(await gh(['cache', 'list', '--key', 'none-', ...json], env), {
        code: 0,
        stdout: '',
        stderr: 'rehearsal: gh cache list stand-in: 0 cache(s) with key prefix none-, last accessed first\n',
      });
      const deleted = await gh(['cache', 'delete', 'perf-lab-macos-15-Linux-X64-quick-2'], env);
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.deepEqual(
        world.caches.map((entry) => entry.key),
        ['perf-lab-macos-15-Linux-X64-quick-1', 'perf-lab-macos-15-Linux-X64-quick-3', 'other-key'],
      );
      assert.ok(github.requests.every((request) => request.authorization === 'token ghs_base'));
      const missing = await gh(['cache', 'delete', 'perf-lab-macos-15-Linux-X64-quick-2'], env);
      assert.equal(missing.code, 1);
      assert.match(
        missing.stderr,
        /^X Could not find a cache matching perf-lab-macos-15-Linux-X64-quick-2 in decoder-org\/gzippy$/m,
      );
      const unauthenticated = await gh([...list, ...json], { ...env, GH_TOKEN: undefined });
      assert.equal(unauthenticated.code, 4);
      assert.match(unauthenticated.stderr, /set the GH_TOKEN environment variable/);
      for (const args of [
        ['api', 'repos/decoder-org/gzippy/actions/caches'],
        ['cache', 'list', '--key', 'perf-lab-'],
        ['cache', 'list', '--key', 'perf-lab-', '--ref', 'refs/heads/main', ...json],
        ['cache', 'list', '--key', 'perf-lab-', '--json', 'id', '--jq', '.[].id'],
        ['cache', 'delete', '--all'],
        ['cache', 'delete', '123'],
      ]) {
        const refused = await gh(args, env);
        assert.equal(refused.code, 1, args.join(' '));
        assert.match(refused.stderr, /is not modelled/, args.join(' '));
      }
      assert.equal(world.caches.length, 3, 'nothing refused deleted anything');
    } finally {
      await github.stop();
    }
  });
});

/** Both scenarios rehearse the same commit: the second reuses the first's `prepare` (tsc) output, as later jobs do. */
let prepareMemo: string;
before(async () => {
  prepareMemo = await mkdtemp(join(tmpdir(), 'perf-lab-rehearse-prepare-'));
});
after(async () => {
  await rm(prepareMemo, { recursive: true, force: true });
});

describe('npm run rehearse: a fork PR through the real workflows, from a git archive of perf-lab', () => {
  let rehearsal: Rehearsal;
  before(async () => {
    rehearsal = await rehearse({ prepareMemo });
  });

  it('parses every workflow and action.yml with no parser error', () => {
    const files = rehearsal.parsed.map((file) => file.file);
    for (const expected of [
      '.github/workflows/pr-measure.yml',
      '.github/workflows/pr-comment.yml',
      'examples/github/perf-pr.yml',
      'examples/github/perf-comment.yml',
      'actions/bench/action.yml',
      'actions/comment/action.yml',
    ])
      assert.ok(files.includes(expected), `${expected} was not parsed (parsed: ${files.join(', ')})`);
    for (const file of rehearsal.parsed) assert.deepEqual(file.errors, [], file.file);
    assert.match(rehearsal.perfLab.sha, /^[0-9a-f]{40}$/);
  });

  it(
    'runs both PR runs to success (measure runs, warm is ' + 'skipped) and uploads results.json, report.md, pr.json',
    () => {
      const prRuns = rehearsal.runs.filter((run) => run.result.event === 'pull_request');
      assert.equal(prRuns.length, 2);
      for (const run of prRuns) {
        const measure = jobOf(run, 'perf / measure');
        assert.equal(measure?.conclusion, 'success', `${run.label}:\n${failedSteps(measure)}`);
        assert.equal(jobOf(run, 'perf / warm')?.conclusion, 'skipped');
        assert.equal(run.result.conclusion, 'success');
        const files = rehearsal.artifacts.find((artifact) => artifact.runId === run.result.runId)?.files ?? [];
        for (const file of ['results.json', 'report.md', 'pr.json'])
          assert.ok(files.includes(file), `${run.label}: the artifact has ${files.join(', ') || 'nothing'}`);
      }
    },
  );

  it('builds in the cold PR run and nothing in the second, warm from the saved cache', () => {
    const [cold, warm] = rehearsal.runs.filter((run) => run.result.event === 'pull_request');
    const coldBuilds = buildsOf(jobOf(cold, 'perf / measure'));
    assert.ok(
      coldBuilds.some((call) => call.startsWith('cargo build')),
      describeBuilds(coldBuilds),
    );
    const warmJob = jobOf(warm, 'perf / measure');
    const restore = warmJob?.steps.find((step) => step.uses?.startsWith('actions/cache/restore'));
    const warmBuilds = buildsOf(warmJob);
    assert.ok(warmJob, 'the second PR run has a measure job');
    assert.equal(
      warmBuilds.length,
      0,
      `the second PR run built (${describeBuilds(warmBuilds)}); its cache restore said: ` +
        `${restore?.log.join(' / ')}; caches saved: ${JSON.stringify(rehearsal.caches)}`,
    );
  });

  it('posts the one sticky comment from the workflow_run side and updates it, with the ratio table for LOGS', () => {
    const comments = rehearsal.runs.filter((run) => run.result.event === 'workflow_run');
    for (const run of comments.slice(0, 2)) {
      const job = jobOf(run, 'comment / comment');
      assert.equal(job?.conclusion, 'success', `${run.label}:\n${failedSteps(job)}`);
      assert.equal(job?.steps.find((step) => step.name === 'Comment')?.outcome, 'success');
    }
    assert.equal(jobOf(comments[2], 'comment / comment')?.conclusion, 'skipped', 'a cancelled run gets no comment job');
    const onPr = rehearsal.comments.filter((comment) => comment.issueNumber === rehearsal.decoder.pr);
    assert.equal(onPr.length, 1, 'one comment, updated in place by the second comment run');
    const [comment] = onPr;
    assert.ok(comment!.body.startsWith(COMMENT_MARKER));
    assert.equal(comment!.user.login, 'github-actions[bot]');
    assert.ok(rehearsal.requests.some((request) => request.method === 'PATCH' && request.token === 'base'));
    for (const pattern of COMMENT_CONTENT) assert.match(comment!.body, pattern);
    const { base, head } = rehearsal.decoder;
    assert.ok(comment!.body.includes(`base \`${base.slice(0, 12)}\` → head \`${head.slice(0, 12)}\``));
  });

  it("keeps the fork's read-only token away from the API, and every check of npm run rehearse passes", () => {
    assert.deepEqual(
      rehearsal.requests.filter((request) => request.token === 'read-only'),
      [],
    );
    const failing = checkRehearsal(rehearsal).filter((check) => !check.ok);
    assert.deepEqual(
      failing.map((check) => `${check.name}: ${check.detail}`),
      [],
    );
  });
});

describe('npm run rehearse -- --push-first: two warm-ups on main, then a PR run that builds only head', () => {
  let rehearsal: Rehearsal;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'perf-lab-rehearse-warm-'));
    rehearsal = await rehearse({ pushFirst: true, dir, prepareMemo });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const pushes = () => rehearsal.runs.filter((run) => run.result.event === 'push');
  const warmJob = (index: number) => jobOf(pushes()[index], 'perf / warm');
  const prefix = () => savedKey(warmJob(1)).replace(/\d+$/, '');

  it(
    'runs the warm job on both pushes (measure skipped): ' + 'LOGS only, calibrated, saved under the run id, pruned',
    async () => {
      assert.deepEqual(
        pushes().map((run) => run.result.runId),
        [5001, 5002],
      );
      for (const [index, run] of pushes().entries()) {
        const warm = warmJob(index);
        assert.equal(warm?.conclusion, 'success', `${run.label}:\n${failedSteps(warm)}`);
        assert.equal(jobOf(run, 'perf / measure')?.conclusion, 'skipped');
        assert.deepEqual(
          warm.steps.map((step) => step.outcome),
          warm.steps.map(() => 'success'),
          'every step of the warm job ran, the prune included',
        );
        assert.match(savedKey(warm), new RegExp(`^perf-lab-macos-15-[A-Za-z]+-[A-Z0-9]+-quick-${run.result.runId}$`));
        // datasets: logs reaches the warm job's calibrate step: nothing else prepared, nothing from the network.
        const cache = join(warm.workspace, 'perf-lab-cache');
        assert.deepEqual((await readdir(join(cache, 'datasets', 'quick'))).sort(), [
          'logs.raw',
          'logs.raw.gz',
          'manifest.json',
        ]);
        assert.equal((await readdir(join(cache, 'calibration'))).filter((file) => file.endsWith('.json')).length, 1);
      }
      // Push 2 (the base commit) starts from push 1's cache: only its own decoder build is new.
      assert.equal(restoredKey(warmJob(1)), savedKey(warmJob(0)));
      assert.equal(describeBuilds(buildsOf(warmJob(1))), '1× cargo build');
    },
  );

  it("leaves one entry of the runner class's prefix on main, the newest: push 2's prune deleted push 1's", () => {
    assert.deepEqual(
      rehearsal.caches.filter((entry) => entry.key.startsWith(prefix())),
      [{ key: savedKey(warmJob(1)), scope: 'refs/heads/main' }],
    );
    const deletes = rehearsal.requests.filter(
      (request) =>
        request.method === 'DELETE' && request.path === `/repos/${rehearsal.decoder.repository}/actions/caches`,
    );
    assert.deepEqual(
      deletes.map((request) => [new URLSearchParams(request.search).get('key'), request.token]),
      [[savedKey(warmJob(0)), 'base']],
    );
    const prune = (index: number) => warmJob(index)!.steps.find((step) => step.name.startsWith('Prune'))!.log;
    assert.ok(
      prune(0).some((line) => /1 cache\(s\) with key prefix/.test(line)),
      prune(0).join('\n'),
    );
    assert.ok(
      prune(1).some((line) => /2 cache\(s\) with key prefix/.test(line)),
      prune(1).join('\n'),
    );
  });

  it(
    "restores main's newest cache on the PR, builds only " + "head (base is the warm job's build), and succeeds",
    async () => {
      const pr = rehearsal.runs.find((run) => run.result.event === 'pull_request');
      const measure = jobOf(pr, 'perf / measure');
      assert.equal(measure?.conclusion, 'success', failedSteps(measure));
      assert.equal(pr!.result.conclusion, 'success');
      assert.equal(restoredKey(measure), savedKey(warmJob(1)));
      const builds = buildsOf(measure);
      assert.equal(builds.filter((call) => call.startsWith('cargo build')).length, 1, describeBuilds(builds));
      assert.deepEqual(
        builds.filter((call) => !call.startsWith('cargo build')),
        [],
        'no libdeflate, harness or other build',
      );
      // cc outside a cargo build: only the compiler probe, no compile or link.
      const cc = measure.steps.flatMap((step) => step.tools).filter((call) => call.tool === 'cc' && !call.via);
      assert.deepEqual(
        cc.map((call) => call.args),
        cc.map(() => '--version'),
      );
      const bench = measure.steps.find((step) => step.uses === './perf-lab/actions/bench')!;
      assert.ok(bench.log.some((line) => line.startsWith('build decoder gzippy-head: gzippy-head built')));
      const base = bench.log.map((line) => /^pr-check: base gzippy-base: build ([0-9a-f]+) \(cached\)/.exec(line)?.[1]);
      const baseBuild = base.find(Boolean);
      assert.ok(baseBuild, bench.log.join('\n'));
      assert.ok(
        (await readdir(join(warmJob(1)!.workspace, 'perf-lab-cache', 'builds'))).includes(`decoder-${baseBuild}`),
        "base's build is the one push 2's warm job made",
      );
      const report = await readFile(join(measure.workspace, 'perf-lab-artifact', 'report.md'), 'utf8');
      // The margin names the calibration it read (or was compared with, when the run's own scatter is noisier).
      assert.match(report, /A\/A calibration of \d{4}-\d{2}-\d{2}/, "the verdict reads the warm job's calibration");
      assert.equal(measure.steps.find((step) => step.uses?.startsWith('actions/cache/save'))?.outcome, 'skipped');
    },
  );

  it('every check of npm run rehearse -- --push-first passes', () => {
    const failing = checkRehearsal(rehearsal).filter((check) => !check.ok);
    assert.deepEqual(
      failing.map((check) => `${check.name}: ${check.detail}`),
      [],
    );
  });
});
