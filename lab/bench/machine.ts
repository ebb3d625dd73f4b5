import { cpus, release } from 'node:os';
import { hostCpu, pageSizeBytes } from '../cpu/host.js';
import type { BenchResults } from '../results/index.js';

/**
 * The machine a result was measured on; part of every baseline key. The CPU is named by its brand string, or on
 * ARM64 Linux (no brand string) by its MIDR ("Arm Neoverse N2", lab/cpu/arm-parts.json), so a Linux ARM64 runner
 * class is keyed like a macOS one.
 */
export function machineInfo(): BenchResults['machine'] {
  const cpu = hostCpu();
  const pageSize = pageSizeBytes();
  return {
    os: process.platform,
    osRelease: release(),
    arch: process.arch,
    cpuModel: cpu.name,
    logicalCpus: cpus().length,
    ...(cpu.midr ? { midr: cpu.midr } : {}),
    ...(pageSize ? { pageSizeBytes: pageSize } : {}),
  };
}
