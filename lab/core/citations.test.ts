import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveCitations, textSchema } from './citations.js';
import { LabError } from './errors.js';

describe('citations in data files', () => {
  it('text is a string or lines joined with a space', () => {
    assert.equal(textSchema.parse('one line'), 'one line');
    assert.equal(textSchema.parse(['a long', 'text']), 'a long text');
  });

  it('a { ref, detail } source reads "<citation>: <detail>", the citation alone without a detail', () => {
    const json = {
      sources: { 'llvm-n2': ['LLVM AArch64SchedNeoverseN2.td', '(llvm/llvm-project @007f1e96)'] },
      classes: {
        alu: { latency: 1, source: { ref: 'llvm-n2', detail: ["'ALU, basic'", 'latency 1'] } },
        load: { latency: 4, source: { ref: 'llvm-n2' } },
      },
      notes: ['kept'],
    };
    assert.deepEqual(resolveCitations(json, 'x.json', 'uarch'), {
      classes: {
        alu: {
          latency: 1,
          source: "LLVM AArch64SchedNeoverseN2.td (llvm/llvm-project @007f1e96): 'ALU, basic' latency 1",
        },
        load: { latency: 4, source: 'LLVM AArch64SchedNeoverseN2.td (llvm/llvm-project @007f1e96)' },
      },
      notes: ['kept'],
    });
  });

  it('an unknown ref is refused, naming the file and the key', () => {
    const json = { sources: { 'llvm-n2': 'LLVM' }, classes: { alu: { forms: [{ source: { ref: 'llvm-v9' } }] } } };
    assert.throws(
      () => resolveCitations(json, 'lab/uarch/models/x.json', 'uarch'),
      (error: unknown) =>
        error instanceof LabError &&
        error.message ===
          'lab/uarch/models/x.json: classes.alu.forms[0].source cites "llvm-v9", which is not in its "sources".' &&
        error.hint === 'add it to "sources" or cite one of: llvm-n2.',
    );
  });

  it('a citation with other fields is refused', () => {
    const json = { sources: { a: 'A' }, source: { ref: 'a', page: 3 } };
    assert.throws(() => resolveCitations(json, 'f.json', 'cpu'), /f\.json: source is not a citation/);
  });
});
