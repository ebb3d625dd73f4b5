import { getOctokit } from '@actions/github';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';

export type GitHubClient = ReturnType<typeof getOctokit>;

export interface ClientOptions {
  token: string;
  /** The REST API root; a loopback test server in tests, api.github.com (the default) in Actions. */
  baseUrl?: string;
  /** Scales every retry wait (1000 = seconds as GitHub says; tests use 1). */
  retryBaseMs?: number;
  onWarning?: (message: string) => void;
}

/**
 * Octokit with retries for server errors and the throttling plugin for rate
 * limits: a 5xx is retried (3 times), a primary rate limit waits for its reset
 * (twice at most), a secondary limit once; 4xx client errors fail at once.
 */
export function createGitHubClient(options: ClientOptions): GitHubClient {
  const warn = options.onWarning ?? (() => {});
  const base = options.retryBaseMs ?? 1000;
  return getOctokit(
    options.token,
    {
      ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
      retry: { retries: 3, retryAfterBaseValue: base },
      throttle: {
        retryAfterBaseValue: base,
        fallbackSecondaryRateRetryAfter: 1,
        onRateLimit: (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
          warn(`GitHub rate limit on ${request.method} ${request.url}; ${retryCount < 2 ? `retrying after ${retryAfter} s` : 'giving up'}`);
          return retryCount < 2;
        },
        onSecondaryRateLimit: (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
          warn(`GitHub secondary rate limit on ${request.method} ${request.url}; ${retryCount < 1 ? `retrying after ${retryAfter} s` : 'giving up'}`);
          return retryCount < 1;
        },
      },
    },
    retry,
    throttling,
  );
}
