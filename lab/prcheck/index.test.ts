import assert from 'node:assert/strict';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { simpleGit } from 'simple-git';
import { materializeGzippyShape, materializeMinizOxideShim } from '../build/shim.js';
import { COMMENT_MARKER } from '../github/comment.js';
import { readArtifact } from '../artifact/index.js';
import { runPerfLab } from '../testing/cli.js';

let work: string;
let repo: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'perf-lab-pr-check-'));
  repo = join(work, 'decoder');
  await cp(((await materializeMinizOxideShim()).cargo as { path: string }).path, repo, {
    recursive: true,
    filter: (path) => !path.endsWith('Cargo.lock'),
  });
  await execa('mkdir', ['-p', join(repo, '.github')]);
  await writeFile(
    join(repo, '.github', 'perf-lab.json'),
    JSON.stringify({
      schemaVersion: 1,
      libdeflate: { source: { kind: 'system' } },
      decoder: { name: 'shim', cargo: { path: '.' }, adapter: { kind: 'cabi' } },
      bench: { rounds: 6, warmupRounds: 1, minBatches: 2, maxBatches: 2, budgetSeconds: 60 },
    }),
  );
  const git = simpleGit(repo);
  await git.init().addConfig('user.email', 'test@example.invalid').addConfig('user.name', 'test');
  await git.add('.').commit('base');
  const manifest = await readFile(join(repo, 'Cargo.toml'), 'utf8');
  await writeFile(join(repo, 'Cargo.toml'), manifest.replace('opt-level = 3', 'opt-level = 2'));
  // Head also touches the bench config (a no-op value, and a loosened tolerance), which the comment must say.
  const config = JSON.parse(await readFile(join(repo, '.github', 'perf-lab.json'), 'utf8')) as {
    decoder: Record<string, unknown>;
    bench: Record<string, unknown>;
  };
  config.decoder.features = [];
  config.bench.tolerance = 0.4;
  await writeFile(join(repo, '.github', 'perf-lab.json'), JSON.stringify(config));
  await git.add('.').commit('head: opt-level 2');
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('perf-lab pr-check (local parity with the PR workflow)', () => {
  it(
    'builds base and head from their commits, runs three-way, and writes the comment and the artifact ' +
      'perf-comment reads',
    async () => {
      const datasets = join(work, 'datasets');
      const artifact = join(work, 'artifact');
      const run = await runPerfLab([
        'pr-check',
        '--repo',
        repo,
        '--base',
        'HEAD~1',
        '--head',
        'HEAD',
        '--offline',
        '--only',
        'logs',
        '--datasets-dir',
        datasets,
        '--function',
        'perf_lab_gzip_decompress',
        '--artifact-dir',
        artifact,
        '--pr',
        '12',
      ]);
      assert.equal(run.exitCode, 0, String(run.stderr));
      const body = String(run.stdout);
      assert.ok(body.startsWith(COMMENT_MARKER));
      assert.match(body, /## perf-lab: shim-head \(head\) vs shim-base \(base\) vs libdeflate-/);
      assert.match(body, /\| LOGS \| 16\.0 MiB \| [\d.]+ \| [\d.]+ \| [\d.]+ \|/);
      // The comment shows the verdict the artifact's results hold, for the dataset that ran.
      const stored = (await readArtifact(artifact)).results.datasets[0]!.headVsBase!.verdict;
      assert.match(body, new RegExp(`\\*\\*Summary: [a-z ]+\\*\\* — head vs base: LOGS ${stored.kind}`));
      // A fresh runner has no calibration for this batch shape: the verdict is calibrated in the job and says so.
      assert.match(stored.thresholdSource, /in-job A\/A \(head\/libdeflate and base\/libdeflate scatter\)/);
      assert.match(
        stored.thresholdSource,
        /; (no calibration on this machine|the calibration of LOGS was made with \d+ rounds a batch, this run uses 6)$/,
      );
      assert.match(body, /in-job A\/A/);
      assert.match(body, /^base `[0-9a-f]{12}` → head `[0-9a-f]{12}`$/m);
      if (process.arch !== 'arm64') assert.match(body, /Not analysed: this host is x64/);

      const headSha = (await simpleGit(repo).revparse(['HEAD'])).trim();
      const baseSha = (await simpleGit(repo).revparse(['HEAD~1'])).trim();
      const read = await readArtifact(artifact);
      const configChanges = ['bench.tolerance: (absent) → 0.4', 'decoder.features: (absent) → []'];
      assert.deepEqual(read.pr, { prNumber: 12, headSha, baseSha, configChanges });
      assert.match(
        body,
        new RegExp(
          String.raw`\*\*This PR changes the bench config\*\*; base and head were both measured with ` +
            String.raw`head's, and judged by base's bench\.tolerance, .*:\n- bench\.tolerance: \(absent` +
            String.raw`\) → 0\.4\n- decoder\.features: \(absent\) → \\\[\\\]\n`,
        ),
      );
      // The PR loosened its own bar to ±40%: the verdict still uses base's (the default ±1.5%).
      assert.equal(read.results.settings.tolerance, 0.015);
      assert.equal(read.results.settings.toleranceSource, "base's .github/perf-lab.json");
      assert.match(body, /lies inside the ±1\.50% tolerance \(from base's \.github\/perf-lab\.json\)/);
      assert.equal(read.results.datasets[0]!.headVsBase!.verdict.tolerance, 0.015);
      assert.ok(body.includes(`base \`${baseSha.slice(0, 12)}\` → head \`${headSha.slice(0, 12)}\``));
      assert.equal(read.results.base?.name, 'shim-base');
      assert.equal(read.results.datasets[0]!.contenders.length, 3);
      // Instruction counts: every contender counted where valgrind runs (else why not), beside the verdict.
      const counts = read.results.counts!;
      if (counts.tool) {
        for (const contender of counts.datasets[0]!.contenders) assert.ok(contender.instructions! > 0, contender.name);
        assert.match(body, /^\| LOGS \|.*\| \d+\.\d{3} \([+−]\d+\.\d{2}% vs base; \d+\.\d{3}× libdeflate\) \|/m);
      } else assert.match(counts.unavailable!, /valgrind not installed|not available on/);
      assert.match(body, /\| instructions\/byte \(head; Δ vs base; × libdeflate\) \|/);
      assert.match(body, /Instruction counts are not time/);
      const worktrees = await simpleGit(repo).raw(['worktree', 'list']);
      assert.equal(worktrees.trim().split('\n').length, 1, 'the temporary worktrees are removed');
    },
  );

  it('says clearly when a ref does not exist or the config is missing', async () => {
    const cli = (...args: string[]) => runPerfLab(['pr-check', '--repo', repo, ...args]);
    const badRef = await cli('--base', 'no-such-branch', '--head', 'HEAD');
    assert.equal(badRef.exitCode, 1);
    assert.match(String(badRef.stderr), /perf-lab: pr-check: no-such-branch is not a commit in /);
    const noConfig = await cli('--base', 'HEAD~1', '--head', 'HEAD', '--config', 'nope.json');
    assert.equal(noConfig.exitCode, 1);
    assert.match(String(noConfig.stderr), /perf-lab: pr-check: config: cannot read nope\.json at [0-9a-f]{12}/);
  });
});

describe('perf-lab pr-check twice on the same commits', () => {
  it('builds base and head the first time and nothing the second (new worktree folders, same content)', async () => {
    // examples/gzippy-shape (rust adapter, with a code-generation step) as a repository with two commits.
    const shape = join(work, 'gzippy-shape');
    await cp(((await materializeGzippyShape()).cargo as { path: string }).path, shape, { recursive: true });
    await writeFile(
      join(shape, 'perf-lab.json'),
      JSON.stringify({
        schemaVersion: 1,
        libdeflate: { source: { kind: 'system' } },
        decoder: {
          name: 'shape',
          cargo: { path: '.' },
          codegen: 'echo "$PWD" >> "$PERF_LAB_TEST_CODEGEN_LOG"',
          adapter: { kind: 'rust', call: 'gzippy::decompress_with_threads(input, threads)' },
        },
        bench: { rounds: 6, warmupRounds: 1, minBatches: 2, maxBatches: 2, budgetSeconds: 30 },
      }),
    );
    const git = simpleGit(shape);
    await git.init().addConfig('user.email', 'test@example.invalid').addConfig('user.name', 'test');
    await git.add('.').commit('base');
    const manifest = await readFile(join(shape, 'Cargo.toml'), 'utf8');
    await writeFile(join(shape, 'Cargo.toml'), manifest.replace('opt-level = 3', 'opt-level = 2'));
    await git.add('.').commit('head: opt-level 2');

    // cargo on PATH logs each invocation, then runs the real one; codegen logs each run.
    const cargoLog = join(work, 'twice-cargo.log');
    const codegenLog = join(work, 'twice-codegen.log');
    const realCargo = (await execa('sh', ['-c', 'command -v cargo'])).stdout.trim();
    await mkdir(join(work, 'twice-bin'));
    await writeFile(
      join(work, 'twice-bin', 'cargo'),
      `#!/bin/sh\necho "$*" >> '${cargoLog}'\nexec '${realCargo}' "$@"\n`,
    );
    await chmod(join(work, 'twice-bin', 'cargo'), 0o755);
    const logged = async (path: string) => (await readFile(path, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    const prCheck = () =>
      runPerfLab(
        [
          'pr-check',
          '--repo',
          shape,
          '--config',
          'perf-lab.json',
          '--base',
          'HEAD~1',
          '--head',
          'HEAD',
          '--offline',
          '--only',
          'logs',
          '--datasets-dir',
          join(work, 'datasets'),
        ],
        {
          env: {
            PATH: `${join(work, 'twice-bin')}:${process.env.PATH}`,
            PERF_LAB_CACHE: join(work, 'twice-cache'),
            PERF_LAB_TEST_CODEGEN_LOG: codegenLog,
          },
        },
      );

    const cold = await prCheck();
    assert.equal(cold.exitCode, 0, String(cold.stderr));
    const builds = (await logged(cargoLog)).filter((line) => line.startsWith('build '));
    assert.equal(builds.length, 2, 'base and head built');
    assert.equal((await logged(codegenLog)).length, 2, 'codegen ran once a side');
    assert.match(String(cold.stderr), /pr-check: head shape-head: build [0-9a-f]{24}, tree [0-9a-f]{12}\n/);

    const warm = await prCheck();
    assert.equal(warm.exitCode, 0, String(warm.stderr));
    assert.deepEqual(
      (await logged(cargoLog)).filter((line) => line.startsWith('build ')),
      builds,
      'no cargo build the second time',
    );
    assert.equal((await logged(codegenLog)).length, 2, 'no codegen the second time');
    for (const side of ['head', 'base'])
      assert.match(String(warm.stderr), new RegExp(`pr-check: ${side} shape-${side}: build [0-9a-f]{24} \\(cached\\)`));
    assert.deepEqual(
      (await logged(codegenLog)).map((dir) => dir.split('/').at(-1)),
      ['head', 'base'],
      'in the worktrees',
    );
    const [coldHead, warmHead] = [cold, warm].map(
      (run) => /pr-check: head shape-head: build ([0-9a-f]{24})/.exec(String(run.stderr))![1],
    );
    assert.equal(warmHead, coldHead, 'the same build');
  });
});

describe('perf-lab pr-check refuses a --repo it cannot read', () => {
  it('names a folder that is no git repository, or no folder, and what to pass', async () => {
    const plain = join(work, 'not-a-repository');
    await mkdir(plain, { recursive: true });
    for (const [folder, said] of [
      [plain, 'is not a git repository'],
      [join(work, 'missing'), 'is not a folder'],
    ] as const) {
      const run = await runPerfLab(['pr-check', '--repo', folder, '--base', 'main', '--head', 'HEAD', '--offline'], {
        reject: false,
      });
      assert.equal(run.exitCode, 1, run.stderr);
      assert.match(run.stderr, new RegExp(`pr-check: ${folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} ${said}\\.`));
      assert.match(run.stderr, /pass --repo the decoder repository/);
    }
  });
});
