import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { parseListing } from '../asm/parse.js';
import { dependencyGraph } from './analyze.js';
import { analyzeHotLoop as analyzeFunction } from './index.js';
import { loadCpuModel, type CpuModel } from './model.js';

/**
 * Cross-check with llvm-mca: llvm-mca -mcpu=apple-m1 simulates LLVM's Cyclone
 * model; the analyzer runs on llvm-mca-apple-m1.json, which holds the same
 * latencies (read from llvm-mca's own -instruction-info). On loops bound by a
 * dependency chain both must give the same cycles per iteration.
 */
const mcaAvailable = (await execa('llvm-mca', ['--version'], { reject: false })).exitCode === 0;
const fixtures = join(import.meta.dirname, '..', 'asm', 'fixtures');
const functions = parseListing(await readFile(join(fixtures, 'llvm-objdump-loops.txt'), 'utf8'));
let work: string;
let cyclone: CpuModel;
let firestorm: CpuModel;

/** The body of one function of loops.s, as llvm-mca input (the back branch aimed at the start). */
async function loopSource(name: string): Promise<string> {
  const source = await readFile(join(fixtures, 'loops.s'), 'utf8');
  const lines = source.split('\n');
  const start = lines.findIndex((line) => line.trim() === `${name}:`);
  const body: string[] = [];
  for (const line of lines.slice(start + 1)) {
    const text = line.replace(/^1:/, '').trim();
    if (text === 'ret') break;
    if (text) body.push(text.replace(/1b$/, '0'));
  }
  return `${body.join('\n')}\n`;
}

async function mcaCyclesPerIteration(name: string): Promise<number> {
  const file = join(work, `${name}.s`);
  await writeFile(file, await loopSource(name));
  const iterations = 500;
  const result = await execa('llvm-mca', ['-mtriple=aarch64', '-mcpu=apple-m1', `-iterations=${iterations}`, file]);
  const total = Number(/Total Cycles:\s+(\d+)/.exec(String(result.stdout))?.[1]);
  return total / iterations;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'perf-lab-mca-'));
  cyclone = await loadCpuModel('llvm-mca-apple-m1');
  firestorm = await loadCpuModel('apple-m1');
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe(
  'agreement with llvm-mca on the same latencies',
  { skip: mcaAvailable ? false : 'llvm-mca is not installed (Debian: apt-get install llvm)' },
  () => {
    for (const [name, cycles] of [
      ['chain4', 6],
      ['two_chains', 4],
      ['flag_chain', 4],
      ['pointer_chase', 4],
      ['load_add_chain', 7],
    ] as const) {
      it(`${name}: both give ${cycles} cycles/iteration`, async () => {
        const mca = await mcaCyclesPerIteration(name);
        const ours = analyzeFunction(
          functions.find((fn) => fn.name === name)!,
          cyclone,
        ).analysis.predictedCycles;
        assert.equal(ours, cycles);
        assert.ok(Math.abs(mca - ours) / ours < 0.01, `llvm-mca ${mca} vs analyzer ${ours}`);
      });
    }

    it(
      'refill_step: the analyzer gives the dependency bound (11), llvm-mca one cycle more from simulated ' +
        'issue contention',
      async () => {
        const mca = await mcaCyclesPerIteration('refill_step');
        const ours = analyzeFunction(
          functions.find((fn) => fn.name === 'refill_step')!,
          cyclone,
        ).analysis.predictedCycles;
        assert.equal(ours, 11);
        assert.ok(mca >= ours && mca <= ours + 1.05, `llvm-mca ${mca}`);
      },
    );

    it("the Firestorm model predicts every loop at most as slow as llvm-mca's apple-m1 (Cyclone) model", async () => {
      for (const fn of functions) {
        const mca = await mcaCyclesPerIteration(fn.name);
        const m1 = analyzeFunction(fn, firestorm).analysis.predictedCycles;
        assert.ok(m1 < mca, `${fn.name}: Firestorm ${m1}, llvm-mca ${mca}`);
      }
    });

    it(
      "every latency and reciprocal throughput of the model is llvm-mca's own (-instruction-info), form by " + 'form',
      async () => {
        const instructions = [
          'mul x0, x1, x2',
          'madd x3, x1, x2, x3',
          'udiv x6, x7, x8',
          'bfxil x4, x5, #0, #8',
          'lsl x6, x6, x7',
          'lsr x8, x8, x9',
          'lsl x10, x11, #3',
          'ubfx x12, x13, #4, #8',
          'add x14, x15, x16',
          'orr x14, x15, x16',
          'add x17, x18, #1',
          'and x14, x14, #255',
          'sub x19, x20, x21, lsl #2',
          'csel x11, x12, x13, eq',
          'mov x9, x10',
          'ldr x4, [x5]',
          'ldr w1, [x2, x3, lsl #2]',
        ];
        const file = join(work, 'info.s');
        await writeFile(file, `${instructions.join('\n')}\n`);
        const result = await execa('llvm-mca', [
          '-mtriple=aarch64',
          '-mcpu=apple-m1',
          '-iterations=1',
          '-instruction-info',
          file,
        ]);
        const rows = String(result.stdout)
          .split('\n')
          .filter((line) => /^\s*\d+\s+\d+\s+\d+\.\d+/.test(line));
        assert.equal(rows.length, instructions.length, 'one -instruction-info row per instruction');
        const listing = [
          '0000000000000000 <one>:',
          ...instructions.map((text, i) => `${(i * 4).toString(16).padStart(8)}:      \t${text.replace(' ', '\t')}`),
        ].join('\n');
        const { nodes } = dependencyGraph(parseListing(listing)[0]!.instructions, cyclone);
        const mismatches: string[] = [];
        nodes.forEach((node, i) => {
          const [, , latency, reciprocal] = /^\s*(\d+)\s+(\d+)\s+(\d+\.\d+)/.exec(rows[i]!)!;
          const timing = node.timing;
          const ourLatency =
            node.semantics.indexedAddress && timing.indexedLatency !== undefined
              ? timing.indexedLatency
              : node.semantics.registerForm && timing.registerLatency !== undefined
                ? timing.registerLatency
                : timing.latency;
          const ourReciprocal = timing.uops / timing.units.length;
          if (ourLatency !== Number(latency) || Math.abs(ourReciprocal - Number(reciprocal)) > 1e-9)
            mismatches.push(
              `${instructions[i]}: llvm-mca ${latency}/${reciprocal}, model ${ourLatency}/${ourReciprocal}`,
            );
        });
        assert.deepEqual(mismatches, []);
      },
    );
  },
);
