import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { simpleGit } from 'simple-git';
import { parseBenchConfig } from '../bench/config.js';
import { readResults } from '../results/index.js';
import { materializeMinizOxideShim } from '../build/shim.js';
import { createGitHubClient } from '../github/client.js';
import { FakeGitHub } from '../testing/fake-github.js';
import { remoteWithClone } from '../testing/git-fixture.js';
import { TRACKING_MARKER, upsertTrackingIssue } from '../github/issue.js';
import { trendChartSvg } from './chart.js';
import { compilerName, runNightly, type NightlyOptions } from './nightly.js';
import { readHistory, type HistoryRecord } from './store.js';
import { runPerfLab } from '../testing/cli.js';

const rustup = (await execa('rustup', ['--version'], { reject: false })).exitCode === 0;
let work: string;
let config: ReturnType<typeof parseBenchConfig>;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'perf-lab-nightly-'));
  const shim = ((await materializeMinizOxideShim()).cargo as { path: string }).path;
  config = parseBenchConfig(
    {
      schemaVersion: 1,
      libdeflate: { source: { kind: 'system' } },
      decoder: { name: 'miniz_oxide', cargo: { path: shim }, adapter: { kind: 'cabi' } },
      bench: { rounds: 6, warmupRounds: 1, minBatches: 2, maxBatches: 2, budgetSeconds: 60 },
    },
    'test',
    work,
  );
  const prepared = await runPerfLab([
    'datasets',
    'prepare',
    '--offline',
    '--dir',
    join(work, 'datasets'),
    '--only',
    'logs',
  ]);
  assert.equal(prepared.exitCode, 0, String(prepared.stderr));
});
/** A quick offline night on the LOGS dataset with the stable toolchain, changed where a test says. */
function nightlyOptions(changes: Partial<NightlyOptions> & Pick<NightlyOptions, 'historyPath'>): NightlyOptions {
  return {
    config,
    toolchains: ['stable'],
    compilers: [],
    scale: 'quick',
    datasetsDir: join(work, 'datasets'),
    only: ['logs'],
    cpu: 'apple-m1',
    offline: true,
    ...changes,
  };
}

after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe(
  'perf-lab nightly',
  { skip: rustup ? false : 'rustup is not installed (toolchains are chosen through RUSTUP_TOOLCHAIN)' },
  () => {
    it(
      'measures each installed toolchain, reports one that is not, appends the history once per night, and ' +
        'publishes it',
      async () => {
        const { remote, clone } = await remoteWithClone(work);

        const historyPath = join(clone, 'baselines', 'history', 'nightly.jsonl');
        const options = nightlyOptions({
          toolchains: ['stable', 'perf-lab-no-such-toolchain'],
          historyPath,
          date: '2026-11-25',
          publishRepoDir: clone,
        });
        const first = await runNightly(options);
        assert.equal(first.runs.length, 2);
        assert.equal(first.runs[0]!.results?.ok, true);
        // The lab's own words and the toolchain's name; rustup's phrasing differs with RUSTUP_AUTO_INSTALL.
        assert.match(
          first.runs[1]!.failure ?? '',
          /`rustc -vV` failed for toolchain perf-lab-no-such-toolchain: .*'perf-lab-no-such-toolchain/,
        );
        assert.equal(first.appended.length, 1);
        const [stored] = await readHistory(historyPath);
        assert.equal(stored!.toolchain, 'stable');
        assert.match(stored!.rustc, /^rustc \d+\.\d+\.\d+/);
        assert.match(stored!.llvm, /^\d+\.\d+/);
        assert.match(
          first.markdown,
          new RegExp(
            '\\| perf-lab-no-such-toolchain \\| — \\| — \\| .* \\| — \\| ❌ \\\\`rustc ' +
              '-vV\\\\` failed for toolchain perf-lab-no-such-toolchain',
          ),
        );

        const again = await runNightly(options);
        assert.equal(again.appended.length, 0, 'the same night is not recorded twice');
        const check = join(work, 'check');
        await simpleGit().clone(remote, check);
        assert.equal((await readHistory(join(check, 'baselines', 'history', 'nightly.jsonl'))).length, 1);
        const svg = await readFile(join(check, 'baselines', 'history', 'logs.svg'), 'utf8');
        assert.ok(svg.startsWith('<svg') && svg.includes('LOGS: decoder speed / libdeflate speed, nightly'));
      },
    );
  },
);

