import type { ControlFlow } from '../asm/cfg.js';
import { decoded, type Node, type PathAnalysis } from './analyze.js';

/** libdeflate's recognisable fastloop patterns, found (with where) or missing in an analysed loop. */
export interface IdiomFinding {
  idiom: string;
  found: boolean;
  /** Addresses of the instructions that make it up. */
  at: number[];
  what: string;
}

function producersOf(analysis: PathAnalysis, index: number, via?: string): Node[] {
  return analysis.edges
    .filter((edge) => edge.to === index && (!via || edge.via === via))
    .map((edge) => analysis.nodes[edge.from]!);
}

/** Producers of a node's inputs, looking through eliminated register moves (register allocation adds them freely). */
function sourcesOf(analysis: PathAnalysis, index: number, seen = new Set<number>()): Node[] {
  return producersOf(analysis, index).flatMap((node) => {
    if (node.semantics.class !== 'move' || seen.has(node.index)) return [node];
    seen.add(node.index);
    return sourcesOf(analysis, node.index, seen);
  });
}

/** Whether the value a node writes is read in the next iteration (a loop-carried value such as bitbuf). */
function loopCarried(analysis: PathAnalysis, index: number): boolean {
  return analysis.edges.some((edge) => edge.from === index && edge.distance === 1);
}

function consumersOf(analysis: PathAnalysis, index: number): Node[] {
  return analysis.edges.filter((edge) => edge.from === index).map((edge) => analysis.nodes[edge.to]!);
}

/** An instruction whose destination is also a source (a loop-carried accumulator like bitbuf or bitsleft). */
const accumulates = (node: Node) =>
  node.semantics.writes.length === 1 && node.semantics.reads.includes(node.semantics.writes[0]!);
const registerShift = (node: Node) =>
  /^(lsl|lslv|lsr|lsrv)$/.test(node.instruction.mnemonic) && node.semantics.reads.length === 2;
const wideLoad = (node: Node) =>
  node.semantics.class === 'load' &&
  /^(ldr|ldur)$/.test(node.instruction.mnemonic) &&
  /^x/.test(node.instruction.operands);
// Not a reload from the stack: a spilled local read back (GCC under register pressure) is no table entry.
const tableLoad = (node: Node) =>
  node.semantics.class === 'load' &&
  node.semantics.address?.base !== 'sp' &&
  /^(ldr|ldur)$/.test(node.instruction.mnemonic) &&
  /^w/.test(node.instruction.operands);

export function findIdioms(analysis: PathAnalysis, flow: ControlFlow): IdiomFinding[] {
  const nodes = analysis.nodes;
  const findings: IdiomFinding[] = [];

  // Branchless refill: an 8-byte load, shifted left by the bit count, ORed into the (loop-carried) bit buffer.
  const refill = nodes.flatMap((or) => {
    if (or.instruction.mnemonic !== 'orr' || !(accumulates(or) || loopCarried(analysis, or.index))) return [];
    for (const shift of sourcesOf(analysis, or.index).filter(registerShift)) {
      const load = sourcesOf(analysis, shift.index).find(wideLoad);
      if (load) return [[load, shift, or]];
    }
    return [];
  })[0];
  findings.push({
    idiom: 'branchless refill',
    found: Boolean(refill),
    at: refill?.map((node) => node.instruction.address) ?? [],
    what: 'ldr 8 bytes → lsl by bitsleft → orr into bitbuf',
  });

  // bitsleft -= entry: the loop-carried bit counter reduced by a whole table entry just loaded.
  const subtract = nodes.find((node) => {
    if (node.instruction.mnemonic !== 'sub' || !node.semantics.registerForm) return false;
    const sources = producersOf(analysis, node.index);
    return (
      sourcesOf(analysis, node.index).some(tableLoad) &&
      (accumulates(node) ||
        analysis.edges.some(
          (edge) => edge.to === node.index && edge.distance === 1 && !tableLoad(analysis.nodes[edge.from]!),
        ) ||
        sources.some((source) => loopCarried(analysis, source.index)))
    );
  });
  findings.push({
    idiom: 'bitsleft -= entry',
    found: Boolean(subtract),
    at: subtract ? [subtract.instruction.address] : [],
    what: 'sub of a loaded 32-bit table entry from the bit counter (no masking of the length byte)',
  });

  // saved_bitbuf: a copy of the bit buffer taken as it is shifted, read by an extra-bits extract.
  const saved = nodes.find(
    (node) =>
      node.semantics.class === 'move' &&
      sourcesOf(analysis, node.index).some(
        (source) => registerShift(source) && /^lsr/.test(source.instruction.mnemonic),
      ) &&
      consumersOf(analysis, node.index).some((consumer) =>
        /^(bic|ubfx|lsr|lsrv|and)$/.test(consumer.instruction.mnemonic),
      ),
  );
  findings.push({
    idiom: 'saved_bitbuf',
    found: Boolean(saved),
    at: saved ? [saved.instruction.address] : [],
    what: 'a copy of bitbuf kept across the shift, for the extra-bits extract',
  });

  const bfxil = nodes.filter((node) => node.instruction.mnemonic === 'bfxil');
  findings.push({
    idiom: 'BFXIL insert',
    found: bfxil.length > 0,
    at: bfxil.map((node) => node.instruction.address),
    what: 'bitfield insert (one unit on Firestorm)',
  });

  const ccmp = nodes.filter((node) => /^(ccmp|ccmn)$/.test(node.instruction.mnemonic));
  findings.push({
    idiom: 'CCMP chain',
    found: ccmp.length > 0,
    at: ccmp.map((node) => node.instruction.address),
    what: 'conditional compares folding several exit tests into one branch',
  });

  const literalStores = nodes.filter((node) => /^(strb|sturb)$/.test(node.instruction.mnemonic));
  findings.push({
    idiom: 'batched literal stores',
    found: literalStores.length >= 2,
    at: literalStores.map((node) => node.instruction.address),
    what: `${literalStores.length} byte store(s) in one iteration (2+ = literals batched)`,
  });

  // Unrolled match copy: a loop of the function storing 8/16 bytes at least twice per iteration.
  const copyLoop = flow.loops.find((loop) => {
    const wideStores = loop.blocks
      .flatMap((id) => flow.blocks[id]!.instructions)
      .filter((instruction) => {
        const semantics = decoded(instruction).semantics;
        return (
          semantics.memory === 'store' &&
          (/^(stp|stnp|st1)$/.test(instruction.mnemonic) || /^[xq]/.test(instruction.operands))
        );
      });
    return loop.innermost && wideStores.length >= 2;
  });
  findings.push({
    idiom: 'unrolled match copy',
    found: Boolean(copyLoop),
    at: copyLoop ? [copyLoop.headerAddress] : [],
    what: 'an inner loop with two or more 8/16-byte stores per iteration',
  });
  return findings;
}
