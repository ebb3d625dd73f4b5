import type { Instruction } from '../asm/parse.js';
import { semanticsOf, type Semantics } from '../asm/semantics.js';
import type { ClassTiming, CpuModel } from './model.js';

/** One instruction of the analysed iteration, with what the model says about it. */
export interface Node {
  index: number;
  instruction: Instruction;
  semantics: Semantics;
  timing: ClassTiming;
  /** Fused into the following conditional branch (compare + branch), so it takes no decode slot of its own. */
  fusedWithNext: boolean;
}

export interface Edge {
  from: number;
  to: number;
  latencyCycles: number;
  /** 0: within one iteration; 1: into the next iteration (loop-carried). */
  distance: 0 | 1;
  via: string;
}

export interface ChainLink {
  index: number;
  address: number;
  text: string;
  latencyCycles: number;
  via: string;
}

export interface LoopAnalysis {
  instructions: number;
  /** Loop-carried critical path: the largest (total latency / iterations spanned) over dependency cycles. */
  criticalPathCycles: number;
  criticalChain: ChainLink[];
  /** Issue-port bound: for the tightest set of units, uops that can only go there / its size. */
  resourceBoundCycles: number;
  resourceBottleneck: string;
  /** Decode bound: decode slots (after compare+branch fusion) / decode width. */
  frontEndBoundCycles: number;
  predictedCycles: number;
  bound: 'critical path' | 'resources' | 'front end';
  /** Instruction-level parallelism: instructions / critical path. */
  ilp: number;
  /** Per instruction: latency it could gain before the loop slows (null: on no loop-carried cycle). */
  slackCycles: (number | null)[];
  nodes: Node[];
  edges: Edge[];
  unknownMnemonics: string[];
  /** Instructions in the iteration without a model entry (each counted as 1 cycle, so every bound is a lower bound). */
  unknownInstructions: number;
  /** False when unknownInstructions > 0: the cycle figures are then only lower bounds ("≥"). */
  exact: boolean;
  memoryPairsAssumedIndependent: number;
}

function timingOf(model: CpuModel, instruction: Instruction, semantics: Semantics): ClassTiming {
  return model.mnemonicOverrides[instruction.mnemonic] ?? model.classes[semantics.class];
}

const FUSIBLE = /^(cmp|cmn|tst|adds|subs|ands)$/;

/** Builds the dependency graph of one iteration (instructions in execution order; the last feeds the first). */
export function dependencyGraph(instructions: readonly Instruction[], model: CpuModel): { nodes: Node[]; edges: Edge[]; memoryPairsAssumedIndependent: number } {
  const nodes: Node[] = instructions.map((instruction, index) => {
    const semantics = semanticsOf(instruction);
    return { index, instruction, semantics, timing: timingOf(model, instruction, semantics), fusedWithNext: false };
  });
  if (model.compareBranchFusion) {
    nodes.forEach((node, i) => {
      const next = nodes[i + 1];
      if (next && FUSIBLE.test(node.instruction.mnemonic) && next.instruction.mnemonic.startsWith('b.')) node.fusedWithNext = true;
    });
  }
  const edges: Edge[] = [];
  const n = nodes.length;
  const resultLatency = (producer: Node, register: string, consumer: Node): number => {
    // A pre/post-index base update is an address add: ALU latency, whatever the load's latency.
    if (producer.semantics.writeback === register) return model.classes.alu.latency;
    const timing = producer.timing;
    if (producer.semantics.class === 'load') {
      if (producer.semantics.indexedAddress && timing.indexedLatency !== undefined) return timing.indexedLatency;
      if (consumer.semantics.addressReads.includes(register) && timing.addressLatency !== undefined) return timing.addressLatency;
    }
    if (producer.semantics.registerForm && timing.registerLatency !== undefined) return timing.registerLatency;
    return timing.latency;
  };
  // Last writer of each register / the flags, scanning the iteration twice: the second pass sees the previous iteration's writers.
  for (const [j, consumer] of nodes.entries()) {
    const needs = [...consumer.semantics.reads.map((register) => ({ register })), ...(consumer.semantics.readsFlags ? [{ register: 'nzcv' }] : [])];
    for (const { register } of needs) {
      const writes = (node: Node) => (register === 'nzcv' ? node.semantics.writesFlags : node.semantics.writes.includes(register));
      let producer = -1;
      let distance: 0 | 1 = 0;
      for (let i = j - 1; i >= 0; i--) if (writes(nodes[i]!)) { producer = i; break; }
      if (producer < 0) {
        for (let i = n - 1; i >= j; i--) if (writes(nodes[i]!)) { producer = i; distance = 1; break; }
      }
      if (producer < 0) continue; // loop-invariant input
      const from = nodes[producer]!;
      const flagLatency = from.semantics.registerForm && from.timing.registerLatency !== undefined ? from.timing.registerLatency : from.timing.latency;
      edges.push({ from: producer, to: j, latencyCycles: register === 'nzcv' ? flagLatency : resultLatency(from, register, consumer), distance, via: register === 'nzcv' ? 'flags' : register.replace(/^r/, 'x') });
    }
  }
  // Memory: a load after a store to the same base register and offset (base not redefined between) waits for forwarding.
  let memoryPairsAssumedIndependent = 0;
  for (const [j, load] of nodes.entries()) {
    if (load.semantics.memory !== 'load') continue;
    for (const [i, store] of nodes.entries()) {
      if (store.semantics.memory !== 'store') continue;
      const sameAddress = store.semantics.address && load.semantics.address && store.semantics.address.base === load.semantics.address.base && store.semantics.address.offset === load.semantics.address.offset && store.semantics.address.offset !== '(writeback)';
      const between = i < j ? nodes.slice(i + 1, j) : [...nodes.slice(i + 1), ...nodes.slice(0, j)];
      const baseStable = !between.some((node) => node.semantics.writes.includes(store.semantics.address?.base ?? ''));
      if (sameAddress && baseStable) edges.push({ from: i, to: j, latencyCycles: model.storeToLoadLatency, distance: i < j ? 0 : 1, via: 'memory' });
      else memoryPairsAssumedIndependent++;
    }
  }
  return { nodes, edges, memoryPairsAssumedIndependent };
}

