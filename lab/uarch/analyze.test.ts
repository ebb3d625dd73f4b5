import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { resolveCitations } from '../core/citations.js';
import { parseListing, type AsmFunction } from '../asm/parse.js';
import { cpuModelSchema, listModels, loadCpuModel, type CpuModel } from './model.js';
import { criticalPathDiff } from '../report/critical-path.js';
import { analyzeHotLoop, analyzeLoop, analyzeMatchingLoops, textReport } from './index.js';
import { findIdioms } from './idioms.js';
import { maximumCycleRatioValue, type Edge } from './analyze.js';
import { uniformIntDistribution, xoroshiro128plus } from 'pure-rand';

const functions = parseListing(
  readFileSync(join(import.meta.dirname, '..', 'asm', 'fixtures', 'llvm-objdump-loops.txt'), 'utf8'),
);

const analyzeFunction = (fn: AsmFunction, model: CpuModel) => analyzeHotLoop(fn, model);

let m1: CpuModel;
before(async () => {
  m1 = await loadCpuModel('apple-m1');
});
const analyse = (name: string, model = m1) =>
  analyzeFunction(
    functions.find((fn) => fn.name === name)!,
    model,
  ).analysis;

describe('critical path on hand-checked loops (apple-m1)', () => {
  // Worked out by hand from the Firestorm table: ALU 1, flag ops 1, load 4 into an ALU op, 3 into an address.
  const expected: Array<[string, number, string]> = [
    ['chain4', 4, 'four dependent adds'],
    ['two_chains', 3, 'the longer of two independent chains (3 vs 2)'],
    ['flag_chain', 3, 'subs → ccmp (flags) → csel → next subs'],
    ['pointer_chase', 3, "a load feeding the next load's address"],
    ['load_add_chain', 6, 'load 4 + add 1 + and 1, the and feeding the next address'],
    ['refill_step', 8, 'lsl 1 → orr 1 → and 1 → table load 4 → sub bitsleft 1 → next lsl'],
  ];
  for (const [name, cycles, why] of expected) {
    it(`${name}: ${cycles} cycles/iteration (${why})`, () => {
      const analysis = analyse(name);
      assert.equal(analysis.criticalPathCycles, cycles);
      const chainLatency = analysis.criticalChain.reduce((sum, link) => sum + link.latencyCycles, 0);
      assert.equal(chainLatency, cycles, 'the reported chain adds up to the critical path');
      for (const link of analysis.criticalChain)
        assert.equal(analysis.slackCycles[link.index], 0, `${link.text} is on the critical path: no slack`);
      assert.deepEqual(analysis.unknownMnemonics, []);
    });
  }

  it('reports the chain of the refill step in order, with the load-to-use latency', () => {
    const chain = analyse('refill_step').criticalChain.map((link) => `${link.text} [${link.latencyCycles}]`);
    assert.deepEqual(chain, [
      'and x10, x2, #2047 [1]',
      'ldr w11, [x5, x10, lsl #2] [4]',
      'sub x3, x3, x11 [1]',
      'lsl x8, x8, x3 [1]',
      'orr x2, x2, x8 [1]',
    ]);
  });

  it('gives independent work slack', () => {
    const analysis = analyse('two_chains');
    const shortChain = analysis.nodes.filter((node) => node.instruction.operands.startsWith('x2'));
    for (const node of shortChain) assert.equal(analysis.slackCycles[node.index], 1, node.instruction.operands);
  });

  it('computes resource and front-end bounds and ILP', () => {
    const refill = analyse('refill_step');
    // 16 instructions; cmp+b.lo fuse: 15 decode slots / 8 wide.
    assert.equal(refill.frontEndBoundCycles, 15 / 8);
    assert.equal(refill.ilp, 16 / 8);
    assert.equal(refill.bound, 'critical path');
    assert.equal(refill.predictedCycles, 8);
  });

  it('finds the libdeflate idioms the refill step is written with', () => {
    const { analysis, flow } = analyzeFunction(
      functions.find((fn) => fn.name === 'refill_step')!,
      m1,
    );
    const found = Object.fromEntries(findIdioms(analysis, flow).map((idiom) => [idiom.idiom, idiom.found]));
    assert.deepEqual(found, {
      'branchless refill': true,
      'bitsleft -= entry': true,
      saved_bitbuf: false,
      'BFXIL insert': true,
      'CCMP chain': false,
      'batched literal stores': true,
      'unrolled match copy': false,
    });
    // A spilled counter reloaded from the stack and subtracted is not `bitsleft -= entry` (no table entry).
    const [spill] = parseListing(
      [
        '0000000000000000 <spill>:',
        '       0:      \tldr\tw1, [sp, #12]',
        '       4:      \tsub\tw4, w4, w1',
        '       8:      \tlsr\tx3, x3, x4',
        '       c:      \tcbnz\tx3, 0x0 <spill>',
      ].join('\n'),
      'llvm-objdump',
    );
    const reload = analyzeFunction(spill!, m1);
    assert.equal(findIdioms(reload.analysis, reload.flow).find((i) => i.idiom === 'bitsleft -= entry')!.found, false);
    const flagLoop = analyzeFunction(
      functions.find((fn) => fn.name === 'flag_chain')!,
      m1,
    );
    assert.equal(
      findIdioms(flagLoop.analysis, flagLoop.flow).find((idiom) => idiom.idiom === 'CCMP chain')!.found,
      true,
    );
  });
});

