import TinyQueue from 'tinyqueue';
import { nestedLoops, type ControlFlow, type Loop } from '../asm/cfg.js';
import type { Instruction } from '../asm/parse.js';
import { physicalRegister, splitOperands } from '../asm/semantics.js';
import {
  analyzePath,
  boundsOfGraph,
  decoded,
  dependencyGraph,
  type DependencyGraph,
  type IterationBounds,
  type Node,
  type PathAnalysis,
} from './analyze.js';
import { isRefillLoad, isTableLoad, spillSource } from './loop-choice.js';
import type { CpuModel } from './model.js';

/**
 * Every path through one iteration of the decode loop, named by what it does
 * (stores literals, copies a match, goes through the nested copy loop, refills)
 * and grouped by that role, so that builds are compared role by role whatever
 * side of a branch the compiler laid out as fall-through.
 */
export interface PathRole {
  /** Byte stores of a computed value (a literal taken from a table entry). */
  literals: number;
  /** 'short': copies loaded bytes to the output outside any nested loop; 'long': also through a nested copy loop. */
  match: 'none' | 'short' | 'long';
  /** Loads an input word that is shifted into a bit buffer. */
  refill: boolean;
  /** Bytes the copy stores of the match write per pass (outside nested loops). */
  copyBytes: number;
  /**
   * Of those, bytes moved by straight word copies (an 8/16-byte load stored as it is): the general-offset match copy.
   */
  wordCopyBytes: number;
}

export interface IterationPath {
  blocks: number[];
  addresses: number[];
  role: PathRole;
  roleName: string;
  bounds: IterationBounds;
}

export interface PathGroup {
  roleName: string;
  role: PathRole;
  /** How many distinct paths share the role (layout variants, subtable lookups, copy shapes). */
  variants: number;
  /**
   * The role's usual way through: for matches the widest copy; then one through no table walk (long codes are rare),
   * then the fewest predicted cycles and instructions.
   */
  representative: IterationPath;
  analysis: PathAnalysis;
  predictedCycles: { min: number; max: number };
  instructions: { min: number; max: number };
}

export interface CopyLoop {
  headerAddress: number;
  /** Bytes the nested copy loop copies per iteration (straight word copies). */
  bytesPerIteration: number;
  bounds: IterationBounds;
}

export interface LoopPaths {
  groups: PathGroup[];
  /** Paths enumerated (at most `limit`); `complete` false when the loop has more. */
  paths: number;
  complete: boolean;
  /** Edges leaving the loop (end of block, end of the fast-loop margins, errors): not iterations, not analysed. */
  exits: number[];
  copyLoop: CopyLoop | null;
}

const PATH_LIMIT = 1024;

/**
 * Paths from the header back to it (each block once, staying in the loop), at most `limit`, the shortest (fewest
 * instructions) first: a best-first search, so when a loop has more paths than `limit` (GCC's zlib has millions)
 * the ones cut are the longest, never the plain literal or match path that a depth-first walk may reach last.
 * `complete` is false when paths were left out; then also at most `limit` × 64 partial paths are expanded.
 */
export function enumeratePaths(
  flow: ControlFlow,
  loop: Loop,
  limit = PATH_LIMIT,
): { paths: number[][]; complete: boolean } {
  const inLoop = new Set(loop.blocks);
  const latches = new Set(loop.latches);
  const paths: number[][] = [];
  const size = (block: number) => flow.blocks[block]!.instructions.length;
  const queue = pathQueue();
  queue.push(size(loop.header), [loop.header]);
  let expansions = 0;
  while (queue.length) {
    if (paths.length >= limit || expansions++ >= limit * 64) return { paths, complete: false };
    const { cost, path } = queue.pop();
    const block = path.at(-1)!;
    if (latches.has(block)) paths.push(path);
    for (const successor of flow.blocks[block]!.successors) {
      if (successor === loop.header || !inLoop.has(successor) || path.includes(successor)) continue;
      queue.push(cost + size(successor), [...path, successor]);
    }
  }
  return { paths, complete: true };
}

/**
 * When the search is capped, the shortest path through each block that copies (stores a byte or word it loaded
 * in the same block, not from a decode table) is searched for directly — header → block, then block → a latch
 * avoiding the first part — so a match role is not lost because thousands of literal variants came first.
 */
