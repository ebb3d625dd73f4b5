import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { z } from 'zod';
import {
  intervalSchema,
  notComparableContenders,
  type BenchResults,
  type DatasetResult,
  failsOn,
  type FailOn,
} from '../results/index.js';
import { driftThresholds, findCalibration } from '../bench/calibrate.js';
import { LabError } from '../core/errors.js';
import { fileExists, readJsonFile, refuseNonFolder, writeFileAtomically } from '../core/files.js';
import { describeIssues } from '../core/schema.js';
import { clusteredMedianRatioInterval, decideVerdict, type Verdict } from '../stats/index.js';

/** What a stored ratio is only comparable within: same CPU, OS/arch, dataset bytes, libdeflate and toolchain. */
const baselineKeySchema = z
  .object({
    cpuModel: z.string().min(1),
    os: z.string().min(1),
    arch: z.string().min(1),
    dataset: z.string().min(1),
    compressedSha256: z.string().regex(/^[0-9a-f]{64}$/),
    libdeflateVersion: z.string().min(1),
    decoder: z.string().min(1),
    /** rustc and its LLVM for a Rust decoder; the C compiler for a libdeflate under test. */
    toolchain: z.string().min(1),
    /** How decodes were timed, when not into the lab's buffer in-process (absent: in-process, as before it existed). */
    regime: z.enum(['process', 'in-process-allocating']).optional(),
    /** The decoder's threads, when not 1. */
    threads: z.number().int().min(2).optional(),
  })
  .strict();
export type BaselineKey = z.infer<typeof baselineKeySchema>;

