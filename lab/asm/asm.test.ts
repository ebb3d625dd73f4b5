import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { disassemble, loadFunctions, selectFunction } from './index.js';
import { LabError } from '../core/errors.js';
import { boundsOfGraph, dependencyGraph } from '../uarch/analyze.js';
import { loadCpuModel } from '../uarch/model.js';
import { enumeratePaths } from '../uarch/paths.js';
import { buildControlFlow, nestedLoops, ownBlocks } from './cfg.js';
import { noreturnPattern } from './noreturn.js';
import { detectFormat, parseListing, type Instruction } from './parse.js';
import { semanticsOf } from './semantics.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');
const comparable = (instructions: readonly Instruction[]) =>
  instructions.map(({ address, mnemonic, operands, target }) => ({ address, mnemonic, operands, target }));

describe('listing parsers', () => {
  const llvm = parseListing(fixture('llvm-objdump-loops.txt'));
  const gnu = parseListing(fixture('gnu-objdump-loops.txt'));
  const otool = parseListing(fixture('otool-loops.txt'));

  it('detects the three formats', () => {
    assert.equal(detectFormat(fixture('llvm-objdump-loops.txt')), 'llvm-objdump');
    assert.equal(detectFormat(fixture('gnu-objdump-loops.txt')), 'gnu-objdump');
    assert.equal(detectFormat(fixture('otool-loops.txt')), 'otool');
  });

  it('reads llvm-objdump and GNU objdump listings of one object to the same instructions', () => {
    assert.deepEqual(
      llvm.map((fn) => fn.name),
      ['chain4', 'two_chains', 'flag_chain', 'pointer_chase', 'load_add_chain', 'refill_step'],
    );
    assert.deepEqual(
      gnu.map((fn) => fn.name),
      llvm.map((fn) => fn.name),
    );
    for (const [i, fn] of llvm.entries())
      assert.deepEqual(comparable(gnu[i]!.instructions), comparable(fn.instructions), fn.name);
  });

  it('reads otool -tvV (hex immediates, _ prefixes) to the same instructions', () => {
    assert.deepEqual(
      otool.map((fn) => fn.name),
      ['_chain4', '_flag_chain', '_refill_step'],
    );
    for (const fn of otool)
      assert.deepEqual(
        comparable(fn.instructions),
        comparable(llvm.find((other) => `_${other.name}` === fn.name)!.instructions),
        fn.name,
      );
  });

  it('normalises branch targets, condition aliases, hex immediates and Apple vector syntax', () => {
    const [fn] = parseListing(
      [
        '0000000000000000 <f>:',
        '       0:\t9a883088 \tcsel\tx8, x4, x8, cc\t// cc = lo, ul, last',
        '       4:\t54005ba9 \tb.cs\t0 <f>  // b.hs, b.nlast',
        '       8:\tf104ac9f \tcmp\tx4, #0x12b',
        '       c:\t4e080d00 \tdup.2d\tv0, x8',
      ].join('\n'),
      'gnu-objdump',
    );
    assert.deepEqual(comparable(fn!.instructions), [
      { address: 0, mnemonic: 'csel', operands: 'x8, x4, x8, lo', target: null },
      { address: 4, mnemonic: 'b.hs', operands: '0x0', target: 0 },
      { address: 8, mnemonic: 'cmp', operands: 'x4, #299', target: null },
      { address: 12, mnemonic: 'dup', operands: 'v0, x8', target: null },
    ]);
  });
  it('keeps 64-bit immediates exact (no rounding through a double)', () => {
    const [fn] = parseListing(
      ['0000000000000000 <f>:', '       0:\tb24003e0 \tmov\tx0, #0xffffffffffffffff'].join('\n'),
      'gnu-objdump',
    );
    assert.equal(fn!.instructions[0]!.operands, 'x0, #18446744073709551615');
  });
});

