import { noreturnPattern } from './noreturn.js';
import type { AsmFunction, Instruction } from './parse.js';

/** Basic blocks, the control-flow graph and the loops (strongly connected components) of one function. */
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
  loops: Loop[];
}

const CONDITIONAL = /^(b\.\w+|cbz|cbnz|tbz|tbnz)$/;

/** A call that does not return (lab/asm/noreturn.json: C, the stack protector, assertions, Rust panics), or a trap. */
export function endsExecution(instruction: Instruction): boolean {
  if (/^(brk|udf|hlt)$/.test(instruction.mnemonic)) return true;
  return (
    instruction.mnemonic === 'bl' && instruction.callee !== undefined && noreturnPattern().test(instruction.callee)
  );
}

/** A `b` to another function's symbol (a relocated or named tail call): it leaves the function. */
const tailCall = (instruction: Instruction) => instruction.mnemonic === 'b' && instruction.callee !== undefined;
const ENDS_BLOCK = /^(b|br|ret|b\.\w+|cbz|cbnz|tbz|tbnz)$/;

export function buildControlFlow(fn: AsmFunction): ControlFlow {
  const instructions = fn.instructions;
  const addresses = new Set(instructions.map((instruction) => instruction.address));
  const leaders = new Set<number>([instructions[0]!.address]);
  instructions.forEach((instruction, index) => {
    if (instruction.target !== null && !instruction.callee && addresses.has(instruction.target))
      leaders.add(instruction.target);
    if ((ENDS_BLOCK.test(instruction.mnemonic) || endsExecution(instruction)) && instructions[index + 1])
      leaders.add(instructions[index + 1]!.address);
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
    const local = last.target !== null && blockAt.has(last.target) && !tailCall(last);
    if (local && (last.mnemonic === 'b' || CONDITIONAL.test(last.mnemonic)))
      successors.push(blockAt.get(last.target!)!);
    const fallsThrough = !/^(b|br|ret)$/.test(last.mnemonic) && !endsExecution(last);
    if (fallsThrough && next) successors.push(next.id);
    block.successors = [...new Set(successors)];
  }
  for (const block of blocks) for (const successor of block.successors) blocks[successor]!.predecessors.push(block.id);

  const loops = nestLoops(blocks, sccLoops(blocks));
  return { blocks, loops };
}

/**
 * Loops as the CPU sees them: every strongly connected component of the control-flow graph with a cycle (Tarjan),
 * irreducible and multi-entry ones included, not only natural loops (a header dominating its back edges: GCC's
 * zlib enters its 3-byte copy loop both at the top and at its test). The header is the lowest entry (a block with
 * a predecessor outside the component); loops nested in it are the components left once it is removed. On
 * reducible code this is the natural loops, merged by header.
 */
function sccLoops(blocks: readonly BasicBlock[]): Array<{ header: number; blocks: number[]; latches: number[] }> {
  const found: Array<{ header: number; blocks: number[]; latches: number[] }> = [];
  const search = (members: ReadonlySet<number>) => {
    for (const component of stronglyConnected(blocks, members)) {
      const inside = new Set(component);
      const cyclic = component.length > 1 || blocks[component[0]!]!.successors.includes(component[0]!);
      if (!cyclic) continue;
      const entries = component.filter(
        (id) => id === 0 || blocks[id]!.predecessors.some((predecessor) => !inside.has(predecessor)),
      );
      const header = Math.min(...(entries.length ? entries : component));
      const latches = component.filter((id) => blocks[id]!.successors.includes(header));
      found.push({ header, blocks: [...component].sort((a, b) => a - b), latches });
      inside.delete(header);
      search(inside);
    }
  };
  search(new Set(blocks.map((block) => block.id)));
  return found;
}

/** Tarjan's strongly connected components of the subgraph on `members`. */
function stronglyConnected(blocks: readonly BasicBlock[], members: ReadonlySet<number>): number[][] {
  const index = new Map<number, number>();
  const low = new Map<number, number>();
  const stack: number[] = [];
  const onStack = new Set<number>();
  const components: number[][] = [];
  let counter = 0;
  const visit = (node: number) => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of blocks[node]!.successors) {
      if (!members.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) === index.get(node)) {
      const component: number[] = [];
      let member: number;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      components.push(component);
    }
  };
  for (const node of [...members].sort((a, b) => a - b)) if (!index.has(node)) visit(node);
  return components;
}

function nestLoops(
  blocks: readonly BasicBlock[],
  loops: ReadonlyArray<{ header: number; blocks: number[]; latches: number[] }>,
): Loop[] {
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
