import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { parseResults, type BenchResults } from '../results/index.js';
import { RETRY_BASE_VARIABLE, createGitHubClient } from './client.js';
import {
  COMMENT_MARKER,
  MAX_COMMENT_CHARS,
  neutraliseMarkdown,
  renderComment,
  truncateComment,
  upsertStickyComment,
} from './comment.js';
import { readArtifact } from '../artifact/index.js';
import { FakeGitHub } from '../testing/fake-github.js';
import { commentOnPullRequest, type CommentOptions } from './index.js';
import { runPerfLab } from '../testing/cli.js';
import type { LabError } from '../core/errors.js';

const fixtures = join(import.meta.dirname, 'fixtures');
/** A real three-way run from this machine (libdeflate 1.14 as base, 1.23 as head and reference). */
const realRun = async (): Promise<BenchResults> =>
  parseResults(JSON.parse(await readFile(join(fixtures, 'results-three-way.json'), 'utf8')), 'fixture');

/**
 * The real run reshaped into every case a reviewer must see: improvement, regression, failed verification, stand-in,
 * hostile names.
 */
async function mixedResults(): Promise<BenchResults> {
  const results = structuredClone(await realRun());
  results.head.name = 'gzippy<img src=x onerror=alert(1)>';
  const software = results.datasets.find((dataset) => dataset.name === 'software')!;
  // Swap head and base for SOFTWARE: the real +35.7% improvement becomes a real regression.
  const swap = (interval: { estimate: number; low: number; high: number }) => ({
    ...interval,
    estimate: 1 / interval.estimate,
    low: 1 / interval.high,
    high: 1 / interval.low,
  });
  const verdict = software.headVsBase!.verdict;
  software.headVsBase = {
    ...software.headVsBase!,
    interval: { ...software.headVsBase!.interval, ...swap(software.headVsBase!.interval) },
    verdict: {
      ...verdict,
      kind: 'regression',
      effect: 1 / verdict.interval.estimate - 1,
      interval: { ...verdict.interval, ...swap(verdict.interval) },
    },
  };
  // …consistently: head's and base's speeds and their ratios to libdeflate trade places too.
  const [headSide, baseSide] = [
    software.contenders.find((c) => c.role === 'head')!,
    software.contenders.find((c) => c.role === 'base')!,
  ];
  [headSide.megabytesPerSecond, baseSide.megabytesPerSecond] = [
    baseSide.megabytesPerSecond,
    headSide.megabytesPerSecond,
  ];
  [headSide.samplesNs, baseSide.samplesNs] = [baseSide.samplesNs, headSide.samplesNs];
  [software.headVsLibdeflate, software.baseVsLibdeflate] = [software.baseVsLibdeflate, software.headVsLibdeflate];
  const logs = results.datasets.find((dataset) => dataset.name === 'logs')!;
  logs.verified = false;
  logs.headVsLibdeflate = null;
  logs.baseVsLibdeflate = null;
  logs.headVsBase = null;
  logs.contenders[0] = {
    ...logs.contenders[0]!,
    megabytesPerSecond: null,
    failure: 'wrong bytes: first difference at offset 8388630 <script>alert(1)</script> @octocat | ```',
  };
  results.ok = false;
  return results;
}

let github: FakeGitHub;
let work: string;
const HEAD = 'a'.repeat(40);
const token = 'ghs_perflabtesttoken0123456789';