describe('instruction semantics', () => {
  const sem = (mnemonic: string, operands: string) =>
    semanticsOf({ address: 0, mnemonic, operands, target: null, text: '' });
  it('knows destinations, sources and flags', () => {
    assert.deepEqual(sem('add', 'x0, x1, x2, lsl #3'), {
      ...sem('add', 'x0, x1, x2, lsl #3'),
      class: 'alu-shifted',
      reads: ['r1', 'r2'],
      writes: ['r0'],
    });
    assert.equal(sem('add', 'x0, x1, #3').registerForm, false);
    assert.equal(sem('orr', 'x2, x2, x8').registerForm, true);
    const subs = sem('subs', 'w1, w1, #1');
    assert.deepEqual([subs.class, subs.writes, subs.writesFlags, subs.readsFlags], ['flags', ['r1'], true, false]);
    const ccmp = sem('ccmp', 'x0, x3, #4, ne');
    assert.deepEqual([ccmp.reads, ccmp.writes, ccmp.readsFlags, ccmp.writesFlags], [['r0', 'r3'], [], true, true]);
    assert.deepEqual(sem('csel', 'x0, x0, x4, lo').reads, ['r0', 'r4']);
    assert.deepEqual(sem('cmp', 'x1, x6').writes, []);
    assert.deepEqual(
      sem('bfxil', 'x13, x12, #0, #8').reads.sort(),
      ['r12', 'r13'],
      'a bitfield insert reads its destination',
    );
    assert.equal(sem('bfxil', 'x13, x12, #0, #8').class, 'bitfield-insert');
    assert.deepEqual(sem('movk', 'x1, #5, lsl #16').reads, ['r1']);
    assert.equal(sem('mov', 'x12, x2').class, 'move');
    assert.equal(sem('mov', 'w8, #299').class, 'alu');
    assert.equal(sem('madd', 'x0, x1, x2, x3').class, 'madd');
  });

  it('knows loads and stores, with pre/post-index writeback and index registers', () => {
    const post = sem('ldr', 'x8, [x1], #8');
    assert.deepEqual(
      [post.class, post.reads, post.writes, post.writeback, post.addressReads],
      ['load', ['r1'], ['r8', 'r1'], 'r1', ['r1']],
    );
    const pre = sem('ldr', 'x8, [x1, #16]!');
    assert.equal(pre.writeback, 'r1');
    const indexed = sem('ldr', 'w11, [x5, x10, lsl #2]');
    assert.deepEqual(
      [indexed.reads, indexed.indexedAddress, indexed.address],
      [['r5', 'r10'], true, { base: 'r5', offset: 'x10, lsl #2' }],
    );
    const pair = sem('ldp', 'x1, x2, [sp, #16]');
    assert.deepEqual(pair.writes, ['r1', 'r2']);
    const store = sem('strb', 'w11, [x4], #1');
    assert.deepEqual([store.class, store.reads, store.writes], ['store', ['r11', 'r4'], ['r4']]);
    const stp = sem('stp', 'x1, x2, [x0]');
    assert.deepEqual([stp.reads, stp.writes], [['r1', 'r2', 'r0'], []]);
    const neon = sem('ld1', '{ v0.16b }, [x1]');
    assert.deepEqual([neon.class, neon.writes], ['load', ['v0']]);
  });

  it('knows branches and reports what it does not know', () => {
    assert.deepEqual(sem('cbnz', 'x0, 0x10').reads, ['r0']);
    assert.equal(sem('b.ne', '0x0').readsFlags, true);
    assert.deepEqual(sem('tbz', 'w9, #31, 0x748').reads, ['r9']);
    assert.equal(sem('frobnicate', 'x0, x1').class, 'unknown');
  });
});

