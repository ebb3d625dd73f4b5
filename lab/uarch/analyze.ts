import type { Instruction } from '../asm/parse.js';
import { physicalRegister, semanticsOf, splitOperands, type Semantics } from '../asm/semantics.js';
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

/** The cycle bounds of one iteration, without the chain and slack (cheap enough to run on every path of a loop). */
export interface IterationBounds {
  instructions: number;
  /** Loop-carried critical path: the largest (total latency / iterations spanned) over dependency cycles. */
  criticalPathCycles: number;
  /** Issue-port bound: for the tightest set of units, uops that can only go there / its size. */
  resourceBoundCycles: number;
  resourceBottleneck: string;
  /** Decode bound: decode slots (after compare+branch fusion) / decode width. */
  frontEndBoundCycles: number;
  predictedCycles: number;
  bound: 'critical path' | 'resources' | 'front end';
  /** Instruction-level parallelism: instructions / critical path. */
  ilp: number;
  unknownMnemonics: string[];
  /** Instructions in the iteration without a model entry (each counted as 1 cycle, so every bound is a lower bound). */
  unknownInstructions: number;
  /** False when unknownInstructions > 0: the cycle figures are then only lower bounds ("≥"). */
  exact: boolean;
}

/** The bounds plus the critical chain and the graph they come from. */
export interface PathAnalysis extends IterationBounds {
  criticalChain: ChainLink[];
  nodes: Node[];
  edges: Edge[];
  memoryPairsAssumedIndependent: number;
}

/** A path's analysis with per-instruction slack. */
export interface LoopAnalysis extends PathAnalysis {
  /** Per instruction: latency it could gain before the loop slows (null: on no loop-carried cycle). */
  slackCycles: (number | null)[];
}

/**
 * The timing of one instruction: its mnemonic's or class's, with the register or indexed form's issue where the model
 * gives one.
 */
function timingOf(model: CpuModel, instruction: Instruction, semantics: Semantics): ClassTiming {
  const timing = model.mnemonicOverrides[instruction.mnemonic] ?? model.classes[semantics.class];
  const form = timing.forms?.find(
    (entry) =>
      entry.mnemonics.includes(instruction.mnemonic) &&
      (entry.maxLslAmount === undefined ||
        (semantics.shift?.kind === 'lsl' && semantics.shift.amount <= entry.maxLslAmount)),
  );
  if (form) {
    const { latency, uops, units, source } = form;
    return { latency, uops, units, source, ...(timing.inherited ? { inherited: true } : {}) };
  }
  if (semantics.registerForm && timing.registerUnits)
    return { ...timing, uops: timing.registerUops ?? timing.uops, units: timing.registerUnits };
  if (semantics.indexedAddress && timing.indexedUops !== undefined) return { ...timing, uops: timing.indexedUops };
  return timing;
}

/** An instruction's semantics with the register lists the graph walks (flags as 'nzcv'). */
interface Decoded {
  semantics: Semantics;
  reads: readonly string[];
  writes: readonly string[];
  /** The same registers as small numbers (see registerId), for array-indexed writer tables. */
  readIds: readonly number[];
  writeIds: readonly number[];
}

const registerIds = new Map<string, number>();
const registerId = (register: string): number => {
  let id = registerIds.get(register);
  if (id === undefined) registerIds.set(register, (id = registerIds.size));
  return id;
};

// Paths of one loop share their instructions: decode each once, and time it once per model.
const decodedCache = new WeakMap<Instruction, Decoded>();
export function decoded(instruction: Instruction): Decoded {
  let entry = decodedCache.get(instruction);
  if (!entry) {
    const semantics = semanticsOf(instruction);
    const reads = semantics.readsFlags ? [...semantics.reads, 'nzcv'] : semantics.reads;
    const writes = semantics.writesFlags ? [...semantics.writes, 'nzcv'] : semantics.writes;
    entry = { semantics, reads, writes, readIds: reads.map(registerId), writeIds: writes.map(registerId) };
    decodedCache.set(instruction, entry);
  }
  return entry;
}
const timingCache = new WeakMap<CpuModel, WeakMap<Instruction, ClassTiming>>();
function cachedTiming(model: CpuModel, instruction: Instruction, semantics: Semantics): ClassTiming {
  let byInstruction = timingCache.get(model);
  if (!byInstruction) timingCache.set(model, (byInstruction = new WeakMap()));
  let timing = byInstruction.get(instruction);
  if (!timing) byInstruction.set(instruction, (timing = timingOf(model, instruction, semantics)));
  return timing;
}

