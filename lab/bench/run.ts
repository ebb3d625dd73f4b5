import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { LabError } from '../core/errors.js';
import { startProgress } from '../core/log.js';
import { buildCargoDecoder, type DecoderBuild } from '../build/decoder.js';
import { buildLibdeflate, type LibdeflateBuild } from '../build/libdeflate.js';
import { DATASET_NAMES, prepareDatasets, readManifest, verifyDatasetFiles, type DatasetEntry, type DatasetName, type Scale } from '../datasets/index.js';
import { cycleRatios, medianInterval, megabytesPerSecond, pairedSpeedRatios } from '../stats/index.js';
import type { BenchConfig } from './config.js';
import { runHarness, type HarnessContender } from './harness.js';
import type { BenchResults, DatasetResult } from './results.js';

export interface BenchOptions {
  config: BenchConfig;
  scale: Scale;
  datasetsDir: string;
  only?: readonly DatasetName[];
  silesiaZip?: string;
  offline?: boolean;
}

/** What the harness runs for each side, built and described. */
interface Contenders {
  mode: BenchResults['mode'];
  decoder: { spec: (input: string) => HarnessContender; summary: BenchResults['decoder'] };
  libdeflate: { spec: (input: string) => HarnessContender; summary: BenchResults['libdeflate'] };
}

function libdeflateSummary(name: string, build: LibdeflateBuild): BenchResults['libdeflate'] {
  return { name, version: build.version, source: build.source, buildSystem: build.buildSystem, compiler: build.compiler, cflags: build.cflags };
}

function fillCommand(template: readonly string[], bin: string, input: string): string[] {
  return template.map((arg) => arg.replaceAll('{bin}', bin).replaceAll('{input}', input));
}

async function buildContenders(config: BenchConfig): Promise<Contenders> {
  const reference = await buildLibdeflate(config.libdeflate.source, { cc: config.libdeflate.cc, cflags: config.libdeflate.cflags });
  const referenceName = `libdeflate-${reference.version}`;
  const decoderConfig = config.decoder;
  if (decoderConfig.name === referenceName) {
    throw new LabError('bench: config', `decoder.name ${JSON.stringify(decoderConfig.name)} is the name the reference libdeflate gets.`, 'give the decoder under test another name.');
  }
  const inProcessReference = (): HarnessContender => ({ name: referenceName, kind: 'libdeflate', library: reference.sharedLibraryPath });

  if ('libdeflate' in decoderConfig) {
    const build = await buildLibdeflate(decoderConfig.libdeflate.source, { cc: decoderConfig.libdeflate.cc, cflags: decoderConfig.libdeflate.cflags });
    return {
      mode: 'in-process',
      decoder: {
        spec: () => ({ name: decoderConfig.name, kind: 'libdeflate', library: build.sharedLibraryPath }),
        summary: { name: decoderConfig.name, adapter: 'libdeflate', description: `libdeflate ${build.version} from ${build.source}`, rustc: null, llvm: null, compiler: build.compiler },
      },
      libdeflate: { spec: inProcessReference, summary: libdeflateSummary(referenceName, reference) },
    };
  }

  const build: DecoderBuild = await buildCargoDecoder(decoderConfig);
  const summary = { name: build.name, adapter: build.adapter, description: build.description, rustc: build.toolchain.rustc, llvm: build.toolchain.llvm, compiler: null };
  if (build.adapter === 'cabi') {
    return {
      mode: 'in-process',
      decoder: { spec: () => ({ name: build.name, kind: 'cabi', library: build.artifactPath }), summary },
      libdeflate: { spec: inProcessReference, summary: libdeflateSummary(referenceName, reference) },
    };
  }
  // A CLI decoder is timed as a whole process, so libdeflate is too (through its own gzip program): like for like.
  const gzipProgram = reference.gzipProgramPath;
  if (!gzipProgram) {
    throw new LabError('bench: contenders', `the libdeflate build (${reference.source}) has no gzip program, needed to compare with a CLI decoder.`, 'build libdeflate from source (git, tarball, debian, path), or install libdeflate-tools for the system library.');
  }
  const command = build.command!;
  return {
    mode: 'process',
    decoder: { spec: (input) => ({ name: build.name, kind: 'cli', argv: fillCommand(command, build.artifactPath, input) }), summary },
    libdeflate: { spec: (input) => ({ name: referenceName, kind: 'cli', argv: [gzipProgram, '-d', '-c', input] }), summary: libdeflateSummary(referenceName, reference) },
  };
}

