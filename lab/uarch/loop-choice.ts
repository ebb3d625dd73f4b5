import { buildControlFlow, nestedLoops, ownBlocks, type ControlFlow, type Loop } from '../asm/cfg.js';
import type { AsmFunction } from '../asm/parse.js';
import { physicalRegister, splitOperands } from '../asm/semantics.js';
import { LabError } from '../core/errors.js';
import { decoded, dependencyGraph, type DependencyGraph, type Edge, type Node } from './analyze.js';
import type { CpuModel } from './model.js';

/**
 * Which loop of a function is the decode loop, by what it does rather than
 * where it nests: a decode loop shifts a loop-carried bit buffer by a variable
 * amount, looks entries up in tables indexed by masked bits of it, refills it
 * from the input and stores output. Each loop's own instructions (not those of
 * loops nested in it) are read as one pseudo-iteration in address order.
 */
export interface LoopEvidence {
  /** Variable right shifts of a loop-carried value (bitbuf >>= n). */
  bitBufferShifts: number[];
  /** Loads of 8/16/32-bit entries at an address made from masked bits (entry = table[bitbuf & mask]). */
  tableLoads: number[];
  /** Loads whose value is shifted left by a register and merged into another value (refill). */
  refillLoads: number[];
  /** Stores not to the stack. */
  stores: number[];
  /** Of those, the ones not into the tables' own object (made from another base): output, not decoder state. */
  outputStores: number[];
}

export interface LoopCandidate {
  loop: Loop;
  ownInstructions: number;
  evidence: LoopEvidence;
  /** Shifts a bit buffer and loads table entries indexed by it: the shape of a Huffman decode loop. */
  decodeLoop: boolean;
  score: number;
  /** Why it ranks where it does, in a sentence. */
  reason: string;
  /** `file:line` of the header, when the code has debug info. */
  sourceLine: string | null;
}

const hex = (address: number) => `0x${address.toString(16)}`;

const STACK_BASES = new Set(['sp', 'r29']);
const onStack = (node: Node) => node.semantics.address !== undefined && STACK_BASES.has(node.semantics.address.base);

/**
 * A reload of a spilled value: for a load from a stack slot (sp- or x29-relative), the node that produced the value
 * last stored to that slot before it (the dependency graph's store-to-load edge: same base and offset, base not
 * redefined between; within the iteration when such a store comes first, else the iteration's last one), so the
 * dataflow of table indexes and literal bytes goes through the slot as the value does.
 */
export function spillSource(graph: DependencyGraph, node: Node): Node | undefined {
  const stores = slotStores(graph, node);
  const store = latestStore(stores, 0) ?? latestStore(stores, 1);
  return store && storedValue(graph, store.from);
}

/** Of the store-to-load edges at one distance, the one from the latest store in address order. */
const latestStore = (stores: readonly Edge[], distance: 0 | 1) =>
  stores.filter((edge) => edge.distance === distance).sort((a, b) => b.from - a.from)[0];

/** The register edges that bring `register`'s value into node `index` (its producers, this or the last iteration). */
const registerEdges = (graph: DependencyGraph, index: number, register: string) =>
  graph.into[index]!.filter(
    (edge) => edge.via !== 'memory' && edge.via !== 'flags' && physicalRegister(edge.via) === register,
  );

/** The store-to-load edges into a reload from a stack slot (none for another load). */
function slotStores(graph: DependencyGraph, node: Node) {
  if (node.semantics.memory !== 'load' || !onStack(node) || node.semantics.writeback !== undefined) return [];
  return graph.into[node.index]!.filter((edge) => edge.via === 'memory' && onStack(graph.nodes[edge.from]!));
}

/** The producer of the value a store stores (its first operand's register: str w13, [sp, #12] stores r13). */
function storedValue(graph: DependencyGraph, store: number): Node | undefined {
  const storeNode = graph.nodes[store]!;
  const value = physicalRegister(splitOperands(storeNode.instruction.operands)[0] ?? '');
  if (value === undefined || value === storeNode.semantics.address!.base) return undefined;
  const producer = registerEdges(graph, store, value).at(-1);
  return producer === undefined ? undefined : graph.nodes[producer.from];
}

