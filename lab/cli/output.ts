import { join, resolve } from 'node:path';
import { writeFileAtomically } from '../core/files.js';
import { LabError } from '../core/errors.js';
import { cacheRoot } from '../core/paths.js';
import { markdownReport } from '../report/index.js';
import { datasetsTheReferenceFailed, writeResults, type BenchResults } from '../results/index.js';

/** Exit code when the benchmark ran but a contender failed verification, crashed or hung. */
export const EXIT_CONTENDER_FAILED = 3;
/** Exit code of `compare` and `pr-check` when a dataset shows what --fail-on names. */
export const EXIT_VERDICT_FAILED = 4;

/**
 * A failed run's exit code: 3 when a contender failed, but 1 when libdeflate (the reference) failed on a dataset too
 * — then the dataset or libdeflate's build is bad, not the decoder under test, and the message says so.
 */
export function exitForFailedRun(results: BenchResults): number {
  const bad = datasetsTheReferenceFailed(results);
  if (bad.length === 0) return EXIT_CONTENDER_FAILED;
  process.stderr.write(
    `perf-lab: bench: libdeflate, the reference, failed too — the dataset (or libdeflate's build) is bad, not the ` +
      `decoders: ${bad.join('; ')}\n` +
      '  what to do: check the dataset with `perf-lab datasets verify` and prepare it again; if libdeflate still ' +
      'fails, rebuild it (delete .perf-lab/builds/libdeflate-*). The results above are kept.\n',
  );
  return 1;
}

/**
 * Prints the report, then writes the results and report files. A finished run
 * is never lost to an unwritable path: the report is already on stdout, and the
 * results go to a fallback file that the error names.
 */
export async function writeOutputs(
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

/** Writes a value as indented JSON (atomically), when a path is given. */
export async function writeJsonOutput(path: string | undefined, value: unknown): Promise<void> {
  if (path) await writeFileAtomically(resolve(path), `${JSON.stringify(value, null, 2)}\n`);
}
