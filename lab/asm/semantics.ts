import type { Instruction } from './parse.js';

/**
 * What an ARM64 instruction does, as far as scheduling is concerned: the
 * registers and flags it reads and writes, whether it touches memory, and its
 * class (CPU models give each class a latency, units and uops).
 */
export type InstructionClass =
  | 'alu' // 1-cycle integer ops on any ALU
  | 'alu-shifted' // register operand with a shift or extend: two uops
  | 'flags' // flag-setting ops and flag readers (cmp, adds, ccmp, csel…)
  | 'bitfield-insert' // bfi, bfxil, extr: one unit only
  | 'mul'
  | 'madd'
  | 'div'
  | 'load'
  | 'store'
  | 'branch'
  | 'move' // register moves and zeroing, eliminated at rename
  | 'simd'
  | 'nop'
  | 'call'
  | 'unknown';

export interface Semantics {
  class: InstructionClass;
  /** Physical registers read (x/w folded to rN, v/q/d/s/h/b to vN, sp). */
  reads: string[];
  writes: string[];
  /** Registers read only to form a memory address (loads feeding these get the address-use latency). */
  addressReads: string[];
  readsFlags: boolean;
  writesFlags: boolean;
  memory: 'load' | 'store' | 'none';
  /** For memory ops: base register and offset text, to match a store with a later load of the same place. */
  address?: { base: string; offset: string };
  /** A register written by pre/post-index writeback (an ALU-latency result). */
  writeback?: string;
  /** An ALU or flag op whose second source is a register rather than an immediate. */
  registerForm: boolean;
  /** A memory op whose address adds an index register ([x0, x1, lsl #3]). */
  indexedAddress: boolean;
  /** The shift or extend of a shifted/extended register operand (orr x0, x1, x2, lsl #3 → lsl 3). */
  shift?: { kind: string; amount: number };
  /** A load or store of SIMD/FP registers (ldr q0, ld1 {v0.16b}). */
  vectorData?: boolean;
}

const ALU = new Set([
  'add',
  'sub',
  'and',
  'orr',
  'eor',
  'bic',
  'orn',
  'eon',
  'lsl',
  'lsr',
  'asr',
  'ror',
  'lslv',
  'lsrv',
  'asrv',
  'rorv',
  'neg',
  'negs',
  'mvn',
  'movz',
  'movk',
  'movn',
  'ubfx',
  'sbfx',
  'ubfiz',
  'sbfiz',
  'ubfm',
  'sbfm',
  'sxtw',
  'sxth',
  'sxtb',
  'uxtw',
  'uxth',
  'uxtb',
  'clz',
  'cls',
  'rbit',
  'rev',
  'rev16',
  'rev32',
  'adr',
  'adrp',
  'abs',
]);
const FLAG_SETTERS = new Set(['adds', 'subs', 'ands', 'bics', 'cmp', 'cmn', 'tst', 'negs']);
const FLAG_READERS = new Set([
  'csel',
  'csinc',
  'csinv',
  'csneg',
  'cset',
  'csetm',
  'cinc',
  'cinv',
  'cneg',
  'adc',
  'sbc',
  'adcs',
  'sbcs',
  'fcsel',
]);
const FLAG_READ_WRITE = new Set(['ccmp', 'ccmn']);
const NO_DESTINATION = new Set(['cmp', 'cmn', 'tst', 'ccmp', 'ccmn']);
const READS_DESTINATION = new Set(['movk', 'bfi', 'bfxil', 'bfm']);
const BITFIELD_INSERT = new Set(['bfi', 'bfxil', 'bfm', 'extr']);
const MUL = new Set(['mul', 'mneg', 'umull', 'smull', 'umulh', 'smulh', 'umnegl', 'smnegl']);
const MADD = new Set(['madd', 'msub', 'umaddl', 'smaddl', 'umsubl', 'smsubl']);
const DIV = new Set(['udiv', 'sdiv']);
const LOADS = new RegExp(
  String.raw`^(ldr|ldrb|ldrh|ldrsb|ldrsh|ldrsw|ldur|ldurb|ldurh|ldursb|ldursh|ldursw|ldp|ldps` +
    String.raw`w|ldnp|ldar|ldarb|ldarh|ldxr|ldaxr|ld1|ld1r|ld2|ld3|ld4)$`,
);
const STORES = /^(str|strb|strh|stur|sturb|sturh|stp|stnp|stlr|stlrb|stlrh|st1|st2|st3|st4)$/;
const SIMD = new RegExp(
  String.raw`^(dup|ins|umov|smov|movi|mvni|fmov|zip1|zip2|uzp1|uzp2|trn1|trn2|ext|tbl|tbx|cnt` +
    String.raw`|addv|uaddlv|cmeq|cmhi|cmhs|cmgt|cmge|ushr|sshr|shl|ushl|sshl|xtn|uxtl|sxtl|uzp|` +
    String.raw`shrn|rshrn|addp|umaxv|uminv|pmull|pmull2|eor3|bsl|bit|bif|not)$`,
);

