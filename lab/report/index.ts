import { midrText } from '../cpu/midr.js';
import {
  comparability,
  integrityFinding,
  notComparableContenders,
  outsideTurnContenders,
  OUTSIDE_TURN_ALLOWANCE_MS_PER_ROUND,
  type BenchResults,
  type Comparison,
  type DatasetResult,
} from '../results/index.js';
import { relativeHalfWidth, type Verdict } from '../stats/index.js';
import { escapeCell } from './cell.js';
import { countsCells, countsColumn, countsSection } from './counts.js';

export { escapeCell };
import { markdownTable, right, type Column } from './table.js';

/** A stored-baseline comparison as the drift table shows it (baselines' Drift has this shape). */
export interface DriftRow {
  dataset: string;
  baseline: { ratio: { estimate: number } } | null;
  current: number | null;
  verdict: Verdict | null;
  note: string;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

const mbps = (value: number | null | undefined) => (value === null || value === undefined ? '—' : value.toFixed(1));
const percent = (value: number) => `${value >= 0 ? '+' : '−'}${Math.abs(value * 100).toFixed(1)}%`;

/**
 * A ratio with its interval; when it does not mean what it says (see comparability), why first and the number only as
 * measured.
 */
function ratioCell(
  comparison: Comparison | null,
  view: { notComparable: string[]; label: string | null } = { notComparable: [], label: null },
  dataset?: DatasetResult,
): string {
  if (!comparison) return dataset && tooFewBatches(dataset) ? NOT_ENOUGH_BATCHES : '—';
  const { estimate, low, high } = comparison.interval;
  if (view.notComparable.length)
    return `⚠️ not comparable: ${view.notComparable.map(escapeCell).join('; ')} (measured ${estimate.toFixed(3)})`;
  return (
    `**${estimate.toFixed(3)}** ` +
    `(${low.toFixed(3)}–${high.toFixed(3)})${view.label ? ` (${escapeCell(view.label)})` : ''}`
  );
}

/**
 * A verified dataset with fewer than 2 batches has no ratio: one batch says nothing of the between-process noise,
 * so no interval from it is printed or stored (bench stores none).
 */
const tooFewBatches = (dataset: DatasetResult) => dataset.verified && dataset.batches < 2;
const NOT_ENOUGH_BATCHES = 'not enough batches (1): raise the time budget';

/** Within 20% of the output path's ceiling: the speed measures the pipe or file, not the decoder. */
const OUTPUT_BOUND_SHARE = 0.8;
const outputBound = (dataset: DatasetResult, role: string) => {
  const ceiling = dataset.outputPath?.ceilingMegabytesPerSecond;
  const value = speed(dataset, role);
  return Boolean(ceiling && value && value >= OUTPUT_BOUND_SHARE * ceiling);
};

/** Comparability of a ratio between two roles of the run on a dataset. */
const between = (
  results: BenchResults,
  dataset: DatasetResult | undefined,
  ...roles: Array<'head' | 'base' | 'libdeflate'>
) => {
  const view = comparability(
    results,
    roles.map((role) =>
      role === 'libdeflate'
        ? { name: results.libdeflate.name, threads: 1 }
        : role === 'base'
          ? results.base!
          : results.head,
    ),
  );
  const bound = dataset ? roles.filter((role) => outputBound(dataset, role)) : [];
  if (bound.length)
    view.notComparable.push(
      `${bound.join(' and ')} bound by the output path (ceiling ` +
        `${dataset!.outputPath!.ceilingMegabytesPerSecond!.toFixed(0)} MB/s)`,
    );
  return view;
};

/** A speed, marked when it is within 20% of the output path's ceiling. */
const speedCell = (dataset: DatasetResult, role: string) =>
  `${mbps(speed(dataset, role))}${outputBound(dataset, role) ? ' ⚠️ bound by the output path' : ''}`;

/** One line per contender the gate caught or that worked outside its turn, for under the table. */
export function integrityNotes(results: BenchResults): string[] {
  const outside = outsideTurnContenders(results);
  return [...notComparableContenders(results)].map(([name, why]) =>
    outside.has(name) && !integrityFinding(results, name)
      ? `⚠️ **Not comparable:** ${escapeCell(name)} ${escapeCell(why)}.`
      : `⚠️ **Integrity gate:** ${escapeCell(name)} ${escapeCell(why)}.`,
  );
}

const VERDICT_MARKS: Record<Verdict['kind'], string> = {
  regression: '🔴 regression',
  improvement: '🟢 improvement',
  'no change': '⚪ no change',
  inconclusive: '🟡 inconclusive',
};

type VerdictView = NonNullable<DatasetResult['headVsBase']>['verdict'];
/** A dataset's place in the summary: its verdict, or why it has none. */
type VerdictKindView = VerdictView | { kind: 'inconclusive'; note: string };

/**
 * The verdict as a reader needs it: no change with the tolerance it holds for and the slowdown the run would have
 * caught (its power), inconclusive with why.
 */
function verdictText(verdict: VerdictView): string {
  const mark = VERDICT_MARKS[verdict.kind];
  if (verdict.kind === 'no change' && verdict.threshold > 0)
    return `${mark} (±${(verdict.threshold * 100).toFixed(1)}%)${powerNote(verdict)}`;
  if (verdict.kind === 'inconclusive' && verdict.reason) return `${mark}: ${escapeCell(verdict.reason)}`;
  return mark;
}

/** ", would have caught ≥ 1.8%": the smallest slowdown this run finds 95% of the time (absent in older results). */
function powerNote(verdict: VerdictView): string {
  return typeof verdict.detectableEffect === 'number'
    ? `, would have caught ≥ ${(verdict.detectableEffect * 100).toFixed(1)}%`
    : '';
}

function verifiedCell(dataset: DatasetResult, targetHalfWidth: number): string {
  if (!dataset.verified) return failureCell(dataset);
  const shape = `${dataset.batches}×${dataset.batches ? Math.round(dataset.rounds / dataset.batches) : 0} rounds`;
  // With a base, sampling stops when the verdict is decided (the Δ column holds its interval). Results written
  // before tolerances, and runs without a base, stopped on the primary 95% interval's width: shown beside its target.
  if (dataset.headVsBase?.verdict.tolerance !== undefined)
    return `✅ ${shape} (${dataset.targetMet ? 'verdict decided' : `undecided: ${escapeCell(dataset.stoppedBecause)}`})`;
  const primary = dataset.headVsBase ?? dataset.headVsLibdeflate;
  const reached = primary ? `, ±${(relativeHalfWidth(primary.interval) * 100).toFixed(2)}%` : '';
  const target = `target ±${(targetHalfWidth * 100).toFixed(2)}% ${dataset.targetMet ? 'met' : 'not met'}`;
  return `✅ ${shape}${reached} (${target})`;
}

/** Which contender failed and why, for a table cell. */
function failureCell(dataset: DatasetResult): string {
  const failures = dataset.contenders
    .filter((contender) => contender.failure)
    .map((contender) => `${contender.name}: ${contender.failure}`);
  return `❌ ${escapeCell(failures.join('; ') || 'no samples')}`;
}

const speed = (dataset: DatasetResult, role: string) =>
  dataset.contenders.find((contender) => contender.role === role)?.megabytesPerSecond;

/** The ratio table: one row a dataset; with a base, also base, head/base with CI and the verdict. */
export function ratioTable(results: BenchResults): string {
  const head = escapeCell(results.head.name);
  const libdeflate = escapeCell(results.libdeflate.name);
  const halfWidth = results.settings.targetHalfWidth;
  const versusLibdeflate = (dataset: DatasetResult, role: 'head' | 'base') =>
    ratioCell(
      role === 'head' ? dataset.headVsLibdeflate : dataset.baseVsLibdeflate,
      between(results, dataset, role, 'libdeflate'),
      dataset,
    );
  const counts = optionalColumn(countsColumn(results));
  if (!results.base) {
    return markdownTable(
      [
        'dataset',
        right('size'),
        right(`${head} MB/s`),
        right(`${libdeflate} MB/s`),
        right('ratio (95% interval)'),
        'verified',
        ...counts,
      ],
      results.datasets.map((dataset) => [
        escapeCell(dataset.label),
        formatBytes(dataset.rawBytes),
        speedCell(dataset, 'head'),
        speedCell(dataset, 'libdeflate'),
        versusLibdeflate(dataset, 'head'),
        verifiedCell(dataset, halfWidth),
        ...countsCells(results, dataset.name),
      ]),
    );
  }
  const base = escapeCell(results.base.name);
  const confidence = Math.round(results.settings.verdictConfidence * 100);
  return markdownTable(
    [
      'dataset',
      right('size'),
      right(`${head} (head) MB/s`),
      right(`${base} (base) MB/s`),
      right(`${libdeflate} MB/s`),
      right('head / libdeflate'),
      right('base / libdeflate'),
      right(`Δ head vs base (${confidence}% interval)`),
      'verdict',
      'verified',
      ...counts,
    ],
    results.datasets.map((dataset) => [
      escapeCell(dataset.label),
      formatBytes(dataset.rawBytes),
      speedCell(dataset, 'head'),
      speedCell(dataset, 'base'),
      speedCell(dataset, 'libdeflate'),
      versusLibdeflate(dataset, 'head'),
      versusLibdeflate(dataset, 'base'),
      dataset.headVsBase ? changeCell(dataset.headVsBase.verdict) : '—',
      dataset.headVsBase
        ? verdictText(dataset.headVsBase.verdict)
        : tooFewBatches(dataset)
          ? `${VERDICT_MARKS.inconclusive}: ${NOT_ENOUGH_BATCHES}`
          : '—',
      verifiedCell(dataset, halfWidth),
      ...countsCells(results, dataset.name),
    ]),
  );
}

/** A change with its interval: "−3.1% (−4.0% … −2.2%)". */
function changeCell(verdict: Verdict): string {
  const { estimate, low, high } = verdict.interval;
  return `${percent(estimate - 1)} (${percent(low - 1)} … ${percent(high - 1)})`;
}

function detectableText(verdict: VerdictView): string {
  if (typeof verdict.detectableEffect === 'number')
    return `would have caught ≥ ${percentPlain(verdict.detectableEffect)}`;
  if (verdict.detectableEffect === null) return 'power unknown (one batch, no calibration)';
  // Results written before tolerances kept the run's own margin here.
  return `margin ±${percentPlain(verdict.threshold)}`;
}

/** What ended sampling early: the verdict (a base, results with a tolerance), else the primary interval's width. */
function stopRuleText(results: BenchResults): string {
  if (results.base && results.settings.tolerance !== undefined)
    return `the head-vs-base verdict is decided (at most ${results.settings.maxBatches} batches)`;
  const primary = results.base ? 'head/base' : 'head/libdeflate';
  return `the ${primary} 95% interval is within ±${(results.settings.targetHalfWidth * 100).toFixed(2)}%`;
}

/** How "no change" and stopping were decided: against the stated tolerance, or (older results) the run's margin. */
function verdictRule(tolerance: number | undefined, source: string | undefined): string {
  if (tolerance === undefined)
    return (
      'no change when the 90% interval lies inside ±margin (two one-sided tests), the margin being the smallest ' +
      'change this run detects 95% of the time (results written before tolerances); margins: '
    );
  return (
    `no change when the 90% interval lies inside the ±${percentPlain(tolerance)} tolerance` +
    `${source ? ` (from ${escapeCell(source)})` : ''} (two one-sided tests); ` +
    'else inconclusive. Sampling stops once the verdict is decided, an early look holding each test to a Bonferroni ' +
    'share of its error rate; power (the slowdown this run would have caught 95% of the time): '
  );
}

function percentPlain(value: number): string {
  return `${(value * 100).toFixed(2)}%`;
}

/** One line a reviewer reads in two seconds. */
export function summaryLine(results: BenchResults): string {
  const outside = outsideTurnContenders(results);
  const careless = [...notComparableContenders(results).keys()].map((name) => {
    const gate = integrityFinding(results, name);
    if (!gate) return `${escapeCell(name)} used CPU outside its decode calls`;
    return `${escapeCell(name)} ${gate === 'not checked' ? 'was not checked' : 'accepted a corrupted member'}`;
  });
  const line = summaryOfSpeeds(results) + cautions(results);
  const see = outside.size ? 'see the notes under the table' : 'see the integrity gate';
  return careless.length ? `${line} ⚠️ Not comparable: ${careless.join(', ')} (${see}).` : line;
}

/** What the table marks and the summary must not drop: fewer CPUs than asked, another bench on the same CPUs. */
function cautions(results: BenchResults): string {
  const short = [
    ...new Set(
      results.datasets.flatMap((dataset) =>
        dataset.contenders.flatMap((contender) =>
          contender.usage?.placementNote?.includes('asked for')
            ? [`${escapeCell(contender.name)} ${escapeCell(contender.usage.placementNote.split(';')[0]!)}`]
            : [],
        ),
      ),
    ),
  ];
  const concurrent = [...new Set(results.datasets.flatMap((dataset) => dataset.concurrentBench ?? []))];
  return [
    ...(short.length ? [` ⚠️ ${short.join('; ')} (marked in the usage table).`] : []),
    ...(concurrent.length ? [` ⚠️ ${escapeCell(concurrent.join('; '))}.`] : []),
  ].join('');
}

function summaryOfSpeeds(results: BenchResults): string {
  const failed = results.datasets.filter((dataset) => !dataset.verified);
  const failedText = failed
    .map(
      (dataset) =>
        `${escapeCell(dataset.label)} (${
          dataset.contenders
            .filter((c) => c.failure)
            .map((c) => escapeCell(c.name))
            .join(', ') || 'no samples'
        })`,
    )
    .join(', ');
  const vsLibdeflate = results.datasets
    .filter((dataset) => dataset.headVsLibdeflate)
    .map((dataset) => {
      // The ratio cell's qualifiers travel with the number: not comparable, cross-thread.
      const view = between(results, dataset, 'head', 'libdeflate');
      const qualifier = view.notComparable.length
        ? ` (⚠️ not comparable: ${view.notComparable.map(escapeCell).join('; ')})`
        : view.label
          ? ` (${escapeCell(view.label)})`
          : '';
      return `${escapeCell(dataset.label)} ${dataset.headVsLibdeflate!.interval.estimate.toFixed(2)}×${qualifier}`;
    })
    .join(', ');
  if (!results.base) {
    if (failed.length)
      return (
        `**Summary: verification failed** on ${failedText}` +
        (vsLibdeflate
          ? `; elsewhere ${escapeCell(results.head.name)} runs at ${vsLibdeflate} libdeflate's speed`
          : '') +
        '.'
      );
    return `**Summary:** ${escapeCell(results.head.name)} runs at ${vsLibdeflate} libdeflate's speed.`;
  }
  const verdicts = results.datasets.flatMap((dataset): { label: string; verdict: VerdictKindView }[] =>
    dataset.headVsBase
      ? [{ label: escapeCell(dataset.label), verdict: dataset.headVsBase.verdict }]
      : tooFewBatches(dataset)
        ? [{ label: escapeCell(dataset.label), verdict: { kind: 'inconclusive', note: 'not enough batches' } as const }]
        : [],
  );
  const worst = verdicts.some((v) => v.verdict.kind === 'regression')
    ? 'regression'
    : verdicts.some((v) => v.verdict.kind === 'improvement')
      ? 'improvement'
      : verdicts.every((v) => v.verdict.kind === 'no change')
        ? 'no change'
        : 'inconclusive';
  const note = (verdict: VerdictKindView) => {
    if ('note' in verdict) return `: ${verdict.note}`;
    if (verdict.kind === 'regression' || verdict.kind === 'improvement') return ` (${percent(verdict.effect)})`;
    if (verdict.kind === 'no change' && verdict.threshold > 0) return ` (±${(verdict.threshold * 100).toFixed(1)}%)`;
    return '';
  };
  const detail = verdicts.map((v) => `${v.label} ${v.verdict.kind}${note(v.verdict)}`).join(', ');
  if (failed.length)
    return `**Summary: verification failed** on ${failedText}${detail ? ` — elsewhere head vs base: ${detail}` : ''}.`;
  return `**Summary: ${worst}** — head vs base: ${detail}; head at ${vsLibdeflate} libdeflate's speed.`;
}

/**
 * On Linux ARM64, what differs from the macOS runs a reader may compare with: the CPU model the hot-loop analysis
 * prices the code on (chosen from the MIDR, not an Apple core), libdeflate's compiler (the image's cc, GCC on Ubuntu,
 * where macOS has Apple clang) and the page size (macOS on Apple silicon uses 16 KiB pages).
 */
function linuxArmDifferences(results: BenchResults): string[] {
  const { machine, libdeflate } = results;
  if (machine.os !== 'linux' || machine.arch !== 'arm64') return [];
  const pages = machine.pageSizeBytes ? `${machine.pageSizeBytes / 1024} KiB pages` : 'page size not recorded';
  return [
    `- Linux ARM64, not macOS: the hot-loop analysis uses the CPU model chosen for ` +
      `${escapeCell(machine.cpuModel)} (named in its section), not an Apple core's; libdeflate is built by ` +
      `${escapeCell(libdeflate.compiler)} (macOS runners: Apple clang); ${pages} (macOS on Apple silicon: 16 ` +
      `KiB)`,
  ];
}

/** The method, machine, toolchains and datasets behind a run, as a markdown list (every string escaped). */
export function methodDetails(results: BenchResults): string {
  const { machine, head, base, libdeflate, settings } = results;
  const standIns = results.datasets.filter((dataset) => dataset.standIn);
  const toolchain = (decoder: BenchResults['head']) =>
    decoder.rustc ? `${decoder.rustc}, LLVM ${decoder.llvm}` : (decoder.compiler ?? 'unknown');
  const thresholds = [
    ...new Set(
      results.datasets.flatMap((dataset) =>
        dataset.headVsBase
          ? [
              `${escapeCell(dataset.label)}: ${detectableText(dataset.headVsBase.verdict)}, noise from the ` +
                escapeCell(dataset.headVsBase.verdict.thresholdSource),
            ]
          : [],
      ),
    ),
  ];
  const parts = [
    `Ratios are speed / speed (above 1: faster): rounds paired, combined per rotation cycle, the median ` +
      `cycle per batch (fresh worker processes, contenders rotated through the worker slots), then the 20% ` +
      `trimmed mean over batches with a Yuen t 95% interval. MB/s = 10⁶ bytes of output per second at the ` +
      `median decode time.`,
    '',
    `- machine: ` +
      `${escapeCell(machine.cpuModel)}${machine.midr ? ` (MIDR ${escapeCell(midrText(machine.midr))})` : ''}, ` +
      `${escapeCell(machine.os)} ${escapeCell(machine.osRelease)} ${escapeCell(machine.arch)}, ` +
      `${machine.logicalCpus} logical ` +
      `CPUs${machine.pageSizeBytes ? `, ${machine.pageSizeBytes / 1024} KiB pages` : ''}`,
    ...linuxArmDifferences(results),
    `- timing: ${REGIME_DETAIL[results.regime]}; batches of ${settings.roundsPerBatch} interleaved rounds ` +
      `(fresh worker processes each, ${settings.warmupRounds} warm-up) until ${stopRuleText(results)} or ` +
      `${settings.budgetSeconds} s per dataset; ${escapeCell(placements(results).join(', '))}; ` +
      (results.datasets.some((dataset) => dataset.placement.startsWith('replayed from'))
        ? 'no decode timed (replayed batches, a test seam): outputs verified by the integrity gate only'
        : 'every output verified byte for byte'),
    ...results.datasets.map(
      (dataset) =>
        `  - ${escapeCell(dataset.label)}: ${dataset.batches} batches, ${dataset.rounds} rounds, ` +
        `${dataset.elapsedSeconds.toFixed(1)} s, stopped: ${escapeCell(dataset.stoppedBecause)}` +
        (dataset.outputPath
          ? `; output through ${escapeCell(dataset.outputPath.via)}, whose ceiling (\`cat\` of the output) is ` +
            (dataset.outputPath.ceilingMegabytesPerSecond === null
              ? 'unmeasured'
              : `${dataset.outputPath.ceilingMegabytesPerSecond.toFixed(0)} MB/s`) +
            '; a speed within 20% of it is marked'
          : ''),
    ),
    `- head: ${escapeCell(head.description)} (${escapeCell(toolchain(head))})`,
    ...(base ? [`- base: ${escapeCell(base.description)} (${escapeCell(toolchain(base))})`] : []),
    `- libdeflate ${escapeCell(libdeflate.version)}: ${escapeCell(libdeflate.source)}; ` +
      `${escapeCell(libdeflate.compiler)}; flags ${escapeCell(libdeflate.cflags)}`,
    ...(thresholds.length
      ? [
          `- verdicts: a change when the ${Math.round(settings.verdictConfidence * 100)}% interval excludes ` +
            `1 and the ` +
            `change is at least ${((settings.minimumEffect ?? 0.005) * 100).toFixed(1)}%; ` +
            verdictRule(settings.tolerance, settings.toleranceSource) +
            `${thresholds.join('; ')}`,
        ]
      : []),
    ...(results.integrity
      ? [
          `- integrity gate (before timing, on ${escapeCell(results.integrity.source)}): ${results.integrity.contenders
            .map((entry) => `${escapeCell(entry.name)} ${entry.cases.map((c) => `${c.case} ${c.outcome}`).join(', ')}`)
            .join('; ')}`,
        ]
      : ['- integrity gate: not run (results written before it)']),
    `- datasets: ` +
      results.datasets
        .map(
          (dataset) =>
            `${escapeCell(dataset.label)} (${dataset.scale}, ${escapeCell(dataset.compressor)} -${dataset.level}, ` +
            `sha256 ${dataset.compressedSha256.slice(0, 12)})`,
        )
        .join('; '),
  ];
  if (standIns.length > 0) {
    parts.push(
      `- ⚠️ ${standIns.map((dataset) => escapeCell(dataset.label)).join(', ')}: built from the Calgary and ` +
        `Canterbury corpora because the Silesia corpus was not available; not comparable with SILESIA results.`,
    );
  }
  if (!results.ok)
    parts.push(
      '',
      '**Verification failed**: no speed is reported for a contender that produced wrong output, crashed or hung.',
    );
  return parts.join('\n');
}

const REGIME_DETAIL: Record<BenchResults['regime'], string> = {
  'in-process':
    "in-process (C ABI), decode call only, into the lab's pre-mapped output buffer, output out of cache and " +
    'input in cache at the start of each decode',
  'in-process-allocating':
    'in-process, each decode allocating its output: the decoder returns a fresh Vec (its Rust API through a ' +
    'generated shim) and libdeflate decodes into a fresh malloc of the output size; allocation and the new ' +
    "output's page faults are timed, freeing is not; input in cache at the start of each decode",
  process: 'whole process (CLI), every side through its command-line program',
};

/** The timing regime in one line, for under the table. */
export function regimeLine(results: BenchResults): string {
  const threads = [results.head, ...(results.base ? [results.base] : [])]
    .map((decoder) => `${escapeCell(decoder.name)} ${decoder.threads ?? 1}`)
    .join(', ');
  const regime = {
    'in-process': "every side decodes into the lab's pre-mapped buffer (decode call only)",
    'in-process-allocating':
      'every side allocates its output on each decode (libdeflate too), and that allocation is timed',
    process: 'every side is a whole process (start-up and writing its output are timed)',
  }[results.regime];
  return (
    `Regime: ${regime}; threads: ${threads}, libdeflate ` +
    `1${results.settings.compareAcrossThreads ? ' (cross-thread ratios allowed, labelled)' : ''}.`
  );
}

export function reportTitle(results: BenchResults): string {
  const { head, base, libdeflate } = results;
  return (
    `perf-lab: ${escapeCell(head.name)}${base ? ` (head) vs ${escapeCell(base.name)} (base)` : ''} vs ` +
    `${escapeCell(libdeflate.name)}`
  );
}

/** The full markdown report of one benchmark run. */
export function markdownReport(results: BenchResults): string {
  const notes = integrityNotes(results);
  const usage = usageTable(results);
  const counts = countsSection(results);
  const parts = [
    `## ${reportTitle(results)}`,
    '',
    summaryLine(results),
    '',
    ratioTable(results),
    '',
    regimeLine(results),
  ];
  parts.push(...(notes.length ? ['', ...notes] : []), ...(counts ? ['', counts] : []), ...(usage ? ['', usage] : []));
  return `${[...parts, '', methodDetails(results)].join('\n')}\n`;
}

const optionalColumn = (column: Column | null): Column[] => (column ? [column] : []);

/**
 * Per dataset and contender: the CPUs it ran on, wall and CPU time of its measured decodes, parallel efficiency
 * (CPU / (wall × threads)) and the CPU it used outside its decode calls; null for results written before these.
 */
function usageTable(results: BenchResults): string | null {
  const rows = results.datasets.flatMap((dataset) =>
    dataset.contenders.flatMap((contender) => {
      const usage = contender.usage;
      if (!usage) return [];
      const rounds = usage.outsideTurnAllowanceMs / OUTSIDE_TURN_ALLOWANCE_MS_PER_ROUND;
      const outside =
        `${usage.outsideTurnCpuMs.toFixed(1)} ms (allowance ${usage.outsideTurnAllowanceMs} ms: ` +
        `${OUTSIDE_TURN_ALLOWANCE_MS_PER_ROUND} ms × ${rounds} rounds)`;
      return [
        [
          escapeCell(dataset.label),
          escapeCell(contender.name),
          String(usage.threads),
          `${usage.cpus ? usage.cpus.join(',') : "the scheduler's"}` +
            `${usage.placementNote ? ` ⚠️ ${escapeCell(usage.placementNote)}` : ''}`,
          usage.wallTimeMs.toFixed(1),
          usage.cpuTimeMs.toFixed(1),
          usage.parallelEfficiency === null ? '—' : usage.parallelEfficiency.toFixed(2),
          usage.outsideTurnCpuMs > usage.outsideTurnAllowanceMs ? `⚠️ ${outside}` : outside,
        ],
      ];
    }),
  );
  if (rows.length === 0) return null;
  const table = markdownTable(
    [
      'dataset',
      'contender',
      right('threads'),
      'CPU ids',
      right('wall ms (measured decodes)'),
      right('CPU ms (all threads)'),
      right('parallel efficiency: CPU / (wall × threads asked)'),
      right('CPU outside its decode calls'),
    ],
    rows,
  );
  const scheduler = rows.some((row) => row[3]!.startsWith("the scheduler's"))
    ? "\n\nPlacement is the scheduler's where no CPUs are listed (macOS cannot pin threads to cores)."
    : '';
  return `${table}${scheduler}`;
}

/**
 * The table a reviewer reads in ten seconds: dataset, head MB/s, Δ vs base with
 * the verdict's interval, verdict, head/libdeflate (without a base: head and
 * libdeflate MB/s and their ratio).
 */
export function compactTable(results: BenchResults): string {
  const ratio = (dataset: DatasetResult) => {
    const view = between(results, dataset, 'head', 'libdeflate');
    const comparison = dataset.headVsLibdeflate;
    return comparison && (view.notComparable.length || view.label)
      ? ratioCell(comparison, view)
      : comparison
        ? `${comparison.interval.estimate.toFixed(3)}×`
        : tooFewBatches(dataset)
          ? NOT_ENOUGH_BATCHES
          : '—';
  };
  const counts = optionalColumn(countsColumn(results));
  if (!results.base) {
    return markdownTable(
      ['dataset', right('head MB/s'), right('libdeflate MB/s'), ...counts, right('head / libdeflate (95% interval)')],
      results.datasets.map((dataset) => [
        escapeCell(dataset.label),
        ...(dataset.verified
          ? [
              speedCell(dataset, 'head'),
              speedCell(dataset, 'libdeflate'),
              ...countsCells(results, dataset.name),
              ratioCell(dataset.headVsLibdeflate, between(results, dataset, 'head', 'libdeflate'), dataset),
            ]
          : [failureCell(dataset), '', ...countsCells(results, dataset.name), '']),
      ]),
    );
  }
  const confidence = Math.round(results.settings.verdictConfidence * 100);
  return markdownTable(
    [
      'dataset',
      right('head MB/s'),
      right(`Δ vs base (${confidence}% interval)`),
      'verdict',
      ...counts,
      right('head / libdeflate'),
    ],
    results.datasets.map((dataset) =>
      !dataset.verified || !dataset.headVsBase
        ? [
            escapeCell(dataset.label),
            '—',
            '—',
            dataset.verified ? '—' : failureCell(dataset),
            ...countsCells(results, dataset.name),
            '—',
          ]
        : [
            escapeCell(dataset.label),
            speedCell(dataset, 'head'),
            changeCell(dataset.headVsBase.verdict),
            verdictText(dataset.headVsBase.verdict),
            ...countsCells(results, dataset.name),
            ratio(dataset),
          ],
    ),
  );
}

/**
 * Where the contenders ran, each place once: a dataset records the places of its batches (", "-joined, in the order
 * its batches met them), so the same two CPUs would otherwise be listed once per dataset, in varying order.
 */
function placements(results: BenchResults): string[] {
  return [...new Set(results.datasets.flatMap((dataset) => dataset.placement.split(', ')))].sort();
}

/** Absolute paths of the machine that ran the job, cut to their last part (a comment shows no runner paths). */
export function withoutAbsolutePaths(text: string): string {
  return text.replace(/(?<![\w.:/\\])\/(?:[^\s/|`()]+\/)+([^\s/|`()]+)/g, '…/$1');
}

/** The baseline comparison: stored vs current decoder/libdeflate ratio, drift with CI and verdict. */
export function driftTable(drifts: readonly DriftRow[]): string {
  const table = markdownTable(
    ['dataset', right('baseline ratio'), right('current ratio'), right('drift (CI)'), 'verdict', 'note'],
    drifts.map(({ dataset, baseline, current, verdict, note }) => [
      escapeCell(dataset),
      baseline ? baseline.ratio.estimate.toFixed(3) : '—',
      current === null ? '—' : current.toFixed(3),
      verdict ? changeCell(verdict) : '—',
      verdict ? VERDICT_MARKS[verdict.kind] : '—',
      escapeCell(note),
    ]),
  );
  // Drift has its own estimator (two separate runs, not one interleaved job): said, so the columns are read right.
  const method = drifts.some((drift) => drift.verdict)
    ? "\nDrift is the ratio of the two runs' pooled median cycle ratios (current / baseline) with a two-sample " +
      "two-level bootstrap interval, not the quotient of the two ratio columns (each run's trimmed-mean estimate).\n"
    : '';
  return `${table}\n${method}`;
}
