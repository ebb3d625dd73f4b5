/**
 * Parses ARM64 disassembly listings from llvm-objdump -d (ELF and Mach-O),
 * GNU objdump -d and otool -tvV into functions of instructions. The formats
 * differ in raw-byte columns, immediates (hex vs decimal), trailing comments
 * and condition aliases; everything is normalised here so later stages see one
 * form.
 */

export interface Instruction {
  address: number;
  mnemonic: string;
  /** Operand text, normalised (no comments, lower case, condition aliases mapped). */
  operands: string;
  /** Branch target address when the instruction is a direct branch. */
  target: number | null;
  /** The line as the disassembler printed it (for reports). */
  text: string;
  /** `file:line` of the source it was compiled from, when the listing carries line numbers (debug info). */
  sourceLine?: string;
  /** The symbol a call or tail call goes to, from its relocation (objects) or `<name>` (linked code). */
  callee?: string;
}

export interface AsmFunction {
  name: string;
  instructions: Instruction[];
}

export type ListingFormat = 'llvm-objdump' | 'gnu-objdump' | 'otool';

/** GNU objdump and otool spell some conditions differently from LLVM. */
const CONDITION_ALIASES: Record<string, string> = {
  cc: 'lo',
  cs: 'hs',
  ul: 'lo',
  last: 'lo',
  any: 'ne',
  none: 'eq',
  nlast: 'hs',
};

const DIRECT_BRANCHES = new Set(['b', 'bl', 'cbz', 'cbnz', 'tbz', 'tbnz']);

function isDirectBranch(mnemonic: string): boolean {
  return DIRECT_BRANCHES.has(mnemonic) || mnemonic.startsWith('b.');
}

function normaliseMnemonic(mnemonic: string): string {
  // Apple's syntax puts the vector arrangement on the mnemonic (dup.2d, ld1.16b): drop it.
  const lower = mnemonic.toLowerCase().replace(/^(?!b\.)([a-z][a-z0-9]*)\.(\d+[bhsd]|[bhsdq])$/, '$1');
  const conditional = /^b\.(\w+)$/.exec(lower);
  if (conditional) return `b.${CONDITION_ALIASES[conditional[1]!] ?? conditional[1]}`;
  return lower;
}

