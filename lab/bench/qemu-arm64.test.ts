/**
 * The Linux ARM64 path end to end on this x86 machine, under qemu-user: what an ubuntu-24.04-arm runner builds
 * (the harness, libdeflate 1.23 with GCC, the miniz_oxide decoder with Debian's rustc and its aarch64 std), cross-built
 * through the target seam (lab/build/target.ts), then `perf-lab bench` with the harness and CLI decoders run through
 * qemu-aarch64, failures isolated as on x86, and `perf-lab analyze` on the very libdeflate build the bench ran, priced
 * on the Neoverse N2 model. Timings under emulation mean nothing: nothing here asserts a speed.
 *
 * Nothing is skipped on Linux x86_64: a missing cross tool fails the suite with the package that installs it
 * (scripts/setup.sh installs them all).
 */
import assert from 'node:assert/strict';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { runHarness, type HarnessContender } from './harness.js';
import { buildLibdeflate, type LibdeflateBuild } from '../build/libdeflate.js';
import { materializeMinizOxideShim } from '../build/shim.js';
import { buildTarget } from '../build/target.js';
import { projectRoot } from '../core/paths.js';
import { readResults, type BenchResults } from '../results/index.js';
import { readJsonAs } from '../testing/json.js';
import type { LoopReport } from '../uarch/index.js';
import { runPerfLab } from '../testing/cli.js';

/** The seam, as the CLI processes get it and as this process uses it for its own builds and harness runs. */
const TARGET_ENV = { PERF_LAB_TARGET: 'aarch64-linux-gnu', PERF_LAB_EXEC_WRAPPER: 'qemu-aarch64' };
const SUPPORTED = process.platform === 'linux' && process.arch === 'x64';
const reference = { kind: 'debian', suite: 'trixie', version: '1.23' } as const;
/** Few, short batches: under emulation a 16 MiB decode takes about a second. */
const quickBench = { rounds: 3, warmupRounds: 1, timeoutSeconds: 60, minBatches: 2, maxBatches: 2, budgetSeconds: 120 };
const AARCH64_ELF_MACHINE = 183;

let work: string;
let datasets: string;
let shimPath: string;
let libdeflate: LibdeflateBuild;
const badLibraries: Record<string, string> = {};
const BAD = { crash: 1, hang: 2, silent: 3, short: 5 } as const;

const perfLab = async (...args: string[]) => {
  const result = await runPerfLab(args, { env: TARGET_ENV, timeout: 600_000 });
  return { code: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
};

async function bench(
  name: string,
  decoder: Record<string, unknown>,
): Promise<{ code?: number; stdout: string; stderr: string; results: BenchResults }> {
  const config = join(work, `${name}.json`);
  await writeFile(
    config,
    JSON.stringify({ schemaVersion: 1, libdeflate: { source: reference }, decoder, bench: quickBench }),
  );
  const json = join(work, `${name}-results.json`);
  const run = await perfLab('bench', '--config', config, '--datasets-dir', datasets, '--only', 'logs', '--json', json);
  return { ...run, results: await readResults(json) };
}

/** e_machine of an ELF file (183: AArch64). */
async function elfMachine(path: string): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const header = Buffer.alloc(20);
    await handle.read(header, 0, 20, 0);
    assert.equal(header.subarray(0, 4).toString('latin1'), '\x7fELF', `${path} is not an ELF file`);
    return header.readUInt16LE(18);
  } finally {
    await handle.close();
  }
}

