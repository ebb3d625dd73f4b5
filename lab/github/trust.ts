import { constants } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { parseResults, type BenchResults } from '../results/index.js';
import { LabError } from '../core/errors.js';
import { parseStrictJson, writeFileAtomically } from '../core/files.js';
import { apiError, type GitHubClient } from './client.js';
import { neutraliseMarkdown } from './comment.js';

/** What the PR workflow writes beside its results: which PR and commit it measured (untrusted: written by PR code's job). */
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

/** Writes the artifact's pr.json, checked against the same schema the comment job reads it with. */
export async function writePrInfo(dir: string, info: PrInfo): Promise<void> {
  await writeFileAtomically(join(dir, 'pr.json'), `${JSON.stringify(prInfoSchema.parse(info))}\n`);
}

const ARTIFACT_LIMITS = { files: 8, totalBytes: 20 * 1024 * 1024, analysisChars: 60_000 };

export interface TrustedArtifact {
  results: BenchResults;
  analysisMarkdown: string | undefined;
  pr: PrInfo;
}

const step = 'comment: artifact';

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
  const allowed = new Set(['results.json', 'pr.json', 'analysis.md', 'report.md']);
  const names = await readdir(dir).catch(() => {
    throw new LabError(step, `cannot read the artifact folder ${dir}.`, 'download the perf-pr artifact there first.');
  });
  if (names.length > ARTIFACT_LIMITS.files)
    throw new LabError(
      step,
      `the artifact has ${names.length} files (at most ${ARTIFACT_LIMITS.files} expected).`,
      'a perf-pr artifact holds results.json, pr.json and optionally analysis.md and report.md.',
    );
  let total = 0;
  for (const name of names) {
    if (!allowed.has(name))
      throw new LabError(
        step,
        `unexpected file ${JSON.stringify(name)} in the artifact.`,
        'a perf-pr artifact holds results.json, pr.json and optionally analysis.md and report.md.',
      );
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
  const results = parseResults(await readJson('results.json'), 'results.json in the artifact');
  const pr = prInfoSchema.safeParse(await readJson('pr.json'));
  if (!pr.success) throw new LabError(step, 'pr.json in the artifact is invalid.', 'refusing it.');
  let analysisMarkdown: string | undefined;
  if (names.includes('analysis.md')) {
    analysisMarkdown = await readRegularFile(join(dir, 'analysis.md'));
    if (analysisMarkdown.length > ARTIFACT_LIMITS.analysisChars) {
      // Cut on a character, and close what the cut leaves open (a fence, a <details>) so the note is seen.
      const last = analysisMarkdown.charCodeAt(ARTIFACT_LIMITS.analysisChars - 1);
      const end = ARTIFACT_LIMITS.analysisChars - (last >= 0xd800 && last <= 0xdbff ? 1 : 0);
      analysisMarkdown = `${neutraliseMarkdown(analysisMarkdown.slice(0, end))}\n\n… (analysis cut)`;
    }
  }
  return { results, analysisMarkdown, pr: pr.data };
}

/**
 * The PR a workflow run may comment on: the artifact's claim is believed only
 * when GitHub says that PR's head is the commit the run measured, so a fork
 * cannot steer the comment onto another PR. A PR whose head moved on is
 * `stale`: skipped with a notice, not a failed job.
 */
export async function verifyPullRequest(
  client: GitHubClient,
  owner: string,
  repo: string,
  runId: number,
  claimed: PrInfo,
): Promise<{ prNumber: number } | { stale: string }> {
  const run = await client.rest.actions.getWorkflowRun({ owner, repo, run_id: runId }).catch((error: unknown) => {
    throw apiError('comment: verify', `reading workflow run ${runId} of ${owner}/${repo}`, error);
  });
  const runSha = run.data.head_sha;
  if (claimed.headSha !== runSha) {
    throw new LabError(
      'comment: verify',
      `the artifact says it measured ${claimed.headSha}, but workflow run ${runId} ran on ${runSha}.`,
      'refusing to comment: the artifact does not belong to this run.',
    );
  }
  const pull = await client.rest.pulls
    .get({ owner, repo, pull_number: claimed.prNumber })
    .catch((error: { status?: number }) => {
      if (error.status === 404)
        throw new LabError(
          'comment: verify',
          `PR #${claimed.prNumber} does not exist in ${owner}/${repo}.`,
          'refusing to comment.',
        );
      throw apiError('comment: verify', `reading PR #${claimed.prNumber} of ${owner}/${repo}`, error);
    });
  if (pull.data.head.sha !== runSha) {
    // A push since the run (or a forged PR number): nothing is written; a newer run posts its own results.
    return {
      stale: `PR #${claimed.prNumber}'s head is ${pull.data.head.sha}, not ${runSha} (the commit workflow run ${runId} measured): the PR moved on since this run, or the PR number in the artifact is forged or stale. Not commenting; the run for the newer head posts its own results.`,
    };
  }
  return { prNumber: claimed.prNumber };
}
