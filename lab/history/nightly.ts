import { dirname, join, relative, resolve } from 'node:path';
import type { BenchConfig } from '../bench/config.js';
import { writeResults, type BenchResults } from '../results/index.js';
import { runBenchmarkWithBuilds } from '../bench/run.js';
import { LabError } from '../core/errors.js';
import { writeFileAtomically } from '../core/files.js';
import { warn } from '../core/log.js';
import { createGitHubClient } from '../github/client.js';
import { upsertTrackingIssue } from '../github/issue.js';
import { publishChanges } from '../github/publish.js';
import { trendChartSvg } from './chart.js';
import { cacheRoot, projectRoot } from '../core/paths.js';
import type { DatasetName, Scale } from '../datasets/index.js';
import { escapeCell } from '../report/index.js';
import { right, tableLines } from '../report/table.js';
import { analyzeLoop } from '../uarch/index.js';
import { historyEvents, type HistoryEvent } from './changes.js';
import { appendHistory, readHistory, type HistoryRecord } from './store.js';

export function defaultHistoryPath(): string {
  return join(projectRoot(), 'baselines', 'history', 'nightly.jsonl');
}

export interface NightlyOptions {
  config: BenchConfig;
  /** Rust toolchains by rustup name (stable, beta, nightly, 1.xx). */
  toolchains: readonly string[];
  /** C compilers for libdeflate (cc, clang-14; a bare version N means clang-N); empty: the config's. */
  compilers: readonly string[];
  scale: Scale;
  datasetsDir: string;
  only?: readonly DatasetName[];
  historyPath: string;
  /** The decoder's hot function, for the critical path per toolchain (ARM64 hosts). */
  functionName?: string;
  /** The CPU model; undefined: the one chosen for this machine. */
  cpu?: string;
  date?: string;
  offline?: boolean;
  /** Commit the history (and charts) in this clone and push, replaying on a moved branch. */
  publishRepoDir?: string;
  /** Open or update the tracking issue here when tonight has events (token from options.token). */
  githubRepository?: string;
  token?: string;
  apiUrl?: string;
}

export interface NightlyRun {
  toolchain: string;
  cc: string;
  results?: BenchResults;
  criticalPathCycles: number | null;
  failure?: string;
}

export interface NightlyOutcome {
  runs: NightlyRun[];
  appended: HistoryRecord[];
  events: HistoryEvent[];
  /** Events dated tonight: what the tracking issue reports. */
  newEvents: HistoryEvent[];
  markdown: string;
  issueUrl?: string;
}

/**
 * One night: for each toolchain × C compiler, build and benchmark the decoder
 * against libdeflate (and analyse the hot loop on ARM64), append the ratios to
 * the history, and detect events over the whole history. A toolchain that
 * cannot be had is reported and the others still run.
 */
const safeName = (text: string) => text.replace(/[^A-Za-z0-9._+-]+/g, '_').slice(0, 60);

/** A C compiler as the nightly options name it: a bare version N means clang-N. */
export function compilerName(compiler: string): string {
  return /^\d+$/.test(compiler) ? `clang-${compiler}` : compiler;
}

