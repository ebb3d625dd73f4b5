import type { z } from 'zod';

/** A zod error as one line a user can act on: each issue's field path and message ("bench.rounds: too big"). */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(top level)'}: ${issue.message}`)
    .join('; ');
}
