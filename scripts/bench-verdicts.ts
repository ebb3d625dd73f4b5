/**
 * End-to-end proof of the head-vs-base verdicts (a benchmark, not a test: it
 * takes minutes). Builds a C-ABI decoder that wraps the system libdeflate and,
 * after each decode, spins until the call took exactly (1 + s) × its decode
 * time: an exact slowdown whatever the machine's noise. Runs `perf-lab bench`
 * through the CLI with base = the wrapper at s = 0 and head = the wrapper at s,
 * for s = 0, 1, 2 and 5% at the default tolerance, and 1% at a 1% tolerance ("1@1": slowdown @ tolerance, in %),
 * and prints verdict counts, coverage of the true ratio by the verdict's interval, bias, the power each run
 * reported, batches and wall time.
 *
 *   npm run bench:verdicts -- [--runs N] [--cases 0,1,2,5,1@1] [--only logs,software] [--budget SECONDS]
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { readResults } from '../lab/results/index.js';
import { cacheRoot, projectRoot } from '../lab/core/paths.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '6' },
    cases: { type: 'string', default: '0,1,2,5,1@1' },
    only: { type: 'string', default: 'logs,software' },
    budget: { type: 'string', default: '120' },
  },
});
const runs = Number(values.runs);
/** A case: a slowdown of `percent`, judged at `tolerancePercent` (undefined: the config default). */
const cases = values.cases.split(',').map((text) => {
  const [percent, tolerancePercent] = text.split('@').map(Number);
  if (!Number.isFinite(percent) || (tolerancePercent !== undefined && !(tolerancePercent > 0)))
    throw new Error(`--cases: "${text}" is not a slowdown percent, optionally @ a tolerance percent`);
  return {
    percent: percent!,
    tolerancePercent,
    key: text.includes('@') ? `${percent}% @ ±${tolerancePercent}%` : `${percent}%`,
  };
});

const CARGO_TOML = `[package]
name = "perf-lab-spin-libdeflate"
version = "0.1.0"
edition = "2021"
publish = false

[lib]
crate-type = ["cdylib"]
path = "lib.rs"

[profile.release]
opt-level = 3
panic = "abort"
`;

// The slowdown is compiled in (PERF_LAB_SPIN_PER_MILLE), so base and head are two distinct builds.
const LIB_RS =
  `use std::os::raw::{c_int, c_void};
use std::time::Instant;

#[link(name = "deflate")]
extern "C" {
    fn libdeflate_alloc_decompressor() -> *mut c_void;
    fn libdeflate_gzip_decompress(d: *mut c_void, input: *const u8, in_len: usize, ` +
  `out: *mut u8, out_cap: usize, out_len: *mut usize) -> c_int;
}

const SPIN_PER_MILLE: &str = match option_env!("PERF_LAB_SPIN_PER_MILLE") { Some(value) => value, None => "0" };
static mut DECOMPRESSOR: *mut c_void = std::ptr::null_mut();

#[no_mangle]
pub unsafe extern "C" fn perf_lab_gzip_decompress(input: *const u8, in_len: usize, ` +
  `out: *mut u8, out_cap: usize, out_len: *mut usize) -> c_int {
    if DECOMPRESSOR.is_null() {
        DECOMPRESSOR = libdeflate_alloc_decompressor();
    }
    let started = Instant::now();
    let result = libdeflate_gzip_decompress(DECOMPRESSOR, input, in_len, out, out_cap, out_len);
    let per_mille: u32 = SPIN_PER_MILLE.parse().unwrap_or(0);
    if per_mille > 0 {
        let target = started.elapsed().mul_f64(1.0 + per_mille as f64 / 1000.0);
        while started.elapsed() < target {
            std::hint::spin_loop();
        }
    }
    result
}
`;

interface Tally {
  verdicts: Record<string, number>;
  covered: number;
  logErrors: number[];
  /** The power each verdict reported: the slowdown it would have caught 95% of the time. */
  detectable: number[];
  batches: number[];
  wallSeconds: number[];
  estimates: number;
}

