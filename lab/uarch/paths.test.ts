import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { parseListing } from '../asm/parse.js';
import { criticalPathDiff } from '../report/critical-path.js';
import { analyzeHotLoop, analyzeLoop, loadCpuModel, type CpuModel, type LoopReport } from './index.js';

/**
 * Real ARM64 code in the shape that fooled the nesting rule: fixtures/zlib-shape.c
 * (decode loop outermost, a copy loop inside), compiled by clang for aarch64 with
 * and without branch-probability hints, which change only the block layout.
 */
const clang = (await execa('clang', ['--version'], { reject: false })).exitCode === 0;
const fixture = join(import.meta.dirname, 'fixtures', 'zlib-shape.c');
let work: string;
let model: CpuModel;
const reports: Record<'plain' | 'hinted' | 'debug', LoopReport> = {} as never;

before(async () => {
  model = await loadCpuModel('apple-m1');
  if (!clang) return;
  work = await mkdtemp(join(tmpdir(), 'perf-lab-paths-'));
  const compile = async (name: string, extra: string[]) => {
    const object = join(work, `${name}.o`);
    await execa('clang', [
      '--target=aarch64-linux-gnu',
      '-O2',
      '-c',
      '-ffreestanding',
      ...extra,
      fixture,
      '-o',
      object,
    ]);
    return object;
  };
  reports.plain = await analyzeLoop(
    { path: await compile('plain', []), functionName: 'zlib_shape', cpu: 'apple-m1' },
    model,
  );
  reports.hinted = await analyzeLoop(
    { path: await compile('hinted', ['-DHINT']), functionName: 'zlib_shape', cpu: 'apple-m1' },
    model,
  );
  reports.debug = await analyzeLoop(
    { path: await compile('debug', ['-g']), functionName: 'zlib_shape', cpu: 'apple-m1' },
    model,
  );
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe(
  'the decode loop chosen by evidence',
  { skip: clang ? false : 'clang is not installed (Debian: apt-get install clang)' },
  () => {
    it('picks the outermost loop that decodes, not the copy loop nested in it, and says why', () => {
      for (const report of [reports.plain, reports.hinted]) {
        assert.equal(report.hotLoop.depth, 1, 'the decode loop is the outermost loop');
        assert.ok(
          report.loops.some((loop) => loop.depth === 2),
          'a copy loop is nested in it',
        );
        assert.equal(report.loopChoice.how, 'evidence');
        assert.equal(report.loopChoice.decodeLoop, true);
        assert.match(report.loopChoice.reason, /shifts a loop-carried bit buffer by a variable amount/);
        assert.match(report.loopChoice.reason, /table load\(s\) indexed by masked bits/);
        assert.ok(report.loopChoice.runnersUp.length >= 1);
        assert.ok(
          report.loopChoice.runnersUp.every((entry) => !entry.decodeLoop),
          'the copy loops are runners-up without decode evidence',
        );
      }
    });

    it('names the source line of the loop header when the object has debug info, and pins by it', async () => {
      assert.equal(reports.plain.loopChoice.sourceLine, null);
      assert.match(reports.debug.loopChoice.sourceLine ?? '', /^zlib-shape\.c:\d+$/);
      const debugObject = join(work, 'debug.o');
      const byLine = await analyzeLoop(
        { path: debugObject, functionName: 'zlib_shape', cpu: 'apple-m1', loop: 'zlib-shape.c:51' },
        model,
      );
      assert.equal(byLine.loopChoice.how, 'pinned');
      assert.equal(byLine.hotLoop.depth, 2, 'line 51 is the copy loop body: the innermost loop holding it');
      await assert.rejects(
        analyzeLoop(
          { path: join(work, 'plain.o'), functionName: 'zlib_shape', cpu: 'apple-m1', loop: 'zlib-shape.c:51' },
          model,
        ),
        /carries no source lines/,
      );
      const byOffset = await analyzeLoop(
        {
          path: join(work, 'plain.o'),
          functionName: 'zlib_shape',
          cpu: 'apple-m1',
          loop: `+0x${reports.plain.hotLoop.headerAddress.toString(16)}`,
        },
        model,
      );
      assert.equal(byOffset.hotLoop.headerAddress, reports.plain.hotLoop.headerAddress);
      await assert.rejects(
        analyzeLoop({ path: join(work, 'plain.o'), functionName: 'zlib_shape', cpu: 'apple-m1', loop: '0x3' }, model),
        /no loop with its header at 0x3 in zlib_shape/,
      );
      await assert.rejects(
        analyzeLoop(
          { path: join(work, 'plain.o'), functionName: 'zlib_shape', cpu: 'apple-m1', loop: 'near the top' },
          model,
        ),
        /is not an address/,
      );
    });
  },
);

describe(
  'every path of an iteration, by role',
  { skip: clang ? false : 'clang is not installed (Debian: apt-get install clang)' },
  () => {
    it('names the roles from what the paths do: a literal store, a match through the copy loop', () => {
      const names = reports.plain.roles.map((role) => role.roleName);
      assert.deepEqual(names, ['long match (copy loop)', 'literal']);
      const literal = reports.plain.roles.find((role) => role.roleName === 'literal')!;
      assert.equal(literal.role.literals, 1);
      assert.equal(literal.role.match, 'none');
      assert.ok(reports.plain.copyLoop && reports.plain.copyLoop.bytesPerIteration > 0);
      assert.ok(reports.plain.hotLoop.paths >= reports.plain.roles.length && reports.plain.hotLoop.pathsComplete);
      assert.ok(reports.plain.exits.length >= 2, 'end-of-block and error exits are listed, not analysed');
    });

    it('a layout change alone (branch hints) moves no role by a cycle', () => {
      assert.notDeepEqual(reports.plain.pathAddresses, reports.hinted.pathAddresses, 'the hints did change the layout');
      assert.deepEqual(
        reports.hinted.roles.map((role) => [
          role.roleName,
          role.analysis.predictedCycles,
          role.analysis.criticalPathCycles,
        ]),
        reports.plain.roles.map((role) => [
          role.roleName,
          role.analysis.predictedCycles,
          role.analysis.criticalPathCycles,
        ]),
      );
      const section = criticalPathDiff(reports.plain, reports.hinted);
      for (const role of reports.plain.roles)
        assert.match(
          section,
          new RegExp(`^\\| ${role.roleName.replace(/[()]/g, '\\$&')} \\| [^|]+ \\| [^|]+ \\| 0 \\|$`, 'm'),
        );
    });
  },
);

describe('multiply-add through the addend', () => {
  const listing = [
    '0000000000000000 <macc>:',
    '       0:      \tmadd\tx0, x1, x2, x0',
    '       4:      \tmadd\tx0, x3, x4, x0',
    '       8:      \tmadd\tx0, x5, x6, x0',
    '       c:      \tsubs\tx7, x7, #1',
    '      10:      \tb.ne\t0x0 <macc>',
    '      14:      \tret',
  ].join('\n');

  it(
    'costs 1 cycle per MADD on Firestorm (the addend ' + "is read late), the full latency on llvm-mca's model",
    async () => {
      const [fn] = parseListing(listing);
      assert.equal(analyzeHotLoop(fn!, model).analysis.criticalPathCycles, 3);
      assert.equal(analyzeHotLoop(fn!, await loadCpuModel('llvm-mca-apple-m1')).analysis.criticalPathCycles, 15);
      // Through a multiplicand there is no shortcut: the full 3 cycles.
      const [viaMultiplicand] = parseListing(
        listing
          .replaceAll('x1, x2, x0', 'x0, x2, x1')
          .replaceAll('x3, x4, x0', 'x0, x4, x3')
          .replaceAll('x5, x6, x0', 'x0, x6, x5'),
      );
      assert.equal(analyzeHotLoop(viaMultiplicand!, model).analysis.criticalPathCycles, 9);
    },
  );
});

describe('values spilled to the stack and reloaded', () => {
  // A decode loop whose table index is spilled to [sp, #8] and whose literal is spilled to [x29, #-4], each
  // reloaded before use (as register pressure makes a compiler do): the index is still masked bits of the bit
  // buffer (x3 >>= len at 0x14), so 0xc is a table load; the stored byte is still computed from the entry (a
  // literal), not a copy of loaded bytes (the reload is a load, but only of the slot).
  const listing = [
    '0000000000000000 <spilled>:',
    '       0:      \tand\tx8, x3, x9',
    '       4:      \tstr\tx8, [sp, #8]',
    '       8:      \tldr\tx10, [sp, #8]',
    '       c:      \tldr\tw11, [x2, x10, lsl #2]',
    '      10:      \tand\tw12, w11, #0xff',
    '      14:      \tlsr\tx3, x3, x12',
    '      18:      \tlsr\tw13, w11, #8',
    '      1c:      \tstur\tw13, [x29, #-4]',
    '      20:      \tldur\tw14, [x29, #-4]',
    '      24:      \tstrb\tw14, [x0], #1',
    '      28:      \tcmp\tx0, x1',
    '      2c:      \tb.ne\t0x0 <spilled>',
    '      30:      \tret',
  ].join('\n');

  it('follows the value through the slot: the table load and the literal are found', () => {
    const [fn] = parseListing(listing);
    const { choice, paths } = analyzeHotLoop(fn!, model);
    assert.deepEqual(choice.candidate.evidence.tableLoads, [0xc]);
    assert.deepEqual(choice.candidate.evidence.bitBufferShifts, [0x14]);
    assert.equal(choice.candidate.decodeLoop, true);
    assert.deepEqual(
      paths.groups.map((group) => group.roleName),
      ['literal'],
    );
    // Without the slot in between (the same loop, registers straight through) the reading is the same.
    const [direct] = parseListing(
      listing
        .replace('str\tx8, [sp, #8]', 'nop')
        .replace('ldr\tx10, [sp, #8]', 'mov\tx10, x8')
        .replace('stur\tw13, [x29, #-4]', 'nop')
        .replace('ldur\tw14, [x29, #-4]', 'mov\tw14, w13'),
    );
    const plain = analyzeHotLoop(direct!, model);
    assert.deepEqual(plain.choice.candidate.evidence.tableLoads, [0xc]);
    assert.deepEqual(
      plain.paths.groups.map((group) => group.roleName),
      ['literal'],
    );
  });

  it('does not follow a slot stored again in between', () => {
    // A second store to [sp, #8] (of the loop-invariant x9) before the reload: the index is no longer the masked bits.
    const [overwritten] = parseListing(
      listing.replace(
        '      8:      \tldr\tx10, [sp, #8]',
        '      6:      \tstr\tx9, [sp, #8]\n      8:      \tldr\tx10, [sp, #8]',
      ),
    );
    assert.deepEqual(analyzeHotLoop(overwritten!, model).choice.candidate.evidence.tableLoads, []);
  });
});
