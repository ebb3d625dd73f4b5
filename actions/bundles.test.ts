import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { parse } from 'yaml';
import { projectRoot } from '../lab/core/paths.js';
import { inputVariable, parseFileCommands } from '../lab/rehearse/runner.js';
import { stepInputs } from '../lab/testing/fake-core.js';
import { FakeGitHub } from '../lab/testing/fake-github.js';
import { node24, type NodeRuntime } from '../lab/testing/node-runtime.js';
import { treeFiles } from '../lab/testing/tree-files.js';

/*
 * What the runner executes: `node actions/<name>/dist/index.js` from a plain copy of perf-lab (what
 * `uses: OWNER/perf-lab/...@sha` downloads: the committed files, no node_modules, no compiled dist/), with its
 * inputs as INPUT_* variables (action.yml's defaults filled in), GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and the event
 * payload — under this Node and under Node 24, the runtime GitHub gives `using: node24`.
 */
const root = projectRoot();
const HEAD = 'a'.repeat(40);
let work: string;
let plain: string;
let github: FakeGitHub;
let api: string;
const runtimes: Array<[string, NodeRuntime]> = [];

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'perf-lab-bundles-'));
  plain = join(work, 'perf-lab');
  // Tracked files and new ones not ignored: exactly what committing this tree would give a clone.
  const files = await treeFiles(root);
  for (const file of files) {
    await mkdir(dirname(join(plain, file)), { recursive: true });
    await cp(join(root, file), join(plain, file)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error; // deleted in the work tree, not yet committed
    });
  }
  github = new FakeGitHub();
  github.pulls.set(42, { headSha: HEAD, headRepo: 'fork/decoder' });
  github.runs.set(1001, { headSha: HEAD, event: 'pull_request' });
  api = await github.start();
  runtimes.push([`this Node (${process.version})`, { node: process.execPath, version: process.version }]);
  if (!process.versions.node.startsWith('24.')) runtimes.push(['Node 24', await node24()]);
});
after(async () => {
  await github.stop();
  await rm(work, { recursive: true, force: true });
});

/** Runs a bundle as the runner does; returns its exit code, stdout and the outputs it set. */
async function runBundle(runtime: NodeRuntime, action: string, given: Record<string, string>) {
  assert.ok('node' in runtime);
  const actionDir = join(plain, 'actions', action);
  const main = (parse(await readFile(join(actionDir, 'action.yml'), 'utf8')) as { runs: { main: string } }).runs.main;
  const step = await mkdtemp(join(work, `${action}-`));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? step,
    GITHUB_ACTIONS: 'true',
    GITHUB_OUTPUT: join(step, 'output'),
    GITHUB_STEP_SUMMARY: join(step, 'summary'),
    GITHUB_EVENT_PATH: join(step, 'event.json'),
    GITHUB_EVENT_NAME: 'workflow_run',
    GITHUB_API_URL: api,
    GITHUB_WORKSPACE: step,
    RUNNER_TEMP: step,
    PERF_LAB_RETRY_BASE_MS: '1',
  };
  await writeFile(env.GITHUB_OUTPUT!, '');
  await writeFile(env.GITHUB_STEP_SUMMARY!, '');
  await writeFile(env.GITHUB_EVENT_PATH!, JSON.stringify({ workflow_run: { id: 1001, head_sha: HEAD } }));
  for (const [name, value] of Object.entries(await stepInputs(actionDir, given))) env[inputVariable(name)] = value;
  const result = await execa(runtime.node, [join(actionDir, main)], {
    cwd: step,
    env,
    extendEnv: false,
    reject: false,
  });
  const outputs = new Map(Object.entries(parseFileCommands(await readFile(env.GITHUB_OUTPUT!, 'utf8'))));
  return { exitCode: result.exitCode, stdout: String(result.stdout) + String(result.stderr), outputs, step };
}

describe('the built action bundles, as the runner runs them', () => {
  it('the plain copy has no node_modules and no compiled dist/, as on GitHub', async () => {
    await assert.rejects(readFile(join(plain, 'node_modules', 'execa', 'package.json')));
    await assert.rejects(readFile(join(plain, 'dist', 'lab', 'cli', 'run.js')));
  });

  for (const index of [0, 1]) {
    const name = () => runtimes[index]?.[0] ?? 'Node 24';
    it(
      `under ${index === 0 ? 'this Node' : 'Node 24'}: comment posts the sticky comment, bench and analyze ` +
        'reach their own logic',
      async (t) => {
        const entry = runtimes[index];
        if (!entry) return t.skip('this Node is 24 already: the first run covered it');
        const [label, runtime] = entry;
        if ('unavailable' in runtime) return t.skip(`no Node 24 here: ${runtime.unavailable}`);
        t.diagnostic(`${name()}: ${runtime.version}`);
        const artifact = join(work, `artifact-${index}`);
        await mkdir(artifact);
        await cp(join(root, 'lab', 'github', 'fixtures', 'results-three-way.json'), join(artifact, 'results.json'));
        await writeFile(join(artifact, 'pr.json'), JSON.stringify({ prNumber: 42, headSha: HEAD }));
        const before = github.comments.length;
        const comment = await runBundle(runtime, 'comment', {
          artifact,
          repository: 'owner/decoder',
          'run-id': '1001',
          token: 'ghs_bundle_token',
        });
        assert.equal(comment.exitCode, 0, `${label}: ${comment.stdout}`);
        assert.equal(comment.outputs.get('pr'), '42');
        assert.ok(github.comments.length === Math.max(before, 1), 'one sticky comment, created or updated');
        assert.match(await readFile(join(comment.step, 'summary'), 'utf8'), /SILESIA/);
        const leaks = comment.stdout.split('\n').filter((line) => line.includes('ghs_bundle_token'));
        assert.deepEqual(
          leaks,
          ['::add-mask::ghs_bundle_token'],
          'the token is only ever handed to the runner to mask',
        );

        // bench: its own input check answers (the bundle loaded, parsed its inputs and refused these).
        const bench = await runBundle(runtime, 'bench', { base: 'abc' });
        assert.equal(bench.exitCode, 1);
        assert.match(bench.stdout, /::error::perf-lab: action bench: inputs base and head: only base was given/);

        // analyze: a whole run; on a host that is not ARM64 the section says it did not analyse, and why.
        const analyze = await runBundle(runtime, 'analyze', {
          base: 'missing-base.so',
          head: 'missing-head.so',
          reference: 'missing-libdeflate.so',
          function: 'decode',
        });
        if (process.arch === 'arm64') {
          assert.equal(analyze.exitCode, 1);
          assert.match(analyze.stdout, /::error::perf-lab: .*missing-base\.so/);
        } else {
          assert.equal(analyze.exitCode, 0, analyze.stdout);
          assert.match(
            await readFile(analyze.outputs.get('markdown') ?? '', 'utf8'),
            /^### Hot decode loop\n\nNot analysed: this host is x64/,
          );
        }
      },
    );
  }
});
