import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseResults } from '../results/index.js';
import { decideChange } from '../stats/index.js';
import { compactTable, escapeCell, formatBytes, markdownReport, ratioTable, summaryLine } from './index.js';
import { sampleResults } from '../testing/sample-results.js';

describe('report helpers', () => {
  it('neutralises markdown, HTML and mentions from untrusted names', () => {
    assert.equal(
      escapeCell('<img src=x> | @octocat `rm` *x* & co\nnext'),
      '&lt;img src=x&gt; \\| @\u200boctocat \\`rm\\` \\*x\\* &amp; co next',
    );
  });
  it('formats sizes in binary units', () => {
    assert.equal(formatBytes(16 * 1024 * 1024), '16.0 MiB');
    assert.equal(formatBytes(512), '512 B');
  });
});

describe('a contender the integrity gate caught', () => {
  const gate = (headAccepts: boolean) => {
    const results = sampleResults();
    const caseOf = (outcome: 'accepted' | 'rejected') => [
      { case: 'crc32' as const, outcome, detail: outcome === 'accepted' ? 'returned success' : 'error 6' },
    ];
    results.integrity = {
      memberBytes: 65_536,
      source: 'the first 65536 bytes of LOGS',
      contenders: [
        {
          name: results.head.name,
          cases: caseOf(headAccepts ? 'accepted' : 'rejected'),
          notComparable: headAccepts
            ? 'does not verify the CRC32 (a flipped trailer bit) — accepted a corrupted member: ratio not comparable'
            : null,
        },
        { name: results.libdeflate.name, cases: caseOf('rejected'), notComparable: null },
      ],
    };
    return results;
  };

  it(
    'shows its ratio as not comparable (the measured number only in brackets), in the summary, the tables and ' +
      'a note',
    () => {
      const results = gate(true);
      const report = markdownReport(results);
      const estimate = results.datasets[0]!.headVsLibdeflate!.interval.estimate.toFixed(3);
      assert.ok(
        report.includes(
          `⚠️ not comparable: ${escapeCell(results.head.name)} accepted a corrupted member (measured ${estimate})`,
        ),
        report,
      );
      assert.doesNotMatch(report, new RegExp(`\\*\\*${estimate}\\*\\*`), 'never as a bold, exact-looking ratio');
      assert.match(
        summaryLine(results),
        /⚠️ Not comparable: .* accepted a corrupted member \(see the integrity gate\)\.$/,
      );
      assert.match(report, /⚠️ \*\*Integrity gate:\*\* .* does not verify the CRC32 \(a flipped trailer bit\)/);
      assert.match(
        report,
        /- integrity gate \(before timing, on the first 65536 bytes of LOGS\): .* crc32 accepted; .* crc32 rejected/,
      );
      assert.match(compactTable(results), /not comparable/);
    },
  );

  it('changes nothing when every contender rejected every corrupted member', () => {
    const results = gate(false);
    assert.doesNotMatch(markdownReport(results), /not comparable|Integrity gate:\*\*/);
    assert.match(markdownReport(results), /crc32 rejected/);
  });
});

describe("whole-process speeds near the output path's ceiling", () => {
  it('marks a speed within 20% of the ceiling, and the ratio it is in as not comparable', () => {
    const results = sampleResults();
    results.regime = 'process';
    const dataset = results.datasets[0]!;
    const head = dataset.contenders.find((contender) => contender.role === 'head')!.megabytesPerSecond!;
    const libdeflate = dataset.contenders.find((contender) => contender.role === 'libdeflate')!.megabytesPerSecond!;
    // A ceiling just above the faster side's speed and more than 25% above the slower one's.
    const [fast, slow] = head > libdeflate ? (['head', 'libdeflate'] as const) : (['libdeflate', 'head'] as const);
    const speeds = { head, libdeflate };
    const ceiling = speeds[fast] / 0.9;
    assert.ok(speeds[slow] < 0.8 * ceiling, 'the fixture has one side well below the other');
    dataset.outputPath = { via: 'a pipe drained with large reads', ceilingMegabytesPerSecond: ceiling };
    const report = markdownReport(results);
    const row = report.split('\n').find((line) => line.startsWith(`| ${escapeCell(dataset.label)} |`))!;
    assert.ok(row.includes(`${speeds[fast].toFixed(1)} ⚠️ bound by the output path`), row);
    assert.ok(!row.includes(`${speeds[slow].toFixed(1)} ⚠️`), row);
    assert.match(
      row,
      new RegExp(`⚠️ not comparable: ${fast} bound by the output path \\(ceiling ${ceiling.toFixed(0)} MB/s\\)`),
    );
    assert.match(
      report,
      new RegExp(
        String.raw`output through a pipe drained with large reads, whose ceiling \(` +
          '`' +
          String.raw`cat` +
          '`' +
          String.raw` of the output\) is \d+ MB\/s; a speed within 20% of it is marked`,
      ),
    );
  });
});