const entrySchema = z
  .object({
    recordedAt: z.string().datetime(),
    /** Decoder speed / libdeflate speed. */
    ratio: intervalSchema,
    cycleRatios: z.array(z.array(z.number().finite().positive())).min(1),
    batches: z.number().int().positive(),
    rounds: z.number().int().positive(),
    /** sha256 of the results file the entry came from. */
    resultsSha256: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();
export type BaselineEntry = z.infer<typeof entrySchema>;

const BASELINE_SCHEMA_VERSION = 1;
const baselineFileSchema = z
  .object({
    schemaVersion: z.literal(BASELINE_SCHEMA_VERSION),
    key: baselineKeySchema,
    /** Oldest first; the last entry is the baseline compared against. Kept to the latest MAX_ENTRIES. */
    entries: z.array(entrySchema).min(1),
  })
  .strict();
export type BaselineFile = z.infer<typeof baselineFileSchema>;

const MAX_ENTRIES = 50;

/**
 * Upgrades older baseline files to the current schema. Version 1 is the first;
 * a future version adds `[n]: (old) => new` here, and readBaseline applies the
 * chain, so stored history is never thrown away by an upgrade.
 */
const MIGRATIONS: Record<number, (old: unknown) => unknown> = {};

export function baselineKey(results: BenchResults, dataset: DatasetResult): BaselineKey {
  return {
    cpuModel: results.machine.cpuModel,
    os: results.machine.os,
    arch: results.machine.arch,
    dataset: dataset.name,
    compressedSha256: dataset.compressedSha256,
    libdeflateVersion: results.libdeflate.version,
    decoder: results.head.name,
    toolchain: results.head.rustc
      ? `${results.head.rustc}; LLVM ${results.head.llvm}`
      : (results.head.compiler ?? 'unknown'),
    ...(results.regime !== 'in-process' ? { regime: results.regime } : {}),
    ...((results.head.threads ?? 1) > 1 ? { threads: results.head.threads } : {}),
  };
}

function keyHash(key: BaselineKey): string {
  return createHash('sha256')
    .update(JSON.stringify(baselineKeySchema.parse(key)))
    .digest('hex');
}

/** baselines/<dataset>-<cpu>-<hash>.json: readable, and unique per key. */
function baselineFileName(key: BaselineKey): string {
  const cpu = key.cpuModel
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 40);
  return `${key.dataset}-${cpu}-${keyHash(key).slice(0, 16)}.json`;
}

/** Validates untrusted baseline JSON, applying migrations from older versions. */
export function parseBaseline(json: unknown, source: string): BaselineFile {
  let value = json;
  let version =
    typeof value === 'object' && value !== null ? (value as { schemaVersion?: unknown }).schemaVersion : undefined;
  while (typeof version === 'number' && version < BASELINE_SCHEMA_VERSION && MIGRATIONS[version]) {
    value = MIGRATIONS[version]!(value);
    version = (value as { schemaVersion: number }).schemaVersion;
  }
  if (version !== BASELINE_SCHEMA_VERSION) {
    throw new LabError(
      'baselines',
      `${source} has schemaVersion ${JSON.stringify(version)}; this perf-lab reads version ${BASELINE_SCHEMA_VERSION}.`,
      'upgrade perf-lab, or regenerate the baseline with `perf-lab baseline update`.',
    );
  }
  const parsed = baselineFileSchema.safeParse(value);
  if (!parsed.success)
    throw new LabError(
      'baselines',
      `${source} is invalid: ${describeIssues(parsed.error)}.`,
      'restore it from git history or delete it and run `perf-lab baseline update` again.',
    );
  return parsed.data;
}

async function readBaselineFile(path: string): Promise<BaselineFile | undefined> {
  if (!(await fileExists(path))) return undefined;
  return parseBaseline(
    await readJsonFile(
      path,
      'baselines',
      'restore it from git history or delete it and run `perf-lab baseline update` again.',
    ),
    path,
  );
}

export interface UpdateOutcome {
  dataset: string;
  path: string;
  entries: number;
}

/**
 * Appends each dataset's ratio to its baseline file, refusing results that
 * cannot be trusted or compared: failed verification, stand-in datasets,
 * missing ratios, or a stored file whose key differs. Each file is updated
 * under a lock and written atomically, so concurrent updates both survive.
 */
export async function updateBaselines(
  results: BenchResults,
  resultsSha256: string,
  dir: string,
): Promise<UpdateOutcome[]> {
  await refuseNonFolder(dir, 'baseline update', '--baselines');
  if (!results.ok) {
    throw new LabError(
      'baseline update',
      'these results failed verification (a contender produced wrong output, crashed or hung).',
      'fix the decoder and measure again; failed runs are never stored.',
    );
  }
  // `ok` is the run's summary; each dataset carries its own verification, and a mismatch is refused too.
  const unverified = results.datasets.filter(
    (dataset) => !dataset.verified || dataset.contenders.some((contender) => contender.failure),
  );
  if (unverified.length > 0) {
    const reasons = unverified.map(
      (dataset) =>
        `${dataset.label}: ${
          dataset.contenders
            .filter((c) => c.failure)
            .map((c) => `${c.name}: ${c.failure}`)
            .join('; ') || 'not verified'
        }`,
    );
    throw new LabError(
      'baseline update',
      `these results claim ok, but ${reasons.join(', ')}.`,
      'measure again; only fully verified results are stored.',
    );
  }
  const careless = notComparableContenders(results);
  if (careless.size > 0) {
    throw new LabError(
      'baseline update',
      (results.integrity?.contenders.some((entry) => careless.has(entry.name) && entry.notComparable)
        ? 'the integrity gate found'
        : 'not comparable:') +
        ' ' +
        [...careless].map(([name, why]) => `${name}: ${why}`).join('; ') +
        '.',
      'a baseline from a decoder that skips checks or works outside its turn would make every later comparison ' +
        'wrong; fix the decoder and measure again.',
    );
  }
  const standIns = results.datasets.filter((dataset) => dataset.standIn);
  if (standIns.length > 0) {
    throw new LabError(
      'baseline update',
      `${standIns.map((dataset) => dataset.label).join(', ')} is a stand-in, not the real dataset.`,
      'measure with the real Silesia corpus (--silesia-zip) before storing a baseline.',
    );
  }
  const missing = results.datasets.filter((dataset) => !dataset.headVsLibdeflate);
  if (missing.length > 0) {
    throw new LabError(
      'baseline update',
      `no decoder/libdeflate ratio for ${missing.map((dataset) => dataset.label).join(', ')}.`,
      'measure again; every dataset needs a ratio.',
    );
  }
  await mkdir(dir, { recursive: true });
  const outcomes: UpdateOutcome[] = [];
  for (const dataset of results.datasets) {
    const key = baselineKey(results, dataset);
    const path = join(dir, baselineFileName(key));
    const comparison = dataset.headVsLibdeflate!;
    const entry: BaselineEntry = {
      recordedAt: results.createdAt,
      ratio: comparison.interval,
      cycleRatios: comparison.cycleRatios.filter((cluster) => cluster.length > 0),
      batches: dataset.batches,
      rounds: dataset.rounds,
      resultsSha256,
    };
    // realpath: false locks the path even before the file exists (the lock is a sibling folder).
    const release = await lockfile
      .lock(path, { realpath: false, retries: { retries: 50, minTimeout: 20, maxTimeout: 500 }, stale: 60_000 })
      .catch((error: Error) => {
        throw new LabError(
          'baseline update',
          `cannot lock ${path}: ${error.message}`,
          'another update holds it; retry when it has finished.',
        );
      });
    try {
      const existing = await readBaselineFile(path);
      if (existing && keyHash(existing.key) !== keyHash(key)) {
        throw new LabError(
          'baseline update',
          `${path} holds a baseline for a different key (${JSON.stringify(existing.key)}).`,
          'the file was renamed or edited by hand; restore it from git history.',
        );
      }
      if (existing?.entries.some((stored) => stored.resultsSha256 === resultsSha256)) {
        outcomes.push({ dataset: dataset.label, path, entries: existing.entries.length });
        continue;
      }
      const entries = [...(existing?.entries ?? []), entry].slice(-MAX_ENTRIES);
      await writeFileAtomically(
        path,
        JSON.stringify(baselineFileSchema.parse({ schemaVersion: BASELINE_SCHEMA_VERSION, key, entries }), null, 2) +
          '\n',
      );
      outcomes.push({ dataset: dataset.label, path, entries: entries.length });
    } finally {
      await release();
    }
  }
  return outcomes;
}

export interface Drift {
  dataset: string;
  baseline: BaselineEntry | null;
  current: number | null;
  /** current ratio / baseline ratio, with the verdict on it. */
  verdict: Verdict | null;
  note: string;
}

/**
 * Compares each dataset's decoder/libdeflate ratio with the stored baseline of the same key. The drift thresholds
 * default to this runner class's calibration (the margin a PR check here typically resolves), if there is one.
 */
export async function compareWithBaselines(
  results: BenchResults,
  dir: string,
  thresholds?: Readonly<Record<string, { threshold: number; source: string }>>,
): Promise<Drift[]> {
  thresholds ??= driftThresholds(await findCalibration());
  const gateFindings = notComparableContenders(results);
  await refuseNonFolder(dir, 'compare', '--baselines');
  const drifts: Drift[] = [];
  for (const dataset of results.datasets) {
    const key = baselineKey(results, dataset);
    const fileName = baselineFileName(key);
    const stored = await readBaselineFile(join(dir, fileName));
    if (stored && keyHash(stored.key) !== keyHash(key)) {
      throw new LabError(
        'compare',
        `${join(dir, fileName)} holds a baseline for a different key.`,
        'restore it from git history.',
      );
    }
    const comparison = dataset.headVsLibdeflate;
    const careless = [results.head.name, results.libdeflate.name].filter((name) => gateFindings.has(name));
    if (comparison && careless.length) {
      const why = careless.map((name) => `${name} ${gateFindings.get(name)}`).join('; ');
      drifts.push({
        dataset: dataset.label,
        baseline: stored?.entries.at(-1) ?? null,
        current: null,
        verdict: null,
        note: `not comparable: ${why}`,
      });
      continue;
    }
    if (!comparison) {
      drifts.push({
        dataset: dataset.label,
        baseline: stored?.entries.at(-1) ?? null,
        current: null,
        verdict: null,
        note: 'no ratio in these results (a contender failed)',
      });
      continue;
    }
    if (!stored) {
      drifts.push({
        dataset: dataset.label,
        baseline: null,
        current: comparison.interval.estimate,
        verdict: null,
        note:
          `no baseline for this key (${key.cpuModel}, ${key.os}/${key.arch}, libdeflate ` +
          `${key.libdeflateVersion}, ${key.toolchain}, dataset ${key.compressedSha256.slice(0, 12)})`,
      });
      continue;
    }
    const baseline = stored.entries.at(-1)!;
    const interval = clusteredMedianRatioInterval(comparison.cycleRatios, baseline.cycleRatios, {
      confidence: results.settings.verdictConfidence,
      seed: parseInt(key.compressedSha256.slice(0, 8), 16),
    });
    const threshold = thresholds[dataset.label] ?? { threshold: 0, source: 'none: this machine is not calibrated' };
    drifts.push({
      dataset: dataset.label,
      baseline,
      current: comparison.interval.estimate,
      verdict: decideVerdict(interval, threshold.threshold, threshold.source),
      note: `baseline of ${baseline.recordedAt.slice(0, 10)} (${stored.entries.length} stored)`,
    });
  }
  return drifts;
}

/** The drifts that fail a run under --fail-on: regressions, or (with "change") improvements too. */
export function driftFailures(drifts: readonly Drift[], failOn: FailOn): Drift[] {
  return drifts.filter((drift) => drift.verdict && failsOn(drift.verdict.kind, failOn));
}