describe('a damaged history', () => {
  it("refuses to append, but keeps the night's measurements and says where", async () => {
    const historyPath = join(work, 'damaged', 'nightly.jsonl');
    await mkdir(join(work, 'damaged'), { recursive: true });
    await writeFile(historyPath, '{"v":1,"date":"2026-11-2\n');
    const options = nightlyOptions({ historyPath, date: '2026-11-26' });
    const error = await runNightly(options).then(
      () => undefined,
      (caught: Error) => caught,
    );
    assert.ok(error, 'the damaged history is refused');
    const kept = /Tonight's measurements are kept: (\S+\.json)\./.exec(error.message)?.[1];
    assert.ok(kept, error.message);
    const results = await readResults(kept);
    assert.equal(results.ok, true);
    assert.equal(results.datasets[0]!.label, 'LOGS');
    assert.equal(await readFile(historyPath, 'utf8'), '{"v":1,"date":"2026-11-2\n', 'the history is left as it was');
  });
});

describe('trend chart', () => {
  it('draws one line per toolchain with CI bands, the parity rule and LLVM change marks, as valid SVG', async () => {
    const record = (date: string, toolchain: string, llvm: string, estimate: number): HistoryRecord => ({
      v: 1,
      date,
      recordedAt: `${date}T03:00:00.000Z`,
      cpuModel: 'Apple M1',
      toolchain,
      rustc: 'rustc',
      llvm,
      libdeflate: '1.24',
      cc: 'clang',
      dataset: 'SILESIA',
      datasetSha256: 'a'.repeat(64),
      ratio: { estimate, low: estimate * 0.99, high: estimate * 1.01 },
      criticalPathCycles: null,
    });
    const records = ['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04'].flatMap((date, i) => [
      record(date, 'stable', '21.1.0', 0.86),
      record(date, 'nightly', i < 2 ? '21.1.0' : '22.1.0', i < 2 ? 0.86 : 0.9),
    ]);
    const svg = await trendChartSvg(records, 'SILESIA');
    assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"') && svg.trimEnd().endsWith('</svg>'));
    assert.equal((svg.match(/<path[^>]*class="[^"]*"|role-mark/g) ?? []).length > 0, true);
    assert.match(svg, /stable/);
    assert.match(svg, /nightly: LLVM 22/);
    assert.match(svg, /ratio \(above 1: faster than libdeflate\)/);
  });
});

describe('tracking issue', () => {
  it('creates the issue on the first event and updates it (with a comment) afterwards', async () => {
    const github = new FakeGitHub();
    const api = await github.start();
    try {
      const client = createGitHubClient({ token: 'ghs_test', baseUrl: api, retryBaseMs: 1 });
      const first = await upsertTrackingIssue(
        client,
        { owner: 'o', repo: 'r' },
        'perf-lab nightly',
        'body 1',
        'night 1',
      );
      assert.equal(first.action, 'created');
      const second = await upsertTrackingIssue(
        client,
        { owner: 'o', repo: 'r' },
        'perf-lab nightly',
        'body 2',
        'night 2',
      );
      assert.deepEqual([second.action, second.number], ['updated', first.number]);
      assert.equal(github.issues.length, 1);
      assert.ok(github.issues[0]!.body.startsWith(TRACKING_MARKER) && github.issues[0]!.body.includes('body 2'));
      assert.deepEqual(
        github.comments.filter((c) => c.issueNumber === first.number).map((c) => c.body),
        ['night 2'],
      );
      github.failNext('GET', /\/issues$/, 403, { body: { message: 'Resource not accessible by integration' } });
      await assert.rejects(
        upsertTrackingIssue(client, { owner: 'o', repo: 'r' }, 't', 'b', 'c'),
        (error: Error & { step?: string }) =>
          error.step === 'nightly: tracking issue' &&
          /updating the tracking issue of o\/r: GitHub answered 403/.test(error.message),
      );
    } finally {
      await github.stop();
    }
  });
});

describe('nightly options', () => {
  it('reads a bare version as clang-N and keeps any other compiler name', () => {
    assert.deepEqual(['14', '19', 'gcc-12', 'cc', 'clang-15'].map(compilerName), [
      'clang-14',
      'clang-19',
      'gcc-12',
      'cc',
      'clang-15',
    ]);
  });

  it('refuses a date that is not YYYY-MM-DD before building anything', async () => {
    await assert.rejects(
      runNightly(nightlyOptions({ historyPath: join(work, 'h.jsonl'), date: '26/11/2026' })),
      /--date 26\/11\/2026 is not YYYY-MM-DD/,
    );
  });
});
