import { existsSync, rmSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Temporary folders the process made, so a run stopped by a signal (Ctrl-C, a cancelled CI job) removes them too:
 * `finally` blocks do not run when a signal ends the process.
 */
const live = new Set<string>();
/** Of those, the ones that are files being written (not folders). */
const liveFiles = new Set<string>();
const markers = new Set<string>();

/** mkdtemp, remembered until the process ends (removing or renaming it later is fine). */
export async function makeTempDir(prefix: string): Promise<string> {
  // The folder it goes in (the cache, say) may not exist yet.
  await mkdir(dirname(prefix), { recursive: true });
  const dir = await mkdtemp(prefix);
  live.add(dir);
  return dir;
}

/** A temporary file being written (writeAtomically), removed too if a signal ends the run before it is renamed. */
export function rememberTempPath(path: string): void {
  live.add(path);
  liveFiles.add(path);
}

/** A marker file (a CPU claim) removed if a signal ends the run, not counted in the message. */
export function rememberMarkerPath(path: string): void {
  live.add(path);
  markers.add(path);
}

export function forgetTempPath(path: string): void {
  markers.delete(path);
  live.delete(path);
  liveFiles.delete(path);
}

/** Removes every remembered path that still exists, synchronously (for signal handlers); says how many of each. */
function removeAllTempDirsSync(): { folders: number; files: number } {
  const removed = { folders: 0, files: 0 };
  for (const path of live) {
    try {
      // Renamed into place (a published build) or already removed: nothing to do.
      if (existsSync(path)) {
        rmSync(path, { recursive: true, force: true, maxRetries: 2 });
        if (liveFiles.has(path)) removed.files++;
        else if (!markers.has(path)) removed.folders++;
      }
    } catch {
      // best effort: the process is stopping
    }
    live.delete(path);
  }
  return removed;
}

const STOP_SIGNALS = [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const;

/**
 * On SIGINT, SIGTERM or SIGHUP: remove the temporary folders, say so, and end with that signal (a shell sees 128 + its
 * number). Child processes started through execa are killed on the way out (its exit cleanup), and the harness kills
 * its workers. The process ends by the signal itself, not exit(): exit() waits for Node's file-system threads, and
 * one blocked for good (an open() of a FIFO with no writer) would keep the process alive after the message.
 */
export function exitCleanlyOnSignals(say: (line: string) => void = (line) => writeSync(2, `${line}\n`)): void {
  for (const [signal, code] of STOP_SIGNALS) {
    process.once(signal, () => {
      const { folders, files } = removeAllTempDirsSync();
      const removed = [
        ...(folders ? [`${folders} temporary folder(s)`] : []),
        ...(files ? [`${files} partly written file(s)`] : []),
      ];
      say(`perf-lab: stopped by ${signal}${removed.length ? `; removed ${removed.join(' and ')}` : ''}.`);
      // What process.exit() would do short of exiting: the 'exit' event (execa kills its children on it) …
      process.exitCode = code;
      process.emit('exit', code);
      // … then the signal again, now with no handler: the kernel ends the process, whatever a thread waits on.
      for (const [other] of STOP_SIGNALS) process.removeAllListeners(other);
      process.kill(process.pid, signal);
      process.exit(code); // only if the signal did not end it
    });
  }
}
