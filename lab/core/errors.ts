/**
 * Every failure the lab reports carries the step that failed, what went wrong
 * and what the user can do about it, so the CLI can print one clear message.
 */
export class LabError extends Error {
  readonly step: string;
  readonly hint: string;
  readonly exitCode: number;

  constructor(step: string, message: string, hint: string, exitCode = 1) {
    super(message);
    this.name = 'LabError';
    this.step = step;
    this.hint = hint;
    this.exitCode = exitCode;
  }
}

export function formatError(error: unknown): { text: string; exitCode: number } {
  if (error instanceof LabError) {
    return {
      text: `perf-lab: ${error.step}: ${error.message}\n  what to do: ${error.hint}`,
      exitCode: error.exitCode,
    };
  }
  const system = systemErrorText(error);
  if (system) return { text: system, exitCode: 1 };
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return {
    text:
      `perf-lab: internal error: ${message}\n  what to do: this is a bug in perf-lab; please report it ` +
      'with the command you ran.',
    exitCode: 70,
  };
}

/** What the machine refused (a full disk, a read-only folder…): the user's to fix, so a message, not a stack. */
const SYSTEM_HINTS: Record<string, string> = {
  ENOSPC: 'free disk space (or point the cache elsewhere with PERF_LAB_CACHE) and run again; what was finished is kept',
  EDQUOT: 'free space within your disk quota and run again',
  EROFS: 'the file system is read-only: run from a writable folder, or point the cache elsewhere with PERF_LAB_CACHE',
  EACCES: 'check the permissions of the path, or run from a folder you can write',
  EPERM: 'check the permissions of the path, or run from a folder you can write',
  EMFILE: 'raise the open-file limit (ulimit -n) and run again',
  ENOTDIR: 'a part of the path is a file, not a folder: fix the path',
  EISDIR: 'the path is a folder where a file was expected: fix the path',
};

/**
 * A file-system refusal (ENOSPC, EACCES…) as the LabError of the step that met it, naming the file ("disk full" said
 * as such); undefined for any other error, or without a step (formatError then names the syscall and path).
 */
export function systemFailure(error: unknown, step: string | undefined, path: string): LabError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (!code || !(code in SYSTEM_HINTS) || error instanceof LabError) return undefined;
  if (!step) {
    if (!(error as NodeJS.ErrnoException).path) (error as NodeJS.ErrnoException).path = path;
    return undefined;
  }
  const what = code === 'ENOSPC' || code === 'EDQUOT' ? 'the disk is full' : (error as Error).message.split(',')[0];
  return new LabError(step, `cannot write ${path}: ${what} (${code}).`, `${SYSTEM_HINTS[code]}.`);
}

function systemErrorText(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (!code || !(code in SYSTEM_HINTS)) return undefined;
  const { path, syscall } = error as NodeJS.ErrnoException;
  return (
    `perf-lab: ${syscall ?? 'file system'}${path ? ` ${path}` : ''}: ${code} ` +
    `(${(error as Error).message.split(',')[0]})\n  what to do: ${SYSTEM_HINTS[code]}.`
  );
}

/**
 * What went wrong, most specific first: a fetch's "fetch failed" says less than its cause ("getaddrinfo ENOTFOUND").
 */
export function causeText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause: unknown = error.cause;
  if (cause instanceof Error) return cause.message;
  if (typeof cause === 'string') return cause;
  return error.message;
}
