import { existsSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';

/**
 * Temporary folders the process made, so a run stopped by a signal (Ctrl-C, a cancelled CI job) removes them too:
 * `finally` blocks do not run when a signal ends the process.
 */
const live = new Set<string>();

/** mkdtemp, remembered until the process ends (removing or renaming it later is fine). */
export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(prefix);
  live.add(dir);
  return dir;
}

/** Removes every remembered folder that still exists, synchronously (for signal handlers); returns how many. */
function removeAllTempDirsSync(): number {
  let removed = 0;
  for (const dir of live) {
    try {
      // Renamed into place (a published build) or already removed: nothing to do.
      if (existsSync(dir)) {
        rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
        removed++;
      }
    } catch {
      // best effort: the process is stopping
    }
    live.delete(dir);
  }
  return removed;
}

const STOP_SIGNALS = [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const;

/**
 * On SIGINT, SIGTERM or SIGHUP: remove the temporary folders, say so, and exit with 128 + the signal's number.
 * Child processes started through execa are killed on that exit (its cleanup), and the harness kills its workers.
 */
export function exitCleanlyOnSignals(say: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): void {
  for (const [signal, code] of STOP_SIGNALS) {
    process.once(signal, () => {
      const removed = removeAllTempDirsSync();
      say(`perf-lab: stopped by ${signal}${removed ? `; removed ${removed} temporary folder(s)` : ''}.`);
      process.exit(code);
    });
  }
}
