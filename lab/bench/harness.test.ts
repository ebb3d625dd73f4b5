import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { buildLibdeflate, type LibdeflateBuild } from '../build/libdeflate.js';
import { logChunks } from '../datasets/generators.js';
import { cliOutputPath, harnessSpec, parseHarnessOutput, runHarness, type HarnessContender } from './harness.js';

let work: string;
let compressedPath: string;
let expectedPath: string;
let libdeflate: LibdeflateBuild;
const BAD_MODES = { crash: 1, hang: 2, silent: 3, overrun: 4, short: 5, error: 6, guard: 7 } as const;
const badLibraries: Record<string, string> = {};

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'perf-lab-harness-'));
  expectedPath = join(work, 'logs.raw');
  compressedPath = join(work, 'logs.raw.gz');
  await writeFile(expectedPath, [...logChunks(300_000)].join(''));
  await execa('gzip', ['-9', '-n', '-k', expectedPath]);
  libdeflate = await buildLibdeflate({ kind: 'system' });
  const source = join(import.meta.dirname, 'fixtures', 'bad-decoders.c');
  const suffix = process.platform === 'darwin' ? 'dylib' : 'so';
  for (const [name, mode] of Object.entries(BAD_MODES)) {
    badLibraries[name] = join(work, `bad-${name}.${suffix}`);
    await execa('cc', ['-O1', '-shared', '-fPIC', `-DBAD_MODE=${mode}`, '-o', badLibraries[name], source]);
  }
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

const reference = (): HarnessContender => ({
  name: 'libdeflate',
  kind: 'libdeflate',
  library: libdeflate.sharedLibraryPath,
});
const run = (contenders: HarnessContender[], overrides: { timeoutMs?: number; rounds?: number } = {}) =>
  runHarness({
    compressedPath,
    expectedPath,
    contenders,
    rounds: overrides.rounds ?? 4,
    warmupRounds: 1,
    timeoutMs: overrides.timeoutMs ?? 20_000,
    maxSeconds: 0,
  });

