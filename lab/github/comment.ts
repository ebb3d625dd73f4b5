import type { BenchResults } from '../results/index.js';
import {
  compactTable,
  escapeCell,
  integrityNotes,
  regimeLine,
  methodDetails,
  ratioTable,
  reportTitle,
  summaryLine,
  withoutAbsolutePaths,
} from '../report/index.js';
import { COUNTS_ARE_NOT_TIME, countsSection } from '../report/counts.js';
import { LabError } from '../core/errors.js';
import { apiError, type GitHubClient } from './client.js';

/** Hidden marker that identifies perf-lab's one sticky comment on a PR. */
export const COMMENT_MARKER = '<!-- perf-lab:sticky-comment -->';
/** GitHub refuses comment bodies over 65,536 characters. */
export const MAX_COMMENT_CHARS = 65_536;

/**
 * The comment body, read top-down in ten seconds: the summary line (verdict
 * per dataset, head/libdeflate ratios), a compact table, the commits; then the
 * method, machine, toolchains and full table collapsed; then the critical-path
 * section. Everything from untrusted data is escaped by the report renderers;
 * the analysis section (untrusted markdown) by neutraliseMarkdown; runner paths are cut.
 * Cut to GitHub's limit with a link to the full report when too long.
 */
export function renderComment(
  results: BenchResults,
  options: {
    analysisMarkdown?: string;
    fullReportUrl?: string;
    headSha?: string;
    baseSha?: string;
    /** What the PR changed in the bench config (both sides were measured with head's). */
    configChanges?: readonly string[];
  } = {},
): string {
  const sha = (value: string | undefined) => (value ? `\`${escapeCell(value.slice(0, 12))}\`` : undefined);
  const commits = [
    options.baseSha ? `base ${sha(options.baseSha)}` : '',
    options.headSha ? `head ${sha(options.headSha)}` : '',
  ]
    .filter(Boolean)
    .join(' → ');
  const counts = countsSection(results);
  const details = withoutAbsolutePaths(
    `${ratioTable(results)}\n\n${counts ? `${counts}\n\n` : ''}${methodDetails(results)}`,
  );
  const parts = [
    COMMENT_MARKER,
    `### ${reportTitle(results)}`,
    summaryLine(results),
    compactTable(results),
    ...(results.counts ? [COUNTS_ARE_NOT_TIME] : []),
    regimeLine(results),
    ...integrityNotes(results),
    ...(commits ? [commits] : []),
    ...(options.configChanges?.length ? [configChangeNote(options.configChanges)] : []),
    `<details><summary>Method, machine, toolchains and the full table</summary>\n\n${details}\n\n</details>`,
  ];
  if (options.analysisMarkdown) parts.push(neutraliseMarkdown(options.analysisMarkdown));
  parts.push(`<sub>perf-lab · updated ${escapeCell(results.createdAt)}</sub>`);
  return truncateComment(parts.join('\n\n'), options.fullReportUrl);
}

/** A PR that changes the bench config changes what base is measured with: said above the details, never hidden. */
function configChangeNote(changes: readonly string[]): string {
  return (
    "**This PR changes the bench config**; base and head were both measured with head's, and judged by base's " +
    'bench.tolerance, bench.minimumEffect and bench.verdictConfidence (a PR cannot move the bar it is judged by):\n' +
    changes.map((change) => `- ${escapeCell(change)}`).join('\n')
  );
}

/**
 * The HTML tags the lab itself emits; in untrusted text they pass only in the shapes the lab writes (see
 * neutraliseMarkdown).
 */
const LAB_TAGS = /<(\/?)(details|summary|b|sub)>/g;
/** A code fence's opening line (CommonMark: up to 3 spaces, 3+ backticks with no backtick after, or 3+ tildes). */
const FENCE_OPENER = /^ {0,3}(`{3,}(?=[^`]*$)|~{3,})/;