describe('the Linux ARM64 path under qemu-user', { skip: SUPPORTED ? false : 'needs Linux x86_64 (qemu-user)' }, () => {
  before(async () => {
    Object.assign(process.env, TARGET_ENV);
    // Refuses with the Debian package to install when a cross tool or qemu-aarch64 is missing.
    const target = buildTarget();
    work = await mkdtemp(join(tmpdir(), 'perf-lab-qemu-'));
    datasets = join(work, 'datasets');
    const prepared = await perfLab('datasets', 'prepare', '--offline', '--dir', datasets, '--only', 'logs');
    assert.equal(prepared.code, 0, prepared.stderr);
    shimPath = ((await materializeMinizOxideShim()).cargo as { path: string }).path;
    libdeflate = await buildLibdeflate(reference);
    const source = join(projectRoot(), 'lab', 'bench', 'fixtures', 'bad-decoders.c');
    for (const [name, mode] of Object.entries(BAD)) {
      badLibraries[name] = join(work, `bad-${name}.so`);
      await execa(target.cc!, ['-O1', '-shared', '-fPIC', `-DBAD_MODE=${mode}`, '-o', badLibraries[name], source]);
    }
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('builds libdeflate 1.23 for aarch64 with GCC', async () => {
    assert.equal(libdeflate.version, '1.23');
    assert.match(libdeflate.compiler, /^aarch64-linux-gnu-gcc /);
    assert.equal(await elfMachine(libdeflate.sharedLibraryPath), AARCH64_ELF_MACHINE);
    assert.match(shimPath, /miniz-oxide-aarch64-linux-gnu$/, "the cross build's own shim folder and lock file");
  });

  it('benches the cross-built Rust decoder against libdeflate under qemu, every output verified', async () => {
    const run = await bench('cabi', { name: 'miniz_oxide', cargo: { path: shimPath }, adapter: { kind: 'cabi' } });
    assert.equal(run.code, 0, run.stderr);
    const { results } = run;
    assert.equal(results.ok, true);
    assert.equal(results.libdeflate.compiler, libdeflate.compiler, 'the bench ran the aarch64 GCC build');
    assert.match(results.head.rustc ?? '', /^rustc 1\.63/, "Debian's rustc, whose libstd-rust-dev:arm64 is the std");
    const logs = results.datasets[0]!;
    assert.equal(logs.verified, true);
    for (const contender of logs.contenders) {
      assert.equal(contender.failure, null, contender.name);
      assert.equal(contender.samplesNs.flat().length, quickBench.rounds * quickBench.minBatches, contender.name);
    }
    for (const contender of results.integrity!.contenders)
      assert.ok(
        contender.cases.every((entry) => entry.outcome === 'rejected'),
        `${contender.name}: ${JSON.stringify(contender.cases)}`,
      );
    assert.match(run.stdout, /every output verified byte for byte/);
    assert.equal(
      results.counts?.unavailable,
      'not counted for the cross target aarch64-linux-gnu (valgrind runs host code only)',
    );
  });

  it("benches the decoder as a CLI program against libdeflate's gzip program, both through qemu", async () => {
    const run = await bench('cli', {
      name: 'miniz_oxide',
      cargo: { path: shimPath },
      adapter: { kind: 'cli', binary: 'perf-lab-gunzip', command: ['{bin}', '{input}'] },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.results.regime, 'process');
    assert.equal(run.results.datasets[0]!.verified, true);
    assert.match(run.stdout, /whole process \(CLI\)/);
  });

  it('isolates a crashing, a hanging and two wrong decoders under qemu, as on x86 (lab/faults)', async () => {
    const outcome = await runHarness({
      compressedPath: join(datasets, 'logs.raw.gz'),
      expectedPath: join(datasets, 'logs.raw'),
      contenders: [
        ...Object.keys(BAD).map((name): HarnessContender => ({ name, kind: 'cabi', library: badLibraries[name]! })),
        { name: 'libdeflate', kind: 'libdeflate', library: libdeflate.sharedLibraryPath },
      ],
      rounds: 2,
      warmupRounds: 0,
      timeoutMs: 5000,
      maxSeconds: 0,
    });
    assert.match(outcome.failures.get('crash') ?? '', /^crashed: killed by signal \d+ \(Segmentation fault\)$/);
    assert.match(outcome.failures.get('hang') ?? '', /^timeout: no result within 5000 ms/);
    assert.match(outcome.failures.get('silent') ?? '', /^wrong bytes: first difference at offset \d+/);
    assert.match(outcome.failures.get('short') ?? '', /^wrong length: produced \d+ bytes, expected \d+$/);
    for (const name of Object.keys(BAD)) assert.equal(outcome.samplesNs.get(name)!.size, 0, `no speed for ${name}`);
    assert.equal(outcome.failures.has('libdeflate'), false);
    assert.equal(outcome.samplesNs.get('libdeflate')!.size, 2, 'libdeflate is still measured');
  });

  it("analyzes the bench's libdeflate build on Neoverse N2: its fastloop, the figures and their sources", async () => {
    // The bench's build, from the cache by its content key: the same library the harness loaded.
    const built = await buildLibdeflate(reference);
    assert.equal(built.sharedLibraryPath, libdeflate.sharedLibraryPath);
    const json = join(work, 'analysis.json');
    const run = await perfLab(
      'analyze',
      '--binary',
      built.sharedLibraryPath,
      '--function',
      'libdeflate_deflate_decompress_ex',
      '--json',
      json,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      new RegExp(
        String.raw`^model: neoverse-n2 \(Arm Neoverse N2.*\) — chosen for the build target aarch64-` +
          String.raw`linux-gnu: the ubuntu-24\.04-arm runner class`,
        'm',
      ),
    );
    const report = await readJsonAs<LoopReport>(json);
    assert.equal(report.model.name, 'neoverse-n2');
    // The fastloop: the decode loop (bit-buffer shift into masked table loads) inside the per-block loop, its
    // `in_next < in_fastloop_end && out_next < out_fastloop_end` test a compare + CCMP chain.
    assert.equal(report.loopChoice.decodeLoop, true, report.loopChoice.reason);
    assert.equal(report.hotLoop.depth, 2, 'inside the per-block loop');
    assert.ok(report.hotLoop.ownInstructions >= 150, `own body ${report.hotLoop.ownInstructions}`);
    assert.ok(report.idioms.find((idiom) => idiom.idiom === 'CCMP chain')?.found, 'the fastloop bounds test');
    const a = report.analysis;
    assert.ok(
      a.criticalChain.some((link) => link.text.startsWith('ldr w')),
      'the chain runs through a table load',
    );
    assert.equal(a.unknownMnemonics.length, 0, a.unknownMnemonics.join(', '));
    assert.ok(a.criticalPathCycles >= 8 && a.criticalPathCycles <= 30, `critical path ${a.criticalPathCycles}`);
    // Every figure the chain is priced with, with its source (lab/uarch/models/neoverse-n2.json).
    assert.ok(report.figures.some((figure) => figure.class === 'load'));
    for (const figure of report.figures) assert.ok(figure.source.length > 20, `${figure.class}: ${figure.source}`);
    assert.match(run.stdout, /^ {2}neoverse-n2 figures on the chain/m);
    assert.match(run.stdout, /^ {4}load \(ldr\): latency 4 — source: LLVM AArch64SchedNeoverseN2\.td/m);
    assert.match(run.stdout, /^critical path: \d+(\.\d+)? cycles\/iteration$/m);
  });
});