/**
 * Every value a reload from a stack slot may read, in a loop's pseudo-iteration (its blocks in address order, where
 * program order is not execution order): the union of the values of the stores to the slot that may reach it (the
 * latest one before it in the iteration and every one after it, carried over the back edge). miniz_oxide keeps its
 * bit buffer at [sp, #168] on aarch64, refilled by three stores and shifted by a fourth. Empty when the node is no
 * reload: then it stands for itself.
 */
function slotSources(graph: DependencyGraph, node: Node): Node[] {
  const stores = slotStores(graph, node);
  // The latest store before it in the iteration, with no branch between, is the only one that reaches it (a slot
  // stored again in straight-line code holds the new value); otherwise any of them may.
  const before = latestStore(stores, 0);
  const straight =
    before !== undefined &&
    !graph.nodes.slice(before.from + 1, node.index).some((between) => between.semantics.class === 'branch');
  const reaching = straight ? [before] : stores.filter((edge) => edge.distance === 1 || edge === before);
  const values = reaching.flatMap((edge) => storedValue(graph, edge.from) ?? []);
  return [...new Set(values)].filter((value) => value.index !== node.index);
}

/** A node, or the values it reloads from a stack slot. */
const throughSlot = (graph: DependencyGraph, node: Node): Node[] => {
  const sources = slotSources(graph, node);
  return sources.length ? sources : [node];
};

/** Producers of `index` up to `depth` hops back (any distance), through the given node filter. */
function ancestors(graph: DependencyGraph, index: number, depth: number, through: (node: Node) => boolean): Node[] {
  const found: Node[] = [];
  const seen = new Set<number>([index]);
  let frontier = [index];
  for (let hop = 0; hop < depth && frontier.length; hop++) {
    const next: number[] = [];
    for (const at of frontier) {
      for (const edge of graph.into[at]!) {
        if (seen.has(edge.from) || edge.via === 'memory' || edge.via === 'flags') continue;
        seen.add(edge.from);
        // A reload stands for the values spilled to its slot: step over it to those values' producers.
        for (const from of throughSlot(graph, graph.nodes[edge.from]!)) {
          if (from.index !== edge.from) {
            if (seen.has(from.index)) continue;
            seen.add(from.index);
          }
          found.push(from);
          if (through(from)) next.push(from.index);
        }
      }
    }
    frontier = next;
  }
  return found;
}

const isMask = (node: Node) =>
  /^(and|ubfx|bic|ubfiz)$/.test(node.instruction.mnemonic) || /\buxt[bh]\b/.test(node.instruction.operands);
const isSubtraction = (node: Node) => /^(sub|subs|neg|negs)$/.test(node.instruction.mnemonic);
const isAlu = (node: Node) =>
  node.semantics.class === 'alu' || node.semantics.class === 'alu-shifted' || node.semantics.class === 'move';
const SHIFT_MNEMONICS = { l: /^(lsl|lslv)$/, r: /^(lsr|lsrv)$/ };
const variableShift = (node: Node, direction: 'l' | 'r') =>
  SHIFT_MNEMONICS[direction].test(node.instruction.mnemonic) &&
  node.semantics.reads.length === 2 &&
  node.semantics.registerForm;

/** A load of a 8/16/32-bit entry at an address made from masked bits: entry = table[bitbuf & mask]. */
export function isTableLoad(graph: DependencyGraph, node: Node): boolean {
  if (
    node.semantics.memory !== 'load' ||
    !/^(ldr|ldrh|ldrb|ldrsh|ldrsb|ldur|ldurh|ldurb|ldursh|ldursb)$/.test(node.instruction.mnemonic) ||
    !/^[wh]\d/.test(node.instruction.operands)
  )
    return false;
  if (node.semantics.writeback !== undefined) return false; // a streaming pointer (post/pre-index), not a lookup
  // Masked bits added to a table's base, not subtracted from a pointer: zlib's match copy reads `out - dist`, where
  // dist is masked bits too (`bic` of the bit buffer), and its bytes are a copy, not table entries.
  // And the masked bits come from the bit buffer (a value a variable right shift produced, maybe through a move):
  // gzip's window index `d &= WSIZE-1` is masked too, but its bytes are a match copy.
  return ancestors(graph, node.index, 4, (candidate) => isAlu(candidate) && !isSubtraction(candidate)).some(
    (candidate) => isMask(candidate) && ofBitBuffer(graph, candidate),
  );
}

