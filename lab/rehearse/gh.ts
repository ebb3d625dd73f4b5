import { pathToFileURL } from 'node:url';

/*
 * The `gh` stand-in on every step's PATH (lab/rehearse/stand-ins.ts writes the wrapper that runs this file): the two
 * calls the warm job's prune step makes, against the rehearsal's cache store through the fake GitHub's REST endpoints
 * (the same store the cache restore/save stand-ins use), as gh 2.x makes them; anything else fails, saying it is not
 * modelled, so nothing reaches github.com.
 *
 *   gh cache list --key PREFIX [--limit N] --json key --jq '.[].key'
 *       GET /repos/{GH_REPO}/actions/caches?per_page=…&sort=last_accessed_at&direction=desc&key=PREFIX (gh's
 *       defaults: last accessed first), pages followed up to the limit (30 by default); one key a line; no match
 *       prints nothing and exits 0 (gh's "no results" is not a failure).
 *   gh cache delete KEY
 *       DELETE /repos/{GH_REPO}/actions/caches?key=KEY: every entry with that exact key, on any ref; none fails
 *       (exit 1) with gh's "X Could not find a cache matching KEY in OWNER/REPO".
 *
 * Like gh: the token is GH_TOKEN (or GITHUB_TOKEN), and without one gh in a workflow exits 4 saying to set GH_TOKEN.
 * Unlike gh: the API is GITHUB_API_URL (the fake GitHub), not GH_HOST's; the repository comes from GH_REPO only.
 */

const NOT_MODELLED =
  "the gh stand-in models only `gh cache list --key PREFIX [--limit N] --json key --jq '.[].key'` and " +
  '`gh cache delete KEY` (lab/rehearse/gh.ts)';

export interface GhOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

class GhExit extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const notModelled = (what: string) => new GhExit(1, `rehearsal: ${what} is not modelled: ${NOT_MODELLED}`);

/** `--name value` and `--name=value` flags (each at most once) and the positional arguments. */
function parseFlags(args: readonly string[], known: readonly string[]): { flags: Map<string, string>; rest: string[] } {
  const flags = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('-')) {
      rest.push(arg);
      continue;
    }
    const [name = '', inline] = arg.split(/=(.*)/s, 2);
    if (!known.includes(name) || flags.has(name)) throw notModelled(`the flag ${arg}`);
    const value = inline ?? args[++i];
    if (value === undefined) throw new GhExit(1, `flag needs an argument: ${name}`);
    flags.set(name, value);
  }
  return { flags, rest };
}

interface ApiCache {
  id: number;
  key: string;
}

