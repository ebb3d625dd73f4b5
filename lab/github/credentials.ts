/*
 * The tokens perf-lab is given (GITHUB_TOKEN for the API, PERF_LAB_PUSH_TOKEN for git push), taken out of the
 * environment when the CLI starts: every build, code-generation step, decoder and harness worker the lab starts
 * inherits its environment, and none of them may read a token. The lab hands a token only to the API client and
 * to git push.
 */
const TOKEN_NAMES = ['GITHUB_TOKEN', 'PERF_LAB_PUSH_TOKEN'] as const;
type TokenName = (typeof TOKEN_NAMES)[number];
const taken = new Map<TokenName, string>();

/** Moves the tokens from process.env into this module (idempotent). */
export function takeTokensFromEnvironment(): void {
  for (const name of TOKEN_NAMES) {
    const value = process.env[name];
    if (value) taken.set(name, value);
    delete process.env[name];
  }
}

/** A token given to this process (taken at start, or still in the environment when the CLI was not the entry). */
export function tokenFor(name: TokenName): string | undefined {
  return taken.get(name) ?? (process.env[name] || undefined);
}

/**
 * git `-c` settings that authenticate a push or fetch to GitHub with the push token, as actions/checkout does with
 * persisted credentials — but only for that one git command, never written to .git/config.
 */
export function gitAuthConfig(): string[] {
  const token = tokenFor('PERF_LAB_PUSH_TOKEN');
  if (!token) return [];
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
  return [`http.https://github.com/.extraheader=AUTHORIZATION: basic ${basic}`];
}