/**
 * A mask of the bit buffer: its input was made by a variable right shift (bitbuf >>= n, or a shifted copy), or by
 * a move, add or orr of such a value (the refill `bitbuf += in << bits`), by dataflow edges rather than register
 * names (GCC reuses registers).
 */
function ofBitBuffer(graph: DependencyGraph, mask: Node): boolean {
  const made = (index: number, depth: number): boolean =>
    graph.into[index]!.some((edge) => {
      if (edge.via === 'memory' || edge.via === 'flags') return false;
      return throughSlot(graph, graph.nodes[edge.from]!).some((producer) => {
        if (variableShift(producer, 'r')) return true;
        const passes = producer.semantics.class === 'move' || /^(add|orr)$/.test(producer.instruction.mnemonic);
        return depth > 0 && passes && made(producer.index, depth - 1);
      });
    });
  return made(mask.index, 2);
}

/** A load whose value is shifted left (through moves) and merged into another value: a bit-buffer refill. */
export function isRefillLoad(graph: DependencyGraph, node: Node): boolean {
  if (node.semantics.memory !== 'load') return false;
  const { nodes, outOf } = graph;
  const consumers = outOf[node.index]!.filter((edge) => edge.distance === 0).map((edge) => nodes[edge.to]!);
  const shifts = consumers
    .flatMap((consumer) =>
      consumer.semantics.class === 'move' ? outOf[consumer.index]!.map((edge) => nodes[edge.to]!) : [consumer],
    )
    .filter((consumer) => variableShift(consumer, 'l') || consumer.instruction.mnemonic === 'lsl');
  return shifts.some((shift) =>
    outOf[shift.index]!.some((edge) => /^(orr|add)$/.test(nodes[edge.to]!.instruction.mnemonic)),
  );
}

function loopEvidence(instructions: readonly Node['instruction'][], model: CpuModel): LoopEvidence {
  const graph = dependencyGraph(instructions, model);
  const { nodes, into, outOf } = graph;
  const carriedOut = (index: number, hops = 2): boolean =>
    outOf[index]!.some(
      (edge) =>
        edge.distance === 1 ||
        (hops > 0 && nodes[edge.to]!.semantics.class === 'move' && carriedOut(edge.to, hops - 1)),
    );
  const carriedIn = (index: number) => into[index]!.some((edge) => edge.distance === 1 && edge.via !== 'memory');
  // In place (lsr x3, x3, x1) counts too: read in address order, GCC's layouts put a refill of the same register
  // between the shift and the back edge, which hides that the value is carried.
  const inPlace = (node: Node) => {
    const [destination, source] = splitOperands(node.instruction.operands).map(physicalRegister);
    return destination !== undefined && destination === source;
  };
  const bitBufferShifts = nodes.filter(
    (node) => variableShift(node, 'r') && (carriedIn(node.index) || carriedOut(node.index) || inPlace(node)),
  );
  const tableLoads = nodes.filter((node) => isTableLoad(graph, node));
  const refillLoads = nodes.filter((node) => isRefillLoad(graph, node));
  const stores = nodes.filter((node) => node.semantics.memory === 'store' && node.semantics.address?.base !== 'sp');
  // A store into the object the tables live in (its address made from the same loop-invariant base) writes the
  // decoder's own state, not output: miniz_oxide's code-length loop stores each length beside its tables.
  const tableBases = new Set(tableLoads.flatMap((node) => addressRoots(graph, node)));
  const outputStores = stores.filter((node) => !addressRoots(graph, node).some((root) => tableBases.has(root)));
  const at = (list: Node[]) => list.map((node) => node.instruction.address);
  return {
    bitBufferShifts: at(bitBufferShifts),
    tableLoads: at(tableLoads),
    refillLoads: at(refillLoads),
    stores: at(stores),
    outputStores: at(outputStores),
  };
}

/**
 * The loop-invariant registers a memory access's address is made from (through adds and moves within the iteration):
 * `add x10, x23, x27` then `strb w9, [x10, x8]` has roots r23, r27, r8 when none of them is written in the loop.
 */