/** Whether `line` closes the fence opened with `fence`: at least as many of the same character, nothing else. */
function closesFence(line: string, fence: string): boolean {
  const run = /^ {0,3}(`+|~+)[ \t]*$/.exec(line)?.[1];
  return run !== undefined && run[0] === fence[0] && run.length >= fence.length;
}

const ZWSP = '\u200b';
/** An `@`, or a character reference that reads as one, not yet followed by a zero-width space. */
const AT_SIGN = /(@|&#0*64(?:;|(?![0-9;]))|&#x0*40(?:;|(?![0-9a-f;]))|&commat;)(?!\u200b)/gi;
/** A fence run after indentation or a list or quote marker: a fence only opens at a line's very start. */
const NESTED_FENCE = /^((?:[ \t>]|[-+*][ \t]|\d{1,9}[.)][ \t])+)(?=```|~~~)/;
/** The HTML the lab's analysis writes (critical-path.ts, model-gap.ts): a whole line each. */
const SUMMARY_LINE = /^<details><summary>(?:[^<]|<b>[^<]*<\/b>)*<\/summary>[ \t]*$/;
const DETAILS_END = /^<\/details>[ \t]*$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The one escaping path for untrusted markdown (analysis.md: written by the PR's job, from names and code the PR
 * controls), so that whatever it holds it cannot reach past its section:
 * - no mention: every `@` (and `&#64;`, `&#x40;`, `&commat;`) is followed by a zero-width space, in code too;
 * - no HTML but the lab's own shapes, each a whole line outside fences: `<details><summary>…</summary>` (with
 *   `<b>…</b>` pairs in the summary) and a `</details>` that closes one; every other `<` is `&lt;`;
 * - every block it opens ends in it: a fence opens only at a line's start (indented, listed or quoted fence runs
 *   are backslash-escaped, so CommonMark and openBlocks agree on where fences are), after a blank line (not inside
 *   an HTML block), and is closed at the end if still open; then each open <details>;
 * - runner paths cut, line ends normalised to \n (CommonMark also ends lines at a lone \r), lone surrogates replaced.
 * Applying it twice changes nothing.
 */