describe('several functions', () => {
  it('analyses every function matching a /regex/, each with its own critical-path line', async () => {
    const reports = await analyzeMatchingLoops(
      {
        path: join(import.meta.dirname, '..', 'asm', 'fixtures', 'llvm-objdump-loops.txt'),
        functionName: '/chain/',
        cpu: 'apple-m1',
      },
      m1,
    );
    assert.deepEqual(reports.map((report) => [report.function, report.analysis.criticalPathCycles]).sort(), [
      ['chain4', 4],
      ['flag_chain', 3],
      ['load_add_chain', 6],
      ['two_chains', 3],
    ]);
    for (const report of reports)
      assert.match(
        textReport(report),
        new RegExp(`^critical path: ${report.analysis.criticalPathCycles} cycles/iteration$`, 'm'),
      );
  });
});

describe('resource bound', () => {
  it('puts BFXIL on its single unit', () => {
    const [fn] = parseListing(
      [
        '0000000000000000 <bfm>:',
        '       0: \tbfxil\tx1, x5, #0, #8',
        '       4: \tbfxil\tx2, x5, #0, #8',
        '       8: \tbfxil\tx3, x5, #0, #8',
        '       c: \tbfxil\tx4, x5, #0, #8',
        '      10: \tb\t0x0 <bfm>',
      ].join('\n'),
    );
    const { analysis } = analyzeFunction(fn!, m1);
    assert.equal(analysis.resourceBoundCycles, 4);
    assert.match(analysis.resourceBottleneck, /4 uops on u6/);
    assert.equal(analysis.bound, 'resources');
  });
});

describe('CPU models are data', () => {
  it(
    'ships M1, M2 and M3 P-cores, Neoverse N2, V1 and V2, and the llvm-mca model, ' + 'every number with a source',
    async () => {
      assert.deepEqual(await listModels(), [
        'apple-m1',
        'apple-m2',
        'apple-m3',
        'llvm-mca-apple-m1',
        'neoverse-n2',
        'neoverse-v1',
        'neoverse-v2',
      ]);
      for (const name of await listModels()) {
        const path = join(import.meta.dirname, 'models', `${name}.json`);
        // The file as the loader reads it: its "sources" citations resolved, its lines of text joined.
        const json: unknown = JSON.parse(readFileSync(path, 'utf8'));
        const parsed = cpuModelSchema.safeParse(resolveCitations(json, path, 'uarch'));
        assert.ok(parsed.success, name);
        const raw = parsed.data as Record<string, unknown> & typeof parsed.data;
        const timings = [...Object.values(raw.classes ?? {}), ...Object.values(raw.mnemonicOverrides ?? {})];
        for (const timing of timings) {
          assert.ok(timing.source.length > 10, name);
          for (const form of timing.forms ?? []) assert.ok(form.source.length > 10, name);
        }
        // Every top-level number is a { value, source } pair.
        for (const key of ['decodeWidth', 'compareBranchFusion', 'storeToLoadLatency', 'cpuBrands'])
          if (raw[key] !== undefined) assert.ok((raw[key] as { source: string }).source.length > 10, `${name} ${key}`);
      }
      // Unsourced numbers say so in their source.
      const n2Path = join(import.meta.dirname, 'models', 'neoverse-n2.json');
      const n2 = cpuModelSchema.parse(resolveCitations(JSON.parse(readFileSync(n2Path, 'utf8')), n2Path, 'uarch'));
      assert.ok(n2.storeToLoadLatency && n2.compareBranchFusion);
      assert.match(n2.storeToLoadLatency.source, /^assumption, not sourced/);
      assert.match(n2.compareBranchFusion.source, /^not sourced/);
    },
  );

  it('marks M2/M3 numbers as inherited from M1', async () => {
    const m3 = await loadCpuModel('apple-m3');
    assert.equal(m3.inheritedFrom, 'apple-m1');
    assert.equal(m3.classes.load.inherited, true);
    assert.equal(m3.decodeWidth, 8);
    assert.equal(analyse('refill_step', m3).criticalPathCycles, 8);
  });

  it('refuses a model without sources or an unknown model name', async () => {
    assert.equal(
      cpuModelSchema.safeParse({ name: 'x', core: 'x', inherits: null, decodeWidth: { value: 8 } }).success,
      false,
    );
    await assert.rejects(loadCpuModel('apple-m9'), /no CPU model "apple-m9"/);
    await assert.rejects(
      loadCpuModel('../models/apple-m1'),
      /no CPU model "\.\.\/models\/apple-m1"/,
      'a name, not a path',
    );
  });
});

