import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { parseListing } from '../asm/parse.js';
import { explain } from '../explain/index.js';
import { analyzeLoop, loadCpuModel, textReport, type CpuModel } from './index.js';
import { criticalPathDiff } from '../report/critical-path.js';
import { findLlvmMca } from './llvm-mca-tool.js';
import { mcaCrossCheck, mcaInput, mcaTextLines, parseMcaOutput, type McaPath } from './mca.js';

/*
 * The run-time llvm-mca cross-check (lab/uarch/mca.ts) where llvm-mca is missing, broken or lying, and on the
 * fixture loops where it is real. The real paths (GCC's zlib and libdeflate, clang's libdeflate) are checked in
 * gcc-builds.test.ts and libdeflate.test.ts.
 */
const listing = join(import.meta.dirname, '..', 'asm', 'fixtures', 'llvm-objdump-loops.txt');
const mcaAvailable = (await execa('llvm-mca', ['--version'], { reject: false })).exitCode === 0;
/** The llvm-mca the cross-check runs here, and its version (the table names both). */
const mcaFound = await findLlvmMca();
const [mcaPath, mcaVersion, mcaFoundBy] =
  'notRun' in mcaFound ? ['', '', ''] : [mcaFound.command, mcaFound.version, mcaFound.foundBy];
const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const NOT_INSTALLED =
  'llvm-mca cross-check: not run (llvm-mca not installed: apt-get install llvm / brew install llvm)';
let work: string;
const savedPath = process.env.PATH;

/**
 * Runs `body` with PATH holding only `dir` and llvm-mca's fixed-path candidates (/usr/lib/llvm-N, Homebrew kegs) rooted
 * in `root` (default: an empty folder), so no llvm-mca is found but the fakes there (they need only /bin/sh).
 */
async function withPath<T>(dir: string, body: () => Promise<T>, root = join(work, 'empty-root')): Promise<T> {
  process.env.PATH = dir;
  process.env.PERF_LAB_LLVM_MCA_SEARCH_ROOT = root;
  try {
    return await body();
  } finally {
    process.env.PATH = savedPath;
    delete process.env.PERF_LAB_LLVM_MCA_SEARCH_ROOT;
  }
}

/** A fake llvm-mca in its own folder: a shell script answering --version with `version`, anything else with `out`. */
async function fakeMca(name: string, version: string, out: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  const script = join(dir, 'llvm-mca');
  await writeFile(
    script,
    `#!/bin/sh\nif [ "$1" = --version ]; then /bin/cat <<'EOF'\n${version}\nEOF\n` +
      `else /bin/cat >/dev/null; /bin/cat <<'EOF'\n${out}\nEOF\nfi\n`,
  );
  await chmod(script, 0o755);
  return dir;
}

const ours = {
  predictedCycles: 6,
  criticalPathCycles: 6,
  resourceBoundCycles: 1,
  resourceBottleneck: '2 uops on is0/is1',
  bound: 'critical path',
  exact: true,
};
const [chain4] = parseListing(
  [
    '0000000000000000 <chain4>:',
    '       0: 00 04 00 91  \tadd\tx0, x0, #1',
    '       4: 00 00 03 8b  \tadd\tx0, x0, x3',
    '      14: 61 ff ff 54  \tb.ne\t0x0 <chain4>',
  ].join('\n'),
);
const path: McaPath = { roleName: 'loop', instructions: chain4!.instructions, ours };

/** A loop that keeps x8 in a stack slot (ldr → lsr → str → memory → ldr: its critical chain), as a listing file. */
async function writeSpill(): Promise<string> {
  const spill = join(work, 'spill.txt');
  await writeFile(
    spill,
    [
      '/tmp/arm/spill.o:\tfile format elf64-littleaarch64',
      '',
      'Disassembly of section .text:',
      '',
      '0000000000000000 <spill>:',
      '       0: e8 07 40 f9  \tldr\tx8, [sp, #8]',
      '       4: 08 25 c2 9a  \tlsr\tx8, x8, x2',
      '       8: e8 07 00 f9  \tstr\tx8, [sp, #8]',
      '       c: 63 04 00 91  \tadd\tx3, x3, #1',
      '      10: 21 04 00 f1  \tsubs\tx1, x1, #1',
      '      14: 61 ff ff 54  \tb.ne\t0x0 <spill>',
      '      18: c0 03 5f d6  \tret',
      '',
    ].join('\n'),
  );
  return spill;
}