export function neutraliseMarkdown(markdown: string): string {
  const lines = withoutAbsolutePaths(markdown.replace(LONE_SURROGATE, '\ufffd').replace(/\r\n?/g, '\n')).split('\n');
  const escapeHtml = (line: string) => line.replace(/</g, '&lt;');
  const out: string[] = [];
  let fence: string | undefined;
  let details = 0;
  for (const line of lines) {
    const opener = fence === undefined && /^[`~]/.test(line) ? FENCE_OPENER.exec(line)?.[1] : undefined;
    if (fence !== undefined) {
      if (closesFence(line, fence)) fence = undefined;
      out.push(escapeHtml(line));
    } else if (opener) {
      fence = opener;
      if (out.at(-1)?.trim()) out.push('');
      out.push(escapeHtml(line));
    } else if (SUMMARY_LINE.test(line)) {
      details++;
      out.push(line);
    } else if (details > 0 && DETAILS_END.test(line)) {
      details--;
      out.push(line);
    } else out.push(escapeHtml(line.replace(NESTED_FENCE, '$1\\')));
  }
  if (fence !== undefined) out.push(fence);
  for (; details > 0; details--) out.push('', '</details>');
  return out.join('\n').replace(AT_SIGN, `$1${ZWSP}`);
}

type OpenBlock = { fence: string } | { tag: string };

/**
 * What is still open at the end of `markdown`, outermost first: a code fence, and the lab's HTML tags opened outside
 * fences. Meant for what renderComment assembles: the lab's own text, and untrusted text after neutraliseMarkdown
 * (where every other `<` is escaped and a fence opens only at a line's start, so CommonMark reads it the same way).
 */
function openBlocks(markdown: string): OpenBlock[] {
  const open: OpenBlock[] = [];
  for (const line of markdown.split('\n')) {
    const top = open.at(-1);
    if (top && 'fence' in top) {
      if (closesFence(line, top.fence)) open.pop();
      continue;
    }
    const fence = FENCE_OPENER.exec(line)?.[1];
    if (fence) {
      open.push({ fence });
      continue;
    }
    for (const [, slash, tag] of line.matchAll(LAB_TAGS)) {
      if (!slash) open.push({ tag: tag! });
      else {
        const at = open.findLastIndex((block) => 'tag' in block && block.tag === tag);
        if (at >= 0) open.length = at;
      }
    }
  }
  return open;
}

/**
 * What closes `open` after `text`, innermost first: a fence on its own line, a <details> as its own block, the rest
 * inline.
 */
function closingFor(text: string, open: readonly OpenBlock[]): string {
  let closing = '';
  for (const block of [...open].reverse()) {
    if ('fence' in block) closing += `${(text + closing).endsWith('\n') ? '' : '\n'}${block.fence}`;
    else closing += block.tag === 'details' ? '\n\n</details>' : `</${block.tag}>`;
  }
  return closing;
}

/** A line this far back or nearer is cut whole (so are table rows, however long). */
const LINE_SLACK = 2_000;

/**
 * Where to cut at or before `at`: a line's start when near (or in a table row), never inside a tag, a character
 * reference or a surrogate pair.
 */
function cutPosition(body: string, at: number): number {
  const lineStart = body.lastIndexOf('\n', at - 1) + 1;
  if (at - lineStart <= LINE_SLACK || body[lineStart] === '|') return lineStart;
  let cut = at;
  // Every `<` left in the body opens a tag (untrusted ones are escaped): one without its `>` is cut before.
  const tag = body.lastIndexOf('<', cut - 1);
  if (tag > body.lastIndexOf('>', cut - 1)) cut = tag;
  const reference = /&#?[A-Za-z0-9]{0,31}$/.exec(body.slice(Math.max(lineStart, cut - 33), cut));
  if (reference) cut -= reference[0].length;
  const last = body.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut--;
  return cut;
}

/**
 * Cuts a body over GitHub's limit: what the cut leaves open (a code fence, a <details>, a <summary>, a <b>) is closed,
 * innermost first, and the notice (with the link to the full report) follows, outside every block, so it is seen;
 * the whole stays within MAX_COMMENT_CHARS.
 */
export function truncateComment(body: string, fullReportUrl?: string): string {
  if (body.length <= MAX_COMMENT_CHARS) return body;
  const notice =
    `\n\n… cut to fit GitHub's ${MAX_COMMENT_CHARS}-character ` +
    'limit.' +
    (fullReportUrl
      ? ` The full report is in [the run's artifacts](${encodeURI(fullReportUrl)}).`
      : " The full report is in the workflow run's artifacts.");
  const room = MAX_COMMENT_CHARS - notice.length;
  for (let at = room; ;) {
    const kept = body.slice(0, cutPosition(body, at));
    const closing = closingFor(kept, openBlocks(kept));
    if (kept.length + closing.length <= room) return `${kept}${closing}${notice}`;
    at = Math.min(at, kept.length) - (kept.length + closing.length - room);
  }
}

export interface CommentTarget {
  owner: string;
  repo: string;
  issueNumber: number;
  /** Only a marked comment by this login counts as ours (a copied marker in someone else's comment does not). */
  author?: string;
}

export interface PostedComment {
  action: 'created' | 'updated';
  id: number;
  url: string;
}
/** What the comment job did: posted, or skipped (the PR moved on since the run). */
export type UpsertOutcome = PostedComment | { action: 'skipped'; reason: string };

/**
 * Creates perf-lab's comment on the PR, or updates it when one with the marker
 * exists (only one by the same author is ever kept). A 403 fails with the
 * permission to grant (the job summary already carries the report).
 */
export async function upsertStickyComment(
  client: GitHubClient,
  target: CommentTarget,
  body: string,
): Promise<PostedComment> {
  try {
    const comments = await client.paginate(client.rest.issues.listComments, {
      owner: target.owner,
      repo: target.repo,
      issue_number: target.issueNumber,
      per_page: 100,
    });
    const author = target.author ?? 'github-actions[bot]';
    const existing = comments.find(
      (comment) =>
        typeof comment.body === 'string' && comment.body.includes(COMMENT_MARKER) && comment.user?.login === author,
    );
    if (existing) {
      const updated = await client.rest.issues.updateComment({
        owner: target.owner,
        repo: target.repo,
        comment_id: existing.id,
        body,
      });
      return { action: 'updated', id: updated.data.id, url: updated.data.html_url };
    }
    const created = await client.rest.issues.createComment({
      owner: target.owner,
      repo: target.repo,
      issue_number: target.issueNumber,
      body,
    });
    return { action: 'created', id: created.data.id, url: created.data.html_url };
  } catch (error) {
    const status = (error as { status?: number }).status;
    const message = (error as Error).message.split('\n')[0] ?? '';
    if (status === 403 && /secondary rate limit/i.test(message)) {
      throw new LabError(
        'comment',
        `GitHub's secondary rate limit refused the comment on #${target.issueNumber} after a retry (${message}).`,
        'too many requests in a short time from this token; run the job again in a few minutes.',
      );
    }
    // The commenting workflow runs on workflow_run with the base repository's token, never a fork's: a 403 here
    // is a permission the caller did not grant, so the job fails and says which.
    if (status === 403)
      throw new LabError(
        'comment',
        `GitHub answered 403 (${message}) to commenting on #${target.issueNumber} of ${target.owner}/${target.repo}: ` +
          'the token may not write pull-request comments.',
        'give the calling workflow (perf-comment.yml) `permissions: pull-requests: write` and allow it in Settings → ' +
          'Actions → General → Workflow permissions; with an App or PAT token, grant it Pull requests: write. ' +
          'The report is in the job summary.',
      );
    throw apiError('comment', `writing the comment on #${target.issueNumber} of ${target.owner}/${target.repo}`, error);
  }
}