async function ensureDatasets(options: BenchOptions): Promise<DatasetEntry[]> {
  const wanted = options.only?.length ? options.only : DATASET_NAMES;
  const manifest = await readManifest(options.datasetsDir);
  const present = new Set(manifest?.datasets.filter((entry) => entry.scale === options.scale).map((entry) => entry.name) ?? []);
  const missing = wanted.filter((name) => !present.has(name));
  const prepared =
    missing.length > 0
      ? await prepareDatasets({ dir: options.datasetsDir, scale: options.scale, only: missing, silesiaZip: options.silesiaZip, offline: options.offline })
      : manifest!;
  return wanted.map((name) => prepared.datasets.find((entry) => entry.name === name)!);
}

export function machineInfo(): BenchResults['machine'] {
  return {
    os: process.platform,
    osRelease: release(),
    arch: process.arch,
    cpuModel: cpus()[0]?.model?.trim() || 'unknown',
    logicalCpus: cpus().length,
  };
}

/** Builds both sides, verifies the datasets, runs the interleaved harness on each and summarises. */
export async function runBenchmark(options: BenchOptions): Promise<BenchResults> {
  const contenders = await buildContenders(options.config);
  const datasets = await ensureDatasets(options);
  const settings = options.config.bench;
  const results: DatasetResult[] = [];
  for (const entry of datasets) {
    await verifyDatasetFiles(options.datasetsDir, entry);
    const input = join(options.datasetsDir, entry.compressed.path);
    const decoder = contenders.decoder.spec(input);
    const reference = contenders.libdeflate.spec(input);
    const progress = startProgress(`bench ${entry.label}`);
    progress.update(`${settings.rounds} interleaved rounds of ${decoder.name} and ${reference.name}`);
    const outcome = await runHarness({
      compressedPath: input,
      expectedPath: join(options.datasetsDir, entry.raw.path),
      contenders: [decoder, reference],
      rounds: settings.rounds,
      warmupRounds: settings.warmupRounds,
      timeoutMs: Math.round(settings.timeoutSeconds * 1000),
      maxSeconds: settings.maxSecondsPerDataset,
    });
    const contenderResults = [
      { side: decoder, role: 'decoder' as const },
      { side: reference, role: 'libdeflate' as const },
    ].map(({ side, role }) => {
      const byRound = outcome.samplesNs.get(side.name)!;
      const samplesNs = [...byRound].sort((a, b) => a[0] - b[0]).map(([, ns]) => ns);
      const failure = outcome.failures.get(side.name) ?? null;
      return { name: side.name, role, samplesNs, failure, megabytesPerSecond: failure || samplesNs.length === 0 ? null : megabytesPerSecond(entry.raw.bytes, samplesNs) };
    });
    const failed = contenderResults.some((contender) => contender.failure !== null);
    const ratios = failed ? [] : cycleRatios(pairedSpeedRatios(outcome.samplesNs.get(decoder.name)!, outcome.samplesNs.get(reference.name)!), 2);
    // Seeded by the dataset so a results file's interval can be recomputed exactly.
    const ratio = ratios.length > 0 ? medianInterval(ratios, { seed: parseInt(entry.compressed.sha256.slice(0, 8), 16) }) : null;
    results.push({
      name: entry.name,
      label: entry.label,
      standIn: entry.standIn,
      scale: entry.scale,
      rawBytes: entry.raw.bytes,
      rawSha256: entry.raw.sha256,
      compressedBytes: entry.compressed.bytes,
      compressedSha256: entry.compressed.sha256,
      compressor: entry.compressed.compressor,
      level: entry.compressed.level,
      rounds: outcome.rounds,
      placement: outcome.placement,
      verified: !failed && contenderResults.every((contender) => contender.samplesNs.length > 0),
      contenders: contenderResults,
      ratio,
    });
    progress.done(
      failed
        ? `FAILED: ${contenderResults.filter((c) => c.failure).map((c) => `${c.name}: ${c.failure}`).join('; ')}`
        : `ratio ${ratio ? ratio.estimate.toFixed(3) : 'n/a'} over ${outcome.rounds} rounds, all outputs verified`,
    );
  }
  return {
    schemaVersion: 1,
    createdAt: new Date().toISOString(),
    machine: machineInfo(),
    mode: contenders.mode,
    libdeflate: contenders.libdeflate.summary,
    decoder: contenders.decoder.summary,
    settings: { rounds: settings.rounds, warmupRounds: settings.warmupRounds, timeoutMs: Math.round(settings.timeoutSeconds * 1000), maxSecondsPerDataset: settings.maxSecondsPerDataset },
    datasets: results,
    ok: results.every((dataset) => dataset.verified),
  };
}
