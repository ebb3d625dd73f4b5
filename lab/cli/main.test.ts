import assert from 'node:assert/strict';
import { cp, mkdtemp, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { contenderOrder } from '../bench/sampling.js';
import { readNoiseTraces } from '../bench/traces.js';
import { readResults } from '../results/index.js';
import { methodDetails } from '../report/index.js';
import { decideHeadVsBase } from '../stats/index.js';
import { materializeGzippyShape, materializeMinizOxideShim } from '../build/shim.js';
import { projectRoot } from '../core/paths.js';
import { runPerfLab } from '../testing/cli.js';
import { readJsonAs } from '../testing/json.js';

/** The CLI as a user runs it: a separate process, its stdout, stderr and exit code. */
async function perfLab(...args: string[]) {
  const result = await runPerfLab(args);
  return { code: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

let work: string;
let datasets: string;
let shimPath: string;
const reference = { source: { kind: 'debian', suite: 'trixie' } };
// The quick shape with the default instruction counting (callgrind, a few seconds a contender); the other tests,
// which do not check counts, turn it off.
const quickBenchCounted = {
  rounds: 4,
  warmupRounds: 1,
  timeoutSeconds: 60,
  minBatches: 2,
  maxBatches: 2,
  budgetSeconds: 60,
};
const quickBench = { ...quickBenchCounted, instructionCounts: false };

/** `perf-lab bench` of a config on the prepared datasets (one of them, or all), the results JSON where asked. */
async function benchOnDatasets(config: string, only: string | null, json: string, ...more: string[]) {
  return perfLab(
    'bench',
    '--config',
    config,
    '--datasets-dir',
    datasets,
    ...(only ? ['--only', only] : []),
    '--json',
    json,
    ...more,
  );
}

async function writeConfig(name: string, config: unknown): Promise<string> {
  const path = join(work, `${name}.json`);
  await writeFile(path, JSON.stringify(config, null, 2));
  return path;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'perf-lab-cli-'));
  datasets = join(work, 'datasets');
  shimPath = ((await materializeMinizOxideShim()).cargo as { path: string }).path;
  const prepared = await perfLab('datasets', 'prepare', '--offline', '--dir', datasets);
  assert.equal(prepared.code, 0, prepared.stderr);
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('perf-lab bench, end to end with real builds', () => {
  it('benchmarks the real Rust decoder against a libdeflate built from source, verified, with ratio CIs', async () => {
    const config = await writeConfig('shim', {
      schemaVersion: 1,
      libdeflate: reference,
      decoder: { name: 'miniz_oxide', cargo: { path: shimPath }, adapter: { kind: 'cabi' } },
      bench: quickBenchCounted,
    });
    const json = join(work, 'shim-results.json');
    const markdown = join(work, 'shim-results.md');
    const run = await benchOnDatasets(config, null, json, '--markdown', markdown);
    assert.equal(run.code, 0, run.stderr);
    const results = await readResults(json);
    assert.equal(results.ok, true);
    assert.equal(results.regime, 'in-process');
    assert.equal(results.libdeflate.version, '1.23');
    assert.match(results.head.rustc ?? '', /^rustc \d+\.\d+/);
    assert.match(results.head.llvm ?? '', /^\d+\.\d+/);
    assert.equal(results.base, null);
    // Counting is on by default: every contender of every dataset counted where valgrind runs (else why not).
    const counts = results.counts!;
    if (counts.tool)
      for (const dataset of counts.datasets)
        for (const contender of dataset.contenders) assert.ok(contender.instructions! > 0, contender.name);
    else assert.match(counts.unavailable!, /valgrind not installed|not available on/);
    assert.deepEqual(
      results.datasets.map((dataset) => dataset.label),
      ['SILESIA (stand-in)', 'SOFTWARE', 'LOGS'],
    );
    for (const dataset of results.datasets) {
      assert.equal(dataset.verified, true);
      assert.equal(dataset.batches, 2);
      assert.equal(dataset.rounds, 8);
      for (const contender of dataset.contenders)
        assert.deepEqual(
          contender.samplesNs.map((batch) => batch.length),
          [4, 4],
        );
      const ratio = dataset.headVsLibdeflate!.interval;
      assert.ok(ratio.low <= ratio.estimate && ratio.estimate <= ratio.high, JSON.stringify(ratio));
      // miniz_oxide is a portable decoder: it is slower than libdeflate, but not by 100x.
      assert.ok(ratio.estimate > 0.05 && ratio.estimate < 2, `ratio ${ratio.estimate}`);
    }
    const report = await readFile(markdown, 'utf8');
    assert.match(
      report,
      /\| dataset \| size \| miniz\\_oxide MB\/s \| libdeflate-1\.23 MB\/s \| ratio \(95% interval\) \| verified \|/,
    );
    assert.match(
      report,
      new RegExp(
        String.raw`\*\*Summary:\*\* miniz\\_oxide runs at SILESIA \(stand-in\) 0\.\d\d×, SOFTWARE \d` +
          String.raw`\.\d\d×, LOGS \d\.\d\d× libdeflate's speed\.`,
      ),
    );
    assert.match(report, /\| SILESIA \(stand-in\) \| 5\.8 MiB \|/);
    assert.match(report, /not comparable with SILESIA results/);
    assert.equal(run.stdout, report.trimEnd(), 'stdout shows the same report');

    const rendered = await perfLab('report', '--results', json);
    assert.equal(rendered.code, 0);
    assert.equal(rendered.stdout, report.trimEnd());
  });

  it(
    'checks the loop model against those results: per dataset, predicted beside measured, marked not ' +
      'comparable off Apple silicon',
    async () => {
      const object = join(work, 'zlib-shape.o');
      await execa('clang', [
        '--target=aarch64-linux-gnu',
        '-O2',
        '-c',
        '-ffreestanding',
        join(projectRoot(), 'lab', 'uarch', 'fixtures', 'zlib-shape.c'),
        '-o',
        object,
      ]);
      const same = [
        '--base',
        object,
        '--head',
        object,
        '--function',
        'zlib_shape',
        '--reference',
        object,
        '--reference-function',
        'zlib_shape',
      ];
      const run = await perfLab(
        'analyze',
        ...same,
        '--results',
        join(work, 'shim-results.json'),
        '--datasets',
        datasets,
      );
      assert.equal(run.code, 0, run.stderr);
      const rows = run.stdout.split('\n').filter((line) => /^\| (SILESIA \(stand-in\)|SOFTWARE|LOGS) \|/.test(line));
      assert.equal(rows.length, 3, run.stdout);
      const onM1 = process.arch === 'arm64' && cpus()[0]?.model.includes('Apple M1');
      for (const row of rows) {
        // The same loop on both sides predicts no difference; off an M1 the measurement is not the modelled core's.
        assert.match(row, /\| (\d+\.\d{3}) \| \1 \| 1\.00× \| \d+\.\d\d× \[\d+\.\d\d, \d+\.\d\d\] \| /);
        if (!onM1)
          assert.match(
            row,
            new RegExp(`not comparable: measured on .* \\(${process.arch}\\), not on the modelled Apple M1`),
          );
      }
      const alone = await perfLab(
        'analyze',
        '--base',
        object,
        '--head',
        object,
        '--function',
        'zlib_shape',
        '--results',
        join(work, 'shim-results.json'),
      );
      assert.equal(alone.code, 1);
      assert.match(alone.stderr, /perf-lab: analyze: --results needs --reference/);
    },
  );

  it('catches a decoder that flips one byte: no speed reported, exit code 3', async () => {
    const config = await writeConfig('flip', {
      schemaVersion: 1,
      libdeflate: reference,
      decoder: { name: 'flipper', cargo: { path: shimPath }, features: ['flip-byte'], adapter: { kind: 'cabi' } },
      bench: quickBench,
    });
    const json = join(work, 'flip.json');
    const run = await benchOnDatasets(config, 'logs', json);
    assert.equal(run.code, 3, run.stderr);
    const results = await readResults(json);
    assert.equal(results.ok, false);
    const logs = results.datasets[0]!;
    const decoder = logs.contenders.find((contender) => contender.role === 'head')!;
    assert.match(decoder.failure ?? '', /^wrong bytes: first difference at offset 8388630 /);
    assert.equal(decoder.megabytesPerSecond, null);
    assert.equal(logs.headVsLibdeflate, null);
    assert.equal(logs.batches, 1, 'sampling stops at the first failed batch');
    assert.match(run.stdout, /❌ flipper: wrong bytes/);
  });

  it("times a CLI decoder against libdeflate's own gzip program (whole process, like for like)", async () => {
    const config = await writeConfig('cli', {
      schemaVersion: 1,
      libdeflate: reference,
      decoder: {
        name: 'gunzip-rs',
        cargo: { path: shimPath },
        adapter: { kind: 'cli', binary: 'perf-lab-gunzip', command: ['{bin}', '{input}'] },
      },
      bench: quickBench,
    });
    const json = join(work, 'cli.json');
    const run = await benchOnDatasets(config, 'software', json);
    assert.equal(run.code, 0, run.stderr);
    const results = await readResults(json);
    assert.equal(results.regime, 'process');
    assert.equal(results.datasets[0]!.verified, true);
    assert.match(run.stdout, /whole process \(CLI\)/);
  });

  it('benchmarks libdeflate at another version (1.14, Makefile build) as the decoder under test', async () => {
    const config = await writeConfig('ld114', {
      schemaVersion: 1,
      libdeflate: reference,
      decoder: {
        name: 'libdeflate-1.14-test',
        libdeflate: { source: { kind: 'debian', suite: 'bookworm', version: '1.14' } },
      },
      bench: quickBench,
    });
    const json = join(work, 'ld114.json');
    const run = await benchOnDatasets(config, 'logs', json);
    assert.equal(run.code, 0, run.stderr);
    const results = await readResults(json);
    assert.match(results.head.description, /^libdeflate 1\.14 from Debian bookworm source package/);
    const ratio = results.datasets[0]!.headVsLibdeflate!.interval.estimate;
    assert.ok(ratio > 0.3 && ratio < 3);
  });

  it(
    'gates on integrity: a head that skips the CRC32 is timed, but its ratios and the verdict say not ' + 'comparable',
    async () => {
      const config = await writeConfig('careless', {
        schemaVersion: 1,
        libdeflate: reference,
        base: { name: 'shim-base', cargo: { path: shimPath }, adapter: { kind: 'cabi' } },
        decoder: {
          name: 'shim-careless',
          cargo: { path: shimPath },
          features: ['skip-crc32'],
          adapter: { kind: 'cabi' },
        },
        bench: { ...quickBench, rounds: 6 },
      });
      const json = join(work, 'careless.json');
      const run = await benchOnDatasets(config, 'logs', json);
      assert.equal(run.code, 0, run.stderr);
      const results = await readResults(json);
      const gate = Object.fromEntries(results.integrity!.contenders.map((entry) => [entry.name, entry.notComparable]));
      assert.match(gate['shim-careless']!, /^does not verify the CRC32 \(a flipped trailer bit\), the data/);
      assert.equal(gate['shim-base'], null);
      assert.equal(gate[results.libdeflate.name], null);
      const verdict = results.datasets[0]!.headVsBase!.verdict;
      assert.equal(verdict.kind, 'inconclusive');
      assert.match(verdict.reason!, /^not comparable: head \(shim-careless\) does not verify the CRC32/);
      assert.match(run.stdout, /⚠️ Not comparable: shim-careless accepted a corrupted member/);
      assert.match(
        run.stdout,
        /\| ⚠️ not comparable: shim-careless accepted a corrupted member \(measured \d\.\d{3}\) \| \*\*\d\.\d{3}\*\* /,
      );
    },
  );

  it(
    "runs the gzippy preset's rust adapter (on a crate of gzippy's API shape) three-way, allocating, " +
      'libdeflate timed alike',
    async () => {
      // examples/gzippy.json as a maintainer uses it, with only the crate's source swapped for the local stand-in.
      const preset = await readJsonAs<{ decoder: { adapter: unknown; threads: number } }>(
        join(projectRoot(), 'examples', 'gzippy.json'),
      );
      assert.deepEqual(preset.decoder.adapter, {
        kind: 'rust',
        call: 'gzippy::decompress_with_threads(input, threads)',
      });
      assert.equal(preset.decoder.threads, 1);
      const shape = await materializeGzippyShape();
      const rust = { ...preset.decoder, cargo: shape.cargo };
      const config = await writeConfig('rust-three-way', {
        schemaVersion: 1,
        libdeflate: reference,
        base: { ...rust, name: 'shape-base' },
        decoder: { ...rust, name: 'shape-head' },
        bench: { ...quickBench, rounds: 6 },
      });
      const json = join(work, 'rust-three-way.json');
      const run = await benchOnDatasets(config, 'logs', json);
      assert.equal(run.code, 0, run.stderr);
      const results = await readResults(json);
      assert.equal(results.regime, 'in-process-allocating');
      assert.equal(results.datasets[0]!.verified, true);
      assert.deepEqual(
        results.datasets[0]!.contenders.map((contender) => contender.samplesNs.flat().length),
        [12, 12, 12],
      );
      assert.equal(results.head.rust!.call, 'gzippy::decompress_with_threads(input, threads)');
      // The preset's features (gzippy's shipped decode path) reach the build.
      assert.match(results.head.rust!.cargoToml, /\[dependencies\.gzippy\]\n.*\nfeatures = \[ "pure-rust-inflate" \]/);
      assert.match(results.head.rust!.libRs, /perf_lab_rust_decompress_owned/);
      assert.ok(
        results.integrity!.contenders.every((entry) => entry.notComparable === null),
        JSON.stringify(results.integrity),
      );
      assert.match(
        run.stdout,
        new RegExp(
          String.raw`^Regime: every side allocates its output on each decode \(libdeflate too\), and ` +
            String.raw`that allocation is timed; threads: shape-head 1, shape-base 1, libdeflate 1\.$`,
          'm',
        ),
      );
    },
  );

  it('passes threads to a CLI decoder and refuses a ratio across thread counts unless asked', async () => {
    // The command decodes only when {threads} arrived as 4.
    const cli = {
      kind: 'cli',
      binary: 'perf-lab-gunzip',
      command: ['sh', '-c', 'test "$1" = 4 && exec "$2" "$3"', 'sh', '{threads}', '{bin}', '{input}'],
    };
    const decoder = { name: 'four-threads', cargo: { path: shimPath }, threads: 4, adapter: cli };
    for (const compareAcrossThreads of [false, true]) {
      const config = await writeConfig(`threads-${compareAcrossThreads}`, {
        schemaVersion: 1,
        libdeflate: reference,
        decoder,
        bench: { ...quickBench, compareAcrossThreads },
      });
      const json = join(work, `threads-${compareAcrossThreads}.json`);
      const run = await benchOnDatasets(config, 'logs', json);
      assert.equal(run.code, 0, run.stderr);
      const results = await readResults(json);
      assert.equal(results.head.threads, 4);
      assert.equal(results.datasets[0]!.verified, true);
      // On a loaded machine the output path's ceiling can come close to a speed: that marking is then due too.
      const logs = results.datasets[0]!;
      const ceiling = logs.outputPath?.ceilingMegabytesPerSecond ?? Number.POSITIVE_INFINITY;
      const bound = logs.contenders
        .filter((c) => c.megabytesPerSecond! >= 0.8 * ceiling)
        .map((c) => (c.role === 'head' ? 'head' : 'libdeflate'));
      const outputBound = bound.length ? `${bound.join(' and ')} bound by the output path \\(ceiling \\d+ MB/s\\)` : '';
      if (compareAcrossThreads && !outputBound) {
        // Two batches on a loaded machine can leave the interval wide (0.050–13.447 was seen): any width, labelled.
        assert.match(run.stdout, /\| \*\*\d+\.\d{3}\*\* \(\d+\.\d{3}–\d+\.\d{3}\) \(cross-thread: 4 vs 1 threads\) \|/);
      } else {
        const reasons = [
          ...(compareAcrossThreads ? [] : ['4 vs 1 threads']),
          ...(outputBound ? [outputBound] : []),
        ].join('; ');
        assert.match(run.stdout, new RegExp(`\\| ⚠️ not comparable: ${reasons} \\(measured \\d\\.\\d{3}\\) \\|`));
      }
    }
  });

  it('runs the code-generation step before cargo build, and stops with its log when it fails', async () => {
    const project = join(work, 'codegen-project');
    await cp(shimPath, project, { recursive: true });
    await rename(join(project, 'src', 'lib.rs'), join(project, 'lib.rs.in'));
    const decoder = { name: 'generated', cargo: { path: project }, adapter: { kind: 'cabi' } };
    const good = await writeConfig('codegen', {
      schemaVersion: 1,
      libdeflate: reference,
      decoder: { ...decoder, codegen: 'cp lib.rs.in src/lib.rs' },
      bench: quickBench,
    });
    const ok = await perfLab('bench', '--config', good, '--datasets-dir', datasets, '--only', 'logs');
    assert.equal(ok.code, 0, ok.stderr);

    // On a warm build cache the good build was a hit and codegen did not run: there may be no src/lib.rs.
    await rm(join(project, 'src', 'lib.rs'), { force: true });
    const bad = await writeConfig('codegen-bad', {
      schemaVersion: 1,
      libdeflate: reference,
      decoder: { ...decoder, codegen: 'echo generator exploded >&2; exit 9' },
      bench: quickBench,
    });
    const failed = await perfLab('bench', '--config', bad, '--datasets-dir', datasets, '--only', 'logs');
    assert.equal(failed.code, 1);
    assert.match(
      failed.stderr,
      /perf-lab: build decoder generated: codegen step: `echo generator exploded >&2; exit 9` exited with code 9/,
    );
    assert.match(failed.stderr, /generator exploded/);
    assert.match(failed.stderr, /Reproduce with: \(cd .*codegen-project && sh -c/);
  });

  it('shows the tail of a failing cargo build and how to reproduce it', async () => {
    const project = join(work, 'broken-project');
    await cp(shimPath, project, { recursive: true });
    await writeFile(join(project, 'src', 'lib.rs'), 'pub fn broken( {}\n');
    const config = await writeConfig('broken', {
      schemaVersion: 1,
      libdeflate: reference,
      decoder: { name: 'broken', cargo: { path: project }, adapter: { kind: 'cabi' } },
      bench: quickBench,
    });
    const run = await perfLab('bench', '--config', config, '--datasets-dir', datasets, '--only', 'logs');
    assert.equal(run.code, 1);
    assert.match(run.stderr, /perf-lab: build decoder broken: cargo build exited with code 101/);
    assert.match(run.stderr, /error/);
    assert.match(run.stderr, /Reproduce with: \(cd .*broken-project && cargo build --release/);
  });
});

/**
 * `perf-lab bench` with recorded batches (PERF_LAB_REPLAY_BATCHES, docs/cli.md): what comes after the timing — the
 * verdict, the report, the results file, the exit code — through the CLI as shipped, on libdeflate sides only (no
 * cargo build, no decode timed), in a cache of their own (no calibration there to change a verdict's noise floor).
 */
const recordedLogs = join(projectRoot(), 'lab', 'bench', 'fixtures', 'noise-logs-quick-x86_64.json');
const system = { source: { kind: 'system' } };
// The recorded batch shape (24 rounds after 3 warm-up rounds).
const replayBench = { ...quickBench, rounds: 24, warmupRounds: 3 };

async function replayOnLogs(config: string, json: string, traces = recordedLogs, only = 'logs') {
  const run = await runPerfLab(
    ['bench', '--config', config, '--datasets-dir', datasets, '--only', only, '--json', json],
    { env: { PERF_LAB_REPLAY_BATCHES: traces, PERF_LAB_CACHE: join(work, 'replay-cache') } },
  );
  return { ...run, stdout: String(run.stdout), stderr: String(run.stderr) };
}

describe('perf-lab bench on recorded batches (no cargo build, no decode timed)', () => {
  it('runs base, head and libdeflate three-way and decides head vs base', async () => {
    const config = await writeConfig('three-way', {
      schemaVersion: 1,
      libdeflate: system,
      base: { name: 'shim-base', libdeflate: system },
      decoder: { name: 'shim-head', libdeflate: system },
      bench: replayBench,
    });
    const json = join(work, 'three-way.json');
    const run = await replayOnLogs(config, json);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stderr, /warning: bench: PERF_LAB_REPLAY_BATCHES is set: batch times are replayed from /);
    const results = await readResults(json);
    const logs = results.datasets[0]!;
    assert.equal(logs.placement, `replayed from ${recordedLogs} (no decode timed)`);
    // The method never claims timed outputs it did not verify.
    const report = methodDetails(results);
    assert.match(report, /no decode timed \(replayed batches, a test seam\): outputs verified by the integrity gate/);
    assert.doesNotMatch(report, /every output verified/);
    assert.deepEqual(
      logs.contenders.map((contender) => contender.role),
      ['head', 'base', 'libdeflate'],
    );
    assert.deepEqual(
      logs.contenders.map((contender) => contender.samplesNs.flat().length),
      [48, 48, 48],
    );
    // Batch 1 as recorded: head's times are those of the worker slot it sat in, round by round.
    const recorded = await readNoiseTraces(recordedLogs);
    const slot = contenderOrder(0, 3).indexOf(0);
    assert.deepEqual(
      logs.contenders[0]!.samplesNs[0],
      recorded.batches[0]!.samples[slot]!.map(([, ns]) => ns),
    );
    // 24 rounds a batch, 3 contenders: 8 rotation cycles per batch, one ratio each.
    assert.deepEqual(
      logs.headVsBase!.cycleRatios.map((batch) => batch.length),
      [8, 8],
    );
    const verdict = logs.headVsBase!.verdict;
    // The stored verdict is exactly what the one verdict engine gives on the stored batches (two batches: t with
    // 1 df), with the in-job A/A of the same run as the noise floor (no calibration holds here).
    const expected = decideHeadVsBase({
      cycles: {
        headVsBase: logs.headVsBase!.cycleRatios,
        headVsLibdeflate: logs.headVsLibdeflate!.cycleRatios,
        baseVsLibdeflate: logs.baseVsLibdeflate!.cycleRatios,
      },
      calibration: { missing: verdict.thresholdSource.split('; ').at(-1)! },
      policy: {
        confidence: 0.99,
        minimumEffect: results.settings.minimumEffect!,
        tolerance: results.settings.tolerance!,
      },
    });
    assert.deepEqual(verdict, expected);
    assert.equal(verdict.kind, expected.kind);
    assert.equal(verdict.threshold, expected.threshold);
    assert.equal(verdict.batches, 2);
    assert.ok(verdict.reason && verdict.reason.length > 10, verdict.reason);
    assert.match(verdict.thresholdSource, /between-batch scatter of 2 batches.*; no calibration on this machine$/);
    assert.equal(verdict.interval.confidence, 0.99);
    assert.ok(verdict.interval.low <= verdict.interval.estimate && verdict.interval.estimate <= verdict.interval.high);
    assert.ok(logs.baseVsLibdeflate && logs.headVsLibdeflate);
    const libdeflate = results.libdeflate.name.replaceAll('.', '\\.');
    assert.match(
      run.stdout,
      new RegExp(
        String.raw`\| dataset \| size \| shim-head \(head\) MB\/s \| shim-base \(base\) MB\/s \| ` +
          String.raw`${libdeflate} MB\/s \| head \/ libdeflate \| base \/ libdeflate \| Δ head vs ba` +
          String.raw`se \(99% interval\) \| verdict \| verified \|`,
      ),
    );
    assert.match(run.stdout, new RegExp(`\\*\\*Summary: ${expected.kind}\\*\\* — head vs base: LOGS ${expected.kind}`));
  });

  it('prints the report and keeps the results in a named fallback when --json cannot be written', async () => {
    const config = await writeConfig('unwritable', {
      schemaVersion: 1,
      libdeflate: system,
      decoder: { name: 'head-libdeflate', libdeflate: system },
      bench: replayBench,
    });
    // A folder that is a file: the results cannot be written there.
    await writeFile(join(work, 'not-a-folder'), 'x');
    const run = await replayOnLogs(config, join(work, 'not-a-folder', 'results.json'));
    assert.equal(run.exitCode, 1, run.stderr);
    assert.match(run.stdout, /\| LOGS \| 16\.0 MiB \| [\d.]+ \| [\d.]+ \|/);
    const fallback = /the results were kept in (\S+\.json) \(the report is above\)/.exec(run.stderr);
    assert.ok(fallback, run.stderr);
    assert.match(run.stderr, /^perf-lab: bench: output: cannot write the results or report/m);
    const kept = await readResults(fallback[1]!);
    assert.equal(kept.datasets[0]!.label, 'LOGS');
    assert.equal(kept.datasets[0]!.placement, `replayed from ${recordedLogs} (no decode timed)`);
    await rm(fallback[1]!);
  });

  it('refuses recorded batches that do not fit the run, before timing anything', async () => {
    const json = join(work, 'replay-refused-results.json');
    const config = (bench: object) =>
      writeConfig('replay-refused', {
        schemaVersion: 1,
        libdeflate: system,
        decoder: { name: 'head-libdeflate', libdeflate: system },
        bench,
      });
    const otherRounds = await replayOnLogs(await config(quickBench), json);
    assert.equal(otherRounds.exitCode, 1);
    assert.match(
      otherRounds.stderr,
      new RegExp(
        String.raw`perf-lab: bench: replay: .*noise-logs-quick-x86_64\.json holds batches of 24 rounds after 3 ` +
          String.raw`warm-up rounds; the config asks for 4 after 1\.`,
      ),
    );
    const damaged = join(work, 'damaged-traces.json');
    await writeFile(damaged, JSON.stringify({ ...(await readJsonAs<object>(recordedLogs)), roundsPerBatch: -1 }));
    const invalid = await replayOnLogs(await config(replayBench), json, damaged);
    assert.equal(invalid.exitCode, 1);
    assert.match(invalid.stderr, /perf-lab: noise traces: .*damaged-traces\.json is invalid: roundsPerBatch/);
    const otherDataset = await replayOnLogs(await config(replayBench), json, recordedLogs, 'software');
    assert.equal(otherDataset.exitCode, 1);
    assert.match(
      otherDataset.stderr,
      new RegExp(
        String.raw`perf-lab: bench: replay: .* was recorded on LOGS \(sha256 c0af8bf48dec\); this batch ` +
          String.raw`decodes .*software\.raw\.gz`,
      ),
    );
    await assert.rejects(readFile(json), /ENOENT/, 'no results from a refused replay');
  });
});

describe('perf-lab calibrate', () => {
  it('calibrates on libdeflate and on the configured head and stores the noisier as the floor', async () => {
    const config = await writeConfig('calibrate', {
      schemaVersion: 1,
      libdeflate: reference,
      base: { name: 'shim-base', cargo: { path: shimPath }, adapter: { kind: 'cabi' } },
      decoder: { name: 'shim-head', cargo: { path: shimPath }, adapter: { kind: 'cabi' } },
      bench: { ...quickBench, rounds: 6 },
    });
    const store = join(work, 'calibration');
    const run = await perfLab(
      'calibrate',
      '--config',
      config,
      '--datasets-dir',
      datasets,
      '--only',
      'logs',
      '--subjects',
      'libdeflate,head',
      '--batches',
      '4',
      '--store-dir',
      store,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      new RegExp(
        String.raw`^LOGS: batch noise scale libdeflate \d+\.\d\d%, head \d+\.\d\d%; over 400 simula` +
          String.raw`ted A\/A checks: no change \d+\.\d%`,
        'm',
      ),
    );
    const files = await readdir(store);
    assert.equal(files.length, 1);
    const stored = JSON.parse(await readFile(join(store, files[0]!), 'utf8')) as {
      schemaVersion: number;
      datasets: Record<
        string,
        { rounds: number; batchLogScale: number; subjects: Record<string, { batchLogScale: number }> }
      >;
    };
    assert.equal(stored.schemaVersion, 2);
    const logs = stored.datasets.LOGS!;
    assert.equal(logs.rounds, 6);
    assert.deepEqual(Object.keys(logs.subjects).sort(), ['head', 'libdeflate']);
    assert.equal(
      logs.batchLogScale,
      Math.max(logs.subjects.head!.batchLogScale, logs.subjects.libdeflate!.batchLogScale),
    );
    const unknown = await perfLab('calibrate', '--config', config, '--subjects', 'libdeflate,nobody');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown subject "nobody" \(choose from libdeflate, head, base\)/);
  });
});

describe('perf-lab bench refuses bad input with a clear message', () => {
  it('names the invalid config fields', async () => {
    const config = await writeConfig('invalid', {
      schemaVersion: 1,
      libdeflate: reference,
      decoder: { name: 'x y', cargo: { path: '.' }, adapter: { kind: 'cabi' } },
      bench: { rounds: 1, surprise: true },
    });
    const run = await perfLab('bench', '--config', config, '--datasets-dir', datasets);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /perf-lab: bench: config: .*invalid\.json is invalid:/);
    assert.match(run.stderr, /bench\.rounds: /);
    assert.match(run.stderr, /bench: Unrecognized key: "surprise"/);
    assert.match(run.stderr, /what to do: fix the named field/);
  });

  it('reports a missing config file and malformed JSON', async () => {
    const missing = await perfLab('bench', '--config', join(work, 'nope.json'));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read .*nope\.json: ENOENT/);
    const broken = join(work, 'broken.json');
    await writeFile(broken, '{ "schemaVersion": 1,');
    const malformed = await perfLab('bench', '--config', broken);
    assert.equal(malformed.code, 1);
    assert.match(malformed.stderr, /broken\.json is not valid JSON/);
  });

  it('refuses to benchmark a tampered dataset, naming the file and both hashes', async () => {
    const tampered = join(work, 'tampered');
    await cp(datasets, tampered, { recursive: true });
    const handle = await open(join(tampered, 'logs.raw.gz'), 'r+');
    await handle.write(Buffer.from([0x00, 0x11, 0x22]), 0, 3, 5000);
    await handle.close();
    const config = await writeConfig('tamper', {
      schemaVersion: 1,
      libdeflate: reference,
      decoder: { name: 'miniz_oxide', cargo: { path: shimPath }, adapter: { kind: 'cabi' } },
      bench: quickBench,
    });
    const run = await perfLab('bench', '--config', config, '--datasets-dir', tampered, '--only', 'logs');
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      new RegExp(
        String.raw`perf-lab: datasets: verify LOGS: the compressed file .*logs\.raw\.gz does not ma` +
          String.raw`tch the manifest: expected \d+ bytes sha256 [0-9a-f]{64}, found \d+ bytes sha256` +
          String.raw` [0-9a-f]{64}`,
      ),
    );
  });

  it('prints its version, and --quiet keeps progress off stderr', async () => {
    const version = await perfLab('--version');
    assert.equal(version.code, 0);
    assert.equal(
      version.stdout.trim(),
      (await readJsonAs<{ version: string }>(join(projectRoot(), 'package.json'))).version,
    );
    const loud = await perfLab('datasets', 'prepare', '--offline', '--dir', datasets, '--only', 'logs');
    assert.match(loud.stderr, /logs is up to date/);
    const quiet = await perfLab('--quiet', 'datasets', 'prepare', '--offline', '--dir', datasets, '--only', 'logs');
    assert.equal(quiet.code, 0);
    assert.equal(quiet.stderr, '');
  });

  it('rejects unknown datasets and scales at the command line', async () => {
    const run = await perfLab('datasets', 'prepare', '--only', 'silesia,enwik9');
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /unknown dataset "enwik9"/);
    const scale = await perfLab('datasets', 'prepare', '--scale', 'huge');
    assert.notEqual(scale.code, 0);
    assert.match(scale.stderr, /Allowed choices are quick, full/);
  });
});