describe('control flow and loops', () => {
  const listing = [
    '0000000000000000 <nested>:',
    '       0: \tmov\tx3, #0', //                       block 0
    '       4: \tldr\tx4, [x0]', //          outer header, block 1
    '       8: \tadd\tx5, x4, #1', //       inner header, block 2
    '       c: \tsubs\tx5, x5, #1',
    '      10: \tb.ne\t0x8 <nested+0x8>',
    '      14: \tadd\tx3, x3, x4', //                     block 3
    '      18: \tcbz\tx3, 0x24 <nested+0x24>',
    '      1c: \tsubs\tx1, x1, #1', //                    block 4
    '      20: \tb.ne\t0x4 <nested+0x4>',
    '      24: \tret', //                                 block 5
  ].join('\n');
  const [fn] = parseListing(listing, 'llvm-objdump');
  const flow = buildControlFlow(fn!);

  it('finds blocks, back edges and nesting', () => {
    assert.equal(flow.blocks.length, 6);
    assert.deepEqual(
      flow.blocks.map((block) => block.successors),
      [[1], [2], [2, 3], [5, 4], [1, 5], []],
    );
    const loops = flow.loops.map((loop) => ({
      header: loop.headerAddress,
      blocks: loop.blocks,
      depth: loop.depth,
      innermost: loop.innermost,
    }));
    assert.deepEqual(
      loops.sort((a, b) => a.header - b.header),
      [
        { header: 4, blocks: [1, 2, 3, 4], depth: 1, innermost: false },
        { header: 8, blocks: [2], depth: 2, innermost: true },
      ],
    );
  });

  it("tells a loop's own blocks from those of the loops nested in it", () => {
    const outer = flow.loops.find((loop) => loop.headerAddress === 4)!;
    assert.deepEqual(
      nestedLoops(flow, outer).map((loop) => loop.headerAddress),
      [8],
    );
    assert.deepEqual(ownBlocks(flow, outer), [1, 3, 4]);
  });

  it('enumerates every path of one iteration, from the header back to it', () => {
    const outer = flow.loops.find((loop) => loop.headerAddress === 4)!;
    assert.deepEqual(enumeratePaths(flow, outer), { paths: [[1, 2, 3, 4]], complete: true });
    assert.deepEqual(enumeratePaths(flow, outer, 0), { paths: [], complete: false });
  });
});

