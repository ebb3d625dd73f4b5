import { join, resolve } from 'node:path';
import { writeFileAtomically } from '../core/files.js';
import { LabError } from '../core/errors.js';
import { cacheRoot } from '../core/paths.js';
import { markdownReport } from '../report/index.js';
import { runOutcome, writeResults, type BenchResults, type FailOn } from '../results/index.js';

/** Ends a finished run the way runOutcome judges it: the failure on stderr (naming the command), the exit code set. */
export function exitAsJudged(command: string, results: BenchResults, failOn: FailOn = 'never'): void {
  const outcome = runOutcome(results, failOn);
  if (outcome.failure) process.stderr.write(`perf-lab: ${command}: ${outcome.failure}\n`);
  if (outcome.exitCode !== 0) process.exitCode = outcome.exitCode;
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