async function writeArtifact(
  name: string,
  results: BenchResults,
  pr: { prNumber: number; headSha: string },
  analysis?: string,
): Promise<string> {
  const dir = join(work, name);
  await execa('mkdir', ['-p', dir]);
  await writeFile(join(dir, 'results.json'), JSON.stringify(results));
  await writeFile(join(dir, 'pr.json'), JSON.stringify(pr));
  if (analysis) await writeFile(join(dir, 'analysis.md'), analysis);
  return dir;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'perf-lab-github-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});
afterEach(async () => {
  await github?.stop();
});

/** Posts the sticky comment for workflow run 1001 of owner/decoder from an artifact, through the fake at `api`. */
function commentFrom(artifactDir: string, api: string, extra: Partial<CommentOptions> = {}) {
  return commentOnPullRequest({
    artifactDir,
    repository: 'owner/decoder',
    runId: 1001,
    token,
    apiUrl: api,
    retryBaseMs: 1,
    ...extra,
  });
}

async function startServer(): Promise<string> {
  github = new FakeGitHub();
  github.pulls.set(42, { headSha: HEAD, headRepo: 'fork/decoder' });
  github.pulls.set(7, { headSha: 'b'.repeat(40), headRepo: 'owner/decoder' });
  github.runs.set(1001, { headSha: HEAD, event: 'pull_request' });
  return github.start();
}

describe('sticky PR comment against a local GitHub server', () => {
  it('creates exactly one comment, then updates it on the next run', async () => {
    const api = await startServer();
    const artifact = await writeArtifact('a1', await realRun(), { prNumber: 42, headSha: HEAD });
    const first = await commentFrom(artifact, api);
    assert.equal(first.outcome.action, 'created');
    const second = await commentFrom(artifact, api);
    assert.equal(second.outcome.action, 'updated');
    assert.equal(github.comments.length, 1);
    assert.ok(github.comments[0]!.body.startsWith(COMMENT_MARKER));
    assert.match(github.comments[0]!.body, /\*\*Summary: improvement\*\*/);
    assert.ok(github.requests.every((request) => request.authorization === `token ${token}`));
  });

  it("finds its comment among many (pagination) and ignores a copied marker in someone else's comment", async () => {
    const api = await startServer();
    for (let i = 0; i < 120; i++)
      github.comments.push({
        id: i + 1,
        body: i === 5 ? `quoting ${COMMENT_MARKER}` : `comment ${i}`,
        user: { login: 'someone', type: 'User' },
        issueNumber: 42,
      });
    github.comments.push({
      id: 500,
      body: `${COMMENT_MARKER}\nold`,
      user: { login: 'github-actions[bot]', type: 'Bot' },
      issueNumber: 42,
    });
    const client = createGitHubClient({ token, baseUrl: api, retryBaseMs: 1 });
    const outcome = await upsertStickyComment(
      client,
      { owner: 'owner', repo: 'decoder', issueNumber: 42 },
      `${COMMENT_MARKER}\nnew`,
    );
    assert.deepEqual([outcome.action, 'id' in outcome ? outcome.id : 0], ['updated', 500]);
    assert.equal(github.comments.find((comment) => comment.id === 6)!.body, `quoting ${COMMENT_MARKER}`);
  });

  it(
    "does not comment for an artifact whose PR number is forged or whose PR moved on (that PR's head is " +
      'another commit): a notice, not a failure',
    async () => {
      const api = await startServer();
      const artifact = await writeArtifact('forged', await realRun(), { prNumber: 7, headSha: HEAD });
      const result = await commentFrom(artifact, api);
      assert.equal(result.outcome.action, 'skipped');
      assert.match(
        result.outcome.action === 'skipped' ? result.outcome.reason : '',
        /PR #7's head is b{40}, not a{40}.*forged or stale/,
      );
      assert.equal(github.comments.length, 0);
    },
  );

  it('rejects an artifact that claims another commit than the run measured, and unexpected files', async () => {
    const api = await startServer();
    const wrongSha = await writeArtifact('wrong-sha', await realRun(), { prNumber: 42, headSha: 'c'.repeat(40) });
    await assert.rejects(
      commentFrom(wrongSha, api),
      /the artifact says it measured c{40}, but workflow run 1001 ran on a{40}/,
    );
    const extra = await writeArtifact('extra', await realRun(), { prNumber: 42, headSha: HEAD });
    await writeFile(join(extra, 'payload.sh'), 'curl evil');
    await assert.rejects(commentFrom(extra, api), /unexpected file "payload\.sh"/);
    const badResults = await writeArtifact(
      'bad-results',
      { ...(await realRun()), ok: 'yes' } as unknown as BenchResults,
      { prNumber: 42, headSha: HEAD },
    );
    await assert.rejects(
      commentFrom(badResults, api),
      /results\.json in the artifact is not a valid results file: ok:/,
    );
    assert.equal(github.comments.length, 0);
  });

  it("cuts an oversize report to GitHub's limit with a link to the full report", async () => {
    const api = await startServer();
    const artifact = await writeArtifact(
      'big',
      await realRun(),
      { prNumber: 42, headSha: HEAD },
      `### analysis\n\n${'x'.repeat(59_000)}\n\`\`\`\n${'y'.repeat(20_000)}`,
    );
    const results = await realRun();
    const body = renderComment(results, {
      analysisMarkdown: 'z'.repeat(80_000),
      fullReportUrl: 'https://github.com/owner/decoder/actions/runs/1001',
    });
    assert.ok(body.length <= MAX_COMMENT_CHARS);
    assert.match(
      body,
      new RegExp(
        String.raw`cut to fit GitHub's 65536-character limit\. The full report is in \[the run's ar` +
          String.raw`tifacts\]\(https:\/\/github\.com\/owner\/decoder\/actions\/runs\/1001\)\.$`,
      ),
    );
    const posted = await commentFrom(artifact, api, { fullReportUrl: 'https://example.invalid/run' });
    assert.equal(posted.outcome.action, 'created');
    assert.ok(github.comments[0]!.body.length <= MAX_COMMENT_CHARS);
  });

  it('retries a 5xx and succeeds', async () => {
    const api = await startServer();
    github.failNext('POST', /\/issues\/42\/comments$/, 502, { times: 2 });
    const artifact = await writeArtifact('retry', await realRun(), { prNumber: 42, headSha: HEAD });
    const result = await commentFrom(artifact, api);
    assert.equal(result.outcome.action, 'created');
    assert.equal(github.requests.filter((request) => request.method === 'POST').length, 3);
  });

  it('waits out a primary rate limit and goes on', async () => {
    const api = await startServer();
    github.failNext('GET', /\/pulls\/42$/, 403, {
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000)) },
      body: { message: 'API rate limit exceeded' },
    });
    const artifact = await writeArtifact('ratelimit', await realRun(), { prNumber: 42, headSha: HEAD });
    const result = await commentFrom(artifact, api);
    assert.equal(result.outcome.action, 'created');
    assert.equal(github.requests.filter((request) => request.path.endsWith('/pulls/42')).length, 2);
  });

  it('refuses symlinks and special files in the artifact, whatever the unzip step made of them', async () => {
    const api = await startServer();
    const linked = await writeArtifact('symlink', await realRun(), { prNumber: 42, headSha: HEAD });
    await rm(join(linked, 'results.json'));
    await symlink('/etc/passwd', join(linked, 'results.json'));
    await assert.rejects(
      commentFrom(linked, api),
      /results\.json in the artifact is not a regular file \(a symbolic link\)/,
    );
    const piped = await writeArtifact('fifo', await realRun(), { prNumber: 42, headSha: HEAD });
    await execa('mkfifo', [join(piped, 'analysis.md')]);
    await assert.rejects(
      commentFrom(piped, api),
      /analysis\.md in the artifact is not a regular file \(a named pipe\)/,
    );
    const folder = await writeArtifact('folder', await realRun(), { prNumber: 42, headSha: HEAD });
    await execa('mkdir', [join(folder, 'report.md')]);
    await assert.rejects(commentFrom(folder, api), /report\.md in the artifact is not a regular file \(a folder\)/);
    assert.equal(github.comments.length, 0);
  });

  it('honours Retry-After on a 429 and goes on', async () => {
    const api = await startServer();
    github.failNext('POST', /\/issues\/42\/comments$/, 429, {
      headers: { 'retry-after': '2' },
      body: { message: 'Too many requests' },
    });
    const warnings: string[] = [];
    const client = createGitHubClient({
      token,
      baseUrl: api,
      retryBaseMs: 1,
      onWarning: (message) => warnings.push(message),
    });
    const outcome = await upsertStickyComment(
      client,
      { owner: 'owner', repo: 'decoder', issueNumber: 42 },
      `${COMMENT_MARKER}\nbody`,
    );
    assert.equal(outcome.action, 'created');
    assert.equal(github.requests.filter((request) => request.method === 'POST').length, 2);
    assert.ok(
      warnings.some((message) => /retrying after 2 s/.test(message)),
      warnings.join('\n'),
    );
  });

  it('refuses a PERF_LAB_RETRY_BASE_MS that is not 0 < ms ≤ 1000, and makes a client with 1', () => {
    const saved = process.env[RETRY_BASE_VARIABLE];
    const notMilliseconds = 'not a number of milliseconds above 0 and at most 1000';
    try {
      for (const bad of ['fast', '0', '-1', '5000']) {
        process.env[RETRY_BASE_VARIABLE] = bad;
        assert.throws(
          () => createGitHubClient({ token, baseUrl: 'http://127.0.0.1:9' }),
          (error: LabError) => {
            assert.equal(error.step, 'GitHub client');
            assert.equal(error.message, `${RETRY_BASE_VARIABLE} is "${bad}", ${notMilliseconds}.`);
            return true;
          },
        );
      }
      process.env[RETRY_BASE_VARIABLE] = '1';
      assert.ok(createGitHubClient({ token, baseUrl: 'http://127.0.0.1:9' }).rest);
    } finally {
      if (saved === undefined) delete process.env[RETRY_BASE_VARIABLE];
      else process.env[RETRY_BASE_VARIABLE] = saved;
    }
  });

  it('names a secondary rate limit that outlasts the retry as such (not as a fork token)', async () => {
    const api = await startServer();
    const limited = {
      headers: { 'retry-after': '0' },
      body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' },
      times: 5,
    };
    github.failNext('POST', /\/issues\/42\/comments$/, 403, limited);
    const client = createGitHubClient({ token, baseUrl: api, retryBaseMs: 1 });
    await assert.rejects(
      upsertStickyComment(client, { owner: 'owner', repo: 'decoder', issueNumber: 42 }, `${COMMENT_MARKER}\nbody`),
      (error: Error) => {
        assert.match(error.message, /secondary rate limit/);
        assert.doesNotMatch(error.message, /fork/);
        return true;
      },
    );
  });

  it("with an author (a GitHub App or PAT login), updates only that author's marked comment", async () => {
    const api = await startServer();
    const client = createGitHubClient({ token, baseUrl: api, retryBaseMs: 1 });
    const target = { owner: 'owner', repo: 'decoder', issueNumber: 42 };
    github.commenter = 'perf-lab-app[bot]';
    const first = await upsertStickyComment(
      client,
      { ...target, author: 'perf-lab-app[bot]' },
      `${COMMENT_MARKER}\none`,
    );
    assert.equal(first.action, 'created');
    // The default author (github-actions[bot]) does not own that comment: it makes its own.
    github.commenter = 'github-actions[bot]';
    const other = await upsertStickyComment(client, target, `${COMMENT_MARKER}\ntwo`);
    assert.equal(other.action, 'created');
    github.commenter = 'perf-lab-app[bot]';
    const again = await upsertStickyComment(
      client,
      { ...target, author: 'perf-lab-app[bot]' },
      `${COMMENT_MARKER}\nthree`,
    );
    assert.equal(again.action, 'updated');
    assert.equal(
      again.action === 'updated' && first.action === 'created' ? again.id : 0,
      first.action === 'created' ? first.id : -1,
    );
  });

  it(
    'on a 403 (a permission the caller did not grant) writes the job summary, then fails naming the ' +
      'permission; the token never reaches the output',
    async () => {
      const api = await startServer();
      github.failNext('POST', /\/issues\/42\/comments$/, 403, {
        body: { message: 'Resource not accessible by integration' },
      });
      const artifact = await writeArtifact('fork', await realRun(), { prNumber: 42, headSha: HEAD });
      const summary = join(work, 'summary.md');
      const run = await runPerfLab(
        ['comment', '--artifact', artifact, '--repo', 'owner/decoder', '--run-id', '1001', '--api-url', api],
        { env: { GITHUB_TOKEN: token, GITHUB_STEP_SUMMARY: summary, PERF_LAB_RETRY_BASE_MS: '1' } },
      );
      assert.equal(run.exitCode, 1, String(run.stderr));
      assert.match(
        String(run.stderr),
        /perf-lab: comment: GitHub answered 403 \(Resource not accessible by integration\)/,
      );
      assert.match(
        String(run.stderr),
        /what to do: give the calling workflow \(perf-comment\.yml\) `permissions: pull-requests: write`/,
      );
      assert.match(await readFile(summary, 'utf8'), /\*\*Summary: improvement\*\*/);
      assert.equal(github.comments.length, 0);
      const failing = await runPerfLab(
        ['comment', '--artifact', artifact, '--repo', 'owner/decoder', '--run-id', '999', '--api-url', api],
        { env: { GITHUB_TOKEN: token, PERF_LAB_RETRY_BASE_MS: '1' } },
      );
      assert.notEqual(failing.exitCode, 0);
      for (const output of [run.stdout, run.stderr, failing.stdout, failing.stderr])
        assert.ok(!String(output).includes(token), 'the token is never printed');
    },
  );
});

