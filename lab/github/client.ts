import { getOctokit } from '@actions/github';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import Bottleneck from 'bottleneck';
import { LabError } from '../core/errors.js';

export type GitHubClient = ReturnType<typeof getOctokit>;

export interface ClientOptions {
  token: string;
  /** The REST API root; a loopback test server in tests, api.github.com (the default) in Actions. */
  baseUrl?: string;
  /** Scales every wait, retries and the gaps between writes (1000 = seconds as GitHub says; tests use 1). */
  retryBaseMs?: number;
  onWarning?: (message: string) => void;
}

/** The throttling plugin's rate-limit hook: warn, and retry until `retries` retries were made. */
function retryUpTo(retries: number, what: string, warn: (message: string) => void) {
  return (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
    const next = retryCount < retries ? `retrying after ${retryAfter} s` : 'giving up';
    warn(`${what} on ${request.method} ${request.url}; ${next}`);
    return retryCount < retries;
  };
}

/** The test seam `PERF_LAB_RETRY_BASE_MS` (docs/github.md): the lab's tests shorten every wait with it. */
export const RETRY_BASE_VARIABLE = 'PERF_LAB_RETRY_BASE_MS';

function retryBaseFromEnvironment(): number | undefined {
  const text = process.env[RETRY_BASE_VARIABLE];
  if (text === undefined || text === '') return undefined;
  const base = Number(text);
  if (!Number.isFinite(base) || base <= 0 || base > 1000)
    throw new LabError(
      'GitHub client',
      `${RETRY_BASE_VARIABLE} is ${JSON.stringify(text)}, not a number of milliseconds above 0 and at most 1000.`,
      `unset ${RETRY_BASE_VARIABLE} (it is a test seam: 1000, GitHub's seconds, is the default).`,
    );
  return base;
}

/**
 * Octokit with retries for server errors and the throttling plugin for rate
 * limits: a 5xx is retried (3 times), a primary rate limit waits for its reset
 * (twice at most), a secondary limit once, a 429 twice after its Retry-After;
 * other 4xx client errors fail at once.
 */
export function createGitHubClient(options: ClientOptions): GitHubClient {
  const warn = options.onWarning ?? (() => {});
  const base = options.retryBaseMs ?? retryBaseFromEnvironment() ?? 1000;
  // The throttling plugin spaces writes as GitHub asks (1 s apart, 3 s for those that notify, e.g. a comment); a
  // scaled base scales those gaps too, so a test posting comments does not wait 3 s a comment.
  const gaps =
    base === 1000
      ? {}
      : {
          write: new Bottleneck.Group({ id: 'perf-lab-write', maxConcurrent: 1, minTime: base }),
          notifications: new Bottleneck.Group({ id: 'perf-lab-notifications', maxConcurrent: 1, minTime: 3 * base }),
        };
  const client = getOctokit(
    options.token,
    {
      ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
      // 429 is left to the hook below, which waits as long as GitHub's Retry-After says.
      retry: { retries: 3, retryAfterBaseValue: base, doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451] },
      throttle: {
        retryAfterBaseValue: base,
        fallbackSecondaryRateRetryAfter: 1,
        onRateLimit: retryUpTo(2, 'GitHub rate limit', warn),
        onSecondaryRateLimit: retryUpTo(1, 'GitHub secondary rate limit', warn),
        ...gaps,
      },
    },
    retry,
    throttling,
  );
  client.hook.wrap('request', async (request, requestOptions) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await request(requestOptions);
      } catch (error) {
        const status = (error as { status?: number }).status;
        if (status !== 429 || attempt > 2) throw error;
        const header = (error as { response?: { headers?: Record<string, string | undefined> } }).response?.headers?.[
          'retry-after'
        ];
        const seconds = header !== undefined && /^\d+$/.test(header) ? Number(header) : 60;
        warn(
          `GitHub answered 429 (too many requests) on ${requestOptions.method} ${requestOptions.url}; retrying ` +
            `after ${seconds} s (Retry-After)`,
        );
        await new Promise((resolve) => setTimeout(resolve, seconds * base));
      }
    }
  });
  return client;
}

const HINTS: Record<number, string> = {
  401: 'the token is missing or expired; pass a valid GITHUB_TOKEN.',
  403: "the token lacks a permission this call needs (check the workflow's permissions).",
  404: 'check the repository name, the PR number and the run id (and that the token can see the repository).',
  422: 'GitHub refused the request body; this is a perf-lab bug if it repeats.',
};

/**
 * Turns a failed API call into a LabError naming the call, GitHub's answer and
 * what to do; the token never appears (only status and GitHub's message).
 */
export function apiError(step: string, what: string, error: unknown): LabError {
  const status = (error as { status?: number }).status;
  if (status === undefined)
    return new LabError(step, `${what} failed: ${(error as Error).message}`, 'check the network and the API URL.');
  const message = String(
    (error as { response?: { data?: { message?: string } } }).response?.data?.message ?? (error as Error).message,
  ).split('\n')[0];
  return new LabError(
    step,
    `${what}: GitHub answered ${status} (${message}).`,
    HINTS[status] ??
      (status >= 500 ? 'GitHub is failing; the call was retried. Run the job again later.' : 'check the request.'),
  );
}