const FUSIBLE = /^(cmp|cmn|tst|adds|subs|ands)$/;

/**
 * One iteration's dependencies, with each node's incoming and outgoing edges indexed (queried per node on every path).
 */
export interface DependencyGraph {
  nodes: Node[];
  edges: Edge[];
  into: Edge[][];
  outOf: Edge[][];
  memoryPairsAssumedIndependent: number;
}

// Register names as edges show them (x for the 64-bit view), made once per register.
const viaNames = new Map<string, string>();
function viaName(register: string): string {
  let name = viaNames.get(register);
  if (name === undefined) viaNames.set(register, (name = register === 'nzcv' ? 'flags' : register.replace(/^r/, 'x')));
  return name;
}

/** Builds the dependency graph of one iteration (instructions in execution order; the last feeds the first). */
export function dependencyGraph(instructions: readonly Instruction[], model: CpuModel): DependencyGraph {
  const registers = instructions.map(decoded);
  const nodes: Node[] = instructions.map((instruction, index) => {
    const semantics = registers[index]!.semantics;
    return { index, instruction, semantics, timing: cachedTiming(model, instruction, semantics), fusedWithNext: false };
  });
  if (model.compareBranchFusion) {
    nodes.forEach((node, i) => {
      const next = nodes[i + 1];
      if (next && FUSIBLE.test(node.instruction.mnemonic) && next.instruction.mnemonic.startsWith('b.'))
        node.fusedWithNext = true;
    });
  }
  const edges: Edge[] = [];
  const producerLatency = (producer: Node) =>
    producer.semantics.registerForm && producer.timing.registerLatency !== undefined
      ? producer.timing.registerLatency
      : producer.timing.latency;
  // A multiply-add reads its addend late (the model's addendLatency): a value arriving there may be that much later.
  const lateAddend = (consumer: Node, register: string): number | undefined => {
    const addendLatency = consumer.timing.addendLatency;
    if (consumer.semantics.class !== 'madd' || addendLatency === undefined) return undefined;
    const operands = splitOperands(consumer.instruction.operands).map((operand) => physicalRegister(operand));
    if (operands[3] !== register || operands[1] === register || operands[2] === register) return undefined;
    return consumer.timing.latency - addendLatency;
  };
  const resultLatency = (producer: Node, register: string, consumer: Node): number => {
    // A pre/post-index base update is an address add: ALU latency, whatever the load's latency.
    if (producer.semantics.writeback === register) return model.classes.alu.latency;
    const late = lateAddend(consumer, register);
    if (late !== undefined) return Math.max(0, producerLatency(producer) - late);
    const timing = producer.timing;
    if (producer.semantics.class === 'load') {
      if (producer.semantics.vectorData && timing.vectorLatency !== undefined) return timing.vectorLatency;
      if (producer.semantics.indexedAddress && timing.indexedLatency !== undefined) return timing.indexedLatency;
      if (consumer.semantics.addressReads.includes(register) && timing.addressLatency !== undefined)
        return timing.addressLatency;
    }
    return producerLatency(producer);
  };
  // Each read's producer: the last writer before it in the iteration, else (distance 1) the iteration's last writer.
  const finalWriter = new Int32Array(registerIds.size).fill(-1);
  registers.forEach((entry, i) => entry.writeIds.forEach((id) => (finalWriter[id] = i)));
  const currentWriter = new Int32Array(registerIds.size).fill(-1);
  for (let j = 0; j < nodes.length; j++) {
    const consumer = nodes[j]!;
    const { reads, readIds, writeIds } = registers[j]!;
    for (let r = 0; r < reads.length; r++) {
      const before = currentWriter[readIds[r]!]!;
      const producer = before >= 0 ? before : finalWriter[readIds[r]!]!;
      if (producer < 0) continue; // loop-invariant input
      const register = reads[r]!;
      const from = nodes[producer]!;
      const latencyCycles = register === 'nzcv' ? producerLatency(from) : resultLatency(from, register, consumer);
      edges.push({ from: producer, to: j, latencyCycles, distance: before >= 0 ? 0 : 1, via: viaName(register) });
    }
    for (const id of writeIds) currentWriter[id] = j;
  }
  // Memory: a load after a store to the same base register and offset (base not redefined between) waits for
  // forwarding.
  let memoryPairsAssumedIndependent = 0;
  const redefines = (register: string, from: number, to: number) => {
    // Writes of `register` strictly between store `from` and load `to` (wrapping into the next iteration when to <=
    // from).
    for (let i = (from + 1) % nodes.length; i !== to; i = (i + 1) % nodes.length)
      if (nodes[i]!.semantics.writes.includes(register)) return true;
    return false;
  };
  const loads = nodes.filter((node) => node.semantics.memory === 'load');
  const stores = nodes.filter((node) => node.semantics.memory === 'store');
  for (const load of loads) {
    for (const store of stores) {
      const a = store.semantics.address;
      const b = load.semantics.address;
      const sameAddress = a && b && a.base === b.base && a.offset === b.offset && a.offset !== '(writeback)';
      if (sameAddress && !redefines(a.base, store.index, load.index)) {
        edges.push({
          from: store.index,
          to: load.index,
          latencyCycles: model.storeToLoadLatency,
          distance: store.index < load.index ? 0 : 1,
          via: 'memory',
        });
      } else memoryPairsAssumedIndependent++;
    }
  }
  const into: Edge[][] = nodes.map(() => []);
  const outOf: Edge[][] = nodes.map(() => []);
  for (const edge of edges) {
    into[edge.to]!.push(edge);
    outOf[edge.from]!.push(edge);
  }
  return { nodes, edges, into, outOf, memoryPairsAssumedIndependent };
}

