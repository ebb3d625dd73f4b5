/**
 * Progress goes to stderr so stdout stays clean for tables and JSON.
 * On a TTY a step rewrites its own line; in CI (no TTY) each update is a plain line,
 * rate-limited so logs stay readable.
 */
export interface Progress {
  update(detail: string): void;
  done(detail?: string): void;
}

const interactive = Boolean(process.stderr.isTTY) && !process.env.CI;
let quiet = false;

export function setQuiet(value: boolean): void {
  quiet = value;
}

export function info(message: string): void {
  if (!quiet) process.stderr.write(`${message}\n`);
}

export function warn(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
}

export function startProgress(step: string, plainIntervalMs = 5000): Progress {
  const startedAt = Date.now();
  let lastPlainAt = 0;
  const elapsed = () => `${((Date.now() - startedAt) / 1000).toFixed(1)}s`;
  return {
    update(detail: string) {
      if (quiet) return;
      if (interactive) {
        process.stderr.write(`\r\x1b[2K${step}: ${detail} (${elapsed()})`);
      } else if (Date.now() - lastPlainAt >= plainIntervalMs) {
        lastPlainAt = Date.now();
        process.stderr.write(`${step}: ${detail} (${elapsed()})\n`);
      }
    },
    done(detail = 'done') {
      if (quiet) return;
      process.stderr.write(`${interactive ? '\r\x1b[2K' : ''}${step}: ${detail} (${elapsed()})\n`);
    },
  };
}
