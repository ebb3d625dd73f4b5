/*
 * Where each contender runs (pure; the CPU lists come from lab/bench/cpu-claims.ts). Only one contender decodes at a
 * time, so the single-threaded ones share one CPU (two cores of a shared VM can differ by 10% for a whole run, so
 * they are never split across cores); a multi-threaded contender gets as many CPUs as it has threads, a set of its
 * own, kept apart from that shared CPU and from every other contender's set where the machine has the CPUs. CPUs
 * another perf-lab bench holds are used last.
 */

export interface PlacementRequest {
  name: string;
  threads: number;
}

export interface ContenderPlacement {
  name: string;
  threads: number;
  cpus: number[];
  /** Why it did not get what it asked for (fewer CPUs, or CPUs shared with another contender), else null. */
  note: string | null;
}

export interface Placement {
  contenders: ContenderPlacement[];
  /** Said once to the user: fewer CPUs than asked, CPUs another bench is using. */
  warnings: string[];
  /** Another bench on these CPUs (kept in the results: it disturbs every speed of the run), or null. */
  concurrentBench: string | null;
}

/** "0-3,8,10-11" (Linux's Cpus_allowed_list) as CPU numbers. */
export function parseCpuList(text: string): number[] {
  const cpus: number[] = [];
  for (const part of text.trim().split(',').filter(Boolean)) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!match) throw new Error(`not a CPU list: ${JSON.stringify(text)}`);
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    for (let cpu = from; cpu <= to; cpu++) cpus.push(cpu);
  }
  return cpus;
}

/** CPU numbers as Linux writes them: "0-3,8". */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return ranges.join(',');
}

/**
 * Places `contenders` on `allowedCpus` (this process's affinity), avoiding `busyCpus` (held by another bench, with
 * its pid) where it can.
 */
export function placeContenders(
  allowedCpus: readonly number[],
  busyCpus: ReadonlyMap<number, number>,
  contenders: readonly PlacementRequest[],
): Placement {
  const order = [...allowedCpus.filter((cpu) => !busyCpus.has(cpu)), ...allowedCpus.filter((cpu) => busyCpus.has(cpu))];
  const home = order[0]!;
  const taken = new Map<number, string[]>();
  const single = contenders.filter((contender) => contender.threads <= 1).map((contender) => contender.name);
  if (single.length) taken.set(home, [...single]);
  const placed = new Map<string, number[]>();
  for (const contender of contenders) {
    if (contender.threads <= 1) {
      placed.set(contender.name, [home]);
      continue;
    }
    // Free CPUs first (not the shared one, not another's set), then the least used ones.
    const ranked = [...order].sort((a, b) => (taken.get(a)?.length ?? 0) - (taken.get(b)?.length ?? 0));
    const cpus = ranked.slice(0, Math.min(contender.threads, order.length)).sort((a, b) => a - b);
    for (const cpu of cpus) taken.set(cpu, [...(taken.get(cpu) ?? []), contender.name]);
    placed.set(contender.name, cpus);
  }
  const warnings: string[] = [];
  const placements = contenders.map((contender): ContenderPlacement => {
    const cpus = placed.get(contender.name)!;
    const notes: string[] = [];
    if (contender.threads > cpus.length)
      notes.push(`asked for ${contender.threads} CPUs, this machine allows ${allowedCpus.length}`);
    const sharedWith = [
      ...new Set(cpus.flatMap((cpu) => (taken.get(cpu) ?? []).filter((name) => name !== contender.name))),
    ];
    if (contender.threads > 1 && sharedWith.length)
      notes.push(
        `its CPUs ${formatCpuList(cpus)} are also where ${sharedWith.join(', ')} ` +
          `decode${sharedWith.length > 1 ? '' : 's'} ` +
          '(in turn, not at once: only caches and clocks are shared)',
      );
    return { name: contender.name, threads: contender.threads, cpus, note: notes.length ? notes.join('; ') : null };
  });
  for (const entry of placements) if (entry.note) warnings.push(`${entry.name}: ${entry.note}; its result is marked.`);
  const busy = [...new Set(placements.flatMap((entry) => entry.cpus))].filter((cpu) => busyCpus.has(cpu));
  const concurrentBench = busy.length
    ? `another perf-lab bench (pid ${[...new Set(busy.map((cpu) => busyCpus.get(cpu)))].join(', ')}) was running ` +
      `on CPU ${formatCpuList(busy)}: both runs' speeds are disturbed (ratios less so)`
    : null;
  if (concurrentBench) warnings.push(`${concurrentBench}; run one bench at a time.`);
  return { contenders: placements, warnings, concurrentBench };
}