async function api(
  env: Readonly<Record<string, string | undefined>>,
  method: 'GET' | 'DELETE',
  url: string,
): Promise<{ status: number; body: unknown; next: string | undefined }> {
  const response = await fetch(url, {
    method,
    headers: { authorization: `token ${env.GH_TOKEN || env.GITHUB_TOKEN}`, accept: 'application/vnd.github+json' },
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: kept as text for the error message.
  }
  const next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
  return { status: response.status, body, next };
}

function httpError(status: number, body: unknown, url: string): string {
  const message = body && typeof body === 'object' && 'message' in body ? String(body.message) : '';
  return `HTTP ${status}: ${message} (${url})`;
}

async function cacheList(args: readonly string[], env: Readonly<Record<string, string | undefined>>, base: string) {
  const { flags, rest } = parseFlags(args, ['--key', '--limit', '--json', '--jq']);
  if (rest.length) throw new GhExit(1, `unknown argument "${rest[0]}" for "gh cache list"`);
  const key = flags.get('--key');
  if (!key) throw notModelled('gh cache list without --key PREFIX');
  if (flags.get('--json') !== 'key' || flags.get('--jq') !== '.[].key')
    throw notModelled(`gh cache list --json ${flags.get('--json') ?? '(none)'} --jq ${flags.get('--jq') ?? '(none)'}`);
  const limitText = flags.get('--limit') ?? '30';
  const limit = /^-?\d+$/.test(limitText) ? Number(limitText) : NaN;
  if (!Number.isInteger(limit)) throw new GhExit(1, `invalid argument "${limitText}" for "-L, --limit" flag`);
  if (limit < 1) throw new GhExit(1, `invalid limit: ${limit}`);
  const perPage = limit < 100 ? limit : 100;
  let url: string | undefined =
    `${base}?per_page=${perPage}&sort=last_accessed_at&direction=desc&key=${encodeURIComponent(key)}`;
  const keys: string[] = [];
  while (url && keys.length < limit) {
    const { status, body, next } = await api(env, 'GET', url);
    if (status !== 200) throw new GhExit(1, `X Failed to get caches: ${httpError(status, body, url)}`);
    keys.push(...(body as { actions_caches: ApiCache[] }).actions_caches.map((cache) => cache.key));
    url = next;
  }
  const listed = keys.slice(0, limit);
  return {
    stdout: listed.map((listedKey) => `${listedKey}\n`).join(''),
    note: `rehearsal: gh cache list stand-in: ${listed.length} cache(s) with key prefix ${key}, last accessed first`,
  };
}

async function cacheDelete(args: readonly string[], env: Readonly<Record<string, string | undefined>>, base: string) {
  const { rest } = parseFlags(args, []);
  if (rest.length !== 1) throw notModelled(`gh cache delete with ${rest.length} arguments`);
  const key = rest[0]!;
  if (/^\d+$/.test(key)) throw notModelled('gh cache delete by cache id');
  const url = `${base}?key=${encodeURIComponent(key)}`;
  const { status, body } = await api(env, 'DELETE', url);
  const repository = env.GH_REPO!;
  if (status === 404) throw new GhExit(1, `X Could not find a cache matching ${key} in ${repository}`);
  if (status !== 200) throw new GhExit(1, `X Failed to delete cache: ${httpError(status, body, url)}`);
  const deleted = (body as { actions_caches: ApiCache[] }).actions_caches.length;
  // gh prints "✓ Deleted …" only to a terminal: a step's output is not one.
  return { stdout: '', note: `rehearsal: gh cache delete stand-in: deleted ${deleted} cache(s) with key ${key}` };
}

/** Runs one gh command line of the stand-in: its exit code and what it wrote. */
export async function gh(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<GhOutcome> {
  try {
    const [command = '', subcommand = '', ...rest] = args;
    if (command !== 'cache' || (subcommand !== 'list' && subcommand !== 'delete'))
      throw notModelled(`gh ${[command, subcommand].filter(Boolean).join(' ')}`);
    if (!env.GH_TOKEN && !env.GITHUB_TOKEN)
      throw new GhExit(
        4,
        env.GITHUB_ACTIONS === 'true'
          ? 'gh: To use GitHub CLI in a GitHub Actions workflow, set the GH_TOKEN environment variable. Example:\n' +
              '  env:\n    GH_TOKEN: ${{ github.token }}'
          : 'To get started with GitHub CLI, please run:  gh auth login\nAlternatively, populate the GH_TOKEN ' +
              'environment variable with a GitHub API authentication token.',
      );
    const repository = env.GH_REPO ?? '';
    if (!/^[^/\s]+\/[^/\s]+$/.test(repository))
      throw notModelled(
        repository
          ? `GH_REPO=${repository} (only OWNER/REPO)`
          : 'gh without GH_REPO (the repository from the git remote of the working directory)',
      );
    if (!env.GITHUB_API_URL)
      throw new GhExit(1, 'rehearsal: gh stand-in: no GITHUB_API_URL (the fake GitHub) to talk to');
    const base = `${env.GITHUB_API_URL.replace(/\/$/, '')}/repos/${repository}/actions/caches`;
    const { stdout, note } = await (subcommand === 'list' ? cacheList : cacheDelete)(rest, env, base);
    return { code: 0, stdout, stderr: `${note}\n` };
  } catch (error) {
    if (error instanceof GhExit) return { code: error.code, stdout: '', stderr: `${error.message}\n` };
    return {
      code: 1,
      stdout: '',
      stderr: `rehearsal: gh stand-in failed: ${(error as Error).stack ?? String(error)}\n`,
    };
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const outcome = await gh(process.argv.slice(2), process.env);
  process.stdout.write(outcome.stdout);
  process.stderr.write(outcome.stderr);
  process.exitCode = outcome.code;
}
