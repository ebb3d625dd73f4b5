import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadBenchConfig } from '../bench/config.js';
import {
  datasetsTheReferenceFailed,
  readResults,
  verdictFailures,
  writeResults,
  type BenchResults,
  type FailOn,
} from '../results/index.js';
import { buildSides, ensureDatasets, runBenchmark, type Role } from '../bench/run.js';
import { formatError } from '../core/errors.js';
import { info, setQuiet } from '../core/log.js';
import {
  DATASET_NAMES,
  SCALES,
  defaultDatasetsDir,
  prepareDatasets,
  requireManifest,
  verifyDatasetFiles,
  type DatasetName,
  type Scale,
} from '../datasets/index.js';
import {
  calibrateFromTraces,
  calibrationPath,
  calibrationSummary,
  driftThresholds,
  findCalibration,
  recordNoiseTraces,
  saveCalibration,
  writeNoiseTraces,
  type CalibratedDataset,
} from '../bench/calibrate.js';
import { publishChanges } from '../github/publish.js';
import type { NoiseTraces } from '../bench/traces.js';
import { compareWithBaselines, updateBaselines } from '../baselines/index.js';
import { publishBaselines } from '../baselines/publish.js';
import { cacheRoot, projectRoot } from '../core/paths.js';
import { digestFile, writeFileAtomically } from '../core/files.js';
import { LabError } from '../core/errors.js';
import { demoConfig, demoOutputPaths } from '../demo/index.js';
import { driftTable, markdownReport } from '../report/index.js';
import { criticalPathDiff } from '../report/critical-path.js';
import { analyzeLoop, analyzeMatchingLoops, loadCpuModel, textReport } from '../uarch/index.js';
import { commentOnPullRequest } from '../github/index.js';
import { modelAgainstMeasurement, prCheck } from '../prcheck/index.js';
import { doctorReport, runDoctor } from '../doctor/index.js';
import { defaultHistoryPath, runNightly } from '../history/nightly.js';
import { readHistory } from '../history/store.js';
import { historyEvents } from '../history/changes.js';

/** Exit code when the benchmark ran but a contender failed verification, crashed or hung. */
export const EXIT_CONTENDER_FAILED = 3;

/**
 * A failed run's exit code: 3 when a contender failed, but 1 when libdeflate (the reference) failed on a dataset too
 * — then the dataset or libdeflate's build is bad, not the decoder under test, and the message says so.
 */
function exitForFailedRun(results: BenchResults): number {
  const bad = datasetsTheReferenceFailed(results);
  if (bad.length === 0) return EXIT_CONTENDER_FAILED;
  process.stderr.write(
    `perf-lab: bench: libdeflate, the reference, failed too — the dataset (or libdeflate's build) is bad, not the decoders: ${bad.join('; ')}\n` +
      '  what to do: check the dataset with `perf-lab datasets verify` and prepare it again; if libdeflate still fails, rebuild it (delete .perf-lab/builds/libdeflate-*). The results above are kept.\n',
  );
  return 1;
}
/** Exit code of `compare` and `pr-check` when a dataset shows what --fail-on names. */
export const EXIT_VERDICT_FAILED = 4;

function defaultBaselinesDir(): string {
  return join(projectRoot(), 'baselines');
}

function datasetList(value: string): DatasetName[] {
  const names = value
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  for (const name of names) {
    if (!(DATASET_NAMES as readonly string[]).includes(name))
      throw new InvalidArgumentError(`unknown dataset "${name}" (choose from ${DATASET_NAMES.join(', ')})`);
  }
  return names as DatasetName[];
}

const SUBJECTS: readonly Role[] = ['libdeflate', 'head', 'base'];

