import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { projectRoot } from '../../../lab/core/paths.js';
import { FakeCore } from '../../../lab/testing/fake-core.js';
import { FakeGitHub } from '../../../lab/testing/fake-github.js';
import { run } from './main.js';

const HEAD = 'a'.repeat(40);
const fixture = join(projectRoot(), 'lab', 'github', 'fixtures', 'results-three-way.json');
let work: string;
let github: FakeGitHub;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'perf-lab-comment-action-'));
  github = new FakeGitHub();
  github.pulls.set(42, { headSha: HEAD, headRepo: 'fork/decoder' });
  github.runs.set(1001, { headSha: HEAD, event: 'pull_request' });
  process.env.GITHUB_API_URL = await github.start();
  process.env.PERF_LAB_RETRY_BASE_MS = '1';
});
after(async () => {
  await github.stop();
  delete process.env.GITHUB_API_URL;
  await rm(work, { recursive: true, force: true });
});

async function artifact(name: string, pr: { prNumber: number; headSha: string }): Promise<string> {
  const dir = join(work, name);
  await cp(fixture, join(dir, 'results.json'));
  await writeFile(join(dir, 'pr.json'), JSON.stringify(pr));
  return dir;
}

const inputs = (artifactDir: string, runId = '1001') => ({
  artifact: artifactDir,
  repository: 'owner/decoder',
  'run-id': runId,
  token: 'ghs_secret',
});

describe('the comment action', () => {
  it('posts the sticky comment for a verified PR and outputs the number GitHub confirmed', async () => {
    const core = await FakeCore.for('comment', inputs(await artifact('ok', { prNumber: 42, headSha: HEAD })));
    await run(core);
    assert.deepEqual(core.failures, []);
    assert.deepEqual(core.secrets, ['ghs_secret']);
    assert.equal(core.outputs.get('pr'), '42');
    assert.match(core.outputs.get('comment-url') ?? '', /^http:\/\/127\.0\.0\.1:\d+\/comment\/\d+$/);
    assert.equal(github.comments.length, 1);
    assert.match(github.comments[0]!.body, /^<!-- perf-lab/);
  });

  it("gives no pr output when the PR moved on since the run (the artifact's number is only a claim)", async () => {
    github.runs.set(1002, { headSha: 'c'.repeat(40), event: 'pull_request' });
    const core = await FakeCore.for(
      'comment',
      inputs(await artifact('moved', { prNumber: 42, headSha: 'c'.repeat(40) }), '1002'),
    );
    await run(core);
    assert.deepEqual(core.failures, []);
    assert.equal(core.outputs.get('pr'), '');
    assert.equal(core.notices.length, 1);
  });

  it('fails the step naming the input when run-id is not a run id', async () => {
    const core = await FakeCore.for(
      'comment',
      inputs(await artifact('bad-id', { prNumber: 42, headSha: HEAD }), '12x'),
    );
    await run(core);
    assert.equal(core.failures.length, 1);
    assert.match(core.failures[0]!, /^perf-lab: action comment: input run-id: must be a whole number ≥ 1, not "12x"/);
    assert.match(core.failures[0]!, /what to do: set `run-id` in the step's `with:`/);
  });
});