function normaliseOperands(mnemonic: string, operands: string): string {
  let text = operands
    .replace(/\s*(\/\/|;).*$/, '')
    .replace(/\s*<[^>]*>/g, '')
    .trim();
  // Hex immediates to decimal so both objdumps agree: #0x12b -> #299 (addresses in branches are handled apart).
  // BigInt keeps 64-bit immediates exact (#0xffffffffffffffff -> #18446744073709551615, not a rounded double).
  text = text.replace(/#(-?)0x([0-9a-f]+)/gi, (_m, sign: string, hex: string) => `#${sign}${BigInt(`0x${hex}`)}`);
  text = text.toLowerCase();
  // Conditions as the last operand of csel/ccmp/cset…: cc -> lo.
  if (/^(cs|cc|c[a-z]*|fcsel)/.test(mnemonic))
    text = text.replace(/,\s*(\w+)$/, (m, cond: string) =>
      CONDITION_ALIASES[cond] ? `, ${CONDITION_ALIASES[cond]}` : m,
    );
  return text.replace(/\s*,\s*/g, ', ');
}

function branchTarget(mnemonic: string, operands: string): number | null {
  if (!isDirectBranch(mnemonic)) return null;
  // The target is the last operand: "0x1c <f+0x1c>", "1c <f+0x1c>", "0x100003f70" or "#-24".
  const last = operands
    .replace(/\s*(\/\/|;).*$/, '')
    .replace(/<[^>]*>/g, '')
    .split(',')
    .pop()!
    .trim();
  const match = /^(?:0x)?([0-9a-f]+)$/i.exec(last);
  return match ? parseInt(match[1]!, 16) : null;
}

const LLVM_OR_GNU_LINE = /^\s*([0-9a-f]+):\s+(?:(?:[0-9a-f]{2} ){4}|[0-9a-f]{8}\s+)?\s*([a-z][\w.]*)\s*(.*)$/i;
const RELOCATION_LINE = /^\s*([0-9a-f]+):?\s+(?:R_AARCH64_(?:CALL26|JUMP26)|ARM64_RELOC_BRANCH26)\s+(\S+)/i;
const OTHER_RELOCATION_LINE = /^\s*[0-9a-f]+:?\s+(?:R_AARCH64_|ARM64_RELOC_)\w+/i;
const OTOOL_LINE = /^([0-9a-f]{8,16})\s+([a-z][\w.]*)\s*(.*)$/i;
const FUNCTION_HEADER = /^([0-9a-f]+)\s+<(.+)>:\s*$/i;
const UNDECODED_LINE = /^\s*([0-9a-f]+):\s+(?:(?:[0-9a-f]{2} ){4}|[0-9a-f]{8}\s+)?\s*(?:<unknown>|\.inst\s)/i;
const OTOOL_FUNCTION_HEADER = /^(\S.*):\s*$/;
/** llvm-objdump -l prints `; /path/file.c:123`, GNU objdump -l `/path/file.c:123 (discriminator 2)`. */
const SOURCE_LINE = /^(?:; )?(\/?[^\s;:][^:]*):(\d+)(?: \(discriminator \d+\))?$/;

export function detectFormat(listing: string): ListingFormat {
  if (/^\(__TEXT,__text\) section/m.test(listing) || /^[^\s:]+:\n\(__TEXT,__text\)/m.test(listing)) return 'otool';
  if (
    /file format (elf64-littleaarch64|mach-o arm64|elf64-aarch64)/i.test(listing) &&
    /^\s*[0-9a-f]+:\t[0-9a-f]{8} \t/m.test(listing)
  )
    return 'gnu-objdump';
  return 'llvm-objdump';
}

/** Splits a listing into functions (a function is a label followed by its instructions). */
export function parseListing(listing: string, format: ListingFormat = detectFormat(listing)): AsmFunction[] {
  const functions: AsmFunction[] = [];
  const namedCallees = new Map<Instruction, string>();
  let current: AsmFunction | undefined;
  let sourceLine: string | undefined;
  for (const raw of listing.split('\n')) {
    const line = raw.replace(/\s+$/, '');
    if (!line) continue;
    const source = format === 'otool' ? null : SOURCE_LINE.exec(line);
    if (source && /\.\w+$/.test(source[1]!)) {
      sourceLine = `${source[1]!.split('/').pop()}:${source[2]}`;
      continue;
    }
    if (format === 'otool') {
      if (/^\(__TEXT,__text\) section/.test(line)) continue;
      const instruction = OTOOL_LINE.exec(line);
      if (instruction) {
        if (!current) functions.push((current = { name: '(unnamed)', instructions: [] }));
        current.instructions.push(makeInstruction(instruction[1]!, instruction[2]!, instruction[3]!, line));
        continue;
      }
      const header = OTOOL_FUNCTION_HEADER.exec(line);
      if (header && !/^\S+\.(o|dylib)$|^\//.test(header[1]!))
        functions.push((current = { name: header[1]!, instructions: [] }));
      continue;
    }
    const header = FUNCTION_HEADER.exec(line);
    if (header) {
      functions.push((current = { name: header[2]!, instructions: [] }));
      sourceLine = undefined;
      continue;
    }
    // An encoding the disassembler could not decode (llvm-objdump `<unknown>`, GNU `.inst`) is still an
    // instruction: kept as `unknown`, so the loop keeps its shape and the result is marked inexact.
    const undecoded = UNDECODED_LINE.exec(line);
    if (undecoded && current) {
      current.instructions.push({
        address: parseInt(undecoded[1]!, 16),
        mnemonic: 'unknown',
        operands: '',
        target: null,
        text: line.trim(),
        ...(sourceLine ? { sourceLine } : {}),
      });
      continue;
    }
    // `-r` relocations (`3c: R_AARCH64_CALL26 memcpy`): name the callee of the call or branch they patch.
    const relocation = RELOCATION_LINE.exec(line);
    if (relocation) {
      const last = current?.instructions.at(-1);
      if (last && last.address === parseInt(relocation[1]!, 16) && /^(bl|b)$/.test(last.mnemonic))
        last.callee = relocation[2]!.replace(/\+0x[0-9a-f]+$/i, '');
      continue;
    }
    if (OTHER_RELOCATION_LINE.test(line)) continue; // a data or address relocation: nothing to name
    const instruction = LLVM_OR_GNU_LINE.exec(line);
    if (instruction && current && !/^\s*[0-9a-f]+:\s*$/i.test(line)) {
      if (/^\.(word|long)$/.test(instruction[2]!)) continue; // data in the text section, not executed
      const made = makeInstruction(instruction[1]!, instruction[2]!, instruction[3]!, line.trim());
      // Linked code names the callee: `bl 4005c0 <memcpy@plt>`, GNU objdump on an object `bl 0 <memcpy>`.
      // (Kept only when the target is outside the function: Mach-O listings name local targets <ltmp0+0x5cc>.)
      const named = /<([^>+]+)(?:\+0x[0-9a-f]+)?>/i.exec(instruction[3]!)?.[1]?.replace(/@plt$/, '');
      const pushed = sourceLine ? { ...made, sourceLine } : made;
      if (named && named !== current.name && /^(bl|b)$/.test(made.mnemonic)) namedCallees.set(pushed, named);
      current.instructions.push(pushed);
    }
  }
  for (const fn of functions) {
    const first = fn.instructions[0]?.address ?? 0;
    const last = fn.instructions.at(-1)?.address ?? 0;
    for (const instruction of fn.instructions) {
      const named = namedCallees.get(instruction);
      const outside = instruction.target === null || instruction.target < first || instruction.target > last;
      if (named && outside && instruction.callee === undefined) instruction.callee = named;
    }
  }
  return functions.filter((fn) => fn.instructions.length > 0);
}

function makeInstruction(address: string, mnemonic: string, operands: string, text: string): Instruction {
  const normalisedMnemonic = normaliseMnemonic(mnemonic);
  const target = branchTarget(normalisedMnemonic, operands);
  let normalised = normaliseOperands(normalisedMnemonic, operands);
  // Branch targets print as 0x1c, 1c or 0x1c <f+0x1c>: one canonical form.
  if (target !== null)
    normalised = normalised.replace(/(^|,\s*)[^,]*$/, (_m, lead: string) => `${lead}0x${target.toString(16)}`);
  return { address: parseInt(address, 16), mnemonic: normalisedMnemonic, operands: normalised, target, text };
}

/** Finds functions whose name contains `pattern` (plain text) or matches it (/regex/). */
export function findFunctions(functions: readonly AsmFunction[], pattern: string): AsmFunction[] {
  const regex = /^\/(.+)\/$/.exec(pattern);
  const matches = (name: string) =>
    regex ? new RegExp(regex[1]!).test(name) : name === pattern || name === `_${pattern}` || name.includes(pattern);
  const exact = functions.filter((fn) => fn.name === pattern || fn.name === `_${pattern}`);
  return exact.length > 0 ? exact : functions.filter((fn) => matches(fn.name));
}