function subjectList(value: string): Role[] {
  const roles = [
    ...new Set(
      value
        .split(',')
        .map((role) => role.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
  for (const role of roles) {
    if (!(SUBJECTS as readonly string[]).includes(role))
      throw new InvalidArgumentError(`unknown subject "${role}" (choose from ${SUBJECTS.join(', ')})`);
  }
  if (roles.length === 0) throw new InvalidArgumentError('name at least one subject');
  return roles as Role[];
}

function positiveInt(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return number;
}

const scaleOption = () =>
  new Option('--scale <scale>', 'dataset size: quick (16 MiB prefixes) or full (~211 MB)')
    .choices(SCALES)
    .default('quick');

interface DatasetSelection {
  scale: Scale;
  datasetsDir?: string;
  only?: DatasetName[];
  silesiaZip?: string;
  offline?: boolean;
}

/** The benchmark run a bench-like command's dataset options ask for. */
function benchRun(config: Awaited<ReturnType<typeof loadBenchConfig>>, options: DatasetSelection) {
  return runBenchmark({
    config,
    scale: options.scale,
    datasetsDir: resolve(options.datasetsDir ?? defaultDatasetsDir(options.scale)),
    only: options.only,
    silesiaZip: options.silesiaZip,
    offline: options.offline,
  });
}

/**
 * Prints the report, then writes the results and report files. A finished run
 * is never lost to an unwritable path: the report is already on stdout, and the
 * results go to a fallback file that the error names.
 */
async function writeOutputs(
  results: BenchResults,
  jsonPath: string | undefined,
  markdownPath: string | undefined,
): Promise<void> {
  const markdown = markdownReport(results);
  process.stdout.write(markdown);
  try {
    if (jsonPath) await writeResults(resolve(jsonPath), results);
    if (markdownPath) await writeFileAtomically(resolve(markdownPath), markdown);
  } catch (error) {
    const fallback = join(cacheRoot(), 'results', `unsaved-${results.createdAt.replace(/[:.]/g, '-')}.json`);
    const saved = await writeResults(fallback, results).then(
      () => true,
      () => false,
    );
    const why = error instanceof LabError ? error.message : (error as Error).message;
    throw new LabError(
      'bench: output',
      `cannot write the results or report (${why}).`,
      saved
        ? `the results were kept in ${fallback} (the report is above); fix the path and copy them there.`
        : 'no fallback could be written either (is the disk full?); the report is above.',
    );
  }
}

/** The version in perf-lab's package.json. */
function labVersion(): string {
  return (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

export function buildProgram(): Command {
  const program = new Command('perf-lab')
    .description(
      'Benchmarks a Rust deflate decoder against libdeflate: datasets, builds, verified paired timing, ratio reports.',
    )
    .version(labVersion(), '-V, --version', "print perf-lab's version")
    .option('-q, --quiet', 'no progress lines on stderr (warnings and errors still go there)')
    .hook('preAction', (command) => setQuiet(Boolean(command.optsWithGlobals().quiet)))
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(`perf-lab: ${text}`) });

  const datasets = program.command('datasets').description('prepare and check the SILESIA, SOFTWARE and LOGS datasets');
  datasets
    .command('prepare')
    .description('generate/compress the datasets and write DIR/manifest.json')
    .addOption(scaleOption())
    .option('--only <names>', 'comma-separated subset of silesia,software,logs', datasetList)
    .option('--dir <dir>', 'output folder (default: .perf-lab/datasets/<scale>)')
    .option(
      '--silesia-zip <path>',
      'the Silesia corpus silesia.zip (otherwise cached, downloaded, or a labelled stand-in)',
    )
    .option('--offline', 'never download; use the SILESIA stand-in when no zip is at hand')
    .option('--gzip <program>', 'the gzip used to compress', 'gzip')
    .action(
      async (options: {
        scale: Scale;
        only?: DatasetName[];
        dir?: string;
        silesiaZip?: string;
        offline?: boolean;
        gzip: string;
      }) => {
        const dir = resolve(options.dir ?? defaultDatasetsDir(options.scale));
        const manifest = await prepareDatasets({
          dir,
          scale: options.scale,
          only: options.only,
          silesiaZip: options.silesiaZip,
          offline: options.offline,
          gzip: options.gzip,
        });
        for (const entry of manifest.datasets) {
          process.stdout.write(
            `${entry.label.padEnd(20)} raw ${String(entry.raw.bytes).padStart(10)} B  sha256 ${entry.raw.sha256.slice(0, 16)}…  ${entry.compressed.compressor} -${entry.compressed.level} → ${String(entry.compressed.bytes).padStart(9)} B  sha256 ${entry.compressed.sha256.slice(0, 16)}…\n`,
          );
        }
        process.stdout.write(`manifest: ${resolve(dir, 'manifest.json')}\n`);
      },
    );
  datasets
    .command('verify')
    .description('re-check sizes and sha256 of every file in DIR/manifest.json')
    .addOption(scaleOption())
    .option('--dir <dir>', 'datasets folder (default: .perf-lab/datasets/<scale>)')
    .action(async (options: { scale: Scale; dir?: string }) => {
      const dir = resolve(options.dir ?? defaultDatasetsDir(options.scale));
      const manifest = await requireManifest(dir);
      for (const entry of manifest.datasets) {
        await verifyDatasetFiles(dir, entry);
        process.stdout.write(
          `${entry.label}: ok (${entry.raw.bytes} raw bytes, ${entry.compressed.bytes} compressed bytes)\n`,
        );
      }
    });

  program
    .command('bench')
    .description(
      'build libdeflate and the decoder under test from a config file, then benchmark them interleaved on each dataset',
    )
    .requiredOption('--config <file>', 'bench config (JSON, see README)')
    .addOption(scaleOption())
    .option('--datasets-dir <dir>', 'datasets folder (default: .perf-lab/datasets/<scale>)')
    .option('--only <names>', 'comma-separated subset of silesia,software,logs', datasetList)
    .option('--silesia-zip <path>', 'the Silesia corpus silesia.zip, if datasets must be prepared')
    .option('--offline', 'never download; use the SILESIA stand-in when no zip is at hand')
    .option('--json <file>', 'write the results JSON here')
    .option('--markdown <file>', 'write the markdown report here')
    .action(
      async (options: {
        config: string;
        scale: Scale;
        datasetsDir?: string;
        only?: DatasetName[];
        silesiaZip?: string;
        offline?: boolean;
        json?: string;
        markdown?: string;
      }) => {
        const results = await benchRun(await loadBenchConfig(options.config), options);
        await writeOutputs(results, options.json, options.markdown);
        if (!results.ok) process.exitCode = exitForFailedRun(results);
      },
    );

  program
    .command('demo')
    .description(
      'the main job on an embedded default: reachable libdeflate vs a real Rust decoder (miniz_oxide shim), quick datasets, verified paired benchmark, report',
    )
    .addOption(scaleOption())
    .option('--datasets-dir <dir>', 'datasets folder (default: .perf-lab/datasets/<scale>)')
    .option('--only <names>', 'comma-separated subset of silesia,software,logs', datasetList)
    .option('--rounds <n>', 'measured rounds per batch (each batch starts fresh worker processes)', positiveInt, 12)
    .option('--warmup <n>', 'warm-up rounds per batch', (value) => (value === '0' ? 0 : positiveInt(value)), 2)
    .option('--budget <seconds>', 'sampling time budget per dataset', positiveInt, 20)
    .option('--silesia-zip <path>', 'the Silesia corpus silesia.zip')
    .option('--offline', 'never download (libdeflate from Debian or the system; SILESIA stand-in)')
    .option('--json <file>', 'write the results JSON here (default: .perf-lab/results/demo-<time>.json)')
    .option('--markdown <file>', 'write the markdown report here (default: beside the JSON)')
    .action(
      async (options: {
        scale: Scale;
        datasetsDir?: string;
        only?: DatasetName[];
        rounds: number;
        warmup: number;
        budget: number;
        silesiaZip?: string;
        offline?: boolean;
        json?: string;
        markdown?: string;
      }) => {
        const config = await demoConfig({
          rounds: options.rounds,
          warmupRounds: options.warmup,
          budgetSeconds: options.budget,
          offline: Boolean(options.offline),
        });
        const results = await benchRun(config, options);
        const defaults = demoOutputPaths();
        const jsonPath = options.json ?? defaults.json;
        const markdownPath =
          options.markdown ?? (options.json ? `${options.json.replace(/\.json$/, '')}.md` : defaults.markdown);
        await writeOutputs(results, jsonPath, markdownPath);
        info(`\nresults JSON: ${resolve(jsonPath)}\nmarkdown report: ${resolve(markdownPath)}`);
        if (!results.ok) process.exitCode = exitForFailedRun(results);
      },
    );

  program
    .command('calibrate')
    .description(
      "measure this machine's noise: A/A/A runs of each subject (libdeflate, and the configured head/base), replayed through the sampling plan: batch noise, no-change and false-positive rates, minimum detectable effect",
    )
    .requiredOption('--config <file>', 'bench config (its contenders and bench settings are used)')
    .addOption(scaleOption())
    .option('--datasets-dir <dir>', 'datasets folder (default: .perf-lab/datasets/<scale>)')
    .option('--only <names>', 'comma-separated subset of silesia,software,logs', datasetList)
    .option(
      '--subjects <roles>',
      'comma-separated contenders to calibrate on: libdeflate, head, base (the noisiest decides)',
      subjectList,
      ['libdeflate'],
    )
    .option('--batches <n>', 'A/A/A batches to record per dataset and subject', positiveInt, 30)
    .option('--traces-dir <dir>', 'also keep the recorded traces here (JSON, one file a dataset and subject)')
    .option(
      '--repo <dir>',
      'a decoder repository: --config is inside it and its relative paths are from its root (as in pr-check)',
    )
    .option(
      '--store-dir <dir>',
      'write the calibration to this folder (default: the cache; baselines/calibration is what hosted runners read)',
    )
    .option(
      '--publish <repo-dir>',
      'write it to <repo-dir>/baselines/calibration and commit and push there (replayed when the branch moved)',
    )
    .option('--offline', 'never download; use the SILESIA stand-in when no zip is at hand')
    .action(
      async (options: {
        config: string;
        scale: Scale;
        datasetsDir?: string;
        only?: DatasetName[];
        subjects: Role[];
        batches: number;
        tracesDir?: string;
        storeDir?: string;
        publish?: string;
        repo?: string;
        offline?: boolean;
      }) => {
        const config = await loadBenchConfig(options.config, options.repo);
        const { sides } = await buildSides(config);
        const subjects = options.subjects.map((role) => {
          const side = sides.find((candidate) => candidate.role === role);
          if (!side)
            throw new LabError(
              'calibrate',
              `the config has no ${role} contender to calibrate on.`,
              'drop it from --subjects, or add it to the config.',
            );
          return { name: role, description: side.summary.description, contender: side.contender };
        });
        const datasetsDir = resolve(options.datasetsDir ?? defaultDatasetsDir(options.scale));
        const calibrated = new Map<string, CalibratedDataset>();
        for (const entry of await ensureDatasets({
          datasetsDir,
          scale: options.scale,
          only: options.only,
          offline: options.offline,
        })) {
          const recorded = new Map<string, NoiseTraces>();
          for (const subject of subjects) {
            const traces = await recordNoiseTraces(subject, config.bench, datasetsDir, entry, options.batches);
            if (options.tracesDir)
              await writeNoiseTraces(
                resolve(options.tracesDir, `noise-${entry.name}-${entry.scale}-${subject.name}.json`),
                traces,
              );
            recorded.set(subject.name, traces);
          }
          const plan = {
            targetHalfWidth: config.bench.targetHalfWidth,
            confidence: 0.95,
            minBatches: config.bench.minBatches,
            maxBatches: config.bench.maxBatches,
            budgetSeconds: config.bench.budgetSeconds,
          };
          const policy = {
            confidence: config.bench.verdictConfidence,
            minimumEffect: config.bench.minimumEffect,
            maximumMargin: config.bench.maximumMargin,
          };
          const result = await calibrateFromTraces(recorded, plan, policy);
          calibrated.set(entry.label, result);
          process.stdout.write(`${calibrationSummary(entry.label, result)}\n`);
        }
        const store = async (path: string) => {
          for (const [label, result] of calibrated) await saveCalibration(label, result, path);
        };
        if (options.publish) {
          const repoDir = resolve(options.publish);
          const path = calibrationPath(join(repoDir, 'baselines', 'calibration'));
          const outcome = await publishChanges({
            repoDir,
            paths: [relative(repoDir, path)],
            message: `perf-lab calibration for ${relative(join(repoDir, 'baselines', 'calibration'), path)}`,
            apply: () => store(path),
            step: 'calibrate: publish',
          });
          process.stdout.write(
            `calibration ${outcome.commit ? `pushed as ${outcome.commit.slice(0, 12)} to ${outcome.branch}` : 'unchanged'}\n`,
          );
        } else {
          await store(calibrationPath(options.storeDir ? resolve(options.storeDir) : undefined));
        }
      },
    );

  const baseline = program
    .command('baseline')
    .description('the stored baselines (decoder/libdeflate ratio per machine, dataset, libdeflate and toolchain)');
  baseline
    .command('update')
    .description(
      'append the ratios of a verified results file to their baselines (refuses failed, stand-in or mismatched results)',
    )
    .requiredOption('--results <file>', 'results JSON written by bench')
    .option('--baselines <dir>', 'baseline folder', defaultBaselinesDir())
    .action(async (options: { results: string; baselines: string }) => {
      const path = resolve(options.results);
      const results = await readResults(path);
      const outcomes = await updateBaselines(results, (await digestFile(path)).sha256, resolve(options.baselines));
      for (const outcome of outcomes)
        process.stdout.write(`${outcome.dataset}: ${outcome.path} (${outcome.entries} entries)\n`);
    });

  baseline
    .command('publish')
    .description(
      'update baselines/ in a clone of the baseline repository and push (to its branch, or a new branch with a PR); replays the update when the branch moved',
    )
    .requiredOption('--results <file>', 'results JSON written by bench')
    .requiredOption('--repo-dir <dir>', 'a clone of the repository holding baselines/')
    .option('--message <text>', 'commit message and PR title', 'Update perf-lab baselines')
    .option('--push-directly', 'push to the checked-out branch instead of opening a PR')
    .option('--remote <name>', 'git remote', 'origin')
    .option('--github-repo <owner/name>', 'open the PR there (token from GITHUB_TOKEN)')
    .option('--api-url <url>', 'GitHub REST API root', process.env.GITHUB_API_URL)
    .action(
      async (options: {
        results: string;
        repoDir: string;
        message: string;
        pushDirectly?: boolean;
        remote: string;
        githubRepo?: string;
        apiUrl?: string;
      }) => {
        const path = resolve(options.results);
        const outcome = await publishBaselines({
          results: await readResults(path),
          resultsSha256: (await digestFile(path)).sha256,
          repoDir: resolve(options.repoDir),
          message: options.message,
          pushDirectly: Boolean(options.pushDirectly),
          remote: options.remote,
          githubRepository: options.githubRepo,
          token: process.env.GITHUB_TOKEN,
          apiUrl: options.apiUrl,
        });
        process.stdout.write(
          `pushed ${outcome.commit.slice(0, 12)} to ${outcome.branch} after ${outcome.attempts} attempt(s)${outcome.pullRequestUrl ? `; pull request ${outcome.pullRequestUrl}` : ''}\n`,
        );
      },
    );

  program
    .command('compare')
    .description('compare the decoder/libdeflate ratios of a results file with the stored baselines of the same key')
    .requiredOption('--results <file>', 'results JSON written by bench')
    .option('--baselines <dir>', 'baseline folder', defaultBaselinesDir())
    .addOption(
      new Option('--fail-on <what>', 'exit with code 4 when a dataset shows this')
        .choices(['regression', 'change', 'never'])
        .default('regression'),
    )
    .action(async (options: { results: string; baselines: string; failOn: 'regression' | 'change' | 'never' }) => {
      const results = await readResults(resolve(options.results));
      const calibration = await findCalibration();
      const drifts = await compareWithBaselines(results, resolve(options.baselines), driftThresholds(calibration));
      process.stdout.write(driftTable(drifts));
      const failing = drifts.filter(
        (drift) =>
          drift.verdict &&
          (options.failOn === 'change'
            ? drift.verdict.kind === 'regression' || drift.verdict.kind === 'improvement'
            : options.failOn === 'regression' && drift.verdict.kind === 'regression'),
      );
      if (failing.length > 0) process.exitCode = EXIT_VERDICT_FAILED;
    });

  program
    .command('analyze')
    .description(
      'critical-path analysis of the hot decode loop of an ARM64 function on an Apple core model; or a base/head/libdeflate diff',
    )
    .option(
      '--binary <file>',
      'ARM64 binary, object or library, or a listing (llvm-objdump -d, objdump -d, otool -tvV)',
    )
    .option('--function <name>', 'function name (mangled or demangled, or /regex/)')
    .option(
      '--cpu <model>',
      'CPU model (lab/uarch/models): apple-m1, apple-m2, apple-m3, llvm-mca-apple-m1',
      'apple-m1',
    )
    .option(
      '--loop <pin>',
      'pin the decode loop instead of choosing it by evidence: header address (0x5cc), offset from the function start (+0x5cc) or source line (file.c:123, needs debug info)',
    )
    .option('--reference-loop <pin>', 'diff mode: pin the loop in --reference the same way')
    .option('--base <file>', 'diff mode: the base build (binary or listing)')
    .option('--head <file>', 'diff mode: the head build (binary or listing)')
    .option('--reference <file>', 'diff mode: libdeflate (binary, object or listing)')
    .option('--reference-function <name>', 'function in --reference', 'libdeflate_deflate_decompress_ex')
    .option(
      '--results <file>',
      'diff mode: a results JSON of the same builds; the loop model is checked per dataset against it',
    )
    .option(
      '--datasets <dir>',
      'diff mode with --results: the datasets folder it measured',
      defaultDatasetsDir('quick'),
    )
    .option('--json <file>', 'write the analysis as JSON')
    .option('--all', 'analyse every function matching --function (name or /regex/) that has a loop')
    .action(
      async (options: {
        binary?: string;
        function?: string;
        cpu: string;
        loop?: string;
        referenceLoop?: string;
        base?: string;
        head?: string;
        reference?: string;
        referenceFunction: string;
        results?: string;
        datasets: string;
        json?: string;
        all?: boolean;
      }) => {
        const loop = options.loop;
        const model = await loadCpuModel(options.cpu);
        if (options.base || options.head) {
          if (!options.base || !options.head || !options.function)
            throw new LabError(
              'analyze',
              'diff mode needs --base, --head and --function.',
              'pass all three (and --reference for libdeflate).',
            );
          const base = await analyzeLoop(
            { path: options.base, functionName: options.function, cpu: options.cpu, loop },
            model,
          );
          const head = await analyzeLoop(
            { path: options.head, functionName: options.function, cpu: options.cpu, loop },
            model,
          );
          const reference = options.reference
            ? await analyzeLoop(
                {
                  path: options.reference,
                  functionName: options.referenceFunction,
                  cpu: options.cpu,
                  loop: options.referenceLoop,
                },
                model,
              )
            : undefined;
          if (options.results && !reference)
            throw new LabError(
              'analyze',
              '--results needs --reference: the model is checked on the head/libdeflate ratio.',
              'pass the libdeflate build with --reference.',
            );
          const measurement = options.results
            ? { results: await readResults(resolve(options.results)), datasetsDir: resolve(options.datasets) }
            : undefined;
          const modelCheck =
            measurement && reference ? await modelAgainstMeasurement(head, reference, measurement) : '';
          if (options.json)
            await writeFileAtomically(
              resolve(options.json),
              `${JSON.stringify({ base, head, reference: reference ?? null }, null, 2)}\n`,
            );
          process.stdout.write(criticalPathDiff(base, head, reference) + modelCheck);
          return;
        }
        if (!options.binary || !options.function)
          throw new LabError(
            'analyze',
            'pass --binary and --function (or --base/--head for a diff).',
            'e.g. perf-lab analyze --binary libdeflate.o --function libdeflate_deflate_decompress_ex --cpu apple-m1',
          );
        if (options.all) {
          const reports = await analyzeMatchingLoops(
            { path: options.binary, functionName: options.function, cpu: options.cpu },
            model,
          );
          if (options.json) await writeFileAtomically(resolve(options.json), `${JSON.stringify(reports, null, 2)}\n`);
          process.stdout.write(reports.map(textReport).join('\n'));
          return;
        }
        const report = await analyzeLoop(
          { path: options.binary, functionName: options.function, cpu: options.cpu, loop },
          model,
        );
        if (options.json) await writeFileAtomically(resolve(options.json), `${JSON.stringify(report, null, 2)}\n`);
        process.stdout.write(textReport(report));
      },
    );

  program
    .command('comment')
    .description(
      'post or update the sticky PR comment from a perf-pr artifact (token from GITHUB_TOKEN; the PR is verified against the run)',
    )
    .requiredOption('--artifact <dir>', 'the downloaded perf-pr artifact folder')
    .requiredOption('--repo <owner/name>', 'the repository')
    .requiredOption('--run-id <id>', 'the perf-pr workflow run that produced the artifact', positiveInt)
    .option('--api-url <url>', 'GitHub REST API root', process.env.GITHUB_API_URL)
    .option('--author <login>', 'the login the sticky comment is posted as', 'github-actions[bot]')
    .option('--full-report-url <url>', 'linked when the comment must be cut')
    .action(
      async (options: {
        artifact: string;
        repo: string;
        runId: number;
        apiUrl?: string;
        author: string;
        fullReportUrl?: string;
      }) => {
        const token = process.env.GITHUB_TOKEN;
        if (!token)
          throw new LabError(
            'comment',
            'GITHUB_TOKEN is not set.',
            'pass the workflow token as the GITHUB_TOKEN environment variable.',
          );
        const { outcome, prNumber } = await commentOnPullRequest({
          artifactDir: resolve(options.artifact),
          repository: options.repo,
          runId: options.runId,
          token,
          apiUrl: options.apiUrl,
          author: options.author,
          fullReportUrl: options.fullReportUrl,
          summaryPath: process.env.GITHUB_STEP_SUMMARY,
          retryBaseMs: process.env.PERF_LAB_RETRY_BASE_MS ? Number(process.env.PERF_LAB_RETRY_BASE_MS) : undefined,
        });
        process.stdout.write(
          outcome.action === 'skipped'
            ? `PR #${prNumber}: comment skipped (${outcome.reason})\n`
            : `PR #${prNumber}: comment ${outcome.action} (${outcome.url})\n`,
        );
      },
    );

  program
    .command('pr-check')
    .description(
      'the PR check, locally: build base and head of a decoder repository, benchmark three-way, analyse, and print the comment it would post',
    )
    .requiredOption('--base <ref>', 'base commit/branch/tag')
    .requiredOption('--head <ref>', 'head commit/branch/tag')
    .option('--repo <path>', 'the decoder repository', '.')
    .option(
      '--config <file>',
      'bench config inside the repository (cargo.path relative to its root)',
      '.github/perf-lab.json',
    )
    .addOption(scaleOption())
    .option('--datasets-dir <dir>', 'datasets folder (default: .perf-lab/datasets/<scale>)')
    .option('--only <names>', 'comma-separated subset of silesia,software,logs', datasetList)
    .option('--function <name>', "the decoder's hot function, for the critical-path section (ARM64 hosts)")
    .option('--cpu <model>', 'CPU model for the analysis', 'apple-m1')
    .option('--artifact-dir <dir>', 'also write the perf-pr artifact (results.json, pr.json, analysis.md, report.md)')
    .option('--pr <number>', 'PR number recorded in pr.json', positiveInt)
    .addOption(
      new Option('--fail-on <what>', "exit with code 4 when a dataset's head-vs-base verdict is this")
        .choices(['regression', 'change', 'never'])
        .default('never'),
    )
    .option('--offline', 'never download; use the SILESIA stand-in when no zip is at hand')
    .action(
      async (options: {
        base: string;
        head: string;
        repo: string;
        config: string;
        scale: Scale;
        datasetsDir?: string;
        only?: DatasetName[];
        function?: string;
        cpu: string;
        artifactDir?: string;
        pr?: number;
        failOn: FailOn;
        offline?: boolean;
      }) => {
        const outcome = await prCheck({
          repo: options.repo,
          baseRef: options.base,
          headRef: options.head,
          config: options.config,
          scale: options.scale,
          datasetsDir: resolve(options.datasetsDir ?? defaultDatasetsDir(options.scale)),
          only: options.only,
          functionName: options.function,
          cpu: options.cpu,
          artifactDir: options.artifactDir,
          prNumber: options.pr,
          offline: options.offline,
        });
        process.stdout.write(`${outcome.body}\n`);
        const failing = verdictFailures(outcome.results, options.failOn);
        if (failing.length > 0) {
          info(`pr-check: --fail-on ${options.failOn}: ${failing.join('; ')}`);
          process.exitCode = EXIT_VERDICT_FAILED;
        }
        if (!outcome.results.ok) process.exitCode = EXIT_CONTENDER_FAILED;
      },
    );

  program
    .command('doctor')
    .description('check the tools and inputs the lab needs on this machine, and say what to install')
    .option('--network', "also check that libdeflate's git repository is reachable")
    .action(async (options: { network?: boolean }) => {
      const checks = await runDoctor({ network: options.network });
      process.stdout.write(doctorReport(checks));
      if (checks.some((check) => !check.ok && check.needed === 'required')) process.exitCode = 1;
    });

  program
    .command('nightly')
    .description(
      'build the decoder with several Rust toolchains (and libdeflate with several C compilers), measure the ratios, append them to the history and report events',
    )
    .requiredOption('--config <file>', 'bench config')
    .option('--toolchains <list>', 'rustup toolchains, comma-separated', 'stable')
    .option('--clang <list>', 'clang versions for libdeflate, comma-separated (e.g. 14,19 → clang-14, clang-19)')
    .addOption(scaleOption())
    .option('--datasets-dir <dir>', 'datasets folder (default: .perf-lab/datasets/<scale>)')
    .option('--only <names>', 'comma-separated subset of silesia,software,logs', datasetList)
    .option('--history <file>', 'history file (JSON lines)')
    .option('--function <name>', "the decoder's hot function, for the critical path per toolchain (ARM64 hosts)")
    .option('--cpu <model>', 'CPU model for the analysis', 'apple-m1')
    .option('--date <yyyy-mm-dd>', 'the night to record (default: today, UTC)')
    .option('--markdown <file>', 'write the report here')
    .option('--offline', 'never download; use the SILESIA stand-in when no zip is at hand')
    .option(
      '--publish <repo-dir>',
      'commit the history and charts in this clone and push (retried when the branch moved)',
    )
    .option(
      '--github-repo <owner/name>',
      'open or update the tracking issue there when tonight has events (token from GITHUB_TOKEN)',
    )
    .option('--api-url <url>', 'GitHub REST API root', process.env.GITHUB_API_URL)
    .action(
      async (options: {
        config: string;
        toolchains: string;
        clang?: string;
        scale: Scale;
        datasetsDir?: string;
        only?: DatasetName[];
        history?: string;
        function?: string;
        cpu: string;
        date?: string;
        markdown?: string;
        offline?: boolean;
        publish?: string;
        githubRepo?: string;
        apiUrl?: string;
      }) => {
        if (options.date && !/^\d{4}-\d{2}-\d{2}$/.test(options.date))
          throw new LabError('nightly', `--date ${options.date} is not YYYY-MM-DD.`, 'pass a date like 2026-11-25.');
        const outcome = await runNightly({
          config: await loadBenchConfig(options.config),
          toolchains: options.toolchains
            .split(',')
            .map((t) => t.trim())
            .filter(Boolean),
          compilers: (options.clang ?? '')
            .split(',')
            .map((v) => v.trim())
            .filter(Boolean)
            .map((v) => (/^\d+$/.test(v) ? `clang-${v}` : v)),
          scale: options.scale,
          datasetsDir: resolve(options.datasetsDir ?? defaultDatasetsDir(options.scale)),
          only: options.only,
          historyPath: resolve(options.history ?? defaultHistoryPath()),
          functionName: options.function,
          cpu: options.cpu,
          date: options.date,
          offline: options.offline,
          publishRepoDir: options.publish,
          githubRepository: options.githubRepo,
          token: process.env.GITHUB_TOKEN,
          apiUrl: options.apiUrl,
        });
        if (options.markdown) await writeFileAtomically(resolve(options.markdown), outcome.markdown);
        if (outcome.issueUrl) info(`tracking issue: ${outcome.issueUrl}`);
        process.stdout.write(outcome.markdown);
        if (outcome.runs.some((run) => !run.results || !run.results.ok)) process.exitCode = EXIT_CONTENDER_FAILED;
      },
    );

  program
    .command('history')
    .description('query the nightly history: records and detected events')
    .option('--history <file>', 'history file (JSON lines)')
    .option('--dataset <label>', 'only this dataset (e.g. LOGS)')
    .option('--toolchain <name>', 'only this toolchain')
    .action(async (options: { history?: string; dataset?: string; toolchain?: string }) => {
      const records = (await readHistory(resolve(options.history ?? defaultHistoryPath()))).filter(
        (r) =>
          (!options.dataset || r.dataset === options.dataset) &&
          (!options.toolchain || r.toolchain === options.toolchain),
      );
      for (const r of records)
        process.stdout.write(
          `${r.date}  ${r.toolchain.padEnd(10)} ${r.dataset.padEnd(20)} ratio ${r.ratio.estimate.toFixed(3)} (${r.ratio.low.toFixed(3)}–${r.ratio.high.toFixed(3)})  ${r.rustc}, LLVM ${r.llvm}\n`,
        );
      const events = historyEvents(records);
      process.stdout.write(
        `${records.length} records; ${events.length} events${events.length ? ':' : ''}\n${events.map((event) => `  ${event.kind}: ${event.text}\n`).join('')}`,
      );
    });

  program
    .command('report')
    .description('render the markdown report of a results JSON file')
    .requiredOption('--results <file>', 'results JSON written by bench or demo')
    .action(async (options: { results: string }) => {
      process.stdout.write(markdownReport(await readResults(resolve(options.results))));
    });

  return program;
}

/**
 * Node decodes arguments as UTF-8 and turns other bytes into U+FFFD, so a path with such bytes would silently name
 * another file (or create a folder with U+FFFD in its name): refused before anything runs.
 */
function refuseNonUtf8Arguments(argv: readonly string[]): void {
  const bad = argv.slice(2).find((arg) => arg.includes('\uFFFD'));
  if (bad === undefined) return;
  throw new LabError(
    'arguments',
    `${JSON.stringify(bad)} holds bytes that are not UTF-8 (shown as \uFFFD): Node.js cannot name such a path exactly, so perf-lab would read or write a different one.`,
    'rename the file or folder to UTF-8, or reach it through a UTF-8 symlink.',
  );
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    refuseNonUtf8Arguments(argv);
    await buildProgram().parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    const { text, exitCode } = formatError(error);
    process.stderr.write(`${text}\n`);
    return exitCode;
  }
}