/**
 * The largest cycle ratio (latency / iterations spanned). Edges within an
 * iteration run forward in program order, so every cycle is a chain of
 * loop-carried edges, each followed by a forward path to the next one's source:
 * reduced to the sources of carried edges (one iteration per step), the ratio is
 * that graph's maximum mean cycle (Karp 1978). Exact, and fast enough for every
 * path of a loop.
 */
export function maximumCycleRatioValue(n: number, edges: readonly Edge[]): number {
  // Runs on every path of a loop: flat arrays, no per-node allocation.
  const carried = edges.filter((edge) => edge.distance === 1).sort((a, b) => a.to - b.to);
  if (carried.length === 0 || n === 0) return 0;
  const firstOut = new Int32Array(n + 1);
  for (const edge of edges) if (edge.distance === 0) firstOut[edge.from + 1]!++;
  for (let u = 0; u < n; u++) firstOut[u + 1]! += firstOut[u]!;
  const fill = firstOut.slice(0, n);
  const target = new Int32Array(firstOut[n]!);
  const latency = new Float64Array(firstOut[n]!);
  for (const edge of edges) {
    if (edge.distance !== 0) continue;
    const at = fill[edge.from]!++;
    target[at] = edge.to;
    latency[at] = edge.latencyCycles;
  }
  const slot = new Int32Array(n).fill(-1);
  const sources: number[] = [];
  for (const edge of carried) if (slot[edge.from] === -1) slot[edge.from] = sources.push(edge.from) - 1;
  const k = sources.length;
  const NONE = Number.NEGATIVE_INFINITY;
  // weight[u * k + v]: heaviest carried edge out of source u plus forward path to source v.
  const weight = new Float64Array(k * k).fill(NONE);
  const longest = new Float64Array(n);
  for (let i = 0; i < carried.length;) {
    const start = carried[i]!.to;
    longest.fill(NONE); // sources before `start` are unreachable from it (forward edges only)
    longest[start] = 0;
    for (let u = start; u < n; u++) {
      const here = longest[u]!;
      if (here === NONE) continue;
      for (let e = firstOut[u]!; e < firstOut[u + 1]!; e++)
        if (here + latency[e]! > longest[target[e]!]!) longest[target[e]!] = here + latency[e]!;
    }
    for (; i < carried.length && carried[i]!.to === start; i++) {
      const edge = carried[i]!;
      const row = slot[edge.from]! * k;
      for (let v = 0; v < k; v++) {
        const through = longest[sources[v]!]! + edge.latencyCycles;
        if (through > weight[row + v]!) weight[row + v] = through;
      }
    }
  }
  // Karp: walks[m * k + v] = heaviest walk of m steps ending at v (from anywhere).
  const walks = new Float64Array((k + 1) * k).fill(NONE);
  walks.fill(0, 0, k);
  for (let m = 1; m <= k; m++) {
    for (let u = 0; u < k; u++) {
      const previous = walks[(m - 1) * k + u]!;
      if (previous === NONE) continue;
      for (let v = 0; v < k; v++)
        if (previous + weight[u * k + v]! > walks[m * k + v]!) walks[m * k + v] = previous + weight[u * k + v]!;
    }
  }
  let best = 0;
  for (let v = 0; v < k; v++) {
    const last = walks[k * k + v]!;
    if (last === NONE) continue;
    let worst = Number.POSITIVE_INFINITY;
    for (let m = 0; m < k; m++)
      if (walks[m * k + v] !== NONE) worst = Math.min(worst, (last - walks[m * k + v]!) / (k - m));
    if (worst > best && Number.isFinite(worst)) best = worst;
  }
  return best;
}