let loadedM1: CpuModel;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'perf-lab-mca-check-'));
  loadedM1 = await loadCpuModel('llvm-mca-apple-m1');
});
after(async () => {
  process.env.PATH = savedPath;
  await rm(work, { recursive: true, force: true });
});

describe('the llvm-mca cross-check when llvm-mca cannot give a figure', () => {
  it('llvm-mca absent from PATH: one explicit not-run line, in the report and in perf-lab analyze', async () => {
    const empty = join(work, 'empty');
    await mkdir(empty, { recursive: true });
    const check = await withPath(empty, () => mcaCrossCheck(loadedM1, [path]));
    assert.deepEqual(check, {
      ran: false,
      mcpu: 'apple-m1',
      notRun: 'llvm-mca not installed: apt-get install llvm / brew install llvm',
    });
    assert.deepEqual(mcaTextLines(check), [NOT_INSTALLED]);
    const { text, json } = await withPath(empty, () =>
      explain({ cpu: 'apple-m1', binary: listing, functionName: 'chain4', referenceFunction: 'x', datasetsDir: '/x' }),
    );
    assert.ok(text.split('\n').includes(NOT_INSTALLED), text);
    assert.equal((json as { mca: { ran: boolean } }).mca.ran, false);
    const diff = await withPath(empty, () =>
      explain({
        cpu: 'apple-m1',
        base: listing,
        head: listing,
        functionName: 'chain4',
        loop: '0x0',
        referenceFunction: 'x',
        datasetsDir: '/x',
      }),
    );
    assert.match(diff.text, /^llvm-mca cross-check: not run \(llvm-mca not installed: apt-get install llvm /m);
    const off = await explain({
      cpu: 'apple-m1',
      binary: listing,
      functionName: 'chain4',
      referenceFunction: 'x',
      datasetsDir: '/x',
      mca: false,
    });
    assert.doesNotMatch(off.text, /llvm-mca cross-check/, '--no-mca');
  });

  it('a fake llvm-mca printing garbage: "not run: … unparseable …", never a number', async () => {
    const garbage = await fakeMca('garbage', 'LLVM version 14.0.6', 'Total Cyclez: lots\nno figures here');
    const check = await withPath(garbage, () => mcaCrossCheck(loadedM1, [path]));
    assert.equal(check.ran, false);
    assert.match(mcaTextLines(check)[0]!, /^llvm-mca cross-check: not run \(llvm-mca's output is unparseable \(no /);
    const noVersion = await fakeMca('no-version', '<<garbage>>', 'garbage');
    const unversioned = await withPath(noVersion, () => mcaCrossCheck(loadedM1, [path]));
    assert.match(mcaTextLines(unversioned)[0]!, /^llvm-mca cross-check: not run \(llvm-mca --version is unparseable/);
  });

  it('output that does not add up is refused: other iterations, dropped instructions, no cycles', () => {
    const header = (iterations: number, instructions: number, cycles: string) =>
      `Iterations:        ${iterations}\nInstructions:      ${instructions}\nTotal Cycles:      ${cycles}\n` +
      'Total uOps:        10\n\nDispatch Width:    6\nBlock RThroughput: 1.0\n';
    const refusal = (stdout: string) => {
      const parsed = parseMcaOutput(stdout, 500, 3);
      return typeof parsed === 'string' ? parsed : 'parsed';
    };
    assert.match(refusal(header(100, 300, '50')), /ran 100 iterations, not the 500/);
    assert.match(refusal(header(500, 1000, '50')), /2 instructions an iteration, not the 3/);
    assert.match(refusal(header(500, 1500, '0')), /not a positive count/);
    assert.match(refusal(header(500, 1500, 'many')), /unparseable/);
    const figures = parseMcaOutput(header(500, 1500, '3007'), 500, 3);
    assert.ok(typeof figures === 'object' && figures.cyclesPerIteration === 6.01 && figures.bottleneck === null);
  });

  it('a model with no llvm-mca -mcpu to fit says so instead of a misleading number', async () => {
    for (const name of ['neoverse-n2', 'neoverse-v1', 'neoverse-v2']) {
      const check = await mcaCrossCheck(await loadCpuModel(name), [path]);
      assert.equal(check.ran, false);
      assert.match(
        mcaTextLines(check)[0]!,
        new RegExp(`^llvm-mca cross-check: not run \\(no llvm-mca -mcpu fits ${name} — LLVM 14 has no scheduling`),
      );
    }
  });

  it("llvm-mca's input: branches aimed at the start, undecodable words left out and named", () => {
    const [fn] = parseListing(
      [
        '0000000000000000 <f>:',
        '       0:      \tldr\tx8, [x0], #8',
        '       4:      \t<unknown>',
        '       8:      \tbl\t0x8 <f+0x8>',
        '\t\t0000000000000008:  R_AARCH64_CALL26\tmemcpy',
        '       c:      \ttbnz\tw2, #4, 0x0 <f>',
        '      10:      \tb.ne\t0x0 <f>',
      ].join('\n'),
      'llvm-objdump',
    );
    const input = mcaInput(fn!.instructions);
    assert.deepEqual(input.lines, ['ldr x8, [x0], #8', 'bl 0b', 'tbnz w2, #4, 0b', 'b.ne 0b']);
    assert.equal(input.skipped.length, 1);
    assert.match(input.skipped[0]!, /<unknown>/);
  });
});

describe(
  'the llvm-mca cross-check with llvm-mca (14)',
  { skip: mcaAvailable ? false : 'llvm-mca is not installed (Debian: apt-get install llvm)' },
  () => {
    it('agrees within a cycle on a dependency-bound fixture loop, and says so', async () => {
      const report = await analyzeLoop({ path: listing, functionName: 'chain4', mca: true }, loadedM1);
      assert.ok(report.mca?.ran);
      const [role] = report.mca.roles;
      assert.ok(role && 'mca' in role, JSON.stringify(role));
      assert.equal(role.ours.predictedCycles, 6);
      assert.ok(Math.abs(role.mca.cyclesPerIteration - 6) <= 0.05, `${role.mca.cyclesPerIteration}`);
      assert.equal(role.agree, true);
      assert.match(
        textReport(report),
        new RegExp(
          String.raw`^ {2}\S.*: llvm-mca: 6 cycles/iteration, bound by register dependencies \(\d+\.\d% of cycles\); ` +
            'this model: 6, its critical path — they agree within 1 cycle$',
          'm',
        ),
      );
      assert.match(textReport(report), /^ {4}llvm-mca covers the same 6 instructions$/m);
    });

    it("a chain through a spill slot: llvm-mca's -noalias=true is named, with its -noalias=false figure", async () => {
      // The loop keeps x8 in a stack slot: ldr → lsr → str → (memory) → ldr is this model's critical chain.
      const spill = await writeSpill();
      const report = await analyzeLoop({ path: spill, functionName: 'spill', mca: true }, loadedM1);
      assert.match(textReport(report), /chain: 0x0 ldr x8, \[sp, #8\] .* → 0x8 str x8, \[sp, #8\] \[\d+ via memory\]/);
      assert.ok(report.mca?.ran);
      const [role] = report.mca.roles;
      assert.ok(role && 'mca' in role, JSON.stringify(role));
      assert.equal(role.agree, false);
      assert.ok(role.memory && role.memory.noAliasFalseCycles !== null, JSON.stringify(role.memory));
      assert.ok(role.memory.noAliasFalseCycles > role.mca.cyclesPerIteration, JSON.stringify(role));
      assert.match(
        role.why,
        new RegExp(
          String.raw`this model's critical chain runs through memory, a store and its reload ` +
            String.raw`\(str x8, \[sp, #8\] at 0x8 → ldr x8, \[sp, #8\] at 0x0, \d+ cycles store to load here\): ` +
            String.raw`llvm-mca does not model a load's dependence on an earlier store \(its default -noalias=true ` +
            String.raw`lets every load pass older stores\), so that chain is not in its figure; with -noalias=false ` +
            String.raw`\(every load waits for every older store, whatever the address\) it gives ` +
            `${role.memory.noAliasFalseCycles}$`,
        ),
      );
    });

    it("the PR comment's cross-check table: this model's and llvm-mca's cycles per role and build", async () => {
      const base = await analyzeLoop({ path: listing, functionName: 'chain4', loop: '0x0', mca: true }, loadedM1);
      const spill = await analyzeLoop(
        { path: await writeSpill(), functionName: 'spill', loop: '0x0', mca: true },
        loadedM1,
      );
      const markdown = criticalPathDiff(base, base, spill);
      const section = markdown.slice(markdown.indexOf('<details><summary>llvm-mca cross-check'));
      const role = 'no output (table walk, refill or bookkeeping)';
      assert.deepEqual(section.split('\n').slice(0, 5), [
        String.raw`<details><summary>llvm-mca cross-check: llvm-mca ${mcaVersion} -mcpu=apple-m1 (LLVM's Cyclone ` +
          "(Apple A7) model) on each role's usual path (✓: within 1 cycle), run from " +
          `${mcaPath} (${mcaFoundBy})</summary>`,
        '',
        '| path role (cycles/iteration: this model · llvm-mca) | base | head | libdeflate |',
        '|---|---:|---:|---:|',
        `| ${role} | 6 · 6 ✓ | 6 · 6 ✓ | 9 · 1 |`,
      ]);
      assert.match(
        section,
        new RegExp(`^- \\*\\*base\\*\\* ${escapeRegex(role)}: llvm-mca 6, .* they agree within 1 cycle`, 'm'),
      );
      assert.match(
        section,
        new RegExp(
          String.raw`^- \*\*libdeflate\*\* .*: llvm-mca 1, .* this model 9 — they differ by 8: ` +
            String.raw`this model's critical chain runs through memory, .*-noalias=false .* it gives 9;`,
          'm',
        ),
      );
    });

    it('an undecodable word and a call: what llvm-mca covers and its warning are said', async () => {
      const [fn] = parseListing(
        [
          '0000000000000000 <f>:',
          '       0:      \tldr\tx8, [x0], #8',
          '       4:      \t<unknown>',
          '       8:      \tbl\t0x8 <f+0x8>',
          '\t\t0000000000000008:  R_AARCH64_CALL26\tmemcpy',
          '       c:      \tb.ne\t0x0 <f>',
        ].join('\n'),
        'llvm-objdump',
      );
      const check = await mcaCrossCheck(loadedM1, [{ roleName: 'loop', instructions: fn!.instructions, ours }]);
      assert.ok(check.ran);
      const lines = mcaTextLines(check).join('\n');
      assert.match(lines, /llvm-mca covers 3 of the 4 instructions \(left out: .*<unknown>\)/);
      assert.match(lines, /llvm-mca warns: found a call in the input assembly sequence\. .*latency of 100cy/);
      // A line llvm-mca's assembler refuses is dropped, named, and the rest run again.
      const refused = { address: 0x20, mnemonic: 'frob', operands: 'x1, x2', target: null, text: 'frob x1, x2' };
      const again = await mcaCrossCheck(loadedM1, [
        { roleName: 'loop', instructions: [...fn!.instructions, refused], ours },
      ]);
      assert.match(
        mcaTextLines(again).join('\n'),
        /llvm-mca covers 3 of the 5 instructions \(left out: .*<unknown>.*, frob x1, x2 \(refused by its assembler\)\)/,
      );
    });
  },
);
