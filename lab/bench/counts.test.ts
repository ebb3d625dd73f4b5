import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { buildLibdeflate, type LibdeflateBuild } from '../build/libdeflate.js';
import { logChunks } from '../datasets/generators.js';
import { compactTable, markdownReport } from '../report/index.js';
import { countsSection } from '../report/counts.js';
import { countsSchema, instructionComparison, type InstructionCounts } from '../results/counts.js';
import { resultsSchema } from '../results/index.js';
import { sampleResults } from '../testing/sample-results.js';
import {
  countInstructions,
  countSupport,
  detectCountSupport,
  parseCallgrindTotal,
  type CountDataset,
  type CountSide,
} from './counts.js';

describe('where instructions can be counted', () => {
  it('says why not on macOS, without valgrind, or off; names the valgrind version where it runs', () => {
    assert.deepEqual(countSupport('darwin', undefined), {
      available: false,
      reason: 'not available on macOS (no valgrind on macOS arm64)',
    });
    assert.deepEqual(countSupport('linux', undefined), {
      available: false,
      reason: 'valgrind not installed: apt-get install valgrind',
    });
    assert.equal(countSupport('linux', 'valgrind-3.22.0').available, true);
    assert.match(JSON.stringify(countSupport('linux', 'valgrind-3.19.0')), /valgrind-3\.19\.0 callgrind/);
    assert.equal(countSupport('linux', 'something else').available, false);
    assert.equal(countSupport('win32', undefined).available, false);
  });

  it('is off when the config says so, and says that too', async () => {
    assert.deepEqual(await detectCountSupport(false), {
      available: false,
      reason: 'off (bench.instructionCounts is false)',
    });
  });
});