function copyPaths(flow: ControlFlow, loop: Loop, found: readonly number[][], model: CpuModel): number[][] {
  const inLoop = new Set(loop.blocks);
  const latches = new Set(loop.latches);
  const size = (block: number) => flow.blocks[block]!.instructions.length;
  const known = new Set(found.map((path) => path.join()));
  const copying = loop.blocks.filter(
    (id) => id !== loop.header && copiedBytes(dependencyGraph(flow.blocks[id]!.instructions, model)) > 0,
  );
  // Fewest instructions from `from` to any block in `goal`, not through `avoid` or back through the header.
  const shortest = (from: number, goal: (block: number) => boolean, avoid: ReadonlySet<number>): number[] | null => {
    const queue = pathQueue();
    const settled = new Set<number>();
    queue.push(size(from), [from]);
    while (queue.length) {
      const { cost, path } = queue.pop();
      const block = path.at(-1)!;
      if (settled.has(block)) continue;
      settled.add(block);
      if (goal(block)) return path;
      for (const next of flow.blocks[block]!.successors)
        if (inLoop.has(next) && next !== loop.header && !avoid.has(next) && !settled.has(next))
          queue.push(cost + size(next), [...path, next]);
    }
    return null;
  };
  const added: number[][] = [];
  for (const block of copying) {
    const head = shortest(loop.header, (candidate) => candidate === block, new Set());
    if (!head) continue;
    const tail = shortest(block, (candidate) => latches.has(candidate), new Set(head.slice(0, -1)));
    if (!tail) continue;
    const path = [...head, ...tail.slice(1)];
    if (known.has(path.join())) continue;
    known.add(path.join());
    added.push(path);
  }
  return added;
}

/** Paths by cost, cheapest first; equal costs come out in insertion order (a deterministic path order). */
function pathQueue() {
  const heap = new TinyQueue<{ cost: number; order: number; path: number[] }>(
    [],
    (a, b) => a.cost - b.cost || a.order - b.order,
  );
  let pushed = 0;
  return {
    get length() {
      return heap.length;
    },
    push: (cost: number, path: number[]) => heap.push({ cost, order: pushed++, path }),
    pop: () => heap.pop()!,
  };
}

/** Bytes a load or store moves, from its register operands. */
function memoryBytes(instruction: Instruction): number {
  return operandsOf(instruction).bytes;
}

/** Registers a store writes to memory (its value operands). */
function storedRegisters(instruction: Instruction): readonly string[] {
  return operandsOf(instruction).values;
}

