import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { validateAction, validateWorkflow } from '@action-validator/core';
import { execa } from 'execa';
import { parse } from 'yaml';
import { projectRoot } from '../core/paths.js';

const root = projectRoot();
const workflowsDir = join(root, '.github', 'workflows');
const workflowFiles = (await readdir(workflowsDir)).filter((name) => name.endsWith('.yml')).sort();
const actionNames = (await readdir(join(root, 'actions'), { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();

type Step = { uses?: string; run?: string; with?: Record<string, unknown> };
type Workflow = { on: Record<string, unknown>; permissions?: Record<string, string> | string; concurrency?: { 'cancel-in-progress'?: boolean }; jobs: Record<string, { steps: Step[]; permissions?: unknown }> };

const load = async (name: string) => {
  const text = await readFile(join(workflowsDir, name), 'utf8');
  return { text, workflow: parse(text) as Workflow };
};
const steps = (workflow: Workflow) => Object.values(workflow.jobs).flatMap((job) => job.steps);

describe('workflows', () => {
  it('ships the five workflows', () => {
    assert.deepEqual(workflowFiles, ['lab-ci.yml', 'perf-baseline.yml', 'perf-comment.yml', 'perf-nightly.yml', 'perf-pr.yml']);
  });

  it('perf-nightly runs on a schedule and by hand, one toolchain a job, on macos-14, publishing the history', async () => {
    const { text, workflow } = await load('perf-nightly.yml');
    assert.ok('schedule' in workflow.on && 'workflow_dispatch' in workflow.on);
    assert.match(text, /toolchain: \$\{\{ fromJSON\(/);
    assert.match(text, /runs-on: macos-14/);
    assert.match(text, /nightly --config [\s\S]* --publish perf-lab --github-repo/);
  });

  for (const name of workflowFiles) {
    it(`${name}: valid by the workflow schema (@action-validator/core), pinned actions, explicit minimal permissions, no pull_request_target`, async () => {
      const { text, workflow } = await load(name);
      assert.deepEqual(validateWorkflow(text).errors, []);
      for (const step of steps(workflow)) {
        if (!step.uses) continue;
        assert.match(step.uses, /^(\.\/.+|[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40})$/, `${name}: ${step.uses} must be a local action or pinned to a full commit SHA`);
      }
      assert.equal(typeof workflow.permissions, 'object', `${name} declares its token permissions`);
      assert.ok(!/write-all/.test(text), `${name}: no write-all`);
      assert.ok(!('pull_request_target' in workflow.on), `${name}: never pull_request_target`);
    });
  }

  it('perf-pr runs PR code with a read-only token, no kept credentials and no secrets; superseded runs are cancelled', async () => {
    const { text, workflow } = await load('perf-pr.yml');
    assert.deepEqual(workflow.permissions, { contents: 'read' });
    assert.ok(!text.includes('secrets.'));
    for (const step of steps(workflow).filter((s) => s.uses?.startsWith('actions/checkout@'))) assert.equal(step.with?.['persist-credentials'], false);
    assert.equal(workflow.concurrency?.['cancel-in-progress'], true);
    assert.match(text, /runs-on: macos-14/);
  });

  it('perf-comment never checks out or runs PR code, and comments through the validating action', async () => {
    const { text, workflow } = await load('perf-comment.yml');
    assert.ok('workflow_run' in workflow.on);
    assert.ok(!/head_sha|head_branch|pull_request\.head/.test(text), 'no checkout of the PR head');
    const checkouts = steps(workflow).filter((s) => s.uses?.startsWith('actions/checkout@'));
    assert.ok(checkouts.every((s) => s.with?.repository === '${{ vars.PERF_LAB_REPOSITORY }}'), 'only perf-lab itself is checked out');
    assert.ok(steps(workflow).some((s) => s.uses === './perf-lab/actions/comment'));
    assert.ok(!steps(workflow).some((s) => s.run), 'no shell steps');
  });
});

describe('custom actions', () => {
  it('ships bench, analyze and comment', () => {
    assert.deepEqual(actionNames, ['analyze', 'bench', 'comment']);
  });

  for (const name of actionNames) {
    it(`${name}: action.yml is valid, runs on node24, and declares exactly the inputs its source reads`, async () => {
      const text = await readFile(join(root, 'actions', name, 'action.yml'), 'utf8');
      const action = parse(text) as { runs: { using: string; main: string }; inputs: Record<string, unknown> };
      assert.equal(action.runs.using, 'node24');
      assert.equal(action.runs.main, 'dist/index.js');
      // The validator's bundled schema predates the node24 runtime: check the rest of the file with node20 in its place.
      assert.deepEqual(validateAction(text.replace('using: node24', 'using: node20')).errors, []);
      const source = await readFile(join(root, 'actions', name, 'src', 'index.ts'), 'utf8');
      const read = new Set([...source.matchAll(/getInput\('([\w-]+)'/g)].map((match) => match[1]!));
      assert.deepEqual([...read].sort(), Object.keys(action.inputs).sort());
    });
  }

  it('committed dist/ bundles are fresh (rebuilt from the sources, byte for byte)', async () => {
    const out = await mkdtemp(join(tmpdir(), 'perf-lab-actions-'));
    try {
      await execa('node', [join(root, 'scripts', 'build-actions.mjs'), out]);
      for (const name of actionNames) {
        const fresh = await readFile(join(out, name, 'index.js'), 'utf8');
        const committed = await readFile(join(root, 'actions', name, 'dist', 'index.js'), 'utf8');
        assert.ok(fresh === committed, `actions/${name}/dist/index.js is stale: run npm run build:actions`);
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
