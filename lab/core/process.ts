import { open } from 'node:fs/promises';
import { execa, type Options } from 'execa';
import { LabError } from './errors.js';

/*
 * The one way the lab runs another program. `attempt` runs it and says how it ended (never throws for the program's
 * own failure); `run` throws a LabError with the log tail and a command to reproduce it; `probe` asks a tool
 * something and returns undefined when the tool is missing or fails.
 */

export interface AttemptOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Killed (SIGTERM, then SIGKILL after forceKillAfterMs) when it runs longer. */
  timeoutMs?: number;
  forceKillAfterMs?: number;
  /** Written to its stdin; without it stdin is closed. */
  input?: string;
  /**
   * Its stdout goes to this file instead of memory: the file is the program's own stdout (no pipe through this
   * process), so a full disk is the program's write error ("No space left on device"), not a broken pipe.
   */
  stdoutFile?: string;
  /** Largest stdout or stderr kept in memory (execa's default is 100 MB). */
  maxBufferBytes?: number;
}

export interface Attempt {
  ok: boolean;
  /** The program is not there (ENOENT): another candidate may be tried. */
  missing: boolean;
  exitCode: number | undefined;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they were written. */
  all: string;
  /** How it ended when not ok, as a clause: "exited with code 2", "timed out after 500 ms", "could not start (…)". */
  failure: string;
  /** A shell line that runs it again the same way (execa's escaped command, from its folder). */
  reproduce: string;
}

/** Quotes a folder for the `cd` of a reproduce line (the command itself is execa's escapedCommand). */
function quoteFolder(path: string): string {
  return /^[A-Za-z0-9_\-+=./:,@%]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

export function tail(text: string, lines = 25): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

export async function attempt(file: string, args: readonly string[], options: AttemptOptions = {}): Promise<Attempt> {
  const output = options.stdoutFile ? await open(options.stdoutFile, 'w') : undefined;
  try {
    return await attemptWith(file, args, options, output?.fd);
  } finally {
    await output?.close();
  }
}

async function attemptWith(
  file: string,
  args: readonly string[],
  options: AttemptOptions,
  stdoutFd: number | undefined,
): Promise<Attempt> {
  const execaOptions: Options = {
    cwd: options.cwd,
    env: options.env,
    timeout: options.timeoutMs,
    forceKillAfterDelay: options.forceKillAfterMs,
    maxBuffer: options.maxBufferBytes,
    // With stdout in a file, interleaving it into `all` would hold it all in memory too.
    all: !options.stdoutFile,
    reject: false,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    // An open descriptor (execa's types list only 3–9; spawn takes any): the program writes the file itself.
    ...(stdoutFd === undefined ? {} : { stdout: stdoutFd as 3 }),
  };
  const result = await execa(file, args, execaOptions);
  const failure = !result.failed
    ? ''
    : result.timedOut
      ? `timed out after ${options.timeoutMs} ms`
      : result.isTerminated
        ? `was killed by ${result.signal}`
        : result.exitCode === undefined
          ? `could not start (${result.originalMessage ?? result.shortMessage})`
          : `exited with code ${result.exitCode}`;
  return {
    ok: !result.failed,
    missing: (result as { code?: string }).code === 'ENOENT',
    exitCode: result.exitCode,
    timedOut: Boolean(result.timedOut),
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    all: String(result.all ?? ''),
    failure,
    reproduce: options.cwd ? `(cd ${quoteFolder(options.cwd)} && ${result.escapedCommand})` : result.escapedCommand,
  };
}

/** "<what> exited with code 2." and, when it printed anything, the last lines of its output. */
export function failureText(what: string, outcome: Attempt, output = outcome.all): string {
  const log = output.trim().length > 0 ? `\n--- last lines of its output ---\n${tail(output)}\n---` : '';
  return `${what} ${outcome.failure}.${log}`;
}

export interface RunOptions extends AttemptOptions {
  /** The lab step named in any error, e.g. "build libdeflate". */
  step: string;
  /** What the user should do if the command fails. */
  hint?: string;
}

/** Runs a command to completion; on failure throws a LabError with the log tail and the command to reproduce it. */
export async function run(file: string, args: readonly string[], options: RunOptions): Promise<Attempt> {
  const outcome = await attempt(file, args, options);
  if (!outcome.ok)
    throw new LabError(
      options.step,
      failureText(`\`${file}\``, outcome),
      `${options.hint ? `${options.hint} ` : ''}Reproduce with: ${outcome.reproduce}`,
    );
  return outcome;
}

/** Runs a command and returns its output, or undefined if it is missing or fails (for probing tools). */
export async function probe(file: string, args: readonly string[], cwd?: string): Promise<string | undefined> {
  const outcome = await attempt(file, args, { cwd, timeoutMs: 30_000 });
  if (!outcome.ok) return undefined;
  return `${outcome.stdout}${outcome.stdout && outcome.stderr ? '\n' : ''}${outcome.stderr}`.trim();
}