describe('summary line and ratio table', () => {
  const threeWay = async () =>
    parseResults(
      JSON.parse(
        await readFile(join(import.meta.dirname, '..', 'github', 'fixtures', 'results-three-way.json'), 'utf8'),
      ),
      'fixture',
    );

  it('says the tolerance and the power of a "no change", and how far an inconclusive run got', async () => {
    const results = await threeWay();
    results.settings.tolerance = 0.015;
    const [first, second] = results.datasets;
    // The verdict engine on made-up batches: 20 quiet batches (decided: no change), 4 noisy ones (undecided).
    const quiet = Array.from({ length: 20 }, (_, i) => [1 + 0.002 * ((i % 5) - 2)]);
    const noisy = Array.from({ length: 4 }, (_, i) => [0.99 + 0.02 * ((i % 2) - 0.5)]);
    const policy = { confidence: 0.99, minimumEffect: 0.005, tolerance: 0.015 };
    first!.headVsBase!.verdict = decideChange(quiet, policy);
    second!.headVsBase!.verdict = decideChange(noisy, policy);
    const caught = (first!.headVsBase!.verdict.detectableEffect! * 100).toFixed(1);
    const table = ratioTable(results);
    assert.ok(table.includes(`⚪ no change (±1.5%), would have caught ≥ ${caught}% |`), table);
    assert.match(
      table,
      new RegExp(
        String.raw`🟡 inconclusive: the 90% interval reaches \d+\.\d% from no change, past the ±1\.5` +
          String.raw`% tolerance, .* \(4 batches\); about \d+ more batch(es)? would likely decide it`,
      ),
    );
    assert.match(summaryLine(results), /SILESIA \(stand-in\) no change \(±1\.5%\)/);
    const report = markdownReport(results);
    assert.match(report, /no change when the 90% interval lies inside the ±1\.50% tolerance \(two one-sided tests\)/);
    assert.ok(
      report.includes(
        `SILESIA (stand-in): would have caught ≥ ${(first!.headVsBase!.verdict.detectableEffect! * 100).toFixed(2)}%`,
      ),
    );
  });

  it("without a base: the head's speed relative to libdeflate per dataset, or what failed", () => {
    const results = sampleResults();
    const ratio = results.datasets[0]!.headVsLibdeflate!.interval.estimate.toFixed(2);
    assert.equal(summaryLine(results), `**Summary:** gzippy runs at SILESIA ${ratio}× libdeflate's speed.`);
    const failed = sampleResults({ ok: false });
    failed.datasets[0]!.verified = false;
    failed.datasets[0]!.contenders[0]!.failure = 'wrong bytes';
    assert.match(summaryLine(failed), /^\*\*Summary: verification failed\*\* on SILESIA \(gzippy\)/);
  });

  it("with a base: the worst verdict first, each dataset's verdict and effect, head against libdeflate", async () => {
    const results = await threeWay();
    const line = summaryLine(results);
    const verdicts = results.datasets.map((dataset) => dataset.headVsBase!.verdict.kind);
    const worst = verdicts.includes('regression')
      ? 'regression'
      : verdicts.includes('improvement')
        ? 'improvement'
        : verdicts.every((kind) => kind === 'no change')
          ? 'no change'
          : 'inconclusive';
    assert.ok(line.startsWith(`**Summary: ${worst}** — head vs base: `), line);
    for (const dataset of results.datasets)
      assert.ok(
        line.includes(`${escapeCell(dataset.label)} ${dataset.headVsBase!.verdict.kind}`),
        `${dataset.label} in ${line}`,
      );
    assert.match(line, /; head at .* libdeflate's speed\.$/);
  });

  it('one row a dataset, with every column the header names', async () => {
    const results = await threeWay();
    const lines = ratioTable(results).split('\n');
    const columns = lines[0]!.split(' | ').length;
    assert.equal(lines.length, 2 + results.datasets.length);
    for (const [i, dataset] of results.datasets.entries()) {
      const row = lines[2 + i]!;
      assert.ok(row.startsWith(`| ${escapeCell(dataset.label)} | `), row);
      assert.equal(row.split(' | ').length, columns, row);
      const head = dataset.contenders.find((contender) => contender.role === 'head')!.megabytesPerSecond!;
      assert.ok(row.includes(` ${head.toFixed(1)} `), `head MB/s in ${row}`);
      assert.ok(row.includes(`**${dataset.headVsLibdeflate!.interval.estimate.toFixed(3)}**`), row);
    }
  });
});

describe('where the contenders ran', () => {
  it('lists each place once, whatever order and how many datasets met it', () => {
    const results = sampleResults();
    const [first] = results.datasets;
    results.datasets = [
      {
        ...first!,
        label: 'SILESIA',
        placement: 'pinned to CPU 1 (sched_setaffinity), pinned to CPU 0 (sched_setaffinity)',
      },
      {
        ...first!,
        label: 'LOGS',
        placement: 'pinned to CPU 0 (sched_setaffinity), pinned to CPU 1 (sched_setaffinity)',
      },
      { ...first!, label: 'SOFTWARE', placement: 'pinned to CPU 0 (sched_setaffinity)' },
    ];
    const timing = markdownReport(results)
      .split('\n')
      .find((line) => line.startsWith('- timing: '));
    assert.match(
      timing ?? '',
      /per dataset; pinned to CPU 0 \(sched\\_setaffinity\), pinned to CPU 1 \(sched\\_setaffinity\); every output/,
    );
  });
});

describe('a contender that used CPU outside its decode calls', () => {
  const withUsage = (outsideTurnCpuMs: number) => {
    const results = sampleResults();
    const usage = {
      threads: 1,
      cpus: [0],
      placementNote: null,
      wallTimeMs: 20,
      cpuTimeMs: 19,
      parallelEfficiency: 0.95,
      outsideTurnCpuMs,
      outsideTurnAllowanceMs: 48,
    };
    for (const contender of results.datasets[0]!.contenders) contender.usage = { ...usage, outsideTurnCpuMs: 0 };
    results.datasets[0]!.contenders[0]!.usage = usage;
    return parseResults(JSON.parse(JSON.stringify(results)), 'test');
  };
  it('over the allowance: the ratio, the summary and a note say it is not comparable; the usage table marks it', () => {
    const report = markdownReport(withUsage(412));
    assert.match(report, /⚠️ not comparable: gzippy used 412 ms of CPU outside its decode calls \(allowance 48 ms\)/);
    assert.match(summaryLine(withUsage(412)), /⚠️ Not comparable: gzippy used CPU outside its decode calls/);
    assert.match(
      report,
      new RegExp(
        String.raw`\| SILESIA \| gzippy \| 1 \| 0 \| 20\.0 \| 19\.0 \| 0\.95 \| ⚠️ 412\.0 ms \(allo` +
          String.raw`wance 48 ms: 2 ms × 24 rounds\) \|`,
      ),
    );
  });
  it('within it: nothing is marked', () => {
    const report = markdownReport(withUsage(3));
    assert.doesNotMatch(report, /not comparable/i);
    assert.match(
      report,
      /\| SILESIA \| gzippy \| 1 \| 0 \| 20\.0 \| 19\.0 \| 0\.95 \| 3\.0 ms \(allowance 48 ms: 2 ms × 24 rounds\) \|/,
    );
  });
  it('fewer CPUs than asked, or another bench on the same CPUs: the summary line says so, not only the tables', () => {
    const results = withUsage(0);
    const head = results.datasets[0]!.contenders[0]!;
    head.usage = { ...head.usage!, threads: 4, cpus: [0, 1], placementNote: 'asked for 4 CPUs, this machine allows 2' };
    results.datasets[0]!.concurrentBench = 'another perf-lab bench (pid 77) was running on CPU 0: both runs disturbed';
    const line = summaryLine(results);
    assert.match(line, /⚠️ gzippy asked for 4 CPUs, this machine allows 2 \(marked in the usage table\)\./);
    assert.match(line, /⚠️ another perf-lab bench \(pid 77\) was running on CPU 0/);
  });
  it("unpinned (macOS): the CPUs are the scheduler's, and the report says so", () => {
    const results = withUsage(0);
    for (const contender of results.datasets[0]!.contenders) contender.usage!.cpus = null;
    assert.match(markdownReport(results), /Placement is the scheduler's where no CPUs are listed/);
  });
});

describe('a Linux ARM64 run', () => {
  it('names the CPU with its MIDR and page size, and states what differs from macOS', () => {
    const results = sampleResults();
    results.machine = {
      os: 'linux',
      osRelease: '6.8.0-1014-azure',
      arch: 'arm64',
      cpuModel: 'Arm Neoverse N2',
      logicalCpus: 4,
      midr: { implementer: '0x41', part: '0xd49', variant: '0x0', revision: '0' },
      pageSizeBytes: 4096,
    };
    results.libdeflate = { ...results.libdeflate, compiler: 'cc (Ubuntu 13.3.0-6ubuntu2~24.04) 13.3.0' };
    const lines = markdownReport(results).split('\n');
    assert.ok(
      lines.includes(
        '- machine: Arm Neoverse N2 (MIDR 0x41:0xd49 (variant 0x0, revision 0)), linux 6.8.0-1014-azure arm64, ' +
          '4 logical CPUs, 4 KiB pages',
      ),
      lines.join('\n'),
    );
    const differs = lines.find((line) => line.startsWith('- Linux ARM64, not macOS: '));
    assert.match(differs ?? '', /CPU model chosen for Arm Neoverse N2 \(named in its section\), not an Apple core's/);
    assert.match(differs ?? '', /libdeflate is built by cc \(Ubuntu 13\.3\.0-6ubuntu2~24\.04\) 13\.3\.0/);
    assert.match(differs ?? '', /4 KiB pages \(macOS on Apple silicon: 16 KiB\)$/);
    // A macOS run has no such line.
    assert.ok(!markdownReport(sampleResults()).includes('Linux ARM64, not macOS'));
  });
});