function addressRoots(graph: DependencyGraph, node: Node): string[] {
  const base = node.semantics.address?.base;
  if (base === undefined || base === 'sp') return [];
  const roots = new Set<string>();
  const visit = (index: number, register: string, depth: number) => {
    const producers = registerEdges(graph, index, register);
    if (producers.length === 0) {
      roots.add(register);
      return;
    }
    for (const edge of producers) {
      const producer = graph.nodes[edge.from]!;
      if (depth === 0 || producer.semantics.memory !== 'none' || !isAlu(producer)) continue;
      for (const read of producer.semantics.reads) visit(producer.index, read, depth - 1);
    }
  };
  for (const register of node.semantics.addressReads) visit(node.index, register, 3);
  return [...roots];
}

function describe(evidence: LoopEvidence): string {
  const parts: string[] = [];
  const first = (list: number[]) => list.slice(0, 3).map(hex).join(', ') + (list.length > 3 ? ', …' : '');
  // A shifted value that indexes no table and takes in no input is not a bit buffer (inflate_table's `huff >> drop`).
  const buffer = evidence.tableLoads.length || evidence.refillLoads.length ? 'bit buffer' : 'value (no refill)';
  parts.push(
    evidence.bitBufferShifts.length
      ? `shifts a loop-carried ${buffer} by a variable amount (${first(evidence.bitBufferShifts)})`
      : 'no variable shift of a loop-carried value',
  );
  parts.push(
    evidence.tableLoads.length
      ? `${evidence.tableLoads.length} table load(s) indexed by masked bits (${first(evidence.tableLoads)})`
      : 'no table load indexed by masked bits',
  );
  if (evidence.refillLoads.length)
    parts.push(
      `refill: ${evidence.refillLoads.length} load(s) shifted into a bit buffer (${first(evidence.refillLoads)})`,
    );
  const state = evidence.stores.length - evidence.outputStores.length;
  parts.push(
    `${evidence.stores.length} store(s)` + (state ? ` (${state} into the tables' own object: state, not output)` : ''),
  );
  return parts.join('; ');
}

/** Loops nested in `loop` with no store outside the stack: table walks, not copy loops. */
function tableWalks(flow: ControlFlow, loop: Loop): Loop[] {
  const stores = (candidate: Loop) =>
    candidate.blocks.some((id) =>
      flow.blocks[id]!.instructions.some((instruction) => {
        const { semantics } = decoded(instruction);
        return semantics.memory === 'store' && semantics.address?.base !== 'sp';
      }),
    );
  return nestedLoops(flow, loop).filter((candidate) => !stores(candidate));
}

/** Every loop of a function, the likeliest decode loop first. */
function rankLoops(flow: ControlFlow, model: CpuModel): LoopCandidate[] {
  const candidates = flow.loops.map((loop): LoopCandidate => {
    // A nested loop that stores nothing is a table walk (zlib's subtable `goto dolen`, which GCC lays out as a loop
    // whose header is the first lookup): its lookups and shifts are the outer loop's, so they count as its evidence.
    const walks = tableWalks(flow, loop);
    const blocks = [...new Set([...ownBlocks(flow, loop), ...walks.flatMap((walk) => walk.blocks)])].sort(
      (a, b) => a - b,
    );
    const own = blocks.flatMap((id) => flow.blocks[id]!.instructions);
    const evidence = loopEvidence(own, model);
    const decodeLoop = evidence.bitBufferShifts.length > 0 && evidence.tableLoads.length > 0;
    const score =
      (evidence.bitBufferShifts.length ? 4 : 0) +
      (evidence.tableLoads.length ? 4 : 0) +
      (evidence.refillLoads.length ? 2 : 0) +
      (evidence.stores.length ? 1 : 0);
    const header = flow.blocks[loop.header]!.instructions[0]!;
    return {
      loop,
      ownInstructions: own.length,
      evidence,
      decodeLoop,
      score,
      reason:
        describe(evidence) +
        (walks.length
          ? `; counts the storeless nested loop(s) ${walks.map((walk) => hex(walk.headerAddress)).join(', ')} ` +
            `as its ${decodeLoop ? 'table walk' : 'own'}`
          : ''),
      sourceLine: header.sourceLine ?? null,
    };
  });
  // More evidence first; among equals, more table lookups (more symbols decoded per iteration), then more stores to
  // output (not into the tables' own object), then the bigger body.
  return candidates.sort(
    (a, b) =>
      b.score - a.score ||
      b.evidence.tableLoads.length - a.evidence.tableLoads.length ||
      b.evidence.outputStores.length - a.evidence.outputStores.length ||
      b.ownInstructions - a.ownInstructions ||
      a.loop.headerAddress - b.loop.headerAddress,
  );
}

