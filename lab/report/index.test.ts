import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeCell, formatBytes } from './index.js';

describe('report helpers', () => {
  it('neutralises markdown, HTML and mentions from untrusted names', () => {
    assert.equal(escapeCell('<img src=x> | @octocat `rm` *x* & co\nnext'), '&lt;img src=x&gt; \\| @\u200boctocat \\`rm\\` \\*x\\* &amp; co next');
  });
  it('formats sizes in binary units', () => {
    assert.equal(formatBytes(16 * 1024 * 1024), '16.0 MiB');
    assert.equal(formatBytes(512), '512 B');
  });
});