/** Folds a register operand to its physical register; undefined for zero registers and non-registers. */
export function physicalRegister(token: string): string | undefined {
  const name = token.trim().toLowerCase().replace(/\..*$/, '');
  if (name === 'xzr' || name === 'wzr') return undefined;
  if (name === 'sp' || name === 'wsp') return 'sp';
  if (name === 'lr') return 'r30';
  if (name === 'fp') return 'r29';
  const integer = /^[xw](\d+)$/.exec(name);
  if (integer) return `r${integer[1]}`;
  const vector = /^[vqdshb](\d+)$/.exec(name);
  if (vector) return `v${vector[1]}`;
  return undefined;
}

/** Splits operands at top-level commas (not inside [ ] or { }). */
export function splitOperands(operands: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of operands) {
    if (ch === '[' || ch === '{') depth++;
    if (ch === ']' || ch === '}') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

function registersIn(text: string): string[] {
  return (text.match(/\b([xwvqdshb]\d+|sp|wsp|lr|fp)(\.\w+)?\b/g) ?? []).flatMap(
    (token) => physicalRegister(token) ?? [],
  );
}

function hasShiftOrExtend(parts: readonly string[]): boolean {
  return (
    parts.some((part) => /^(lsl|lsr|asr|ror|uxt[bhwx]|sxt[bhwx])\b/.test(part)) &&
    parts.filter((part) => physicalRegister(part)).length >= 3
  );
}

const unique = (values: string[]) => [...new Set(values)];

/** The shift or extend operand of a shifted/extended register form ("lsl #3" → lsl 3, "uxtw" → uxtw 0). */
function shiftOf(parts: readonly string[]): Semantics['shift'] {
  if (!hasShiftOrExtend(parts)) return undefined;
  const pattern = /^(lsl|lsr|asr|ror|uxt[bhwx]|sxt[bhwx])\b\s*(?:#(\d+|0x[0-9a-f]+))?/i;
  const match = parts.map((part) => pattern.exec(part)).find(Boolean);
  return match ? { kind: match[1]!.toLowerCase(), amount: match[2] ? Number(match[2]) : 0 } : undefined;
}

export function semanticsOf(instruction: Instruction): Semantics {
  const mnemonic = instruction.mnemonic;
  const parts = splitOperands(instruction.operands);
  const none: Semantics = {
    class: 'unknown',
    reads: [],
    writes: [],
    addressReads: [],
    readsFlags: false,
    writesFlags: false,
    memory: 'none',
    registerForm: false,
    indexedAddress: false,
  };

  if (mnemonic === 'nop' || mnemonic === 'prfm' || mnemonic === 'hint' || mnemonic.startsWith('prfum'))
    return { ...none, class: 'nop', reads: registersIn(parts.slice(1).join(',')) };
  if (mnemonic === 'bl' || mnemonic === 'blr')
    // AAPCS64: the callee returns in x0 (what else it clobbers is not modelled; the call makes a path inexact).
    return { ...none, class: 'call', reads: registersIn(instruction.operands), writes: ['r30', 'r0'] };
  if (
    mnemonic === 'b' ||
    mnemonic.startsWith('b.') ||
    mnemonic === 'br' ||
    mnemonic === 'ret' ||
    /^(cbz|cbnz|tbz|tbnz)$/.test(mnemonic)
  ) {
    const reads =
      mnemonic === 'ret'
        ? [physicalRegister(parts[0] ?? 'x30') ?? 'r30']
        : mnemonic === 'b' || mnemonic.startsWith('b.')
          ? []
          : registersIn(parts[0] ?? '');
    return { ...none, class: 'branch', reads, readsFlags: mnemonic.startsWith('b.') };
  }

  const memoryOperand = parts.find((part) => part.startsWith('['));
  if (LOADS.test(mnemonic) || STORES.test(mnemonic)) {
    const isLoad = LOADS.test(mnemonic);
    const memoryIndex = parts.findIndex((part) => part.startsWith('['));
    const valueParts = parts.slice(0, memoryIndex < 0 ? parts.length : memoryIndex);
    const inside = /^\[([^\]]*)\](!?)$/.exec(memoryOperand ?? '') ?? [];
    const addressParts = splitOperands(inside[1] ?? '');
    const base = physicalRegister(addressParts[0] ?? '') ?? addressParts[0] ?? '?';
    const postIndex = memoryIndex >= 0 && parts.length > memoryIndex + 1;
    const preIndex = inside[2] === '!';
    const addressReads = unique(
      registersIn(inside[1] ?? '').concat(postIndex ? registersIn(parts.slice(memoryIndex + 1).join(',')) : []),
    );
    const values = unique(valueParts.flatMap((part) => registersIn(part)));
    const writeback = preIndex || postIndex ? base : undefined;
    return {
      ...none,
      class: isLoad ? 'load' : 'store',
      reads: unique(isLoad ? addressReads : [...values, ...addressReads]),
      writes: unique([...(isLoad ? values : []), ...(writeback ? [writeback] : [])]),
      addressReads,
      memory: isLoad ? 'load' : 'store',
      address: { base, offset: preIndex || postIndex ? '(writeback)' : addressParts.slice(1).join(', ') || '0' },
      writeback,
      indexedAddress: addressParts.slice(1).some((part) => physicalRegister(part) !== undefined),
      ...(values.some((register) => register.startsWith('v')) ? { vectorData: true } : {}),
    };
  }

  const destination = physicalRegister(parts[0] ?? '');
  const sources = parts.slice(NO_DESTINATION.has(mnemonic) ? 0 : 1).flatMap((part) => registersIn(part));
  const reads = unique([...sources, ...(READS_DESTINATION.has(mnemonic) && destination ? [destination] : [])]);
  const writes = NO_DESTINATION.has(mnemonic) || !destination ? [] : [destination];
  const flags = {
    readsFlags: FLAG_READERS.has(mnemonic) || FLAG_READ_WRITE.has(mnemonic),
    writesFlags: FLAG_SETTERS.has(mnemonic) || FLAG_READ_WRITE.has(mnemonic),
  };
  // The operand after the destination's first source (or the second compared value): a register or not.
  const secondSource = parts[NO_DESTINATION.has(mnemonic) ? 1 : 2];
  const registerForm = secondSource !== undefined && physicalRegister(secondSource) !== undefined;

  // Register-to-register moves and zeroing are eliminated at rename.
  const isMove =
    (mnemonic === 'mov' && parts.length === 2) ||
    (mnemonic === 'orr' && /^[xw]zr$/.test(parts[1] ?? '') && parts.length === 3 && physicalRegister(parts[2] ?? ''));
  if (isMove) {
    const source = physicalRegister(parts[parts.length - 1] ?? '');
    const vectorMove = destination?.startsWith('v');
    if (source || /^#0$/.test(parts[1] ?? '') || /^[xw]zr$/.test(parts[1] ?? ''))
      return { ...none, class: vectorMove ? 'simd' : 'move', reads: source ? [source] : [], writes };
    return { ...none, class: vectorMove ? 'simd' : 'alu', reads: [], writes }; // mov #imm: a movz
  }
  if (FLAG_SETTERS.has(mnemonic) || FLAG_READERS.has(mnemonic) || FLAG_READ_WRITE.has(mnemonic)) {
    const shift = shiftOf(parts);
    const shifted = shift ? { class: 'alu-shifted' as const, shift } : { class: 'flags' as const };
    return { ...none, ...shifted, reads, writes, registerForm, ...flags };
  }
  if (BITFIELD_INSERT.has(mnemonic)) return { ...none, class: 'bitfield-insert', reads, writes };
  if (MUL.has(mnemonic)) return { ...none, class: 'mul', reads, writes };
  if (MADD.has(mnemonic)) return { ...none, class: 'madd', reads, writes };
  if (DIV.has(mnemonic)) return { ...none, class: 'div', reads, writes };
  if (ALU.has(mnemonic)) {
    if (destination?.startsWith('v')) return { ...none, class: 'simd', reads, writes };
    const shift = shiftOf(parts);
    const shifted = shift ? { class: 'alu-shifted' as const, shift } : { class: 'alu' as const };
    return { ...none, ...shifted, reads, writes, registerForm };
  }
  if (SIMD.test(mnemonic)) return { ...none, class: 'simd', reads, writes };
  return { ...none, class: 'unknown', reads, writes };
}
