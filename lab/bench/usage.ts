import { OUTSIDE_TURN_ALLOWANCE_MS_PER_ROUND, type ContenderUsage } from '../results/index.js';
import type { HarnessOutcome } from './harness.js';

/**
 * What a contender's decodes cost over a dataset's batches (pure): wall and CPU time of its measured decodes,
 * parallel efficiency (CPU / (wall × threads)), and the CPU it used outside its decode calls against the allowance.
 */
export function contenderUsage(
  batches: ReadonlyArray<Pick<HarnessOutcome, 'samplesNs' | 'cpuNs' | 'outsideCpuNs' | 'roundsRun' | 'placements'>>,
  name: string,
  threads: number,
): ContenderUsage {
  let wallNs = 0;
  let cpuNs = 0;
  let outsideNs = 0;
  let rounds = 0;
  for (const batch of batches) {
    const cpu = batch.cpuNs.get(name);
    for (const [round, ns] of batch.samplesNs.get(name) ?? []) {
      const used = cpu?.get(round);
      if (used === undefined) continue;
      wallNs += ns;
      cpuNs += used;
    }
    outsideNs += batch.outsideCpuNs.get(name) ?? 0;
    rounds += batch.roundsRun;
  }
  const placement = batches.at(-1)?.placements?.find((entry) => entry.name === name);
  const ms = (ns: number) => Math.round(ns / 1e3) / 1e3;
  return {
    threads,
    cpus: placement?.cpus ?? null,
    placementNote: placement?.note ?? null,
    wallTimeMs: ms(wallNs),
    cpuTimeMs: ms(cpuNs),
    parallelEfficiency: wallNs > 0 ? Math.round((cpuNs / (wallNs * threads)) * 1000) / 1000 : null,
    outsideTurnCpuMs: ms(outsideNs),
    outsideTurnAllowanceMs: rounds * OUTSIDE_TURN_ALLOWANCE_MS_PER_ROUND,
  };
}