async function main(): Promise<void> {
  const work = join(cacheRoot(), 'bench-verdicts');
  await rm(work, { recursive: true, force: true });
  const crate = join(work, 'spin-libdeflate');
  await mkdir(crate, { recursive: true });
  await writeFile(join(crate, 'Cargo.toml'), CARGO_TOML);
  await writeFile(join(crate, 'lib.rs'), LIB_RS);
  const decoder = (name: string, perMille: number) => ({
    name,
    cargo: { path: crate },
    env: { PERF_LAB_SPIN_PER_MILLE: String(perMille) },
    adapter: { kind: 'cabi' },
  });
  const tallies = new Map<string, Tally>();
  const wallSeconds: number[] = [];
  for (let run = 0; run < runs; run++) {
    // Interleave the cases run by run, so a slow hour of the machine hits all of them.
    for (const [caseIndex, { percent, tolerancePercent, key }] of cases.entries()) {
      const config = {
        schemaVersion: 1,
        libdeflate: { source: { kind: 'system' } },
        base: decoder('base', 0),
        decoder: decoder(`head-${percent}pct`, percent * 10),
        bench: {
          budgetSeconds: Number(values.budget),
          ...(tolerancePercent === undefined ? {} : { tolerance: tolerancePercent / 100 }),
        },
      };
      const configPath = join(work, `config-${caseIndex}.json`);
      const resultsPath = join(work, `results-${caseIndex}-${run}.json`);
      await writeFile(configPath, JSON.stringify(config, null, 2));
      const started = performance.now();
      // The CLI from source, so the numbers are this checkout's even before `npm run build`.
      const cli = ['--import', 'tsx', join(projectRoot(), 'lab', 'cli', 'run.ts')];
      const bench = await execa(
        'node',
        [...cli, 'bench', '--config', configPath, '--only', values.only, '--json', resultsPath],
        {
          reject: false,
          stdin: 'ignore',
          env: { CI: 'true' },
        },
      );
      const seconds = (performance.now() - started) / 1000;
      wallSeconds.push(seconds);
      if (bench.exitCode !== 0)
        throw new Error(`bench exited ${bench.exitCode}:\n${String(bench.stderr).slice(-3000)}`);
      const results = await readResults(resultsPath);
      const truth = 1 / (1 + percent / 100);
      for (const dataset of results.datasets) {
        const verdict = dataset.headVsBase?.verdict;
        if (!verdict) throw new Error(`${resultsPath}: ${dataset.label} has no head-vs-base verdict`);
        const tally = tallies.get(key) ?? {
          verdicts: {},
          covered: 0,
          logErrors: [],
          detectable: [],
          batches: [],
          wallSeconds: [],
          estimates: 0,
        };
        tally.verdicts[verdict.kind] = (tally.verdicts[verdict.kind] ?? 0) + 1;
        if (verdict.interval.low <= truth && truth <= verdict.interval.high) tally.covered++;
        tally.logErrors.push(Math.log1p(verdict.effect) - Math.log(truth));
        if (typeof verdict.detectableEffect === 'number') tally.detectable.push(verdict.detectableEffect);
        tally.batches.push(dataset.batches);
        tally.estimates++;
        tallies.set(key, tally);
        process.stderr.write(
          `run ${run + 1}/${runs} ${key} ${dataset.label}: ${verdict.kind} ${(verdict.effect * 100).toFixed(2)}% ` +
            `(${((verdict.interval.low - 1) * 100).toFixed(2)} … ` +
            `${((verdict.interval.high - 1) * 100).toFixed(2)}), ` +
            `${dataset.batches} batches, ${dataset.stoppedBecause}, ${seconds.toFixed(0)} s\n`,
        );
      }
      tallies.get(key)?.wallSeconds.push(seconds);
    }
  }
  const pct = (value: number, digits = 1) => `${(value * 100).toFixed(digits)}%`;
  const lines = [
    '| true slowdown @ tolerance | dataset verdicts | regression | no change | inconclusive | improvement | ' +
      '99% interval covers truth | mean bias | mean power (caught ≥) | mean batches | median wall s/run |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const meanOf = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
  const medianOf = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  for (const [key, tally] of tallies) {
    const count = (kind: string) => tally.verdicts[kind] ?? 0;
    lines.push(
      `| ${key} | ${tally.estimates} | ${count('regression')} | ${count('no change')} | ${count('inconclusive')} | ` +
        `${count('improvement')} | ${tally.covered}/${tally.estimates} | ${pct(meanOf(tally.logErrors), 2)} | ` +
        `${pct(meanOf(tally.detectable), 2)} | ${meanOf(tally.batches).toFixed(1)} | ` +
        `${medianOf(tally.wallSeconds).toFixed(0)} |`,
    );
  }
  const sorted = [...wallSeconds].sort((a, b) => a - b);
  lines.push(
    '',
    `wall time per bench run (${values.only}): median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} s, ` +
      `max ${sorted.at(-1)!.toFixed(0)} s`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
