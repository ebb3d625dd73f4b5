import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { identifyFromCpuinfo, type CpuIdentity } from './midr.js';

/** The CPU from what a machine shows: /proc/cpuinfo's MIDR fields where it has them (ARM64 Linux), else the brand. */
export function identifyCpu(seen: { cpuinfo: string | undefined; brand: string | undefined }): CpuIdentity & {
  /** Where the name came from. */
  from: 'MIDR in /proc/cpuinfo' | 'CPU brand string (os.cpus)';
} {
  const fromMidr = seen.cpuinfo === undefined ? undefined : identifyFromCpuinfo(seen.cpuinfo);
  if (fromMidr) return { ...fromMidr, from: 'MIDR in /proc/cpuinfo' };
  const brand = seen.brand?.trim() || 'unknown';
  return {
    name: brand,
    midr: null,
    model: null,
    fallback: null,
    known: brand !== 'unknown',
    from: 'CPU brand string (os.cpus)',
  };
}

let host: ReturnType<typeof identifyCpu> | undefined;
/** This machine's CPU (read once). */
export function hostCpu(): ReturnType<typeof identifyCpu> {
  if (host) return host;
  let cpuinfo: string | undefined;
  if (process.platform === 'linux') {
    try {
      cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      cpuinfo = undefined;
    }
  }
  return (host = identifyCpu({ cpuinfo, brand: cpus()[0]?.model }));
}

let pageSize: number | null | undefined;
/** The memory page size in bytes (`getconf PAGESIZE`: 4096 on most Linux, 16384 on macOS arm64), null if unknown. */
export function pageSizeBytes(): number | null {
  if (pageSize !== undefined) return pageSize;
  try {
    const value = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8', timeout: 5000 }).trim());
    pageSize = Number.isInteger(value) && value > 0 ? value : null;
  } catch {
    pageSize = null;
  }
  return pageSize;
}