describe('the comment a reviewer reads', () => {
  it('says what the PR changed in the bench config, escaped like every untrusted text, above the details', async () => {
    const body = renderComment(await realRun(), {
      configChanges: ['libdeflate.source.ref: "v1.24" → "v1.14"', 'decoder.name: "a" → "<img src=x>@octocat|`x`"'],
    });
    const note = body.indexOf(
      "**This PR changes the bench config**; base and head were both measured with head's, and",
    );
    assert.ok(note > 0 && note < body.indexOf('<details>'), 'visible, not collapsed');
    assert.ok(body.includes('\n- libdeflate.source.ref: "v1.24" → "v1.14"\n'));
    assert.ok(body.includes('- decoder.name: "a" → "&lt;img src=x&gt;@\u200boctocat\\|\\`x\\`"'));
    assert.doesNotMatch(renderComment(await realRun()), /changes the bench config/);
  });

  it(
    'matches the golden rendering of a mixed run (improvement, regression, failed verification, stand-in, ' +
      'hostile names)',
    async () => {
      const body = renderComment(await mixedResults(), {
        analysisMarkdown: '### Hot decode loop\n\n<script>x</script> thanks @octocat',
        headSha: HEAD,
        baseSha: 'b'.repeat(40),
      });
      const golden = join(fixtures, 'comment-mixed.golden.md');
      if (process.env.PERF_LAB_UPDATE_GOLDEN) await writeFile(golden, body);
      assert.equal(body, await readFile(golden, 'utf8'));
    },
  );

  it('escapes untrusted text: no raw HTML, no live mentions, no table breaks', async () => {
    const body = renderComment(await mixedResults(), { analysisMarkdown: '<script>x</script> thanks @octocat' });
    assert.ok(!body.includes('<img'), 'decoder name HTML escaped');
    assert.ok(!body.includes('<script>'), 'error text and analysis HTML escaped');
    assert.ok(!/@octocat/.test(body), 'every mention is broken by a zero-width space');
    assert.match(
      body,
      new RegExp(
        String.raw`❌ candidate-head-1\.23: wrong bytes: first difference at offset 8388630 &lt;scri` +
          String.raw`pt&gt;alert\(1\)&lt;\/script&gt; @\u200boctocat \\\| \\` +
          '`' +
          String.raw`\\` +
          '`' +
          String.raw`\\` +
          '`',
      ),
    );
  });
});