describe('native harness', () => {
  it('times verified decodes of every contender in interleaved rounds', async () => {
    const outcome = await run(
      [
        reference(),
        { name: 'libdeflate-cli', kind: 'cli', argv: [libdeflate.gzipProgramPath!, '-d', '-c', compressedPath] },
      ],
      { rounds: 5 },
    );
    assert.equal(outcome.failures.size, 0);
    assert.equal(outcome.rounds, 5);
    for (const name of ['libdeflate', 'libdeflate-cli']) {
      const samples = outcome.samplesNs.get(name)!;
      assert.deepEqual([...samples.keys()].sort(), [1, 2, 3, 4, 5], 'warm-up round 0 is excluded');
      for (const ns of samples.values()) assert.ok(ns > 0);
    }
  });

  const misbehaviours: ReadonlyArray<{ mode: keyof typeof BAD_MODES; does: string; reported: RegExp }> = [
    { mode: 'crash', does: 'crashes', reported: /crashed: killed by signal \d+ \((Segmentation fault|Bus error)\)/ },
    {
      mode: 'silent',
      does: 'claims success but writes nothing',
      reported: /wrong bytes: first difference at offset 0/,
    },
    {
      mode: 'overrun',
      does: 'writes just past its buffer',
      reported: /wrote past the end of its output buffer \(canary at \+0 overwritten\)/,
    },
    {
      mode: 'guard',
      does: 'runs into the guard page',
      reported: /crashed: killed by signal \d+ \((Segmentation fault|Bus error)\)/,
    },
    { mode: 'short', does: 'reports a short length', reported: /wrong length: produced \d+ bytes, expected \d+/ },
    { mode: 'error', does: 'returns an error code', reported: /perf_lab_gzip_decompress returned error code 7/ },
  ];
  for (const { mode, does, reported } of misbehaviours) {
    it(`reports a decoder that ${does} as failed, and keeps timing the others`, async () => {
      const outcome = await run([{ name: mode, kind: 'cabi', library: badLibraries[mode]! }, reference()]);
      assert.match(outcome.failures.get(mode) ?? '', reported);
      assert.equal(outcome.samplesNs.get(mode)!.size, 0, 'no speed for a failed contender');
      assert.equal(outcome.failures.has('libdeflate'), false);
      assert.equal(outcome.samplesNs.get('libdeflate')!.size, 4);
    });
  }

  it(
    "receives a CLI decoder's output through a RAM-backed file where there " + 'is one, and leaves no file behind',
    async (t) => {
      const output = await cliOutputPath();
      if (!output.dir) {
        t.skip(`no RAM-backed folder here (output via ${output.via}, tested above)`);
        return;
      }
      const before = new Set(await readdir(output.dir));
      const cli = (name: string): HarnessContender => ({
        name,
        kind: 'cli',
        argv: [libdeflate.gzipProgramPath!, '-d', '-c', compressedPath],
      });
      const outcome = await runHarness({
        compressedPath,
        expectedPath,
        contenders: [cli('through-file'), reference()],
        rounds: 3,
        warmupRounds: 0,
        timeoutMs: 20_000,
        maxSeconds: 0,
        cliOutputDir: output.dir,
      });
      assert.equal(outcome.failures.size, 0, JSON.stringify([...outcome.failures]));
      assert.equal(outcome.samplesNs.get('through-file')!.size, 3);
      const left = (await readdir(output.dir)).filter((name) => !before.has(name) && name.startsWith('perf-lab-out-'));
      assert.deepEqual(left, []);
      // A wrong output through the file is still caught.
      const wrong = await runHarness({
        compressedPath,
        expectedPath,
        contenders: [{ name: 'cat', kind: 'cli', argv: ['cat', compressedPath] }],
        rounds: 1,
        warmupRounds: 0,
        timeoutMs: 20_000,
        maxSeconds: 0,
        cliOutputDir: output.dir,
      });
      assert.match(wrong.failures.get('cat')!, /^wrong length: produced \d+ bytes/);
    },
  );

  it('kills a hanging decoder after the timeout and reports it', async () => {
    const outcome = await run([{ name: 'hang', kind: 'cabi', library: badLibraries.hang! }, reference()], {
      timeoutMs: 1500,
      rounds: 2,
    });
    assert.match(outcome.failures.get('hang') ?? '', /timeout: no result within 1500 ms/);
    assert.equal(outcome.samplesNs.get('libdeflate')!.size, 2);
  });

  it('refuses a spec value it cannot take whole, naming it: a number with more after it, a path too long', async () => {
    // strtol alone would read "1.5" as 1 ms, and a path of 5,000 bytes would be cut to another file's name.
    await assert.rejects(run([reference()], { timeoutMs: 1.5 }), /spec: timeout-ms must be a whole number .*'1\.5'/);
    await assert.rejects(
      runHarness({
        compressedPath: `/${'a'.repeat(5000)}`,
        expectedPath,
        contenders: [reference()],
        rounds: 1,
        warmupRounds: 0,
        timeoutMs: 20_000,
        maxSeconds: 0,
      }),
      /spec: compressed is longer than 4095 bytes/,
    );
  });

  it('reports a library without the C ABI symbol', async () => {
    const outcome = await run([{ name: 'not-cabi', kind: 'cabi', library: libdeflate.sharedLibraryPath }, reference()]);
    assert.match(outcome.failures.get('not-cabi') ?? '', /does not export perf_lab_gzip_decompress/);
  });

  it('refuses a CLI program that does not exist as a setup error naming it, before anything runs', async () => {
    await assert.rejects(
      run([{ name: 'ghost', kind: 'cli', argv: ['/nonexistent/gzippy', '-d'] }, reference()]),
      (error: Error & { exitCode?: number }) => {
        assert.match(
          error.message,
          /^ghost: the program "\/nonexistent\/gzippy" does not exist or is not executable\.$/,
        );
        assert.equal(error.exitCode, 1);
        return true;
      },
    );
    await assert.rejects(
      run([{ name: 'ghost', kind: 'cli', argv: ['perf-lab-no-such-program'] }, reference()]),
      /"perf-lab-no-such-program" does not exist or is not executable \(searched PATH\)/,
    );
  });

  it('reports a CLI decoder that exits non-zero', async () => {
    const outcome = await run([{ name: 'false', kind: 'cli', argv: ['sh', '-c', 'exit 4'] }, reference()]);
    assert.match(outcome.failures.get('false') ?? '', /command exited with status 4/);
  });
});

