import { readFileSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { forgetTempPath, rememberMarkerPath } from '../core/temp.js';
import { parseCpuList } from './placement.js';

/*
 * The CPUs this process may run on, and which of them another perf-lab bench on this machine is using: each running
 * harness claims its CPUs with a file named after the CPU and its pid in one machine-wide folder (removed when the
 * batch ends, or by a signal; a claim of a pid that is gone is ignored and removed).
 */

const claimsDir = () => join(tmpdir(), 'perf-lab-cpu-claims');

/** Linux: this process's affinity (Cpus_allowed_list); elsewhere null (no pinning: the scheduler places). */
export function allowedCpus(): number[] | null {
  if (process.platform !== 'linux') return null;
  try {
    const line = /^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (line) return parseCpuList(line);
  } catch {
    // fall through
  }
  return Array.from({ length: availableParallelism() }, (_, cpu) => cpu);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** CPU → pid of another live bench holding it. */
export async function busyCpus(): Promise<Map<number, number>> {
  const busy = new Map<number, number>();
  for (const name of await readdir(claimsDir()).catch(() => [] as string[])) {
    const match = /^cpu-(\d+)-(\d+)$/.exec(name);
    if (!match) continue;
    const [cpu, pid] = [Number(match[1]), Number(match[2])];
    if (pid === process.pid) continue;
    if (alive(pid)) busy.set(cpu, pid);
    else await rm(join(claimsDir(), name), { force: true });
  }
  return busy;
}

/** Claims `cpus` for this process until the returned release runs (best effort: claims only inform). */
export async function claimCpus(cpus: readonly number[]): Promise<() => Promise<void>> {
  const paths = cpus.map((cpu) => join(claimsDir(), `cpu-${cpu}-${process.pid}`));
  try {
    await mkdir(claimsDir(), { recursive: true, mode: 0o1777 });
    for (const path of paths) {
      rememberMarkerPath(path);
      await writeFile(path, '');
    }
  } catch {
    // an unwritable temp folder: no warning for the next bench, nothing worse
  }
  return async () => {
    for (const path of paths) {
      await rm(path, { force: true });
      forgetTempPath(path);
    }
  };
}
