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
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return {
    text: `perf-lab: internal error: ${message}\n  what to do: this is a bug in perf-lab; please report it with the command you ran.`,
    exitCode: 70,
  };
}
