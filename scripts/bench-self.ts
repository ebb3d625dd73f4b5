/**
 * The lab's own speed (a benchmark, not a test): its JavaScript hot paths timed with tinybench, each against a
 * budget written here. Prints median (p50) and p99 per task and whether the median is within budget; exits 0 either
 * way (timing on a shared machine is not a verdict).
 *
 *   npm run bench:self -- [--time MS]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { Bench } from 'tinybench';
import { selectFunction } from '../lab/asm/index.js';
import { parseListing } from '../lab/asm/parse.js';
import { sampleResults } from '../lab/testing/sample-results.js';
import { obtainLibdeflateSource } from '../lab/build/libdeflate-source.js';
import { historyEvents } from '../lab/history/changes.js';
import type { HistoryRecord } from '../lab/history/store.js';
import { markdownReport } from '../lab/report/index.js';
import { clusteredMedianInterval } from '../lab/stats/index.js';
import { findIdioms } from '../lab/uarch/idioms.js';
import { analyzeHotLoop, loadCpuModel } from '../lab/uarch/index.js';

const { values } = parseArgs({ options: { time: { type: 'string', default: '2000' } } });

/** Budgets for the median, in ms: what each path may cost where it runs (a PR job, a report, a nightly). */
const BUDGET_MS: Record<string, number> = {
  'ARM64 analysis of libdeflate_deflate_decompress_ex (whole function)': 50,
  'two-level bootstrap of a 20-batch result (2,000 resamples)': 200,
  'markdown report of a three-way result': 5,
  'change points and events over 1,000 nights': 100,
};

// Real ARM64 code: libdeflate 1.23 compiled here for aarch64 (as the analyzer's tests do).
const work = await mkdtemp(join(tmpdir(), 'perf-lab-bench-self-'));
let listing: string;
try {
  const source = (await obtainLibdeflateSource({ kind: 'debian', suite: 'trixie' }))!.dir;
  const object = join(work, 'd.o');
  await execa('clang', [
    '--target=aarch64-linux-gnu',
    '-O2',
    '-c',
    '-DFREESTANDING',
    '-ffreestanding',
    `-I${source}`,
    join(source, 'lib', 'deflate_decompress.c'),
    '-o',
    object,
  ]);
  listing = String((await execa('llvm-objdump', ['-d', '--no-show-raw-insn', object])).stdout);
} finally {
  await rm(work, { recursive: true, force: true });
}
const model = await loadCpuModel('apple-m1');

// A deterministic 20-batch result: 20 batches of 8 cycle ratios around 0.97.
const batches = Array.from({ length: 20 }, (_, b) =>
  Array.from({ length: 8 }, (_, i) => 0.97 * (1 + 0.01 * Math.sin(b * 3.1 + i * 1.7))),
);
const results = sampleResults();

// 1,000 nights of one toolchain on one dataset, with a step down at night 600.
const nights: HistoryRecord[] = Array.from({ length: 1000 }, (_, n) => {
  const date = new Date(Date.UTC(2024, 0, 1) + n * 86_400_000).toISOString().slice(0, 10);
  const estimate = (n < 600 ? 0.95 : 0.9) * (1 + 0.004 * Math.sin(n * 2.3));
  return {
    v: 1,
    date,
    recordedAt: `${date}T03:00:00.000Z`,
    cpuModel: 'Apple M1 (Virtual)',
    toolchain: 'nightly',
    rustc: `rustc 1.${80 + Math.floor(n / 42)}.0-nightly`,
    llvm: n < 600 ? '19.1.0' : '20.1.0',
    libdeflate: '1.24',
    cc: 'Apple clang 15',
    dataset: 'LOGS',
    datasetSha256: 'a'.repeat(64),
    ratio: { estimate, low: estimate * 0.99, high: estimate * 1.01 },
    criticalPathCycles: null,
  };
});

const bench = new Bench({ time: Number(values.time), warmupTime: 200 });
bench
  .add('ARM64 analysis of libdeflate_deflate_decompress_ex (whole function)', async () => {
    const fn = await selectFunction(parseListing(listing), 'libdeflate_deflate_decompress_ex', 'bench:self');
    const { paths, flow } = analyzeHotLoop(fn, model);
    for (const group of paths.groups) findIdioms(group.analysis, flow);
  })
  .add('two-level bootstrap of a 20-batch result (2,000 resamples)', () => {
    clusteredMedianInterval(batches, { resamples: 2000, seed: 1 });
  })
  .add('markdown report of a three-way result', () => {
    markdownReport(results);
  })
  .add('change points and events over 1,000 nights', () => {
    historyEvents(nights);
  });
await bench.run();

const rows = bench.tasks.map((task) => {
  const latency = task.result?.latency;
  const budget = BUDGET_MS[task.name]!;
  if (!latency || latency.p50 === undefined || latency.p99 === undefined)
    return `  ${task.name}: no result (${task.result?.error?.message ?? 'not run'})`;
  const within = latency.p50 <= budget;
  return `  ${within ? '✓' : '✗'} ${task.name}: median ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(2)} ms over ${latency.samples.length} runs (budget ${budget} ms)`;
});
process.stdout.write(
  `perf-lab's own hot paths (tinybench, ${values.time} ms a task; medians against budgets):\n${rows.join('\n')}\n`,
);
