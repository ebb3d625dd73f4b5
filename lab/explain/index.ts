import { resolve } from 'node:path';
import { LabError } from '../core/errors.js';
import { profilesOfMeasured } from '../datasets/profiles.js';
import { criticalPathDiff, notADecodeLoop } from '../report/critical-path.js';
import { escapeCell } from '../report/index.js';
import { modelGapSection, type ModelGapDataset } from '../report/model-gap.js';
import { readResults, type BenchResults } from '../results/index.js';
import { machineInfo } from '../bench/machine.js';
import { analyzeLoop, analyzeMatchingLoops, resolveCpuModel, textReport, type LoopReport } from '../uarch/index.js';

/*
 * The hot-loop explanation: the critical path of one build's decode loop, or base/head/libdeflate side by side,
 * and the loop model's prediction against a measured run. Used by `perf-lab analyze`, pr-check and the analyze action.
 */

/** A run's results and the datasets folder it measured: what the loop model is checked against. */
export interface Measurement {
  results: BenchResults;
  datasetsDir: string;
}

/**
 * The critical-path section for base, head and libdeflate builds and, with a
 * measurement, the loop model's prediction per dataset beside the measured
 * ratio. It reads ARM64 code: on another host the builds are not ARM64, and the
 * section says so.
 */
export async function hotLoopSection(
  builds: { base: string; head: string; reference: string },
  functionName: string,
  cpu: string | undefined,
  pins: { loop?: string; referenceLoop?: string } = {},
  measurement?: Measurement,
): Promise<string> {
  if (process.arch !== 'arm64') {
    return (
      `### Hot decode loop\n\nNot analysed: this host is ${process.arch}; the critical-path analysis ` +
      'reads ARM64 builds (run it on an ARM64 runner: macos-15, macos-26 or ubuntu-24.04-arm).\n'
    );
  }
  // Measured and analysed on the same runner: the model is the one chosen for this machine, unless named.
  const model = await resolveCpuModel(cpu, machineInfo);
  const analyse = (path: string, name: string, loop?: string) =>
    analyzeLoop({ path, functionName: name, cpu, loop, mca: true }, model);
  const base = await analyse(builds.base, functionName, pins.loop);
  const head = await analyse(builds.head, functionName, pins.loop);
  const reference = await analyse(builds.reference, 'libdeflate_deflate_decompress_ex', pins.referenceLoop);
  return (
    criticalPathDiff(base, head, reference) +
    (measurement ? await modelAgainstMeasurement(head, reference, measurement) : '')
  );
}

/** The loop model's per-dataset prediction against the measurement (see modelGapSection), or why there is none. */
async function modelAgainstMeasurement(
  head: LoopReport,
  reference: LoopReport,
  measurement: Measurement,
): Promise<string> {
  const unmatched = [head, reference].map(notADecodeLoop).filter(Boolean);
  if (unmatched.length)
    return `\n#### The loop model against the measurement\n\nNot predicted: ${escapeCell(unmatched.join('; '))}.\n`;
  const { results, datasetsDir } = measurement;
  const { profiles, missing } = await profilesOfMeasured(results.datasets, datasetsDir);
  const datasets: ModelGapDataset[] = results.datasets.flatMap((dataset) => {
    const profile = profiles.get(dataset.compressedSha256);
    if (!profile) return [];
    const interval = dataset.headVsLibdeflate?.interval;
    const failures = dataset.contenders
      .filter((contender) => contender.failure)
      .map((contender) => `${contender.name}: ${contender.failure}`);
    return [
      {
        label: dataset.label,
        profile,
        measured: interval
          ? { estimate: interval.estimate, low: interval.low, high: interval.high, confidence: interval.confidence }
          : null,
        measuredMissing: interval ? undefined : failures.join('; ') || 'head or libdeflate has no samples',
      },
    ];
  });
  return `\n${modelGapSection(head, reference, datasets, results.machine, missing)}`;
}

/** What `perf-lab analyze` was asked: one function (or every match), or a base/head(/libdeflate) diff. */
export interface ExplainOptions {
  /** Single mode: the build (binary, object, library or listing) and its function. */
  binary?: string;
  functionName?: string;
  /** The CPU model (lab/uarch/models); undefined: chosen for the machine the results ran on, else this host. */
  cpu?: string;
  /** Pin the decode loop instead of choosing it by evidence (0x5cc, +0x5cc, file.c:123). */
  loop?: string;
  /** Single mode: every function matching functionName that has a loop. */
  all?: boolean;
  /** Diff mode: base and head builds of the decoder, and libdeflate's (optional). */
  base?: string;
  head?: string;
  reference?: string;
  referenceFunction: string;
  referenceLoop?: string;
  /** Diff mode: a results file and the datasets folder it measured, to check the model against. */
  resultsPath?: string;
  datasetsDir: string;
  /** Cross-check each role's usual path with llvm-mca (default true; --no-mca: false). */
  mca?: boolean;
}

/** The explanation as text (for a terminal or a PR) and as data (for `--json`). */
export interface Explanation {
  text: string;
  json: unknown;
}

export async function explain(options: ExplainOptions): Promise<Explanation> {
  const { cpu, loop } = options;
  // llvm-mca's cross-check of every usual path, unless turned off (--no-mca).
  const mca = options.mca ?? true;
  // The arguments are checked before anything is read; the model is then the one of the machine that measured.
  const measuredModel = async () => {
    const measured = options.resultsPath ? await readResults(resolve(options.resultsPath)) : undefined;
    return { measured, model: await resolveCpuModel(cpu, () => measured?.machine ?? machineInfo()) };
  };
  if (options.base || options.head) {
    if (!options.base || !options.head || !options.functionName)
      throw new LabError(
        'analyze',
        'diff mode needs --base, --head and --function.',
        'pass all three (and --reference for libdeflate).',
      );
    if (options.resultsPath && !options.reference)
      throw new LabError(
        'analyze',
        '--results needs --reference: the model is checked on the head/libdeflate ratio.',
        'pass the libdeflate build with --reference.',
      );
    const { measured, model } = await measuredModel();
    const base = await analyzeLoop({ path: options.base, functionName: options.functionName, cpu, loop, mca }, model);
    const head = await analyzeLoop({ path: options.head, functionName: options.functionName, cpu, loop, mca }, model);
    const reference = options.reference
      ? await analyzeLoop(
          { path: options.reference, functionName: options.referenceFunction, cpu, loop: options.referenceLoop, mca },
          model,
        )
      : undefined;
    const modelCheck =
      options.resultsPath && reference
        ? await modelAgainstMeasurement(head, reference, {
            results: measured!,
            datasetsDir: resolve(options.datasetsDir),
          })
        : '';
    return {
      text: criticalPathDiff(base, head, reference) + modelCheck,
      json: { base, head, reference: reference ?? null },
    };
  }
  if (!options.binary || !options.functionName)
    throw new LabError(
      'analyze',
      'pass --binary and --function (or --base/--head for a diff).',
      'e.g. perf-lab analyze --binary libdeflate.o --function libdeflate_deflate_decompress_ex (--cpu neoverse-n2)',
    );
  const { model } = await measuredModel();
  if (options.all) {
    const reports = await analyzeMatchingLoops(
      { path: options.binary, functionName: options.functionName, cpu, mca },
      model,
    );
    return { text: reports.map(textReport).join('\n'), json: reports };
  }
  const report = await analyzeLoop({ path: options.binary, functionName: options.functionName, cpu, loop, mca }, model);
  return { text: textReport(report), json: report };
}
