import { constants } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { LabError } from '../core/errors.js';
import { parseStrictJson, writeFileAtomically } from '../core/files.js';
import { neutraliseMarkdown } from '../github/comment.js';
import { markdownReport } from '../report/index.js';
import { parseResults, writeResults, type BenchResults } from '../results/index.js';

/**
 * The perf-pr artifact: what the measuring job (pr-check, the bench and analyze actions) leaves in one folder and
 * the comment job reads back, untrusted. Its one definition: the file names, pr.json's schema, the writers, the
 * reader.
 */
export const ARTIFACT_FILES = {
  results: 'results.json',
  report: 'report.md',
  pr: 'pr.json',
  analysis: 'analysis.md',
} as const;

/** pr.json: which PR and commit the measuring job measured (untrusted: written by the PR code's job). */
const prInfoSchema = z
  .object({
    prNumber: z.number().int().positive(),
    headSha: z.string().regex(/^[0-9a-f]{40}$/),
    baseSha: z
      .string()
      .regex(/^[0-9a-f]{40}$/)
      .optional(),
    /** What the PR changed in the bench config, `path: base → head` (lab/prcheck/config-changes.ts). */
    configChanges: z.array(z.string().max(400)).min(1).max(21).optional(),
  })
  .strict();
export type PrInfo = z.infer<typeof prInfoSchema>;

/** The critical-path section, written into the artifact (by pr-check, or by the analyze action after the bench). */
export async function writeArtifactAnalysis(dir: string, markdown: string): Promise<void> {
  await writeFileAtomically(join(dir, ARTIFACT_FILES.analysis), markdown);
}

/**
 * Writes the artifact: results.json, report.md, analysis.md when there is one, and pr.json when the PR is known
 * (checked against the same schema the comment job reads it with).
 */
export async function writeArtifact(
  dir: string,
  contents: { results: BenchResults; analysisMarkdown?: string; pr?: PrInfo },
): Promise<void> {
  await writeResults(join(dir, ARTIFACT_FILES.results), contents.results);
  await writeFileAtomically(join(dir, ARTIFACT_FILES.report), markdownReport(contents.results));
  if (contents.analysisMarkdown) await writeArtifactAnalysis(dir, contents.analysisMarkdown);
  if (contents.pr)
    await writeFileAtomically(join(dir, ARTIFACT_FILES.pr), `${JSON.stringify(prInfoSchema.parse(contents.pr))}\n`);
}

const ARTIFACT_LIMITS = { files: 8, totalBytes: 20 * 1024 * 1024, analysisChars: 60_000 };

export interface TrustedArtifact {
  results: BenchResults;
  analysisMarkdown: string | undefined;
  pr: PrInfo;
}

const step = 'comment: artifact';
const holds =
  `a perf-pr artifact holds ${ARTIFACT_FILES.results}, ${ARTIFACT_FILES.pr} and optionally ` +
  `${ARTIFACT_FILES.analysis} and ${ARTIFACT_FILES.report}.`;

function fileKind(info: Awaited<ReturnType<typeof lstat>>): string {
  if (info.isSymbolicLink()) return 'a symbolic link';
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a named pipe';
  return 'a special file';
}

/** Reads a file that must be regular, without following a symlink swapped in after the check (O_NOFOLLOW). */
async function readRegularFile(path: string): Promise<string> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    if (!(await handle.stat()).isFile()) throw new Error('not a regular file');
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * Reads a downloaded perf-pr artifact folder, refusing anything unexpected:
 * unknown or too many files, oversize content, results or PR info that fail
 * their schemas.
 */
export async function readArtifact(dir: string): Promise<TrustedArtifact> {
  const allowed = new Set<string>(Object.values(ARTIFACT_FILES));
  const names = await readdir(dir).catch(() => {
    throw new LabError(step, `cannot read the artifact folder ${dir}.`, 'download the perf-pr artifact there first.');
  });
  if (names.length > ARTIFACT_LIMITS.files)
    throw new LabError(
      step,
      `the artifact has ${names.length} files (at most ${ARTIFACT_LIMITS.files} expected).`,
      holds,
    );
  let total = 0;
  for (const name of names) {
    if (!allowed.has(name)) throw new LabError(step, `unexpected file ${JSON.stringify(name)} in the artifact.`, holds);
    // lstat: a symlink (to a runner secret, say) is refused whatever the unzip tool made of it.
    const info = await lstat(join(dir, name));
    if (!info.isFile())
      throw new LabError(step, `${name} in the artifact is not a regular file (${fileKind(info)}).`, 'refusing it.');
    total += info.size;
  }
  if (total > ARTIFACT_LIMITS.totalBytes)
    throw new LabError(
      step,
      `the artifact holds ${total} bytes (limit ${ARTIFACT_LIMITS.totalBytes}).`,
      'refusing it.',
    );
  const readJson = async (name: string): Promise<unknown> => {
    try {
      return parseStrictJson(await readRegularFile(join(dir, name)));
    } catch (error) {
      throw new LabError(
        step,
        `${name} in the artifact is missing or not JSON (${(error as Error).message}).`,
        'refusing it.',
      );
    }
  };
  const results = parseResults(await readJson(ARTIFACT_FILES.results), `${ARTIFACT_FILES.results} in the artifact`);
  const pr = prInfoSchema.safeParse(await readJson(ARTIFACT_FILES.pr));
  if (!pr.success) throw new LabError(step, `${ARTIFACT_FILES.pr} in the artifact is invalid.`, 'refusing it.');
  let analysisMarkdown: string | undefined;
  if (names.includes(ARTIFACT_FILES.analysis)) {
    analysisMarkdown = await readRegularFile(join(dir, ARTIFACT_FILES.analysis));
    if (analysisMarkdown.length > ARTIFACT_LIMITS.analysisChars) {
      // Cut on a character, and close what the cut leaves open (a fence, a <details>) so the note is seen.
      const last = analysisMarkdown.charCodeAt(ARTIFACT_LIMITS.analysisChars - 1);
      const end = ARTIFACT_LIMITS.analysisChars - (last >= 0xd800 && last <= 0xdbff ? 1 : 0);
      analysisMarkdown = `${neutraliseMarkdown(analysisMarkdown.slice(0, end))}\n\n… (analysis cut)`;
    }
  }
  return { results, analysisMarkdown, pr: pr.data };
}
