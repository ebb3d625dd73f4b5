import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LabError } from './errors.js';
import { attempt, probe, run } from './process.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "perf-lab process o'dir "));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('attempt', () => {
  it('says how a program ended: ok, its exit code, missing, timed out, killed', async () => {
    const ok = await attempt('sh', ['-c', 'echo out; echo err >&2']);
    assert.deepEqual([ok.ok, ok.exitCode, ok.stdout, ok.stderr, ok.failure], [true, 0, 'out', 'err', '']);
    const failed = await attempt('sh', ['-c', 'exit 7']);
    assert.deepEqual(
      [failed.ok, failed.missing, failed.exitCode, failed.failure],
      [false, false, 7, 'exited with code 7'],
    );
    const missing = await attempt('perf-lab-no-such-program', []);
    assert.equal(missing.missing, true);
    assert.match(missing.failure, /^could not start \(.*ENOENT/);
    const slow = await attempt('sleep', ['5'], { timeoutMs: 100 });
    assert.deepEqual([slow.timedOut, slow.failure], [true, 'timed out after 100 ms']);
    const killed = await attempt('sh', ['-c', 'kill -KILL $$']);
    assert.equal(killed.failure, 'was killed by SIGKILL');
  });

  it('feeds input, closes stdin otherwise, and can send stdout to a file', async () => {
    assert.equal((await attempt('cat', [], { input: 'fed' })).stdout, 'fed');
    assert.equal((await attempt('cat', [])).stdout, '', 'stdin closed: cat ends at once');
    const path = join(dir, 'out.txt');
    const toFile = await attempt('sh', ['-c', 'echo to-file'], { stdoutFile: path });
    assert.equal(toFile.stdout, '');
    assert.equal(await readFile(path, 'utf8'), 'to-file\n');
  });

  it(
    'gives a reproduce line a shell runs the same way, ' + 'from a folder with a quote and spaces in its name',
    async () => {
      const outcome = await attempt('sh', ['-c', 'printf \'%s\' "$(pwd)" > here.txt; exit 3', 'a b'], { cwd: dir });
      const again = await attempt('bash', ['-c', outcome.reproduce]);
      assert.equal(again.exitCode, 3, outcome.reproduce);
      assert.equal(await readFile(join(dir, 'here.txt'), 'utf8'), dir);
    },
  );
});

describe('run and probe', () => {
  it("run throws the step, the failure, the output's last lines and how to reproduce it", async () => {
    await assert.rejects(
      run('sh', ['-c', 'for i in $(seq 1 40); do echo line $i; done; exit 2'], { step: 'test step', hint: 'fix it.' }),
      (error: unknown) => {
        assert.ok(error instanceof LabError);
        assert.equal(error.step, 'test step');
        assert.match(error.message, /^`sh` exited with code 2\.\n--- last lines of its output ---\nline 16\n/);
        assert.match(error.message, /line 40\n---$/);
        assert.doesNotMatch(error.message, /line 15\n/);
        assert.match(error.hint, /^fix it\. Reproduce with: sh -c /);
        return true;
      },
    );
    assert.equal((await run('sh', ['-c', 'echo fine'], { step: 'x' })).stdout, 'fine');
  });

  it('probe returns what a tool says, or undefined when it is missing or fails', async () => {
    assert.equal(await probe('sh', ['-c', 'echo a; echo b >&2']), 'a\nb');
    assert.equal(await probe('sh', ['-c', 'exit 1']), undefined);
    assert.equal(await probe('perf-lab-no-such-program', []), undefined);
  });
});
