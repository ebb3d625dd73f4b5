import { RESULTS_SCHEMA_VERSION, type BenchResults } from '../results/index.js';

// Test support: a small, valid results file (one real-shaped SILESIA dataset) for baseline tests.
/** A valid results file with one dataset whose cycle ratios are `ratios` (3 batches). */
export function sampleResults(
  options: { ratioScale?: number; ok?: boolean; standIn?: boolean; createdAt?: string; cpuModel?: string } = {},
): BenchResults {
  const scale = options.ratioScale ?? 1;
  const cycleRatios = [
    [0.52, 0.53, 0.51, 0.52],
    [0.5, 0.51, 0.52, 0.5],
    [0.53, 0.52, 0.52, 0.54],
  ].map((batch) => batch.map((ratio) => ratio * scale));
  // A fixed interval: the cycle ratios' median and a 95% range of them, as a bootstrap of them gave.
  const interval = {
    estimate: 0.52 * scale,
    low: 0.5 * scale,
    high: 0.53 * scale,
    confidence: 0.95,
    samples: 12,
    resamples: 500,
    method: 'median with two-level (batch, cycle) percentile-bootstrap CI over 3 batches',
  };
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    createdAt: options.createdAt ?? '2026-11-25T10:00:00.000Z',
    machine: {
      os: 'darwin',
      osRelease: '23.6.0',
      arch: 'arm64',
      cpuModel: options.cpuModel ?? 'Apple M1 (Virtual)',
      logicalCpus: 3,
    },
    regime: 'in-process',
    libdeflate: {
      name: 'libdeflate-1.24',
      version: '1.24',
      source: 'git',
      buildSystem: 'cmake',
      compiler: 'Apple clang 15',
      cflags: '-O3',
    },
    head: {
      name: 'gzippy',
      adapter: 'cabi',
      description: 'git',
      rustc: 'rustc 1.95.0',
      llvm: '22.1.2',
      compiler: null,
    },
    base: null,
    settings: {
      roundsPerBatch: 8,
      warmupRounds: 2,
      timeoutMs: 1000,
      minBatches: 3,
      maxBatches: 3,
      targetHalfWidth: 0.005,
      budgetSeconds: 60,
      verdictConfidence: 0.99,
    },
    datasets: [
      {
        name: 'silesia',
        label: options.standIn ? 'SILESIA (stand-in)' : 'SILESIA',
        standIn: options.standIn ?? false,
        scale: 'full',
        rawBytes: 211_957_760,
        rawSha256: 'a'.repeat(64),
        compressedBytes: 67_000_000,
        compressedSha256: 'b'.repeat(64),
        compressor: 'gzip 1.12',
        level: 9,
        placement: 'QOS_CLASS_USER_INTERACTIVE',
        batches: 3,
        rounds: 24,
        targetMet: true,
        stoppedBecause: 'target met',
        elapsedSeconds: 30,
        verified: options.ok ?? true,
        contenders: [
          { name: 'gzippy', role: 'head', samplesNs: [[1, 2]], megabytesPerSecond: 100, failure: null },
          { name: 'libdeflate-1.24', role: 'libdeflate', samplesNs: [[1, 2]], megabytesPerSecond: 200, failure: null },
        ],
        headVsLibdeflate: { interval, cycleRatios },
        baseVsLibdeflate: null,
        headVsBase: null,
      },
    ],
    ok: options.ok ?? true,
  };
}