describe('disassembly with every CPU feature', () => {
  const clang = spawnSync('clang', ['--version']).status === 0;
  it(
    'decodes CRC32 and LSE atomics instead of printing <unknown>',
    { skip: clang ? false : 'clang is not installed (Debian: apt-get install clang)' },
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'perf-lab-features-'));
      try {
        const source = join(dir, 'f.c');
        await writeFile(
          source,
          '#include <stdint.h>\n' +
            ('uint32_t crcloop(const uint64_t *p, long n, uint32_t c) { for (long i = 0; i < n; i++) c = ' +
              '__builtin_arm_crc32cd(c, p[i]); return c; }\n') +
            ('long addloop(long *p, long n) { long s = 0; for (long i = 0; i < n; i++) s += ' +
              '__atomic_fetch_add(p, i, __ATOMIC_RELAXED); return s; }\n'),
        );
        const object = join(dir, 'f.o');
        const compiled = spawnSync('clang', [
          '--target=aarch64-linux-gnu',
          '-march=armv8.1-a+crc',
          '-O2',
          '-ffreestanding',
          '-c',
          source,
          '-o',
          object,
        ]);
        assert.equal(compiled.status, 0, String(compiled.stderr));
        const { listing } = await disassemble(object);
        assert.match(listing, /\tcrc32cx\t/);
        assert.match(listing, /\tldadd\t/);
        assert.doesNotMatch(listing, /<unknown>/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it(
    'says clearly when the code is not AArch64, when an object is empty, and reads the arm64 slice of a ' +
      'universal binary',
    { skip: clang ? false : 'clang is not installed' },
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'perf-lab-formats-'));
      try {
        const source = join(dir, 'f.c');
        await writeFile(
          source,
          'int f(int *a, int n) { int s = 0; for (int i = 0; i < n; i++) s += a[i]; return s; }\n',
        );
        const build = (target: string, output: string, file = source) => {
          const result = spawnSync('clang', [
            `--target=${target}`,
            '-O2',
            '-ffreestanding',
            '-c',
            file,
            '-o',
            join(dir, output),
          ]);
          assert.equal(result.status, 0, String(result.stderr));
          return join(dir, output);
        };
        const x86 = build('x86_64-linux-gnu', 'x86.o');
        await assert.rejects(loadFunctions(x86), /is not AArch64 code \(llvm-objdump: file format elf64-x86-64\)/);
        await writeFile(join(dir, 'empty.c'), '');
        const empty = build('aarch64-linux-gnu', 'empty.o', join(dir, 'empty.c'));
        await assert.rejects(loadFunctions(empty), (error: Error) => {
          assert.match(error.message, /holds no code: llvm-objdump read it as AArch64 and found no instructions/);
          assert.doesNotMatch(`${error.message} ${(error as { hint?: string }).hint}`, /install llvm/);
          return true;
        });
        // A stripped object: no function names left, so the message says so and how to read it anyway.
        const stripped = build('aarch64-linux-gnu', 'stripped.o');
        const strip = ['llvm-strip', 'llvm-strip-14', 'aarch64-linux-gnu-strip'].find(
          (tool) => spawnSync(tool, ['--version']).error === undefined,
        );
        assert.ok(
          strip,
          'llvm-strip or aarch64-linux-gnu-strip (scripts/setup.sh installs llvm and binutils-aarch64-linux-gnu)',
        );
        {
          assert.equal(spawnSync(strip, ['--strip-all', stripped]).status, 0);
          const { functions, source: where } = await loadFunctions(stripped);
          await assert.rejects(selectFunction(functions, 'f', where), (error: LabError) => {
            assert.match(error.message, /has no function symbols \(a stripped build\): its code reads only as \.text/);
            assert.match(
              error.hint,
              /pass --function \.text to read that whole section as one function and pin the decode loop with --loop/,
            );
            return true;
          });
          assert.equal((await selectFunction(functions, '.text', where)).name, '.text');
        }
        const lipo = ['lipo', 'llvm-lipo', 'llvm-lipo-14'].find(
          (tool) => spawnSync(tool, ['-version']).error === undefined,
        );
        if (!lipo) return;
        const fat = join(dir, 'fat.o');
        const made = spawnSync(lipo, [
          '-create',
          build('arm64-apple-macos', 'arm.o'),
          build('x86_64-apple-macos', 'x86mac.o'),
          '-output',
          fat,
        ]);
        assert.equal(made.status, 0, String(made.stderr));
        const { functions, source: where } = await loadFunctions(fat);
        assert.match(where, /arm64 slice of a universal binary/);
        assert.ok(
          functions.some(
            (fn) => fn.name === '_f' && fn.instructions.some((instruction) => instruction.mnemonic === 'ldr'),
          ),
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('calls', () => {
  const listing = [
    'f.o:\tfile format elf64-littleaarch64',
    '',
    '0000000000000000 <f>:',
    '       0:      \tldrb\tw1, [x0], #1',
    '       4:      \tbl\t0x4 <f+0x4>',
    '\t\t0000000000000004:  R_AARCH64_CALL26\tmemcpy',
    '       8:      \tcbnz\tw1, 0x0 <f>',
    '       c:      \tcbz\tw0, 0x14 <f+0x14>',
    '      10:      \tb\t0x10 <f+0x10>',
    '\t\t0000000000000010:  R_AARCH64_JUMP26\tfinish',
    '      14:      \tbl\t0x14 <f+0x14>',
    '\t\t0000000000000014:  R_AARCH64_CALL26\t__stack_chk_fail',
    '',
    '0000000000000018 <g>:',
    '      18:      \tret',
  ].join('\n');
  const [f] = parseListing(listing, 'llvm-objdump');
  it('names callees from relocations, which are not instructions', () => {
    assert.equal(f!.instructions.length, 6);
    assert.deepEqual(
      f!.instructions.filter((i) => i.callee).map((i) => [i.address, i.mnemonic, i.callee]),
      [
        [4, 'bl', 'memcpy'],
        [16, 'b', 'finish'],
        [20, 'bl', '__stack_chk_fail'],
      ],
    );
  });
  it('the noreturn names are data (lab/asm/noreturn.json), each with its source', () => {
    const pattern = noreturnPattern();
    for (const name of ['abort', '_abort', '__stack_chk_fail', '_ZN4core9panicking9panic_fmt17h0123456789abcdefE'])
      assert.match(name, pattern);
    for (const name of ['abortx', 'memcpy', '__ubsan_handle_add_overflow']) assert.doesNotMatch(name, pattern);
  });
  it('a call returns to the next instruction, a noreturn call and a tail call end the path', () => {
    const flow = buildControlFlow(f!);
    const blockAt = (address: number) => flow.blocks.find((b) => b.instructions[0]!.address === address)!;
    assert.equal(flow.loops.length, 1);
    assert.equal(flow.loops[0]!.headerAddress, 0);
    assert.deepEqual(blockAt(0x10).successors, [], 'b finish leaves the function');
    assert.deepEqual(blockAt(0x14).successors, [], 'bl __stack_chk_fail does not fall into g');
  });
  it('prices a call as unknown and names it', async () => {
    const instructions = f!.instructions.slice(0, 3);
    const bounds = boundsOfGraph(
      dependencyGraph(instructions, await loadCpuModel('apple-m1')),
      await loadCpuModel('apple-m1'),
    );
    assert.equal(bounds.exact, false);
    assert.deepEqual(bounds.unknownMnemonics, ['bl memcpy']);
  });
});

describe('--function 0xSTART-0xEND: an address range checked to be one function', () => {
  // A stripped library's .text: a function at 0x0 (a loop, then ret), an unnamed one at 0x10 that the first never
  // branches to, one at 0x18 called from 0x24 at its second instruction, and one at 0x20.
  const listing = [
    'lib.so:\tfile format elf64-littleaarch64',
    '',
    '0000000000000000 <.text>:',
    '       0:      \tldrb\tw1, [x0], #1',
    '       4:      \tcbnz\tw1, 0x0 <.text>',
    '       8:      \tret',
    '       c:      \tnop',
    '      10:      \tadd\tw0, w0, #1',
    '      14:      \tret',
    '      18:      \tsub\tw0, w0, #1',
    '      1c:      \tret',
    '      20:      \tstp\tx29, x30, [sp, #-16]!',
    '      24:      \tbl\t0x1c <.text+0x1c>',
    '      28:      \tldp\tx29, x30, [sp], #16',
    '      2c:      \tret',
  ].join('\n');
  const functions = parseListing(listing, 'llvm-objdump');
  const refused = async (range: string, why: RegExp) =>
    assert.rejects(selectFunction(functions, range, 'lib.so'), (error: LabError) => {
      assert.match(error.message, new RegExp(`--function ${range} is not one function in lib.so: ${why.source}`));
      return true;
    });
  it('reads one function, its branches local', async () => {
    const fn = await selectFunction(functions, '0x0-0xc', 'lib.so');
    assert.equal(fn.name, '0x0-0xc');
    assert.deepEqual(
      fn.instructions.map((i) => i.address),
      [0, 4, 8],
    );
    assert.equal(buildControlFlow(fn).loops.length, 1);
    assert.equal((await selectFunction(functions, '0x0-0x10', 'lib.so')).instructions.length, 4, 'trailing nop');
  });
  it('refuses a range that crosses a function boundary, saying what crosses it', async () => {
    await refused('0x0-0x18', /0x10 follows 0x8 `ret` and no branch in the range reaches it/);
    await refused('0x4-0xc', /0x0 `ldrb w1, \[x0\], #1` before it falls through into 0x4/);
    await refused('0x0-0x4', /its last instruction, 0x0 `ldrb w1, \[x0\], #1`, falls through past the end/);
    await refused('0x18-0x20', /0x24 `bl 0x1c`, outside it, goes to 0x1c inside it/);
    await refused('0x18-0x30', /0x24 `bl` calls 0x1c inside it/);
    await refused('0x2-0x8', /no instruction starts at 0x2/);
  });
});
