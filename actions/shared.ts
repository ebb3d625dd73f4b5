import * as core from '@actions/core';
import { formatError, LabError } from '../lab/core/errors.js';
import { exitCleanlyOnSignals } from '../lab/core/temp.js';

/**
 * Runs an action body. A lab error fails the step with its message (step, what
 * went wrong, what to do) as an error annotation; any other error is reported
 * as an input or usage problem, with the stack in the debug log.
 */
export async function runAction(body: () => Promise<void>): Promise<void> {
  // A cancelled job sends SIGINT, then SIGTERM: temporary folders go, and the harness kills its workers.
  exitCleanlyOnSignals((line) => core.error(line));
  try {
    await body();
  } catch (error) {
    if (error instanceof LabError) {
      core.setFailed(formatError(error).text);
      return;
    }
    core.debug((error as Error).stack ?? String(error));
    core.setFailed(
      `perf-lab: ${(error as Error).message ?? String(error)}\n  what to do: check the step's inputs against the action's action.yml.`,
    );
  }
}
