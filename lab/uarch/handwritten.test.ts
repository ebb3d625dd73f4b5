import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { analyzeLoop, loadCpuModel, textReport, type LoopReport } from './index.js';

/** Hand-written assembly (lab/asm/fixtures/handwritten-decoder.s), assembled by clang for aarch64 Linux. */
const clang = (await execa('clang', ['--version'], { reject: false })).exitCode === 0;
let work: string;
let report: LoopReport;

before(async () => {
  if (!clang) return;
  work = await mkdtemp(join(tmpdir(), 'perf-lab-handwritten-'));
  const object = join(work, 'decoder.o');
  const source = join(import.meta.dirname, '..', 'asm', 'fixtures', 'handwritten-decoder.s');
  await execa('clang', ['--target=aarch64-linux-gnu', '-c', source, '-o', object]);
  report = await analyzeLoop({ path: object, functionName: 'hw_decode' }, await loadCpuModel('apple-m1'));
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe(
  'hand-written assembly with local labels',
  { skip: clang ? false : 'clang is not installed (Debian: apt-get install clang)' },
  () => {
    it('reads the local labels as one function and chooses the decode loop by evidence', () => {
      assert.equal(report.function, 'hw_decode');
      assert.equal(report.loopChoice.how, 'evidence');
      assert.equal(report.loopChoice.decodeLoop, true);
      assert.equal(report.hotLoop.headerAddress, 0x4, 'decode_loop');
      assert.equal(report.hotLoop.pathsComplete, true);
      assert.equal(report.copyLoop?.headerAddress, 0x4c, 'copy_byte');
      assert.equal(report.copyLoop?.bytesPerIteration, 1);
      assert.match(textReport(report), /1 exit branch not analysed \(0x64\)/);
    });

    it('prices the literal and the match paths as derived by hand', () => {
      // Without a refill: `and x8, x3, x9` (1) → `ldr w10, [x2, x8, lsl #2]` (4) → `and w11, w10, #0xff` (1) →
      // `lsr x3, x3, x11` (1) = 7 cycles through the bit buffer x3, on both the literal and the match path (the copy
      // loop's bytes hang off it); with the refill `orr x3, x3, x7` joins the cycle: 7 stays the shortest variant.
      const roles = new Map(report.roles.map((role) => [role.roleName, role]));
      assert.deepEqual([...roles.keys()].sort(), ['literal', 'long match (copy loop)']);
      for (const role of roles.values()) {
        assert.equal(role.predictedCycles.min, 7);
        assert.equal(role.variants, 2, 'with and without the refill');
      }
      assert.equal(roles.get('literal')!.analysis.criticalPathCycles, 7);
      assert.equal(roles.get('literal')!.analysis.instructions, 14);
    });
  },
);