/**
 * A maintainer's pin for the loop: `0x5cc` (header address), `+0x5cc` (header
 * offset from the function's start, stable when only other functions change) or
 * `file.c:123` (the innermost loop holding code from that source line; needs
 * debug info).
 */
function pinnedLoop(fn: AsmFunction, flow: ControlFlow, hint: string): Loop {
  const start = fn.instructions[0]!.address;
  const listed =
    flow.loops.map((loop) => `${hex(loop.headerAddress)} (+${hex(loop.headerAddress - start)})`).join(', ') || 'none';
  const address = /^0x([0-9a-f]+)$/i.exec(hint);
  const offset = /^\+(?:0x)?([0-9a-f]+)$/i.exec(hint);
  if (address || offset) {
    const target = address ? parseInt(address[1]!, 16) : start + parseInt(offset![1]!, 16);
    const loop = flow.loops.find((candidate) => candidate.headerAddress === target);
    if (!loop)
      throw new LabError(
        'analyze',
        `no loop with its header at ${hex(target)} in ${fn.name} (pinned as "${hint}").`,
        `loops in ${fn.name}: ${listed}.`,
      );
    return loop;
  }
  const line = /^(.+):(\d+)$/.exec(hint);
  if (!line)
    throw new LabError(
      'analyze',
      `loop pin "${hint}" is not an address (0x5cc), an offset (+0x5cc) or a source line (file.c:123).`,
      'fix the pin.',
    );
  if (!fn.instructions.some((instruction) => instruction.sourceLine)) {
    throw new LabError(
      'analyze',
      `${fn.name} carries no source lines, so the loop pin "${hint}" cannot be found.`,
      `build with debug info (-g, or debug = "line-tables-only" in the cargo profile), or pin by address: ${listed}.`,
    );
  }
  const wanted = `${line[1]!.split('/').pop()}:${line[2]}`;
  const holding = flow.loops.filter((loop) =>
    ownBlocks(flow, loop).some((id) =>
      flow.blocks[id]!.instructions.some((instruction) => instruction.sourceLine === wanted),
    ),
  );
  const innermost = holding.sort((a, b) => a.blocks.length - b.blocks.length)[0];
  if (!innermost)
    throw new LabError(
      'analyze',
      `no loop of ${fn.name} holds code from ${wanted} (pinned as "${hint}").`,
      `loops in ${fn.name}: ${listed}.`,
    );
  return innermost;
}

export interface LoopChoice {
  loop: Loop;
  candidate: LoopCandidate;
  /** How it was chosen: by the evidence ranking, or pinned by the maintainer. */
  how: 'evidence' | 'pinned';
  runnersUp: LoopCandidate[];
  /** Loops of the function with a decode loop's shape (0: none is, e.g. zlib's table builder inflate_table). */
  decodeLoops: number;
}

export function chooseLoop(
  fn: AsmFunction,
  model: CpuModel,
  pin?: string,
  flow: ControlFlow = buildControlFlow(fn),
): LoopChoice {
  const ranked = rankLoops(flow, model);
  if (ranked.length === 0)
    throw new LabError(
      'analyze',
      `${fn.name} has no loop.`,
      'name the function that holds the decode loop (--function), or pass --all to see every function with a loop.',
    );
  const loop = pin === undefined ? ranked[0]!.loop : pinnedLoop(fn, flow, pin);
  const candidate = ranked.find((entry) => entry.loop === loop)!;
  return {
    loop,
    candidate,
    how: pin === undefined ? 'evidence' : 'pinned',
    runnersUp: ranked.filter((entry) => entry !== candidate).slice(0, 3),
    decodeLoops: ranked.filter((entry) => entry.decodeLoop).length,
  };
}
