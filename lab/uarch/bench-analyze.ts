/**
 * Opt-in speed check (not a test): whole-function analysis of libdeflate's
 * decompressor, compiled here for aarch64, parsed, loops found and the hot loop
 * analysed, timed over several runs. Run: npm run bench:analyze
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { selectFunction } from '../asm/index.js';
import { parseListing } from '../asm/parse.js';
import { obtainLibdeflateSource } from '../build/libdeflate-source.js';
import { analyzeHotLoop, loadCpuModel } from './index.js';
import { findIdioms } from './idioms.js';

const work = await mkdtemp(join(tmpdir(), 'perf-lab-bench-analyze-'));
try {
  const source = (await obtainLibdeflateSource({ kind: 'debian', suite: 'trixie' }))!.dir;
  await execa('clang', ['--target=aarch64-linux-gnu', '-O2', '-c', '-DFREESTANDING', '-ffreestanding', `-I${source}`, join(source, 'lib', 'deflate_decompress.c'), '-o', join(work, 'd.o')]);
  const listing = String((await execa('llvm-objdump', ['-d', '--no-show-raw-insn', join(work, 'd.o')])).stdout);
  const model = await loadCpuModel('apple-m1');
  const times: number[] = [];
  for (let run = 0; run < 30; run++) {
    const started = performance.now();
    const fn = await selectFunction(parseListing(listing), 'libdeflate_deflate_decompress_ex', 'benchmark');
    const { paths, flow } = analyzeHotLoop(fn, model);
    for (const group of paths.groups) findIdioms(group.analysis, flow);
    times.push(performance.now() - started);
  }
  // The first run pays for compiling the analyzer (what a one-shot CLI call sees); later runs are the analysis itself.
  const warm = times.slice(10).sort((a, b) => a - b);
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  process.stdout.write(
    'whole-function analysis of libdeflate_deflate_decompress_ex (parse + CFG + loops + loop choice by evidence + ' +
      "every path's bounds + each role's critical path and idioms + the headline's slack):\n" +
      `  warm (runs 11-30): median ${ms(warm[10]!)}, min ${ms(warm[0]!)}, max ${ms(warm.at(-1)!)}; first run ${ms(times[0]!)}\n`,
  );
} finally {
  await rm(work, { recursive: true, force: true });
}
