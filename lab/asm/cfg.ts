import type { AsmFunction, Instruction } from './parse.js';

/** Basic blocks, the control-flow graph, dominators and natural loops of one function. */
export interface BasicBlock {
  id: number;
  instructions: Instruction[];
  successors: number[];
  predecessors: number[];
}

export interface Loop {
  /** Block id of the loop header. */
  header: number;
  /** Block ids in the loop (header included), ascending. */
  blocks: number[];
  /** Blocks with a back edge to the header. */
  latches: number[];
  /** Loops directly inside this one are not counted here: depth 1 = outermost. */
  depth: number;
  innermost: boolean;
  instructionCount: number;
  headerAddress: number;
}

export interface ControlFlow {
  blocks: BasicBlock[];
  dominators: Set<number>[];
  loops: Loop[];
}

const CONDITIONAL = /^(b\.\w+|cbz|cbnz|tbz|tbnz)$/;
const ENDS_BLOCK = /^(b|br|ret|b\.\w+|cbz|cbnz|tbz|tbnz)$/;

export function buildControlFlow(fn: AsmFunction): ControlFlow {
  const instructions = fn.instructions;
  const addresses = new Set(instructions.map((instruction) => instruction.address));
  const leaders = new Set<number>([instructions[0]!.address]);
  instructions.forEach((instruction, index) => {
    if (instruction.target !== null && addresses.has(instruction.target)) leaders.add(instruction.target);
    if (ENDS_BLOCK.test(instruction.mnemonic) && instructions[index + 1]) leaders.add(instructions[index + 1]!.address);
  });
  const blocks: BasicBlock[] = [];
  for (const instruction of instructions) {
    if (leaders.has(instruction.address))
      blocks.push({ id: blocks.length, instructions: [], successors: [], predecessors: [] });
    blocks.at(-1)!.instructions.push(instruction);
  }
  const blockAt = new Map(blocks.map((block) => [block.instructions[0]!.address, block.id]));
  for (const block of blocks) {
    const last = block.instructions.at(-1)!;
    const next = blocks[block.id + 1];
    const successors: number[] = [];
    if (last.target !== null && blockAt.has(last.target) && (last.mnemonic === 'b' || CONDITIONAL.test(last.mnemonic)))
      successors.push(blockAt.get(last.target)!);
    const fallsThrough = !/^(b|br|ret)$/.test(last.mnemonic);
    if (fallsThrough && next) successors.push(next.id);
    block.successors = [...new Set(successors)];
  }
  for (const block of blocks) for (const successor of block.successors) blocks[successor]!.predecessors.push(block.id);

  const dominators = computeDominators(blocks);
  const loops = naturalLoops(blocks, dominators);
  return { blocks, dominators, loops };
}

/** Iterative dominators (Cooper, Harvey, Kennedy's data-flow form) over blocks reachable from entry. */
function computeDominators(blocks: readonly BasicBlock[]): Set<number>[] {
  const all = new Set(blocks.map((block) => block.id));
  const dominators = blocks.map((block) => (block.id === 0 ? new Set([0]) : new Set(all)));
  let changed = true;
  while (changed) {
    changed = false;
    for (const block of blocks) {
      if (block.id === 0) continue;
      const predecessors = block.predecessors;
      let next: Set<number>;
      if (predecessors.length === 0) next = new Set([block.id]);
      else {
        next = new Set(dominators[predecessors[0]!]);
        for (const p of predecessors.slice(1)) for (const d of next) if (!dominators[p]!.has(d)) next.delete(d);
        next.add(block.id);
      }
      if (next.size !== dominators[block.id]!.size || [...next].some((d) => !dominators[block.id]!.has(d))) {
        dominators[block.id] = next;
        changed = true;
      }
    }
  }
  return dominators;
}

function naturalLoops(blocks: readonly BasicBlock[], dominators: readonly Set<number>[]): Loop[] {
  const byHeader = new Map<number, { blocks: Set<number>; latches: number[] }>();
  for (const block of blocks) {
    for (const successor of block.successors) {
      if (!dominators[block.id]!.has(successor)) continue; // not a back edge
      const loop = byHeader.get(successor) ?? { blocks: new Set([successor]), latches: [] };
      loop.latches.push(block.id);
      const stack = [block.id];
      while (stack.length) {
        const node = stack.pop()!;
        if (loop.blocks.has(node)) continue;
        loop.blocks.add(node);
        stack.push(...blocks[node]!.predecessors);
      }
      byHeader.set(successor, loop);
    }
  }
  const loops = [...byHeader].map(([header, loop]) => ({
    header,
    blocks: [...loop.blocks].sort((a, b) => a - b),
    latches: loop.latches,
  }));
  return loops.map((loop) => {
    const containing = loops.filter(
      (other) =>
        other !== loop &&
        other.blocks.length > loop.blocks.length &&
        loop.blocks.every((b) => other.blocks.includes(b)),
    );
    const contained = loops.filter(
      (other) =>
        other !== loop &&
        other.blocks.length < loop.blocks.length &&
        other.blocks.every((b) => loop.blocks.includes(b)),
    );
    return {
      ...loop,
      depth: containing.length + 1,
      innermost: contained.length === 0,
      instructionCount: loop.blocks.reduce((sum, id) => sum + blocks[id]!.instructions.length, 0),
      headerAddress: blocks[loop.header]!.instructions[0]!.address,
    };
  });
}

/** Loops nested inside `loop`. */
export function nestedLoops(flow: ControlFlow, loop: Loop): Loop[] {
  return flow.loops.filter(
    (other) =>
      other !== loop && other.blocks.length < loop.blocks.length && other.blocks.every((b) => loop.blocks.includes(b)),
  );
}

/** Blocks of a loop that are not inside a loop nested in it. */
export function ownBlocks(flow: ControlFlow, loop: Loop): number[] {
  const nested = new Set(nestedLoops(flow, loop).flatMap((other) => other.blocks));
  return loop.blocks.filter((id) => !nested.has(id));
}

/** Instructions of a loop that are not inside a loop nested in it. */
export function ownInstructionCount(flow: ControlFlow, loop: Loop): number {
  return ownBlocks(flow, loop).reduce((sum, id) => sum + flow.blocks[id]!.instructions.length, 0);
}
