import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { obtainLibdeflateSource } from '../build/libdeflate-source.js';
import { criticalPathDiff } from '../report/critical-path.js';
import { analyzeLoop, loadCpuModel, textReport, type CpuModel, type LoopReport } from './index.js';
import { predictWorkload } from './predict.js';
import { logChunks } from '../datasets/generators.js';
import { profileGzip } from '../datasets/symbols.js';

/**
 * Real ARM64 code: libdeflate 1.23's decompressor (Debian's source package)
 * compiled here by clang for aarch64 Linux (ELF) and arm64 macOS (Mach-O).
 */
const clang = (await execa('clang', ['--version'], { reject: false })).exitCode === 0;
const mca = (await execa('llvm-mca', ['--version'], { reject: false })).exitCode === 0;
let work: string;
let model: CpuModel;
const reports: Record<string, LoopReport> = {};
/** A multi-line regular expression from parts (each line of the source within 120 characters). */
const lines = (...parts: string[]) => new RegExp(parts.join(''), 'm');

before(async () => {
  if (!clang) return;
  work = await mkdtemp(join(tmpdir(), 'perf-lab-libdeflate-arm64-'));
  model = await loadCpuModel('apple-m1');
  const source = (await obtainLibdeflateSource({ kind: 'debian', suite: 'trixie' }))!.dir;
  const input = join(source, 'lib', 'deflate_decompress.c');
  // Neither target has C library headers on a fresh machine: libdeflate's freestanding mode needs none.
  const freestanding = ['-O2', '-c', '-DFREESTANDING', '-ffreestanding', `-I${source}`, input];
  await execa('clang', ['--target=aarch64-linux-gnu', ...freestanding, '-o', join(work, 'linux.o')]);
  await execa('clang', ['--target=arm64-apple-macos', ...freestanding, '-o', join(work, 'mac.o')]);
  await writeFile(
    join(work, 'gnu.txt'),
    String((await execa('aarch64-linux-gnu-objdump', ['-d', join(work, 'linux.o')], { reject: false })).stdout),
  );
  for (const [name, path] of [
    ['elf', join(work, 'linux.o')],
    ['macho', join(work, 'mac.o')],
    ['gnu', join(work, 'gnu.txt')],
  ] as const) {
    reports[name] = await analyzeLoop(
      { path, functionName: 'libdeflate_deflate_decompress_ex', cpu: 'apple-m1' },
      model,
    );
  }
  reports.n2 = await analyzeLoop(
    { path: join(work, 'linux.o'), functionName: 'libdeflate_deflate_decompress_ex', cpu: 'neoverse-n2', mca: true },
    await loadCpuModel('neoverse-n2'),
  );
  if (mca)
    reports.mca = await analyzeLoop(
      { path: join(work, 'linux.o'), functionName: 'libdeflate_deflate_decompress_ex', mca: true },
      model,
    );
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe(
  "libdeflate's decompressor compiled for ARM64",
  { skip: clang ? false : 'clang is not installed (Debian: apt-get install clang)' },
  () => {
    it('finds the function in ELF and Mach-O objects and picks the fastloop', () => {
      assert.equal(reports.elf!.function, 'libdeflate_deflate_decompress_ex');
      assert.equal(
        reports.macho!.function,
        '_libdeflate_deflate_decompress_ex',
        'named from the Mach-O symbol table, not ltmp0',
      );
      for (const report of [reports.elf!, reports.macho!]) {
        assert.ok(report.loops.length >= 10, `${report.loops.length} loops`);
        assert.equal(report.hotLoop.depth, 2, 'inside the per-block loop');
        assert.ok(report.hotLoop.ownInstructions >= 150, `hot loop own body ${report.hotLoop.ownInstructions}`);
      }
    });

    it('reports a loop-carried critical path through the table lookups, with no unknown instructions', () => {
      for (const report of [reports.elf!, reports.macho!]) {
        const a = report.analysis;
        assert.ok(a.criticalPathCycles >= 8 && a.criticalPathCycles <= 30, `critical path ${a.criticalPathCycles}`);
        assert.ok(
          a.criticalChain.some((link) => link.text.startsWith('ldr w')),
          'a 32-bit table entry load is on the chain',
        );
        assert.ok(a.predictedCycles >= a.criticalPathCycles && a.ilp > 1);
        assert.deepEqual(a.unknownMnemonics, []);
        assert.match(textReport(report), /^critical path: \d+(\.\d+)? cycles\/iteration$/m);
      }
      assert.ok(Math.abs(reports.elf!.analysis.criticalPathCycles - reports.macho!.analysis.criticalPathCycles) <= 2);
    });

    it('chooses the fastloop by its evidence and analyses every path of it by role', () => {
      for (const report of [reports.elf!, reports.macho!]) {
        assert.equal(report.loopChoice.how, 'evidence');
        assert.equal(report.loopChoice.decodeLoop, true);
        const roles = new Map(report.roles.map((role) => [role.roleName, role]));
        for (const name of ['match', 'literal + match', '2 literals + match', 'long match (copy loop)', 'literal'])
          assert.ok(roles.has(name), `${name} in ${[...roles.keys()].join(', ')}`);
        // The usual match path (a word copy, no subtable) is the 13-cycle chain checked by hand against the Firestorm
        // table.
        assert.equal(roles.get('match')!.analysis.criticalPathCycles, 13);
        assert.equal(report.headlineRole, 'match');
        assert.ok(
          roles.get('literal + match')!.analysis.criticalPathCycles > 13,
          'a literal before the match lengthens the chain',
        );
        assert.ok(
          report.copyLoop && report.copyLoop.bytesPerIteration === 40,
          'the long-match copy loop copies 5 words per iteration',
        );
        const batched = report.idioms.find((idiom) => idiom.idiom === 'batched literal stores')!;
        assert.equal(batched.found, true, 'libdeflate batches literals (found on its literal paths)');
        assert.ok(batched.roles.some((role) => /literals/.test(role)));
      }
    });

    it('reads the GNU objdump listing of the same object to the same answer', () => {
      assert.equal(reports.gnu!.analysis.criticalPathCycles, reports.elf!.analysis.criticalPathCycles);
      assert.equal(reports.gnu!.analysis.instructions, reports.elf!.analysis.instructions);
      assert.equal(reports.gnu!.hotLoop.headerAddress, reports.elf!.hotLoop.headerAddress);
    });

    it("recognises libdeflate's idioms in libdeflate itself", () => {
      const found = new Set(reports.elf!.idioms.filter((idiom) => idiom.found).map((idiom) => idiom.idiom));
      for (const idiom of ['branchless refill', 'bitsleft -= entry', 'saved_bitbuf', 'unrolled match copy'])
        assert.ok(found.has(idiom), idiom);
    });

    it('prices a Huffman-only stream on its literal paths and a level-9 stream on every role it takes', () => {
      const report = reports.macho!;
      const literalOnly = new Map(
        report.roles
          .filter((role) => role.role.match === 'none')
          .map((role) => [role.role.literals, role.analysis.predictedCycles]),
      );
      const text = Buffer.from([...logChunks(100_000)].join(''));
      const profile = profileGzip(gzipSync(text, { strategy: constants.Z_HUFFMAN_ONLY }));
      const huffman = predictWorkload(profile, report);
      assert.ok(!('unpredictable' in huffman));
      // One run of literals per block, in batches of the widest literal path (3) and a remainder.
      const widest = Math.max(...literalOnly.keys());
      assert.equal(widest, 3);
      const expected = profile.runs.reduce(
        (sum, [literals, , count]) =>
          sum +
          count *
            (Math.floor(literals / 3) * literalOnly.get(3)! + (literals % 3 ? literalOnly.get(literals % 3)! : 0)),
        0,
      );
      assert.equal(huffman.cyclesPerByte, expected / text.length);
      const level9 = predictWorkload(profileGzip(gzipSync(text, { level: 9 })), report);
      assert.ok(!('unpredictable' in level9) && level9.exact);
      assert.ok(
        level9.byRole.some((role) => role.roleName === 'match') &&
          level9.byRole.some((role) => /literals? \+ match/.test(role.roleName)),
      );
      assert.ok(level9.cyclesPerByte < huffman.cyclesPerByte, 'matches copy many bytes per iteration');
    });

    it('prices the same fastloop on neoverse-n2: every instruction known, no faster than on M1, 5-wide', () => {
      const n2 = reports.n2!;
      assert.equal(n2.hotLoop.headerAddress, reports.elf!.hotLoop.headerAddress, 'the same loop is chosen');
      assert.deepEqual(n2.analysis.unknownMnemonics, []);
      const match = n2.roles.find((role) => role.roleName === 'match')!;
      // N2 has no 3-cycle address path and BFXIL takes 2: its chain is at least M1's 13 cycles.
      assert.ok(match.analysis.criticalPathCycles >= 13, `${match.analysis.criticalPathCycles}`);
      assert.equal(match.analysis.frontEndBoundCycles, match.analysis.instructions / 5, 'no compare+branch fusion');
      assert.match(textReport(n2), /^model: neoverse-n2 \(Arm Neoverse N2/m);
    });

    it("prints llvm-mca's figure for each role beside the Firestorm model's, and why they differ", (t) => {
      if (!reports.mca) return t.skip('llvm-mca is not installed (Debian: apt-get install llvm)');
      const text = textReport(reports.mca);
      // llvm-mca -mcpu=apple-m1 runs LLVM's Cyclone model: the reason says so first, then llvm-mca's own bottleneck.
      const match = lines(
        String.raw`^ {2}match: llvm-mca: ([\d.]+) cycles/iteration, bound by (.*); this model: 13, its critical path `,
        String.raw`— they differ by [\d.]+: llvm-mca prices with LLVM's Cyclone \(Apple A7\) model, not apple-m1's `,
        String.raw`numbers; (.*)$`,
      ).exec(text);
      assert.ok(match, text);
      assert.ok(Number(match[1]) > 14, `llvm-mca ${match[1]}`);
      assert.match(match[2]!, /CyUnitIS [\d.]+%/);
      assert.match(match[3]!, /llvm-mca's resource bound is [\d.]+ \(busiest unit CyUnit/);
      assert.match(text, /^ {2}match: .*\n {4}llvm-mca covers the same 59 instructions$/m);
      const roles = text
        .split('\n')
        .filter((line) => /^ {2}\S.*: llvm-mca: [\d.]+ cycles\/iteration, bound by /.test(line));
      assert.equal(roles.length, reports.mca.roles.length, 'a line for every role');
    });

    it('says why llvm-mca is not run for neoverse-n2 (LLVM 14 has no scheduling model of its own for it)', () => {
      assert.match(
        textReport(reports.n2!),
        lines(
          String.raw`^llvm-mca cross-check: not run \(no llvm-mca -mcpu fits neoverse-n2 — `,
          String.raw`LLVM 14 has no scheduling model for Neoverse N2: .*Cortex-A57's`,
        ),
      );
    });

    it('renders a compact diff for a PR comment', () => {
      const markdown = criticalPathDiff(reports.elf!, reports.macho!, reports.elf);
      assert.match(markdown, /^### Hot decode loop on apple-m1 /m);
      assert.match(markdown, /^\| predicted cycles\/iteration \| \d+ \| \d+ \| [−+]?\d+ \| \d+ \|$/m);
      assert.match(markdown, /^\| branchless refill \| ✓ \| ✓ \| ✓ \|$/m);
      assert.ok(markdown.length < 6000, `${markdown.length} characters`);
    });
  },
);
