import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { analyzeLoop, loadCpuModel, textReport, type LoopReport } from './index.js';

/** miniz_oxide's `decompress` as Debian's rustc 1.63 builds it for aarch64 (fixtures/README.md says how). */
const listing = join(import.meta.dirname, 'fixtures', 'miniz-oxide-decompress-aarch64.txt');
let report: LoopReport;

before(async () => {
  report = await analyzeLoop({ path: listing, functionName: 'decompress' }, await loadCpuModel('apple-m1'));
});

describe('miniz_oxide on aarch64: the bit buffer lives in a stack slot', () => {
  it('reads its loops as decode loops through the slot [sp, #168]', () => {
    assert.equal(report.loopChoice.how, 'evidence');
    assert.equal(report.loopChoice.decodeLoop, true);
    // 0x6cdc is the inlined decompress_fast (32-bit refill `ldr w8, [x24], #4`, two literals an iteration); the
    // state machine's fast-lookup loop 0x7144 is a decode loop too now (its bit buffer reloaded from the slot).
    assert.equal(report.hotLoop.headerAddress, 0x6cdc);
    // Five table loads: the fast lookups 0x6d28, 0x6d70, 0x6da8 and the code-tree walk's 0x6d58, 0x6df0 (index:
    // `lsr x12, x10, x11` → `and w12, w12, #0x1` → `add w8, w12, w8` → `sxtw` → `add x8, x23, x0, lsl #1`).
    assert.match(report.loopChoice.reason, /5 table load\(s\) indexed by masked bits \(0x6d28, 0x6d58, 0x6d70, …\)/);
    // 0x7144 decodes as many table entries, but stores them into the decompressor state that holds its tables
    // (`add x10, x23, x27` → `strb w9, [x10, x8]`, the tables at x23 too): the code-length reader, not output.
    const state = report.loopChoice.runnersUp.find((entry) => entry.headerAddress === 0x7144);
    assert.equal(state?.decodeLoop, true);
    assert.match(state.reason, /table load\(s\) indexed by masked bits \(0x717c, 0x7258, 0x729c, …\)/);
    assert.match(state.reason, /2 store\(s\) \(2 into the tables' own object: state, not output\)/);
    assert.ok(report.loopChoice.decodeLoops >= 2);
  });

  it('prices two literals through the slot as derived by hand', () => {
    const roles = new Map(report.roles.map((role) => [role.roleName, role]));
    // Every way through stores two literals: a length symbol leaves the loop (`tbnz w8, #8` to 0x788c), and a
    // literal found by the code-tree walk (0x6d30) is a literal too, its path not the usual one (long codes are rare).
    assert.deepEqual([...roles.keys()], ['2 literals']);
    // apple-m1.json: `lsr w11, w8, #9` alu 1 → `mov w12, w11` move 0 (eliminated) → `lsr x10, x10, x12` alu 1 →
    // `and x9, x10, #0x3ff` alu 1 → `add x9, x23, x9, lsl #1` alu-shifted 2 → `ldrsh w9, [x9, #60]` load 4 →
    // `lsr w12, w9, #9` alu 1 → `lsr x10, x10, x12` alu 1 → `str x10, [sp, #168]` storeToLoadLatency 5 →
    // `ldr x10, [sp, #168]` load 4 → `and x8, x10, #0x3ff` 1 → `add x8, x23, x8, lsl #1` 2 → `ldrsh w8, [x8, #60]`
    // 4 (into `lsr w11, w8, #9`) = 1+0+1+1+2+4+1+1+5+4+1+2+4 = 27 cycles, through the slot.
    const literals = roles.get('2 literals')!;
    assert.equal(literals.analysis.criticalPathCycles, 27);
    const text = textReport(report);
    assert.match(text, /str x10, \[sp, #168\] \[5 via memory\] → 0x6d64 ldr x10, \[sp, #168\]/);
    assert.match(text, /finding: the bit buffer is kept in memory \(\[sp, #168\]\): each iteration pays store-to-load/);
  });
});
