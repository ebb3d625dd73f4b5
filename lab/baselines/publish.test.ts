import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { simpleGit } from 'simple-git';
import { FakeGitHub } from '../testing/fake-github.js';
import { cloneWithCommitter, remoteWithClone } from '../testing/git-fixture.js';
import { parseBaseline } from './index.js';
import { publishBaselines } from './publish.js';
import { sampleResults } from '../testing/sample-results.js';

let work: string;
let remote: string;

const clone = (name: string) => cloneWithCommitter(remote, join(work, name));

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'perf-lab-publish-'));
  remote = (await remoteWithClone(work, 'seed')).remote;
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('baseline publish', () => {
  it('keeps both of two concurrent updates of the same baseline file (the later one is replayed on top)', async () => {
    const [a, b] = [await clone('a'), await clone('b')];
    const outcomes = await Promise.all([
      publishBaselines({
        results: sampleResults({ createdAt: '2026-11-25T10:00:00.000Z' }),
        resultsSha256: '1'.repeat(64),
        repoDir: a,
        message: 'update a',
        pushDirectly: true,
      }),
      publishBaselines({
        results: sampleResults({ createdAt: '2026-11-25T11:00:00.000Z' }),
        resultsSha256: '2'.repeat(64),
        repoDir: b,
        message: 'update b',
        pushDirectly: true,
      }),
    ]);
    assert.equal(outcomes.length, 2);
    const check = await clone('check');
    const [file] = (await readdir(join(check, 'baselines'))).filter((name) => name.endsWith('.json'));
    const stored = parseBaseline(JSON.parse(await readFile(join(check, 'baselines', file!), 'utf8')), file!);
    assert.deepEqual(stored.entries.map((entry) => entry.resultsSha256[0]).sort(), ['1', '2']);
    const log = await simpleGit(check).log();
    assert.deepEqual(
      log.all
        .map((commit) => commit.message)
        .slice(0, 2)
        .sort(),
      ['update a', 'update b'],
    );
  });

  it('pushes a branch and opens a pull request', async () => {
    const github = new FakeGitHub();
    const api = await github.start();
    try {
      const dir = await clone('pr');
      const outcome = await publishBaselines({
        results: sampleResults({ createdAt: '2026-11-26T10:00:00.000Z' }),
        resultsSha256: '3'.repeat(64),
        repoDir: dir,
        message: 'Baselines for main',
        pushDirectly: false,
        githubRepository: 'owner/perf-lab',
        token: 'ghs_test',
        apiUrl: api,
      });
      assert.match(outcome.branch, /^perf-lab\/baselines-20261126100000-33333333$/);
      assert.deepEqual(github.pullRequestsCreated, [
        { head: outcome.branch, base: 'main', title: 'Baselines for main' },
      ]);
      const branches = await simpleGit(remote).raw(['branch', '--list']);
      assert.match(branches, /perf-lab\/baselines-20261126100000-33333333/);
    } finally {
      await github.stop();
    }
  });

  it('refuses stand-in results before touching git', async () => {
    const dir = await clone('standin');
    const before = (await simpleGit(dir).log()).total;
    await assert.rejects(
      publishBaselines({
        results: sampleResults({ standIn: true }),
        resultsSha256: '4'.repeat(64),
        repoDir: dir,
        message: 'x',
        pushDirectly: true,
      }),
      /is a stand-in/,
    );
    assert.equal((await simpleGit(dir).log()).total, before);
    assert.equal((await simpleGit(dir).status()).isClean(), true);
  });
});
