import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { explain, type ExplainOptions } from './index.js';

const listing = join(import.meta.dirname, '..', 'asm', 'fixtures', 'llvm-objdump-loops.txt');
const defaults: ExplainOptions = {
  cpu: 'apple-m1',
  referenceFunction: 'libdeflate_deflate_decompress_ex',
  datasetsDir: '/nonexistent',
};

describe('explain (perf-lab analyze)', () => {
  it('analyses one function: the text names its critical path, the JSON is the loop report', async () => {
    const { text, json } = await explain({ ...defaults, binary: listing, functionName: 'chain4' });
    assert.match(text, /^critical path: 4 cycles\/iteration$/m);
    assert.equal((json as { function: string }).function, 'chain4');
  });

  it('analyses every matching function with --all', async () => {
    const { json } = await explain({ ...defaults, binary: listing, functionName: '/chain/', all: true });
    assert.deepEqual((json as { function: string }[]).map((report) => report.function).sort(), [
      'chain4',
      'flag_chain',
      'load_add_chain',
      'two_chains',
    ]);
  });

  it('diffs base and head, with no reference', async () => {
    const { text, json } = await explain({ ...defaults, base: listing, head: listing, functionName: 'chain4' });
    const diff = json as { base: { function: string }; head: { function: string }; reference: null };
    assert.equal(diff.base.function, 'chain4');
    assert.equal(diff.head.function, 'chain4');
    assert.equal(diff.reference, null);
    assert.ok(text.length > 0);
  });

  it('refuses an incomplete diff, and --results without a reference, before analysing anything', async () => {
    await assert.rejects(explain({ ...defaults, base: listing, functionName: 'chain4' }), /diff mode needs --base/);
    await assert.rejects(
      explain({ ...defaults, base: listing, head: listing, functionName: 'chain4', resultsPath: '/no/such.json' }),
      /--results needs --reference/,
    );
    await assert.rejects(explain({ ...defaults, binary: listing }), /pass --binary and --function/);
  });
});
