import { execa, type Options } from 'execa';
import { LabError } from './errors.js';

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** The lab step named in any error, e.g. "build libdeflate". */
  step: string;
  /** What the user should do if the command fails. */
  hint?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Quotes one argument for a shell so the printed reproduce command can be pasted. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_\-+=./:,@%]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(file: string, args: readonly string[], cwd?: string): string {
  const command = [file, ...args].map(shellQuote).join(' ');
  return cwd ? `(cd ${shellQuote(cwd)} && ${command})` : command;
}

export function tail(text: string, lines = 25): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/** Runs a command to completion; on failure throws a LabError with the log tail and the command to reproduce it. */
export async function run(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const execaOptions: Options = {
    cwd: options.cwd,
    env: options.env,
    timeout: options.timeoutMs,
    all: true,
    reject: false,
    stdin: 'ignore',
  };
  const result = await execa(file, args, execaOptions);
  if (result.failed) {
    const reproduce = commandLine(file, args, options.cwd);
    const reason = result.timedOut
      ? `timed out after ${options.timeoutMs} ms`
      : result.isTerminated
        ? `was killed by ${result.signal}`
        : result.exitCode === undefined
          ? `could not start (${result.originalMessage ?? result.shortMessage})`
          : `exited with code ${result.exitCode}`;
    const log =
      typeof result.all === 'string' && result.all.length > 0
        ? `\n--- last lines of its output ---\n${tail(result.all)}\n---`
        : '';
    throw new LabError(
      options.step,
      `\`${file}\` ${reason}.${log}`,
      `${options.hint ? `${options.hint} ` : ''}Reproduce with: ${reproduce}`,
    );
  }
  return { stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
}

/** Runs a command and returns its output, or undefined if it is missing or fails (for probing tools). */
export async function probe(file: string, args: readonly string[], cwd?: string): Promise<string | undefined> {
  const result = await execa(file, args, { reject: false, stdin: 'ignore', cwd, timeout: 30_000 });
  if (result.failed) return undefined;
  return `${String(result.stdout ?? '')}${result.stdout && result.stderr ? '\n' : ''}${String(result.stderr ?? '')}`.trim();
}
