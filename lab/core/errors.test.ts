import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { causeText, formatError, LabError } from './errors.js';

describe('error messages', () => {
  it('a lab error: its step, what went wrong and what to do, exit 1', () => {
    assert.deepEqual(formatError(new LabError('bench', 'it broke.', 'fix it.')), {
      text: 'perf-lab: bench: it broke.\n  what to do: fix it.',
      exitCode: 1,
    });
  });

  it("a full disk is the machine's refusal, not a bug: one line naming the path, no stack, exit 1", async (t) => {
    if (process.platform !== 'linux') return t.skip('/dev/full is Linux');
    const error = await writeFile('/dev/full', 'x').then(
      () => undefined,
      (caught: unknown) => caught,
    );
    const { text, exitCode } = formatError(error);
    assert.equal(exitCode, 1);
    assert.match(text, /^perf-lab: write: ENOSPC \(ENOSPC: no space left on device\)\n {2}what to do: free disk space/);
    assert.doesNotMatch(text, /internal error| at /);
  });

  it('anything else is a bug, with its stack, exit 70', () => {
    const { text, exitCode } = formatError(new TypeError('x is undefined'));
    assert.equal(exitCode, 70);
    assert.match(text, /^perf-lab: internal error: TypeError: x is undefined\n {4}at /);
  });
});

describe('causeText', () => {
  it("names a fetch failure by its cause, else the error's own message, and never [object Object]", () => {
    const fetchFailed = new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND example.invalid') });
    assert.equal(causeText(fetchFailed), 'getaddrinfo ENOTFOUND example.invalid');
    assert.equal(causeText(new Error('plain', { cause: 'ECONNRESET' })), 'ECONNRESET');
    assert.equal(causeText(new Error('plain', { cause: { code: 42 } })), 'plain');
    assert.equal(causeText('a string'), 'a string');
  });
});
