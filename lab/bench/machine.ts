import { cpus, release } from 'node:os';
import type { BenchResults } from '../results/index.js';

/** The machine a result was measured on; part of every baseline key. */
export function machineInfo(): BenchResults['machine'] {
  return {
    os: process.platform,
    osRelease: release(),
    arch: process.arch,
    cpuModel: cpus()[0]?.model?.trim() || 'unknown',
    logicalCpus: cpus().length,
  };
}