/** Largest cycle ratio (latency / distance) by binary search with Bellman-Ford, and one cycle achieving it. */
function maximumCycleRatio(n: number, edges: readonly Edge[]): { ratio: number; cycle: Edge[] } {
  const carried = edges.filter((edge) => edge.distance === 1);
  if (carried.length === 0 || n === 0) return { ratio: 0, cycle: [] };
  // For a given ratio, look for a cycle with positive total of (latency - ratio * distance).
  const positiveCycle = (ratio: number): Edge[] | null => {
    const best = new Float64Array(n).fill(0);
    const parent: (Edge | null)[] = new Array(n).fill(null);
    let updated = -1;
    for (let round = 0; round < n; round++) {
      updated = -1;
      for (const edge of edges) {
        const weight = edge.latencyCycles - ratio * edge.distance;
        if (best[edge.from]! + weight > best[edge.to]! + 1e-12) {
          best[edge.to] = best[edge.from]! + weight;
          parent[edge.to] = edge;
          updated = edge.to;
        }
      }
      if (updated < 0) return null;
    }
    // Walk back n steps to land on the cycle, then collect it.
    let node = updated;
    for (let k = 0; k < n; k++) node = parent[node]!.from;
    const cycle: Edge[] = [];
    let current = node;
    do {
      const edge = parent[current]!;
      cycle.unshift(edge);
      current = edge.from;
    } while (current !== node && cycle.length <= n);
    return cycle;
  };
  let low = 0;
  let high = edges.reduce((sum, edge) => sum + edge.latencyCycles, 0) + 1;
  if (!positiveCycle(low + 1e-9)) return { ratio: 0, cycle: [] };
  for (let iteration = 0; iteration < 60 && high - low > 1e-7; iteration++) {
    const middle = (low + high) / 2;
    if (positiveCycle(middle)) low = middle;
    else high = middle;
  }
  const cycle = positiveCycle(low - 1e-6) ?? [];
  // The cycle found realises the ratio exactly: report its own total / distance.
  const latency = cycle.reduce((sum, edge) => sum + edge.latencyCycles, 0);
  const distance = cycle.reduce((sum, edge) => sum + edge.distance, 0);
  return { ratio: distance > 0 ? latency / distance : low, cycle };
}

/**
 * Per instruction, the latency it could gain before the loop slows down: the
 * smallest spare time (cycle time × iterations − latency) over the dependency
 * cycles through it, found by reweighting edges with steady-state start times
 * (all reweighted edges are then ≥ 0) and a shortest-cycle search from each
 * instruction. null: on no loop-carried cycle (only resources can slow it).
 */
