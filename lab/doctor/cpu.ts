import type { identifyCpu } from '../cpu/host.js';
import { midrText } from '../cpu/midr.js';
import type { Check } from './index.js';

/**
 * What the doctor found about the CPU: its name (the runner class calibrations and baselines are keyed by), the MIDR
 * it came from on ARM64 Linux, the page size, and the CPU model the analysis will use and why.
 */
export function cpuCheck(
  cpu: ReturnType<typeof identifyCpu>,
  model: { name: string; why: string },
  pageSizeBytes: number | null,
): Check {
  const pages = pageSizeBytes ? `${pageSizeBytes / 1024} KiB pages` : 'page size unknown (getconf PAGESIZE failed)';
  const midr = cpu.midr ? `, MIDR ${midrText(cpu.midr)}` : '';
  return {
    name: 'CPU',
    needed: 'optional',
    purpose: 'names the runner class (calibration, baselines) and picks the analysis CPU model',
    ok: cpu.known,
    detail: `${cpu.name} (from the ${cpu.from}${midr}); ${pages}; analysis model ${model.name}: ${model.why}`,
    fix: cpu.midr
      ? 'add the part to lab/cpu/arm-parts.json (with its source) and, if sourced, a model to lab/uarch/models'
      : 'pass --cpu to the analysis; the runner class uses the brand string as it is',
  };
}
