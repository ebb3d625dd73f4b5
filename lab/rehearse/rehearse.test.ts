import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { COMMENT_MARKER } from '../github/comment.js';
import { buildsOf, checkRehearsal, COMMENT_CONTENT, describeBuilds, jobOf, rehearse, type Rehearsal } from './index.js';
import { parseFileCommands, type JobResult } from './runner.js';
import { STAND_INS, StepFailure, type StandInContext, type World } from './stand-ins.js';
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

  it('fails a download whose digest is not the one GitHub lists (download-artifact v8), warns when asked to', async () => {
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
  });

  it('counts a cargo build and a cc compile as builds, cargo metadata and cc --version not', () => {
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
            { tool: 'cc', args: '--version' },
            { tool: 'cc', args: '-O2 -o harness harness.c' },
          ],
        },
      ],
    } as unknown as JobResult;
    assert.deepEqual(buildsOf(job), ['cargo build --release', 'cc -O2 -o harness harness.c']);
    assert.equal(describeBuilds(buildsOf(job)), '1× cargo build, 1× cc');
  });
});

describe('npm run rehearse: a fork PR through the real workflows, from a git archive of perf-lab', () => {
  let rehearsal: Rehearsal;
  before(async () => {
    rehearsal = await rehearse();
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

  it('runs both PR runs to success (measure runs, warm is skipped) and uploads results.json, report.md, pr.json', () => {
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
  });

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
      `the second PR run built (${describeBuilds(warmBuilds)}); its cache restore said: ${restore?.log.join(' / ')}; caches saved: ${JSON.stringify(rehearsal.caches)}`,
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