describe("callgrind's output (tool output, read strictly)", () => {
  it('takes the one instruction total', () => {
    assert.equal(parseCallgrindTotal('version: 1\nevents: Ir\nsummary: 1234\n\nfn=x\n1 5\ntotals: 1234\n', 'a'), 1234);
  });
  it('fails naming the contender and dataset when the total is missing, doubled or of other events', () => {
    for (const text of ['', 'events: Ir\n', 'events: Ir\ntotals: 1\ntotals: 2\n', 'events: Ir Dr\ntotals: 5\n'])
      assert.throws(() => parseCallgrindTotal(text, 'gzippy on LOGS'), /gzippy on LOGS: callgrind's output has no/);
  });
});

describe('the counts in the report and the comment', () => {
  const counts = (instructions: { head: number | null; base: number | null; lib: number | null }) =>
    countsSchema.parse({
      tool: 'valgrind-3.19.0 callgrind, counting only the decode call',
      unavailable: null,
      datasets: [
        {
          name: 'silesia',
          label: 'SILESIA',
          rawBytes: 1000,
          contenders: (
            [
              ['gzippy', 'head', instructions.head],
              ['gzippy-base', 'base', instructions.base],
              ['libdeflate-1.24', 'libdeflate', instructions.lib],
            ] as const
          ).map(([name, role, count]) => ({
            name,
            role,
            instructions: count,
            instructionsPerByte: count === null ? null : count / 1000,
            notCounted: count === null ? 'not counted: it failed in the timing bench (crashed)' : null,
          })),
        },
      ],
    });

  it('gives head vs base exactly and head vs libdeflate as a ratio', () => {
    const view = instructionComparison(counts({ head: 3000, base: 3100, lib: 2500 }).datasets[0]!);
    assert.equal(view.headInstructionsPerByte, 3);
    assert.ok(Math.abs(view.headVsBaseChange! - (3000 / 3100 - 1)) < 1e-12);
    assert.ok(Math.abs(view.headVsBaseInstructionsPerByte! + 0.1) < 1e-12);
    assert.equal(view.headVsLibdeflate, 1.2);
  });

  it('puts a column beside the verdict and a row for every contender, saying counts are not time', () => {
    const results = { ...sampleResults(), counts: counts({ head: 3000, base: 3100, lib: 2500 }) };
    resultsSchema.parse(results);
    const compact = compactTable(results);
    assert.match(compact, /\| instructions\/byte \(head; × libdeflate\) \|/);
    assert.match(compact, /\| 3\.000 \(−3\.23% vs base; 1\.200× libdeflate\) \|/);
    const report = markdownReport(results);
    for (const name of ['gzippy', 'gzippy-base', 'libdeflate-1\\.24'])
      assert.match(report, new RegExp(`^\\| SILESIA \\| ${name} \\| \\w+ \\| \\d+ \\| \\d+\\.\\d{3}`, 'm'));
    assert.match(report, /Instruction counts are not time/);
  });

  it('marks a contender that was not counted, and results without counts keep their old table', () => {
    const section = countsSection({ counts: counts({ head: null, base: 3100, lib: 2500 }) })!;
    assert.ok(section.includes('| gzippy | head | — | not counted: it failed in the timing bench (crashed) | — |'));
    assert.doesNotMatch(compactTable(sampleResults()), /instructions/);
  });
});

/** Counting here needs valgrind on Linux; the macOS path runs everywhere with a stubbed platform. */
const support = await detectCountSupport(true);

describe('counting real decodes (valgrind)', { skip: support.available ? false : 'needs valgrind on Linux' }, () => {
  let work: string;
  let libdeflate: LibdeflateBuild;
  let dataset: CountDataset;
  const library: Record<string, string> = {};

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'perf-lab-counts-'));
    const expectedPath = join(work, 'logs.raw');
    await writeFile(expectedPath, [...logChunks(300_000)].join(''));
    await execa('gzip', ['-9', '-n', '-k', expectedPath]);
    const rawBytes = (await execa('wc', ['-c', expectedPath])).stdout.trim().split(/\s+/)[0]!;
    dataset = {
      name: 'logs',
      label: 'LOGS',
      rawBytes: Number(rawBytes),
      compressedPath: `${expectedPath}.gz`,
      expectedPath,
      failures: new Map(),
    };
    libdeflate = await buildLibdeflate({ kind: 'system' });
    const source = join(import.meta.dirname, 'fixtures', 'work-decoders.c');
    // Two builds of the same spin-free decoder: 72 nops per 64 output bytes against 8, one instruction a byte more.
    for (const nops of [8, 72]) {
      library[nops] = join(work, `work-${nops}.so`);
      await execa('cc', ['-O1', '-shared', '-fPIC', `-DWORK_NOPS=${nops}`, '-o', library[nops], source, '-ldeflate']);
    }
    const bad = join(import.meta.dirname, 'fixtures', 'bad-decoders.c');
    library.crash = join(work, 'bad-crash.so');
    await execa('cc', ['-O1', '-shared', '-fPIC', '-DBAD_MODE=1', '-o', library.crash, bad]);
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  const side = (role: CountSide['role'], name: string, path: string): CountSide => ({
    role,
    name,
    threads: 1,
    contender: () => ({ name, kind: role === 'libdeflate' ? 'libdeflate' : 'cabi', library: path }),
  });
  const count = (sides: CountSide[], datasets = [dataset]) =>
    countInstructions(support, sides, datasets, { timeoutMs: 120_000 });

  it('two builds differing by a known amount of work differ by that many instructions a byte (±0.1%)', async () => {
    const counts: InstructionCounts = await count([
      side('head', 'more-work', library[72]!),
      side('base', 'less-work', library[8]!),
      side('libdeflate', 'libdeflate', libdeflate.sharedLibraryPath),
    ]);
    assert.equal(counts.unavailable, null);
    const [head, base, reference] = counts.datasets[0]!.contenders;
    for (const contender of [head, base, reference]) assert.ok(contender!.instructions! > dataset.rawBytes);
    const expected = (64 * Math.ceil(dataset.rawBytes / 64)) / dataset.rawBytes;
    const measured = instructionComparison(counts.datasets[0]!).headVsBaseInstructionsPerByte!;
    assert.ok(Math.abs(measured - expected) <= expected * 0.001, `Δ ${measured}/byte, expected ${expected}`);
    assert.ok(head!.instructions! > reference!.instructions!, 'the fixture decodes through libdeflate, plus work');
    const again = await count([side('head', 'more-work', library[72]!)]);
    assert.equal(again.datasets[0]!.contenders[0]!.instructions, head!.instructions, 'a count is deterministic');
  });

  it('marks what it cannot count (failed, crashing, CLI, multi-threaded) and counts the rest', async () => {
    const counts = await count(
      [
        side('head', 'failed-in-bench', library[8]!),
        side('base', 'crashes', library.crash!),
        {
          role: 'libdeflate',
          name: 'cli',
          threads: 1,
          contender: () => ({ name: 'cli', kind: 'cli', argv: ['true'] }),
        },
        { ...side('base', 'threads', library[8]!), threads: 4 },
        side('libdeflate', 'libdeflate', libdeflate.sharedLibraryPath),
      ],
      [{ ...dataset, failures: new Map([['failed-in-bench', 'crashed: killed by signal 11']]) }],
    );
    const notes = counts.datasets[0]!.contenders.map((contender) => contender.notCounted);
    assert.match(notes[0]!, /^not counted: it failed in the timing bench \(crashed: killed by signal 11\)$/);
    assert.match(notes[1]!, /valgrind|failed under valgrind/);
    assert.match(notes[2]!, /CLI/);
    assert.match(notes[3]!, /runs 4 threads/);
    assert.equal(notes[4], null);
  });
});

describe('counts where valgrind cannot run (a stubbed macOS)', () => {
  it('marks every contender of every dataset "not available on macOS", and the report column says it', async () => {
    const counts = await countInstructions(
      countSupport('darwin', undefined),
      [
        { role: 'head', name: 'gzippy', threads: 1, contender: () => ({ name: 'gzippy', kind: 'cli', argv: ['x'] }) },
        {
          role: 'libdeflate',
          name: 'libdeflate-1.24',
          threads: 1,
          contender: () => ({ name: 'l', kind: 'cli', argv: [] }),
        },
      ],
      [
        {
          name: 'silesia',
          label: 'SILESIA',
          rawBytes: 10,
          compressedPath: '/x',
          expectedPath: '/y',
          failures: new Map(),
        },
      ],
      { timeoutMs: 1000 },
    );
    assert.equal(counts.unavailable, 'not available on macOS (no valgrind on macOS arm64)');
    assert.ok(
      counts.datasets[0]!.contenders.every((contender) => /not available on macOS/.test(contender.notCounted!)),
    );
    const table = compactTable({ ...sampleResults(), counts });
    assert.match(table, /^\| SILESIA \|.*\| not available on macOS \(no valgrind on macOS arm64\) \|.*\|$/m);
    assert.match(countsSection({ counts })!, /not available on macOS.*Instruction counts are not time/);
  });
});