describe('harness protocol', () => {
  it('refuses malformed or unknown output lines', () => {
    assert.throws(
      () =>
        parseHarnessOutput(
          '{"type":"sample","contender":"a","round":0,"warmup":false,"ns":-5}\n{"type":"done","rounds":1}',
          ['a'],
        ),
      /unreadable harness output on line 1/,
    );
    assert.throws(
      () =>
        parseHarnessOutput(
          '{"type":"sample","contender":"zz","round":0,"warmup":false,"ns":5}\n{"type":"done","rounds":1}',
          ['a'],
        ),
      /unknown contender "zz"/,
    );
    assert.throws(() => parseHarnessOutput('{"type":"ready","contender":"a"}', ['a']), /without its closing line/);
  });

  it('reads per-contender CPUs, decode CPU time and CPU outside the decode calls', () => {
    const lines = [
      '{"type":"placement","contender":"b","cpus":[2,3],"pinnedCpu":null,"detail":"sched_setaffinity"}',
      '{"type":"placement","contender":"a","cpus":[0],"pinnedCpu":null,"detail":"sched_setaffinity"}',
      '{"type":"sample","contender":"a","round":0,"warmup":true,"ns":10,"cpuNs":9}',
      '{"type":"outside","contender":"a","round":0,"cpuNs":5}',
      '{"type":"sample","contender":"a","round":1,"warmup":false,"ns":12,"cpuNs":11}',
      '{"type":"outside","contender":"a","round":1,"cpuNs":7}',
      '{"type":"done","rounds":1}',
    ];
    const outcome = parseHarnessOutput(lines.join('\n'), ['a', 'b']);
    assert.equal(outcome.placement, 'a on CPU 0; b on CPUs 2-3 (sched_setaffinity)');
    assert.deepEqual([...outcome.cpuNs.get('a')!], [[1, 11]]);
    assert.equal(outcome.outsideCpuNs.get('a'), 12);
    assert.equal(outcome.roundsRun, 2);
  });

  it('writes each contender its CPUs and the outside allowance into the spec', () => {
    const spec = harnessSpec({
      compressedPath: 'a.gz',
      expectedPath: 'a',
      contenders: [
        { name: 'head', kind: 'cabi', library: '/x.so' },
        { name: 'cli', kind: 'cli', argv: ['gzip', '-d'] },
      ],
      rounds: 1,
      warmupRounds: 0,
      timeoutMs: 1,
      maxSeconds: 0,
      placements: [
        { name: 'head', threads: 2, cpus: [1, 2], note: null },
        { name: 'cli', threads: 1, cpus: [0], note: null },
      ],
    });
    assert.match(spec, /outside-allowance-ms 2\n/);
    assert.match(spec, /contender head cabi \/x\.so\ncpus 1,2\n/);
    assert.match(spec, /arg -d\nend\ncpus 0\n/);
  });

  it('refuses spec values with line breaks (they would inject spec lines)', () => {
    assert.throws(
      () =>
        harnessSpec({
          compressedPath: 'a\ncontender x cabi /tmp/evil.so',
          expectedPath: 'b',
          contenders: [],
          rounds: 1,
          warmupRounds: 0,
          timeoutMs: 1,
          maxSeconds: 0,
        }),
      /contains a line break/,
    );
  });
});