export async function runNightly(options: NightlyOptions): Promise<NightlyOutcome> {
  if (options.date && !/^\d{4}-\d{2}-\d{2}$/.test(options.date))
    throw new LabError('nightly', `--date ${options.date} is not YYYY-MM-DD.`, 'pass a date like 2026-11-25.');
  const date = options.date ?? new Date().toISOString().slice(0, 10);
  const runs: NightlyRun[] = [];
  const records: HistoryRecord[] = [];
  const keptResults: string[] = [];
  const compilers = options.compilers.length
    ? options.compilers.map(compilerName)
    : [options.config.libdeflate.cc ?? process.env.CC ?? 'cc'];
  for (const toolchain of options.toolchains) {
    for (const cc of compilers) {
      const decoder = options.config.decoder;
      const config: BenchConfig = {
        ...options.config,
        libdeflate: { ...options.config.libdeflate, cc },
        decoder:
          'libdeflate' in decoder ? decoder : { ...decoder, env: { ...decoder.env, RUSTUP_TOOLCHAIN: toolchain } },
      };
      try {
        const { results, builds } = await runBenchmarkWithBuilds({
          config,
          scale: options.scale,
          datasetsDir: options.datasetsDir,
          only: options.only,
          offline: options.offline,
        });
        let criticalPathCycles: number | null = null;
        // The build the benchmark measured (building again would run the decoder's codegen again).
        if (options.functionName && process.arch === 'arm64' && builds.head.kind === 'cargo') {
          criticalPathCycles = (
            await analyzeLoop({
              path: builds.head.build.artifactPath,
              functionName: options.functionName,
              cpu: options.cpu,
            })
          ).analysis.criticalPathCycles;
        }
        // Kept before anything can refuse them (a damaged history file, a failed push).
        const kept = join(cacheRoot(), 'results', `nightly-${date}-${safeName(toolchain)}-${safeName(cc)}.json`);
        await writeResults(kept, results);
        keptResults.push(kept);
        runs.push({ toolchain, cc, results, criticalPathCycles });
        for (const dataset of results.datasets) {
          if (!dataset.headVsLibdeflate) continue;
          const { estimate, low, high } = dataset.headVsLibdeflate.interval;
          records.push({
            v: 1,
            date,
            recordedAt: results.createdAt,
            cpuModel: results.machine.cpuModel,
            toolchain,
            rustc: results.head.rustc ?? results.head.compiler ?? 'unknown',
            llvm: results.head.llvm ?? 'unknown',
            libdeflate: results.libdeflate.version,
            cc: results.libdeflate.compiler,
            dataset: dataset.label,
            datasetSha256: dataset.compressedSha256,
            ratio: { estimate, low, high },
            criticalPathCycles,
          });
        }
      } catch (error) {
        const failure = (error as Error).message.split('\n')[0]!;
        warn(`nightly: ${toolchain} with ${cc}: ${failure}`);
        runs.push({ toolchain, cc, criticalPathCycles: null, failure });
      }
    }
  }
  let appended: HistoryRecord[] = [];
  const writeHistory = async () => {
    try {
      appended = await appendHistory(options.historyPath, records);
    } catch (error) {
      if (!(error instanceof LabError) || keptResults.length === 0) throw error;
      throw new LabError(
        error.step,
        `${error.message} Tonight's measurements are kept: ${keptResults.join(', ')}.`,
        error.hint,
      );
    }
    await writeCharts(options.historyPath);
  };
  if (options.publishRepoDir) {
    const repoDir = resolve(options.publishRepoDir);
    if (!options.historyPath.startsWith(`${repoDir}/`))
      throw new LabError(
        'nightly',
        `the history file ${options.historyPath} is not inside ${repoDir}.`,
        'pass --history inside the clone given with --publish.',
      );
    await publishChanges({
      repoDir,
      paths: [relative(repoDir, dirname(options.historyPath))],
      message: `perf-lab nightly ${date}`,
      apply: writeHistory,
      step: 'nightly: publish',
    });
  } else {
    await writeHistory();
  }
  const events = historyEvents(await readHistory(options.historyPath));
  const newEvents = events.filter((event) => event.date === date);
  const markdown = nightlyMarkdown(date, runs, newEvents);
  let issueUrl: string | undefined;
  if (newEvents.length && options.githubRepository && options.token) {
    const [owner, repo] = options.githubRepository.split('/');
    const client = createGitHubClient({ token: options.token, baseUrl: options.apiUrl, onWarning: warn });
    issueUrl = (
      await upsertTrackingIssue(
        client,
        { owner: owner!, repo: repo! },
        'perf-lab nightly: toolchain tracking',
        'Nightly ratios of the decoder vs libdeflate per toolchain; charts in ' +
          `\`${relative(dirname(dirname(options.historyPath)), dirname(options.historyPath))}/\`. The latest ` +
          `night:\n\n${markdown}`,
        markdown,
      )
    ).url;
  }
  return { runs, appended, events, newEvents, markdown, issueUrl };
}

/** Regenerates one SVG trend chart per dataset beside the history file. */
async function writeCharts(historyPath: string): Promise<string[]> {
  const records = await readHistory(historyPath);
  const written: string[] = [];
  for (const dataset of [...new Set(records.map((record) => record.dataset))].sort()) {
    const path = join(
      dirname(historyPath),
      `${dataset
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, '')}.svg`,
    );
    await writeFileAtomically(path, await trendChartSvg(records, dataset));
    written.push(path);
  }
  return written;
}

function nightlyMarkdown(date: string, runs: readonly NightlyRun[], newEvents: readonly HistoryEvent[]): string {
  const rows = runs.flatMap(({ toolchain, cc, results, failure, criticalPathCycles }) => {
    if (!results) {
      const failed = `❌ ${escapeCell(failure ?? 'failed')}`;
      return [[escapeCell(toolchain), '—', '—', escapeCell(cc), '—', failed, '—']];
    }
    return results.datasets.map((dataset) => {
      const interval = dataset.headVsLibdeflate?.interval;
      return [
        escapeCell(toolchain),
        escapeCell(results.head.rustc ?? '—'),
        escapeCell(results.head.llvm ?? '—'),
        escapeCell(results.libdeflate.compiler),
        escapeCell(dataset.label),
        interval
          ? `${interval.estimate.toFixed(3)} (${interval.low.toFixed(3)}–${interval.high.toFixed(3)})`
          : '❌ not verified',
        String(criticalPathCycles ?? '—'),
      ];
    });
  });
  const lines = [
    `## perf-lab nightly ${date}`,
    '',
    ...tableLines(
      [
        'toolchain',
        'rustc',
        'LLVM',
        'libdeflate built with',
        'dataset',
        right('ratio (95% CI)'),
        right('critical path'),
      ],
      rows,
    ),
  ];
  lines.push(
    '',
    newEvents.length
      ? '### Events tonight'
      : 'No events tonight (no change beyond the noise, no new LLVM major, no gap closed).',
    ...newEvents.map((event) => `- **${event.kind}**: ${escapeCell(event.text)}`),
  );
  return `${lines.join('\n')}\n`;
}