// Every path of a loop asks the same instructions: read their value operands once.
const operandCache = new WeakMap<Instruction, { bytes: number; values: readonly string[] }>();
function operandsOf(instruction: Instruction): { bytes: number; values: readonly string[] } {
  const cached = operandCache.get(instruction);
  if (cached) return cached;
  const parts = splitOperands(instruction.operands);
  const memory = parts.findIndex((part) => part.startsWith('['));
  const valueOperands = parts.slice(0, memory < 0 ? parts.length : memory);
  const width = (operand: string): number => {
    const vector = /\{?v\d+\.(\d+)([bhsd])/.exec(operand);
    if (vector) return Number(vector[1]) * { b: 1, h: 2, s: 4, d: 8 }[vector[2] as 'b' | 'h' | 's' | 'd'];
    if (/^(strb|sturb|stlrb|ldrb|ldurb|ldrsb|ldursb)$/.test(instruction.mnemonic)) return 1;
    if (/^(strh|sturh|stlrh|ldrh|ldurh|ldrsh|ldursh)$/.test(instruction.mnemonic)) return 2;
    return { x: 8, w: 4, q: 16, d: 8, s: 4, h: 2, b: 1 }[operand.trim()[0] as 'x'] ?? 8;
  };
  const entry = {
    // Bytes moved: the value operands before the address (none when there is no address operand).
    bytes: parts.slice(0, Math.max(0, memory)).reduce((sum, operand) => sum + width(operand), 0),
    values: valueOperands.flatMap((part) =>
      (part.match(/[xwvqdshb]\d+/g) ?? []).flatMap((token) => physicalRegister(token) ?? []),
    ),
  };
  operandCache.set(instruction, entry);
  return entry;
}

/**
 * The node producing a store's value, looking through moves and broadcasts (dup, mul by 0x0101…): a load, or something
 * computed.
 */
function valueOrigins(graph: DependencyGraph, producers: ProducerOf, node: Node, register: string, depth = 3): Node[] {
  const { nodes } = graph;
  const from = producers(node.index, register);
  if (from === undefined) return [];
  // A reload of a spilled value is that value (the slot passes it through).
  const producer = spillSource(graph, nodes[from]!) ?? nodes[from]!;
  const passThrough =
    producer.semantics.class === 'move' || /^(dup|mul|orr|bfi|ins|mov)$/.test(producer.instruction.mnemonic);
  if (depth > 0 && passThrough && producer.semantics.memory === 'none') {
    const origins = producer.semantics.reads.flatMap((read) =>
      valueOrigins(graph, producers, producer, read, depth - 1),
    );
    return origins.length ? origins : [producer];
  }
  return [producer];
}

/**
 * A role's name. In a loop with a decode loop's shape (or pinned, the maintainer's word for it), computed bytes are
 * literals and stored loads a match; elsewhere (a table builder, a checksum) the path is named by what it stores only.
 */
export function roleName(role: PathRole, decodeLoop = true): string {
  if (!decodeLoop) {
    const computed = role.literals === 0 ? '' : `${role.literals} computed byte${role.literals === 1 ? '' : 's'}`;
    const loaded =
      role.match === 'none' ? '' : role.match === 'short' ? 'loaded values' : 'loaded values (nested loop)';
    return [computed, loaded].filter(Boolean).join(' + ') || 'no store';
  }
  const literals = role.literals === 0 ? '' : role.literals === 1 ? 'literal' : `${role.literals} literals`;
  const match = role.match === 'none' ? '' : role.match === 'short' ? 'match' : 'long match (copy loop)';
  if (!literals && !match) return 'no output (table walk, refill or bookkeeping)';
  return [literals, match].filter(Boolean).join(' + ');
}

/** Order in which roles are listed: matches (the usual path first), then literals, then the rest. */
function roleOrder(role: PathRole): number {
  const match = { short: 0, long: 1, none: 2 }[role.match];
  return match * 100 + role.literals + (role.literals === 0 && role.match === 'none' ? 1000 : 0);
}

/**
 * The nested copy loops a path goes through: `headers` holds each copy loop's header, `blocks` every block of one
 * (header included), mapped to its header.
 */
interface CopyLoops {
  headers: ReadonlySet<number>;
  blocks: ReadonlyMap<number, number>;
}

function classify(copyLoops: CopyLoops, blocks: number[], graph: DependencyGraph): PathRole {
  const { nodes } = graph;
  const producers = producerMap(graph);
  let literals = 0;
  let copyBytes = 0;
  let copies = false;
  const wordCopyBytes = straightWordCopyBytes(nodes, producers);
  for (const node of nodes) {
    if (node.semantics.memory !== 'store' || node.semantics.address?.base === 'sp') continue;
    const origins = storedRegisters(node.instruction).flatMap((register) =>
      valueOrigins(graph, producers, node, register),
    );
    // Copied: stored as loaded from memory other than a decode table (a table entry's byte is a literal).
    const copied =
      origins.length > 0 &&
      origins.every((origin) => origin.semantics.memory === 'load' && !isTableLoad(graph, origin));
    if (copied) {
      copies = true;
      copyBytes += memoryBytes(node.instruction);
    } else if (memoryBytes(node.instruction) === 1 && origins.length > 0) {
      literals++; // a byte computed in this iteration
    }
  }
  const throughCopyLoop = blocks.some((block) => copyLoops.headers.has(block));
  // A path that stores nothing of its own but goes through a block of a nested copy loop (GCC's zlib enters its
  // 3-byte loop `while (len > 2)` at its test, 0x2f4, and leaves it when len is 0): every byte it writes is the copy
  // loop's, so it is a long match, not "no output" (the loop run zero times would be a match of length 0, which a
  // deflate stream cannot code: lengths are 3 to 258).
  const onlyCopyLoop =
    !copies &&
    literals === 0 &&
    !nodes.some((node) => node.semantics.memory === 'store' && node.semantics.address?.base !== 'sp') &&
    blocks.some((block) => copyLoops.blocks.has(block));
  const refill = nodes.some((node) => isRefillLoad(graph, node));
  return {
    literals,
    match: (throughCopyLoop && copies) || onlyCopyLoop ? 'long' : copies ? 'short' : 'none',
    refill,
    copyBytes,
    wordCopyBytes,
  };
}

/** The node producing a register a node reads (by physical register name, as semantics give reads). */
type ProducerOf = (index: number, register: string) => number | undefined;

function producerMap(graph: DependencyGraph): ProducerOf {
  return (index, register) => {
    let from: number | undefined;
    // The last edge wins: the graph lists a read's producer after any earlier candidate.
    for (const edge of graph.into[index]!)
      if (edge.via !== 'memory' && edge.via !== 'flags' && physicalName(edge.via) === register) from = edge.from;
    return from;
  };
}

const physicalNames = new Map<string, string>();
const physicalName = (via: string): string => {
  let name = physicalNames.get(via);
  if (name === undefined) physicalNames.set(via, (name = via.replace(/^x/, 'r')));
  return name;
};

/**
 * Bytes stored straight from a load of the same width, 8 bytes or more (ldr x → str x, ldp q → stp q), each
 * load counted once: a word stored several times (the small-offset pattern copies) counts as one word.
 */
function straightWordCopyBytes(nodes: readonly Node[], producers: ProducerOf): number {
  let bytes = 0;
  const counted = new Set<number>();
  for (const node of nodes) {
    if (node.semantics.memory !== 'store' || node.semantics.address?.base === 'sp') continue;
    const width = memoryBytes(node.instruction);
    if (width < 8) continue;
    const sources = storedRegisters(node.instruction).map((register) => producers(node.index, register));
    const loads = sources.map((index) => (index === undefined ? undefined : nodes[index]));
    if (!loads.every((load) => load?.semantics.memory === 'load' && memoryBytes(load.instruction) === width)) continue;
    if (loads.some((load) => counted.has(load!.index))) continue;
    loads.forEach((load) => counted.add(load!.index));
    bytes += width;
  }
  return bytes;
}

/**
 * Enumerates, classifies and bounds every path of `loop`; the usual path of each role gets the full analysis. Roles are
 * named as literals and matches only when `decodeLoop` (see roleName).
 */
export function analyzePaths(
  flow: ControlFlow,
  loop: Loop,
  model: CpuModel,
  limit = PATH_LIMIT,
  decodeLoop = true,
): LoopPaths {
  const nested = nestedLoops(flow, loop);
  const storing = (candidate: Loop) =>
    candidate.blocks.some((id) =>
      flow.blocks[id]!.instructions.some((instruction) => decoded(instruction).semantics.memory === 'store'),
    );
  // A copy loop moves bytes: it stores values it loaded (not table entries), whatever their width.
  const copyLoopBytes = new Map(
    nested
      .filter(storing)
      .filter((candidate) => copiedBytesPerPass(flow, candidate, model) > 0)
      .map((candidate) => [candidate.header, bytesPerPass(flow, candidate, model)]),
  );
  const copyLoops: CopyLoops = {
    headers: new Set(copyLoopBytes.keys()),
    blocks: new Map(
      nested
        .filter((candidate) => copyLoopBytes.has(candidate.header))
        .flatMap((candidate) => candidate.blocks.map((block) => [block, candidate.header] as const)),
    ),
  };
  // A nested loop that stores nothing walks a table (a subtable or a code tree, for codes longer than the main
  // table's bits): the rare way to a symbol, so a role's usual path avoids it when the role has a path that does.
  const walkBlocks = new Set(
    nested.filter((candidate) => !storing(candidate)).flatMap((candidate) => candidate.blocks),
  );
  const walks = (path: IterationPath) => Number(path.blocks.some((block) => walkBlocks.has(block)));
  // A long match's usual copy loop is the widest (word copies; byte loops serve short offsets).
  const copyWidth = (path: IterationPath) => Math.max(0, ...path.blocks.map((block) => copyLoopBytes.get(block) ?? 0));
  const enumerated = enumeratePaths(flow, loop, limit);
  const { complete } = enumerated;
  const paths = complete ? enumerated.paths : [...enumerated.paths, ...copyPaths(flow, loop, enumerated.paths, model)];
  const analysed: IterationPath[] = paths.map((blocks) => {
    const instructions = blocks.flatMap((id) => flow.blocks[id]!.instructions);
    const graph = dependencyGraph(instructions, model);
    const role = classify(copyLoops, blocks, graph);
    return {
      blocks,
      addresses: blocks.map((id) => flow.blocks[id]!.instructions[0]!.address),
      role,
      roleName: roleName(role, decodeLoop),
      bounds: boundsOfGraph(graph, model),
    };
  });
  const byRole = new Map<string, IterationPath[]>();
  for (const path of analysed) {
    const members = byRole.get(path.roleName);
    if (members) members.push(path);
    else byRole.set(path.roleName, [path]);
  }
  const groups = [...byRole.values()].map((members): PathGroup => {
    const keyed = members.map((path) => ({ path, width: copyWidth(path), layout: path.addresses.join() }));
    const usual = keyed.reduce((best, candidate) => {
      const a = candidate;
      const b = best;
      const order =
        // The usual match copies the most bytes per pass (word copies; offset-1 broadcasts and byte loops are the rare
        // shapes).
        (a.path.role.match === 'long' ? b.width - a.width : 0) ||
        // A path that stores its copy's first bytes itself before one that only goes through the copy loop's test.
        (a.path.role.match === 'long' ? Number(b.path.role.copyBytes > 0) - Number(a.path.role.copyBytes > 0) : 0) ||
        b.path.role.wordCopyBytes - a.path.role.wordCopyBytes ||
        walks(a.path) - walks(b.path) ||
        a.path.bounds.predictedCycles - b.path.bounds.predictedCycles ||
        a.path.bounds.instructions - b.path.bounds.instructions ||
        (a.layout < b.layout ? -1 : a.layout > b.layout ? 1 : 0);
      return order < 0 ? candidate : best;
    });
    const representative = usual.path;
    const cycles = members.map((member) => member.bounds.predictedCycles);
    const sizes = members.map((member) => member.bounds.instructions);
    return {
      roleName: representative.roleName,
      role: representative.role,
      variants: members.length,
      representative,
      analysis: analyzePath(
        representative.blocks.flatMap((id) => flow.blocks[id]!.instructions),
        model,
      ),
      predictedCycles: { min: Math.min(...cycles), max: Math.max(...cycles) },
      instructions: { min: Math.min(...sizes), max: Math.max(...sizes) },
    };
  });
  groups.sort((a, b) => roleOrder(a.role) - roleOrder(b.role));
  const inLoop = new Set(loop.blocks);
  const exits = loop.blocks.flatMap((id) =>
    flow.blocks[id]!.successors.some((successor) => !inLoop.has(successor))
      ? [flow.blocks[id]!.instructions.at(-1)!.address]
      : [],
  );
  return {
    groups,
    paths: paths.length,
    complete,
    exits,
    copyLoop: copyLoopOf(flow, nested, copyLoopBytes, groups, model),
  };
}

/** The nested loop the long-match path goes through (the widest copy on it), its bytes per iteration and its bounds. */
function copyLoopOf(
  flow: ControlFlow,
  nested: Loop[],
  copyLoopBytes: ReadonlyMap<number, number>,
  groups: PathGroup[],
  model: CpuModel,
): CopyLoop | null {
  const long = groups.find((group) => group.role.match === 'long');
  if (!long) return null;
  // The copy loops it enters at their header, else (a loop entered at its test) any it goes through.
  const copying = nested.filter((candidate) => candidate.innermost && copyLoopBytes.has(candidate.header));
  const onPath = long.representative.blocks;
  const entered = copying.filter((candidate) => onPath.includes(candidate.header));
  const loop = (
    entered.length ? entered : copying.filter((candidate) => candidate.blocks.some((b) => onPath.includes(b)))
  ).sort((a, b) => copyLoopBytes.get(b.header)! - copyLoopBytes.get(a.header)!)[0];
  const body = loop && enumeratePaths(flow, loop, 1).paths[0];
  if (!loop || !body) return null;
  const graph = dependencyGraph(
    body.flatMap((id) => flow.blocks[id]!.instructions),
    model,
  );
  return {
    headerAddress: loop.headerAddress,
    bytesPerIteration: copiedBytes(graph),
    bounds: boundsOfGraph(graph, model),
  };
}

/** Bytes stored as loaded from memory other than a decode table (any width): what one pass of a copy moves. */
function copiedBytes(graph: DependencyGraph): number {
  const { nodes } = graph;
  const producers = producerMap(graph);
  return nodes
    .filter((node) => node.semantics.memory === 'store' && node.semantics.address?.base !== 'sp')
    .filter((node) => {
      const origins = storedRegisters(node.instruction).flatMap((register) =>
        valueOrigins(graph, producers, node, register),
      );
      return (
        origins.length > 0 &&
        origins.every((origin) => origin.semantics.memory === 'load' && !isTableLoad(graph, origin))
      );
    })
    .reduce((sum, node) => sum + memoryBytes(node.instruction), 0);
}

function copiedBytesPerPass(flow: ControlFlow, loop: Loop, model: CpuModel): number {
  const body = enumeratePaths(flow, loop, 1).paths[0] ?? [];
  return copiedBytes(
    dependencyGraph(
      body.flatMap((id) => flow.blocks[id]!.instructions),
      model,
    ),
  );
}

/** Bytes one pass through a loop's first path copies by straight word copies (0 for byte loops and broadcasts). */
function bytesPerPass(flow: ControlFlow, loop: Loop, model: CpuModel): number {
  const body = enumeratePaths(flow, loop, 1).paths[0] ?? [];
  const graph = dependencyGraph(
    body.flatMap((id) => flow.blocks[id]!.instructions),
    model,
  );
  return straightWordCopyBytes(graph.nodes, producerMap(graph));
}

/** The role the headline figures come from: the usual match path when there is one. */
export function headlineGroup(paths: LoopPaths): PathGroup | undefined {
  return paths.groups.find((group) => group.role.match === 'short' && group.role.literals === 0) ?? paths.groups[0];
}
