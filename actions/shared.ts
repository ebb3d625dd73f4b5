import * as core from '@actions/core';
import { formatError, LabError } from '../lab/core/errors.js';
import { exitCleanlyOnSignals } from '../lab/core/temp.js';

/**
 * What an action uses of the runner: the part of @actions/core it calls. `run()` takes one, so tests drive an
 * action against a fake (lab/testing/fake-core.ts) and the bundle hands it the real one.
 */
export interface ActionCore {
  /** The input's value as the runner passes it (INPUT_<NAME>, action.yml's default applied), trimmed; '' if none. */
  getInput(name: string): string;
  setOutput(name: string, value: string): void;
  setFailed(message: string): void;
  setSecret(secret: string): void;
  notice(message: string): void;
  debug(message: string): void;
  group<T>(name: string, body: () => Promise<T>): Promise<T>;
  /** Appends markdown to the job summary. */
  writeSummary(markdown: string): Promise<void>;
}

/** The runner's own core, for the bundles. */
export const runnerCore: ActionCore = {
  getInput: (name) => core.getInput(name),
  setOutput: (name, value) => core.setOutput(name, value),
  setFailed: (message) => core.setFailed(message),
  setSecret: (secret) => core.setSecret(secret),
  notice: (message) => core.notice(message),
  debug: (message) => core.debug(message),
  group: (name, body) => core.group(name, body),
  writeSummary: async (markdown) => {
    await core.summary.addRaw(markdown).write();
  },
};

/**
 * Reads one input through a parser shared with the CLI (lab/cli/parse.ts): a value it refuses fails the step with
 * the input's name, what was wrong and where to fix it.
 */
export function parsedInput<T>(actionCore: ActionCore, action: string, name: string, parse: (value: string) => T): T {
  const value = actionCore.getInput(name);
  try {
    return parse(value);
  } catch (error) {
    throw new LabError(
      `action ${action}: input ${name}`,
      `${(error as Error).message}.`,
      `set \`${name}\` in the step's \`with:\` (see actions/${action}/action.yml).`,
    );
  }
}

/** A required input: '' fails the step naming it. */
export function requiredInput(actionCore: ActionCore, action: string, name: string): string {
  return parsedInput(actionCore, action, name, (value) => {
    if (!value) throw new Error('it is required and was not given');
    return value;
  });
}

/** Two inputs that go together: both values, or neither ('' each); one alone fails the step naming both. */
export function pairedInputs(
  actionCore: ActionCore,
  action: string,
  names: readonly [string, string],
  fix: string,
): [string, string] | undefined {
  const values = [actionCore.getInput(names[0]), actionCore.getInput(names[1])] as const;
  if (Boolean(values[0]) !== Boolean(values[1]))
    throw new LabError(
      `action ${action}: inputs ${names[0]} and ${names[1]}`,
      `only ${values[0] ? names[0] : names[1]} was given.`,
      fix,
    );
  return values[0] ? [values[0], values[1]] : undefined;
}

/**
 * Runs an action body. Every failure fails the step with one message (a lab error: step, what went wrong, what to
 * do; a refusal by the machine: the call and the path; anything else: an internal error), never a stack alone.
 */
export async function runAction(actionCore: ActionCore, body: () => Promise<void>): Promise<void> {
  // A cancelled job sends SIGINT, then SIGTERM: temporary folders go, and the harness kills its workers.
  exitCleanlyOnSignals((line) => actionCore.setFailed(line));
  try {
    await body();
  } catch (error) {
    if (!(error instanceof LabError)) actionCore.debug((error as Error)?.stack ?? String(error));
    actionCore.setFailed(formatError(error).text);
  }
}