/** The largest cycle ratio and one dependency cycle achieving it (a Bellman-Ford search at that ratio). */
function maximumCycleRatio(n: number, edges: readonly Edge[]): { ratio: number; cycle: Edge[] } {
  // For a given ratio, look for a cycle with positive total of (latency - ratio * distance).
  const positiveCycle = (ratio: number): Edge[] | null => {
    const best = new Float64Array(n).fill(0);
    const parent = new Array<Edge | null>(n).fill(null);
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
  const ratio = maximumCycleRatioValue(n, edges);
  if (ratio <= 0) return { ratio: 0, cycle: [] };
  const cycle = positiveCycle(ratio - 1e-6) ?? [];
  return { ratio, cycle };
}

/**
 * Per instruction, the latency it could gain before the loop slows down: the
 * smallest spare time (cycle time × iterations − latency) over the dependency
 * cycles through it, found by reweighting edges with steady-state start times
 * (all reweighted edges are then ≥ 0) and a shortest-cycle search from each
 * instruction. null: on no loop-carried cycle (only resources can slow it).
 */
function slackPerInstruction(n: number, edges: readonly Edge[], cycleTime: number): (number | null)[] {
  if (cycleTime <= 0) return new Array<number | null>(n).fill(null);
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
  const spare = (edge: Edge) =>
    Math.max(0, cycleTime * edge.distance - edge.latencyCycles + start[edge.to]! - start[edge.from]!);
  const outgoing: Edge[][] = Array.from({ length: n }, () => []);
  for (const edge of edges) outgoing[edge.from]!.push(edge);
  const spareOut = outgoing.map((list) => list.map((edge) => ({ to: edge.to, spare: spare(edge) })));
  return Array.from({ length: n }, (_, source) => {
    // Dijkstra (dense: n is small) from `source`; the cycle closes on an edge back into it. Stops once nothing shorter
    // can close.
    const distance = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
    const done = new Uint8Array(n);
    distance[source] = 0;
    let best = Number.POSITIVE_INFINITY;
    for (;;) {
      let u = -1;
      for (let v = 0; v < n; v++) if (!done[v] && distance[v]! < best && (u < 0 || distance[v]! < distance[u]!)) u = v;
      if (u < 0) break;
      done[u] = 1;
      for (const edge of spareOut[u]!) {
        const through = distance[u]! + edge.spare;
        if (edge.to === source) best = Math.min(best, through);
        else if (through < distance[edge.to]!) distance[edge.to] = through;
      }
    }
    return Number.isFinite(best) ? Math.round(best * 1000) / 1000 : null;
  });
}

const unitKeys = new WeakMap<readonly string[], string>();
function unitKey(units: readonly string[]): string {
  let key = unitKeys.get(units);
  if (key === undefined) unitKeys.set(units, (key = [...units].sort().join('/')));
  return key;
}

function resourceBound(nodes: readonly Node[]): { cycles: number; bottleneck: string } {
  // Uops per distinct unit set; a set's load is every uop that can only issue inside it.
  const uopsBySet = new Map<string, { units: readonly string[]; unitSet: Set<string>; uops: number }>();
  for (const node of nodes) {
    if (!node.timing.units.length) continue;
    const key = unitKey(node.timing.units);
    let entry = uopsBySet.get(key);
    if (!entry)
      uopsBySet.set(key, (entry = { units: node.timing.units, unitSet: new Set(node.timing.units), uops: 0 }));
    entry.uops += node.fusedWithNext ? 0 : node.timing.uops;
  }
  let best = { cycles: 0, bottleneck: 'none' };
  for (const [key, candidate] of uopsBySet) {
    let uops = 0;
    for (const other of uopsBySet.values())
      if (other.units.every((unit) => candidate.unitSet.has(unit))) uops += other.uops;
    const cycles = uops / candidate.unitSet.size;
    if (cycles > best.cycles) best = { cycles, bottleneck: `${uops} uops on ${key}` };
  }
  return best;
}

function boundsOf(nodes: readonly Node[], criticalPath: number, model: CpuModel): IterationBounds {
  const criticalPathCycles = Math.round(criticalPath * 1000) / 1000;
  const resources = resourceBound(nodes);
  const decodeSlots = nodes.filter((node) => !node.fusedWithNext).length;
  const frontEndBoundCycles = decodeSlots / model.decodeWidth;
  const predictedCycles = Math.max(criticalPathCycles, resources.cycles, frontEndBoundCycles);
  const bound =
    predictedCycles === criticalPathCycles
      ? 'critical path'
      : predictedCycles === resources.cycles
        ? 'resources'
        : 'front end';
  // A call's callee is not modelled: priced as its branch only, it makes the figures lower bounds like an unknown.
  const unknown = nodes.filter((node) => node.semantics.class === 'unknown' || node.semantics.class === 'call');
  const named = (node: Node) =>
    node.semantics.class === 'call'
      ? `${node.instruction.mnemonic} ${node.instruction.callee ?? node.instruction.operands}`
      : node.instruction.mnemonic;
  return {
    instructions: nodes.length,
    criticalPathCycles,
    resourceBoundCycles: resources.cycles,
    resourceBottleneck: resources.bottleneck,
    frontEndBoundCycles,
    predictedCycles,
    bound,
    ilp: criticalPathCycles > 0 ? nodes.length / criticalPathCycles : Number.POSITIVE_INFINITY,
    unknownMnemonics: [...new Set(unknown.map(named))],
    unknownInstructions: unknown.length,
    exact: unknown.length === 0,
  };
}

/** Cycle bounds of an iteration's dependency graph, without chain or slack. */
export function boundsOfGraph(
  graph: { nodes: readonly Node[]; edges: readonly Edge[] },
  model: CpuModel,
): IterationBounds {
  return boundsOf(graph.nodes, maximumCycleRatioValue(graph.nodes.length, graph.edges), model);
}

/**
 * An iteration's bounds, critical chain and graph: what every role's usual path gets (slack is asked for separately).
 */
export function analyzePath(instructions: readonly Instruction[], model: CpuModel): PathAnalysis {
  const { nodes, edges, memoryPairsAssumedIndependent } = dependencyGraph(instructions, model);
  const { ratio, cycle } = maximumCycleRatio(nodes.length, edges);
  const criticalChain: ChainLink[] = cycle.map((edge) => ({
    index: edge.from,
    address: nodes[edge.from]!.instruction.address,
    text: `${nodes[edge.from]!.instruction.mnemonic} ${nodes[edge.from]!.instruction.operands}`,
    latencyCycles: edge.latencyCycles,
    via: edge.via,
  }));
  return { ...boundsOf(nodes, ratio, model), criticalChain, nodes, edges, memoryPairsAssumedIndependent };
}

/** Adds each instruction's slack to a path's analysis. */
export function withSlack(analysis: PathAnalysis): LoopAnalysis {
  const ratio = maximumCycleRatioValue(analysis.nodes.length, analysis.edges);
  return { ...analysis, slackCycles: slackPerInstruction(analysis.nodes.length, analysis.edges, ratio) };
}