describe('every string an artifact carries is escaped in the comment', () => {
  const HOSTILE = '@everyone <img src=x onerror=alert(1)> ```\n\n# PWNED';
  /** Every path to a string leaf of a JSON value. */
  const stringPaths = (value: unknown, path: (string | number)[] = []): (string | number)[][] => {
    if (typeof value === 'string') return [path];
    if (Array.isArray(value)) return value.flatMap((item, index) => stringPaths(item, [...path, index]));
    if (value && typeof value === 'object')
      return Object.entries(value).flatMap(([key, item]) => stringPaths(item, [...path, key]));
    return [];
  };
  const setAt = (root: unknown, path: (string | number)[], text: string) => {
    let node = root as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
    node[path.at(-1)!] = text;
  };

  it('injects a mention, HTML, a code-fence breaker and a blank line into each string field in turn', async () => {
    const original = JSON.parse(await readFile(join(fixtures, 'results-three-way.json'), 'utf8')) as unknown;
    // Give every verdict a reason too, so that optional field is walked as well.
    for (const dataset of (original as { datasets: { headVsBase: { verdict: Record<string, unknown> } }[] }).datasets)
      dataset.headVsBase.verdict.reason = 'r';
    const paths = stringPaths(original);
    let accepted = 0;
    for (const path of paths) {
      const hostile = structuredClone(original);
      setAt(hostile, path, HOSTILE);
      let results: BenchResults;
      try {
        results = parseResults(hostile, 'hostile');
      } catch {
        continue; // the schema refuses this field's value (hashes, enums): nothing reaches markdown
      }
      accepted++;
      const body = renderComment(results, { headSha: HEAD, baseSha: 'b'.repeat(40) });
      const where = path.join('.');
      assert.ok(!body.includes('<img'), `${where}: raw HTML`);
      assert.ok(!/@everyone/.test(body), `${where}: a live mention`);
      assert.ok(!body.includes('```'), `${where}: a code fence`);
      assert.ok(!/^# PWNED/m.test(body), `${where}: a line break that starts a heading`);
    }
    // Which string fields are open to any text (names, descriptions, machine, timestamps, sources, reasons):
    assert.ok(accepted >= 25, `only ${accepted} of ${paths.length} string fields were accepted by the schema`);
  });
});

/**
 * What a CommonMark reader still has open at `index` of `body`, worked out here apart from comment.ts: the top-level
 * code fence (``` or ~~~, three or more, closed by a line of at least as many of the same) and the HTML elements
 * the lab emits, opened outside a fence; `errors` lists closing tags that close nothing or another element.
 */
function openAt(body: string, index = body.length): { fence: string | null; tags: string[]; errors: string[] } {
  let fence: string | null = null;
  const tags: string[] = [];
  const errors: string[] = [];
  for (const line of body.slice(0, index).split(/\r\n?|\n/)) {
    if (fence) {
      const close = /^ {0,3}(`+|~+)[ \t]*$/.exec(line)?.[1];
      if (close && close[0] === fence[0] && close.length >= fence.length) fence = null;
      continue;
    }
    const open = /^ {0,3}(`{3,}(?=[^`]*$)|~{3,})/.exec(line)?.[1];
    if (open) {
      fence = open;
      continue;
    }
    for (const [, slash, name] of line.matchAll(/<(\/?)(details|summary|b|sub)>/g)) {
      if (!slash) tags.push(name!);
      else if (tags.at(-1) === name) tags.pop();
      else errors.push(`</${name}> closes ${tags.at(-1) ?? 'nothing'}`);
    }
  }
  return { fence, tags, errors };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const count = (text: string, part: string) => text.split(part).length - 1;

/**
 * A body cut by truncateComment: within the limit, every block closed before the notice, the notice last and visible.
 */
function assertCutWell(body: string, what: string): void {
  assert.ok(body.length <= MAX_COMMENT_CHARS, `${what}: ${body.length} characters`);
  const notice = body.lastIndexOf("\n\n… cut to fit GitHub's");
  assert.ok(notice > 0, `${what}: no notice`);
  assert.match(
    body.slice(notice),
    /^\n\n… cut to fit GitHub's 65536-character limit\. The full report is in the workflow run's artifacts\.$/,
    what,
  );
  assert.deepEqual(openAt(body, notice), { fence: null, tags: [], errors: [] }, `${what}: open before the notice`);
  assert.equal(count(body, '<details>'), count(body, '</details>'), `${what}: every <details> closed`);
  assert.ok(notice > body.lastIndexOf('</details>'), `${what}: the notice is after the last closing tag`);
  assert.ok(!LONE_SURROGATE.test(body), `${what}: a surrogate pair cut in two`);
  const untagged = body.replace(COMMENT_MARKER, '').replace(/<\/?(details|summary|b|sub)>/g, '');
  assert.ok(
    !untagged.includes('<'),
    `${what}: a tag cut in two: …${untagged.slice(untagged.indexOf('<') - 20, untagged.indexOf('<') + 20)}…`,
  );
}

describe("cutting a comment to GitHub's limit", () => {
  it(
    'closes a <details> and the fence inside it (```, ~~~, longer than 3), innermost first, and keeps the ' +
      'notice outside',
    () => {
      for (const fence of ['```', '~~~', '`````', '~~~~~~']) {
        const other = fence[0] === '`' ? '~~~' : '```';
        const lines = Array.from({ length: 3000 }, (_, i) =>
          i % 100 === 50
            ? `${fence.slice(0, -1).padEnd(3, fence[0])}${fence.length > 3 ? '' : ' not a closer'}`
            : i % 100 === 70
              ? other
              : `line ${i}: ${other} ${fence} <b> &lt;details> not markup inside the fence`,
        );
        const body = [
          COMMENT_MARKER,
          '### perf-lab: a long report',
          '<details><summary>Method, machine, toolchains and the full table</summary>',
          '',
          `${fence} text`,
          ...lines,
          fence,
          '',
          '</details>',
          '',
          '<sub>perf-lab · updated now</sub>',
        ].join('\n');
        assert.ok(body.length > 2 * MAX_COMMENT_CHARS);
        const cut = truncateComment(body);
        assertCutWell(cut, fence);
        assert.ok(cut.length > MAX_COMMENT_CHARS - 2_500, `${fence}: cut to ${cut.length}, far below the limit`);
        // Cut in the middle of the fence: it is closed by its own marker, then the <details>.
        assert.match(cut, new RegExp(`\\n${fence}\\n*</details>\\n\\n… cut to fit`), fence);
      }
    },
  );

  it('never cuts inside a tag, a character reference or a surrogate pair, wherever the limit falls', () => {
    for (let shift = 0; shift < 200; shift++) {
      const body =
        `${COMMENT_MARKER}\n\n${'a'.repeat(MAX_COMMENT_CHARS - 280 + shift)}` +
        `<details><summary>😀 &lt;x&gt; <b>bold 😀</b> 😀</summary>${'😀'.repeat(40)}\n\n${'c'.repeat(1000)}\n\n</details>`;
      const cut = truncateComment(body);
      assertCutWell(cut, `shift ${shift}`);
      assert.ok(!/&(?![a-z]+;|#\d+;)/.test(cut), `shift ${shift}: a character reference cut in two`);
    }
  });

  it('cuts a table between rows, not in the middle of one', () => {
    const rows = Array.from({ length: 2000 }, (_, i) => `| ${i} | ${'x'.repeat(40)} \\| y |`);
    const cut = truncateComment([COMMENT_MARKER, '| n | text |', '|---:|---|', ...rows].join('\n'));
    assertCutWell(cut, 'table');
    const last = cut.slice(0, cut.lastIndexOf('\n\n… cut')).trimEnd().split('\n').at(-1)!;
    assert.match(last, /^\| \d+ \| x{40} \\\| y \|$/);
  });
});

describe('the analysis section (untrusted markdown) in the comment', () => {
  const HOSTILE_ANALYSES: Record<string, string> = {
    'a mention right after a code span': 'see `x`@octocat and `y`@org/team',
    'an unclosed code span': 'thanks `@octocat and @everyone',
    'mentions in code': '```\n@octocat\n```\n\n`@octocat`',
    'mentions as character references': '&#64;octocat &#x40;octocat &#064octocat &commat;octocat @&#111;ctocat',
    'an unclosed backtick fence': '### Hot decode loop\n\n```\ncode @octocat\n',
    'an unclosed longer tilde fence, with shorter and other fences inside': '~~~~~\ncode\n~~~\n```\n',
    'a fence in a list item that the next line ends': '- item\n\n  ```\n  code\nafter the list\n',
    'a fence in a block quote': '> ```\n> code',
    'a fence right after a <details> line (inside its HTML block)': '<details><summary>s</summary>\n```\n@octocat\n',
    'an unclosed <details>': '<details><summary>loops</summary>\n\nhidden below',
    'stray closing tags': '</details></summary></b>\n</details>\n\nafter',
    'other HTML':
      '<img src=x onerror=alert(1)> <details open> <DETAILS> <b>bold</b> <sub>x</sub> <!-- ' +
      'perf-lab:sticky-comment --> <script>x</script>',
    'CR line ends': 'text\r```\rcode\r@octocat\r',
    'a lone surrogate (an analysis cut in two)': 'cut \ud83d',
  };
  /**
   * The lab-written lines that may carry HTML: a <details><summary>…</summary> line (<b> pairs inside) and </details>.
   */
  const LAB_HTML_LINES = /^(?:<details><summary>(?:[^<]|<b>[^<]*<\/b>)*<\/summary>|<\/details>)$/gm;

  it(
    'pings nobody, keeps no HTML but the lab’s own shapes, and ends every fence and <details> it opened before ' +
      'the footer',
    async () => {
      const results = await realRun();
      for (const [what, analysisMarkdown] of Object.entries(HOSTILE_ANALYSES)) {
        const body = renderComment(results, { analysisMarkdown });
        const start = body.indexOf('</details>') + '</details>'.length;
        const footer = body.lastIndexOf('\n\n<sub>perf-lab · updated ');
        assert.ok(start > 0 && footer > start, what);
        assert.deepEqual(
          openAt(body, footer),
          { fence: null, tags: [], errors: [] },
          `${what}: open before the footer`,
        );
        assert.deepEqual(openAt(body), { fence: null, tags: [], errors: [] }, `${what}: open at the end`);
        assert.ok(
          !/(?:@|&#0*64(?:;|(?![0-9;]))|&#x0*40(?:;|(?![0-9a-f;]))|&commat;)(?!\u200b)/i.test(body),
          `${what}: a live @`,
        );
        assert.ok(!body.slice(start, footer).replace(LAB_HTML_LINES, '').includes('<'), `${what}: raw HTML`);
        assert.ok(!LONE_SURROGATE.test(body), `${what}: a lone surrogate`);
        assert.equal(neutraliseMarkdown(neutraliseMarkdown(analysisMarkdown)), neutraliseMarkdown(analysisMarkdown));
      }
    },
  );

  it('leaves what the analyze action writes as it is', () => {
    const section = [
      '### Hot decode loop on apple-m1 (Apple M1 performance core (Firestorm))',
      '',
      '| path role (usual path: predicted cycles · instructions) | base | head | Δ head − base |',
      '|---|---:|---:|---:|',
      '| 2 literals, match \\(length &lt; 8\\) | 9 · 31 ins | ≥ 10 · 33 ins | +1 (not exact) |',
      '',
      'Headline: the **2 literals, match** path.',
      '',
      '<details><summary>loops and critical chains (head instructions new against base marked <b>+</b>)</summary>',
      '',
      '- **head**: decode\\_huffman, loop at 0x1f40 (src/inflate.rs:212), chosen by evidence; 12 paths in 3 roles',
      '- **head** chain: **+** `ldr x8, [x9], #8` (4) → `lsr x10, x8, x11` (1)',
      '',
      '</details>',
      '',
    ].join('\n');
    assert.equal(neutraliseMarkdown(section), section);
  });

  it('cut to the limit inside its <details> and fence, still closes both before the notice', async () => {
    const body = renderComment(await realRun(), {
      analysisMarkdown: `<details><summary>chains</summary>\n\n\`\`\`\`\n${'ldr x8, [x9] @octocat\n'.repeat(4_000)}`,
    });
    assertCutWell(body, 'analysis');
    assert.match(body, /\n````\n\n<\/details>\n\n… cut to fit/);
  });

  it("closes what readArtifact's cut of a long analysis leaves open, so its note is seen", async () => {
    const dir = await writeArtifact(
      'long-analysis',
      await realRun(),
      { prNumber: 42, headSha: HEAD },
      `<details><summary>chains</summary>\n\n~~~\n${'x\n'.repeat(40_000)}~~~\n\n</details>\n`,
    );
    const { analysisMarkdown } = await readArtifact(dir);
    const note = analysisMarkdown!.lastIndexOf('… (analysis cut)');
    assert.ok(note > 0);
    assert.deepEqual(openAt(analysisMarkdown!, note), { fence: null, tags: [], errors: [] });
  });
});