function slackPerInstruction(n: number, edges: readonly Edge[], cycleTime: number): (number | null)[] {
  if (cycleTime <= 0) return new Array(n).fill(null);
  // Steady-state start times: longest paths with edge weights latency − cycleTime × distance.
  const start = new Float64Array(n).fill(0);
  for (let round = 0; round < n; round++) {
    let changed = false;
    for (const edge of edges) {
      const candidate = start[edge.from]! + edge.latencyCycles - cycleTime * edge.distance;
      if (candidate > start[edge.to]! + 1e-9) {
        start[edge.to] = candidate;
        changed = true;
      }
    }
    if (!changed) break;
  }
  const spare = (edge: Edge) => Math.max(0, cycleTime * edge.distance - edge.latencyCycles + start[edge.to]! - start[edge.from]!);
  const outgoing: Edge[][] = Array.from({ length: n }, () => []);
  for (const edge of edges) outgoing[edge.from]!.push(edge);
  return Array.from({ length: n }, (_, source) => {
    // Dijkstra (dense, n is small) from `source`; the cycle closes on an edge back into it.
    const distance = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
    const done = new Uint8Array(n);
    distance[source] = 0;
    let best = Number.POSITIVE_INFINITY;
    for (;;) {
      let u = -1;
      for (let v = 0; v < n; v++) if (!done[v] && distance[v]! < Number.POSITIVE_INFINITY && (u < 0 || distance[v]! < distance[u]!)) u = v;
      if (u < 0) break;
      done[u] = 1;
      for (const edge of outgoing[u]!) {
        const through = distance[u]! + spare(edge);
        if (edge.to === source) best = Math.min(best, through);
        else if (through < distance[edge.to]!) distance[edge.to] = through;
      }
    }
    return Number.isFinite(best) ? Math.round(best * 1000) / 1000 : null;
  });
}

function resourceBound(nodes: readonly Node[]): { cycles: number; bottleneck: string } {
  const unitSets = new Map<string, string[]>();
  for (const node of nodes) if (node.timing.units.length) unitSets.set([...node.timing.units].sort().join(','), node.timing.units);
  let best = { cycles: 0, bottleneck: 'none' };
  for (const units of unitSets.values()) {
    const set = new Set(units);
    const uops = nodes
      .filter((node) => node.timing.units.length > 0 && node.timing.units.every((unit) => set.has(unit)))
      .reduce((sum, node) => sum + (node.fusedWithNext ? 0 : node.timing.uops), 0);
    const cycles = uops / set.size;
    if (cycles > best.cycles) best = { cycles, bottleneck: `${uops} uops on ${[...set].sort().join('/')}` };
  }
  return best;
}

export function analyzeIteration(instructions: readonly Instruction[], model: CpuModel): LoopAnalysis {
  const { nodes, edges, memoryPairsAssumedIndependent } = dependencyGraph(instructions, model);
  const { ratio, cycle } = maximumCycleRatio(nodes.length, edges);
  const criticalPathCycles = Math.round(ratio * 1000) / 1000;
  const criticalChain: ChainLink[] = cycle.map((edge) => ({ index: edge.from, address: nodes[edge.from]!.instruction.address, text: `${nodes[edge.from]!.instruction.mnemonic} ${nodes[edge.from]!.instruction.operands}`, latencyCycles: edge.latencyCycles, via: edge.via }));
  const resources = resourceBound(nodes);
  const decodeSlots = nodes.filter((node) => !node.fusedWithNext).length;
  const frontEndBoundCycles = decodeSlots / model.decodeWidth;
  const predictedCycles = Math.max(criticalPathCycles, resources.cycles, frontEndBoundCycles);
  const bound = predictedCycles === criticalPathCycles ? 'critical path' : predictedCycles === resources.cycles ? 'resources' : 'front end';
  return {
    instructions: nodes.length,
    criticalPathCycles,
    criticalChain,
    resourceBoundCycles: resources.cycles,
    resourceBottleneck: resources.bottleneck,
    frontEndBoundCycles,
    predictedCycles,
    bound,
    ilp: criticalPathCycles > 0 ? nodes.length / criticalPathCycles : Number.POSITIVE_INFINITY,
    slackCycles: slackPerInstruction(nodes.length, edges, ratio),
    nodes,
    edges,
    unknownMnemonics: [...new Set(nodes.filter((node) => node.semantics.class === 'unknown').map((node) => node.instruction.mnemonic))],
    unknownInstructions: nodes.filter((node) => node.semantics.class === 'unknown').length,
    exact: !nodes.some((node) => node.semantics.class === 'unknown'),
    memoryPairsAssumedIndependent,
  };
}