describe('instructions the disassembler or the model does not know', () => {
  // llvm-objdump 14 without CPU features: the CRC32 instruction of a CRC loop prints as <unknown> (real output).
  const undecoded = [
    '0000000000000000 <crcloop>:',
    '       0:      \tcmp\tx1, #1',
    '       4:      \tb.lt\t0x18 <crcloop+0x18>',
    '       8:      \tldr\tx8, [x0], #8',
    '       c:      \tsubs\tx1, x1, #1',
    '      10:      \t<unknown>',
    '      14:      \tb.ne\t0x8 <crcloop+0x8>',
    '      18:      \tmov\tw0, w2',
    '      1c:      \tret',
  ].join('\n');
  // The same loop decoded (--mcpu=apple-m1), and GNU objdump's form of an undecodable word.
  const decoded = undecoded.replace('<unknown>', 'crc32cx\tw2, w2, x8');
  const gnu = undecoded.replace('      10:      \t<unknown>', '  10:\t9ac85c42 \t.inst\t0x9ac85c42 ; undefined');

  it(
    'keeps an undecoded instruction in the loop as "unknown" and marks every cycle figure ' + 'as a lower bound',
    async () => {
      for (const listing of [undecoded, gnu]) {
        const [fn] = parseListing(listing);
        assert.equal(fn!.instructions.length, 8, 'no line dropped');
        assert.equal(fn!.instructions[4]!.mnemonic, 'unknown');
        const { loop, analysis } = analyzeHotLoop(fn!, m1);
        assert.equal(loop.headerAddress, 0x8);
        assert.equal(analysis.instructions, 4);
        assert.equal(analysis.exact, false);
        assert.equal(analysis.unknownInstructions, 1);
        assert.deepEqual(analysis.unknownMnemonics, ['unknown']);
      }
    },
  );

  it('says when --function matched several functions: the largest is analysed, the others named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'perf-lab-matches-'));
    try {
      const listing = readFileSync(
        join(import.meta.dirname, '..', 'asm', 'fixtures', 'llvm-objdump-loops.txt'),
        'utf8',
      );
      writeFileSync(join(dir, 'loops.txt'), listing);
      // "chain4" names chain4 exactly; "_chain" is in flag_chain, load_add_chain and two_chains.
      const one = await analyzeLoop({ path: join(dir, 'loops.txt'), functionName: 'chain4', cpu: 'apple-m1' }, m1);
      assert.equal(one.otherMatches, undefined);
      assert.doesNotMatch(textReport(one), /functions matching the name/);
      const several = await analyzeLoop({ path: join(dir, 'loops.txt'), functionName: '_chain', cpu: 'apple-m1' }, m1);
      assert.deepEqual([several.function, ...several.otherMatches!].sort(), [
        'flag_chain',
        'load_add_chain',
        'two_chains',
      ]);
      assert.match(
        textReport(several),
        /^ {2}the largest of 3 functions matching the name; not analysed: \w+, \w+ \(name one exactly/m,
      );
      // The PR section names the model it says was chosen.
      const pinned = { ...several, model: { ...several.model, chosenBecause: 'chosen by --cpu' } };
      assert.match(criticalPathDiff(pinned, pinned), /^CPU model apple-m1: chosen by --cpu\.$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(
    'says "≥ N cycles (K unknown)" for an instruction the model has no entry for, ' +
      'in the text report and the PR section',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'perf-lab-unknown-'));
      try {
        writeFileSync(join(dir, 'crc.txt'), decoded);
        const chosen = await analyzeLoop({ path: join(dir, 'crc.txt'), functionName: 'crcloop', cpu: 'apple-m1' }, m1);
        assert.equal(chosen.loopChoice.decodeLoop, false);
        assert.match(
          criticalPathDiff(chosen, chosen),
          /Not compared: base: the loop analysed in crcloop \(0x8, evidence\) does not have a decode loop's shape/,
        );
        // Pinned, the maintainer vouches for the loop's role: the diff is printed.
        const report = await analyzeLoop(
          { path: join(dir, 'crc.txt'), functionName: 'crcloop', cpu: 'apple-m1', loop: '+0x8' },
          m1,
        );
        assert.equal(report.loopChoice.how, 'pinned');
        assert.equal(report.analysis.exact, false);
        assert.deepEqual(report.analysis.unknownMnemonics, ['crc32cx']);
        const text = textReport(report);
        assert.match(
          text,
          /^critical path: ≥ 1 cycles\/iteration \(1 unknown instruction, each counted as 1 cycle: crc32cx\)$/m,
        );
        assert.match(text, /^predicted: ≥ 1 cycles\/iteration/m);
        const section = criticalPathDiff(report, report);
        assert.match(section, /\| critical path \(cycles\/iteration\) \| ≥ 1 \| ≥ 1 \| 0 \(not exact\) \|/);
        assert.match(
          section,
          /⚠️ head: \(1 unknown instruction, each counted as 1 cycle: crc32cx\); its cycle figures are lower bounds/,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('maximum cycle ratio (Karp on the carried-edge sources)', () => {
  // Reference: every simple cycle of a small graph, ratio = total latency / iterations spanned (the maximum is always
  // reached on a simple cycle).
  const bruteForce = (n: number, edges: Edge[]): number => {
    let best = 0;
    const walk = (start: number, at: number, latency: number, distance: number, seen: Set<number>) => {
      for (const edge of edges) {
        if (edge.from !== at) continue;
        if (edge.to === start && distance + edge.distance > 0)
          best = Math.max(best, (latency + edge.latencyCycles) / (distance + edge.distance));
        else if (edge.to > start && !seen.has(edge.to))
          walk(start, edge.to, latency + edge.latencyCycles, distance + edge.distance, new Set([...seen, edge.to]));
      }
    };
    for (let start = 0; start < n; start++) walk(start, start, 0, 0, new Set([start]));
    return best;
  };

  it('matches every simple cycle on 300 random iteration graphs (forward edges within, carried edges across)', () => {
    let rng = xoroshiro128plus(14);
    const next = (min: number, max: number) => {
      const [value, following] = uniformIntDistribution(min, max, rng);
      rng = following;
      return value;
    };
    for (let trial = 0; trial < 300; trial++) {
      const n = next(2, 7);
      const edges: Edge[] = [];
      for (let count = next(1, 12); count > 0; count--) {
        const from = next(0, n - 1);
        const to = next(0, n - 1);
        const carried = to <= from || next(0, 3) === 0;
        if (!carried && to <= from) continue;
        edges.push({ from, to, latencyCycles: next(0, 6), distance: carried ? 1 : 0, via: 'x0' });
      }
      const expected = bruteForce(n, edges);
      assert.ok(
        Math.abs(maximumCycleRatioValue(n, edges) - expected) < 1e-9,
        `trial ${trial}: ${JSON.stringify(edges)} → ${expected}`,
      );
    }
  });
});

describe('critical path on hand-checked loops (neoverse-n2)', () => {
  // Worked out by hand from the N2 model's sourced numbers (LLVM AArch64SchedNeoverseN2.td, from Arm's N2 guide):
  // ALU, flag ops and shifts by register 1 cycle on the 4 I pipes (S0/S1/M0/M1); BFXIL 2 on M0/M1; loads 4 (no faster
  // address path), register-offset loads 4; MOV eliminated; B.cond on B0/B1; no compare+branch fusion; 5-wide decode.
  let n2: CpuModel;
  before(async () => {
    n2 = await loadCpuModel('neoverse-n2');
  });

  it('refill_step: 8 cycles/iteration on the chain, 2.5 on the I pipes, 3.2 at the front end', () => {
    const analysis = analyse('refill_step', n2);
    // lsl 1 → orr 1 → and 1 → ldr w11 (register offset) 4 → sub x3 1 → the next lsl: 8 (M1 has the same 8).
    assert.equal(analysis.criticalPathCycles, 8);
    assert.deepEqual(
      analysis.criticalChain.map((link) => `${link.text} [${link.latencyCycles}]`),
      [
        'and x10, x2, #2047 [1]',
        'ldr w11, [x5, x10, lsl #2] [4]',
        'sub x3, x3, x11 [1]',
        'lsl x8, x8, x3 [1]',
        'orr x2, x2, x8 [1]',
      ],
    );
    // I pipes: lsl, orr, ubfx, sub, orr #0x38, and, lsr, sub, cmp (9) + bfxil on M0/M1 (a subset of I): 10 uops / 4.
    assert.equal(analysis.resourceBoundCycles, 10 / 4);
    assert.match(analysis.resourceBottleneck, /^10 uops on m0\/m1\/s0\/s1$/);
    // 16 instructions, cmp + b.lo not fused, 5 a cycle (M1: 15 slots / 8).
    assert.equal(analysis.frontEndBoundCycles, 16 / 5);
    assert.equal(analysis.predictedCycles, 8);
    assert.equal(analysis.bound, 'critical path');
    assert.equal(analysis.ilp, 16 / 8);
    assert.deepEqual(analysis.unknownMnemonics, []);
  });

  it("pointer_chase: 4 cycles (N2 gives no faster path into the next load's address; M1: 3)", () => {
    assert.equal(analyse('pointer_chase', n2).criticalPathCycles, 4);
    assert.equal(analyse('pointer_chase').criticalPathCycles, 3);
  });

  it('the other fixture loops: 4, 3, 3 and 6 cycles (ALU and flag ops 1, load 4)', () => {
    assert.equal(analyse('chain4', n2).criticalPathCycles, 4);
    assert.equal(analyse('two_chains', n2).criticalPathCycles, 3);
    assert.equal(analyse('flag_chain', n2).criticalPathCycles, 3);
    assert.equal(analyse('load_add_chain', n2).criticalPathCycles, 4 + 1 + 1);
  });

  it('prices shifted forms, bitfield inserts, multiply-adds and vector loads as the N2 tables give them', () => {
    const loopOf = (lines: string[]) => {
      const body = lines.map((line, i) => `      ${(i * 4).toString(16)}: \t${line}`);
      const [fn] = parseListing(
        ['0000000000000000 <l>:', ...body, `      ${(lines.length * 4).toString(16)}: \tb\t0x0 <l>`].join('\n'),
      );
      return analyzeFunction(fn!, n2).analysis.criticalPathCycles;
    };
    // Arithmetic with LSL <= 4: 1 cycle; LSL > 4 or LSR: 2 (M pipes); logical with any shift: 1.
    assert.equal(loopOf(['add\tx0, x1, x0, lsl #2']), 1);
    assert.equal(loopOf(['add\tx0, x1, x0, lsl #5']), 2);
    assert.equal(loopOf(['sub\tx0, x1, x0, lsr #1']), 2);
    assert.equal(loopOf(['eor\tx0, x1, x0, lsr #7']), 1);
    assert.equal(loopOf(['add\tx0, x1, w0, uxtw']), 2);
    // BFXIL 2 (M1: 1); a chain of MADDs through the addend 1 each (N2Rd_IMA reads it a cycle late), MUL 2.
    assert.equal(loopOf(['bfxil\tx0, x1, #0, #8']), 2);
    assert.equal(loopOf(['madd\tx0, x1, x2, x0']), 1);
    assert.equal(loopOf(['mul\tx0, x0, x2']), 2);
    // A vector load feeding its own address through umov: 6 (vector load) + 2 (ASIMD transfer).
    assert.equal(loopOf(['ldr\tq0, [x0]', 'umov\tx0, v0.d[0]']), 6 + 2);
  });

  it('V2 prices ALU ops on 6 I pipes and decodes 6 a cycle (sourced); V1 inherits everything, marked', async () => {
    const v2 = await loadCpuModel('neoverse-v2');
    assert.equal(v2.decodeWidth, 6);
    assert.equal(v2.classes.alu.units.length, 6);
    assert.equal(v2.classes.alu.inherited, undefined);
    assert.equal(v2.classes.simd.inherited, true, 'ASIMD is not sourced for V2');
    assert.equal(analyse('refill_step', v2).frontEndBoundCycles, 16 / 6);
    const v1 = await loadCpuModel('neoverse-v1');
    assert.equal(v1.inheritedFrom, 'neoverse-n2');
    assert.ok(Object.values(v1.classes).every((timing) => timing.inherited));
    assert.match(v1.notes.join(' '), /NOT sourced for V1/);
  });
});
