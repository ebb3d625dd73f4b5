import { join } from 'node:path';
import { execa } from 'execa';
import { projectRoot } from '../core/paths.js';

export interface PerfLabRunOptions {
  /** Added to the inherited environment, after CI=true (plain progress lines, as the workflows see them). */
  env?: Readonly<Record<string, string>>;
  /** Default: the perf-lab checkout. */
  cwd?: string;
  /** Throw on a non-zero exit (default false: the exit code is the test's to check). */
  reject?: boolean;
  /** Kill the CLI after this many milliseconds (default: never). */
  timeout?: number;
}

/**
 * perf-lab's CLI as a user runs it: `node --import tsx lab/cli/run.ts ...args` in a process of its own. Awaited, it
 * gives the exit code, stdout and stderr; before that it is the running child (to signal, or to write to).
 */
export function runPerfLab(args: readonly string[], options: PerfLabRunOptions = {}) {
  return execa('node', ['--import', 'tsx', join(projectRoot(), 'lab', 'cli', 'run.ts'), ...args], {
    cwd: options.cwd ?? projectRoot(),
    reject: options.reject ?? false,
    env: { CI: 'true', ...options.env },
    timeout: options.timeout ?? 0,
  });
}
