import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { LabError } from '../core/errors.js';
import { readWholeFile } from '../core/files.js';
import { findFunctions, parseListing, type AsmFunction, type Instruction } from './parse.js';
import { makeTempDir } from '../core/temp.js';
import { endsExecution } from './cfg.js';
import { attempt } from '../core/process.js';

export { type AsmFunction, type Instruction } from './parse.js';
export { buildControlFlow, ownInstructionCount, type ControlFlow, type Loop } from './cfg.js';

/**
 * Disassemblers to try, in order: LLVM's (ELF and Mach-O), GNU's for AArch64, then macOS otool.
 * LLVM decodes only the features it is told of: without them CRC32 and LSE atomics print as
 * `<unknown>`. Every feature (`--mattr=+all`, LLVM 16+), else the Apple M1's (`--mcpu=apple-m1`).
 */
const DISASSEMBLERS: ReadonlyArray<{ command: string[]; name: string }> = [
  {
    command: ['llvm-objdump', '-d', '-r', '--line-numbers', '--no-show-raw-insn', '--mattr=+all'],
    name: 'llvm-objdump',
  },
  {
    command: ['llvm-objdump', '-d', '-r', '--line-numbers', '--no-show-raw-insn', '--mcpu=apple-m1'],
    name: 'llvm-objdump',
  },
  {
    command: ['xcrun', 'llvm-objdump', '-d', '-r', '--line-numbers', '--no-show-raw-insn', '--mattr=+all'],
    name: 'xcrun llvm-objdump',
  },
  {
    command: ['xcrun', 'llvm-objdump', '-d', '-r', '--line-numbers', '--no-show-raw-insn', '--mcpu=apple-m1'],
    name: 'xcrun llvm-objdump',
  },
  { command: ['aarch64-linux-gnu-objdump', '-d', '-r', '-l'], name: 'aarch64-linux-gnu-objdump' },
  { command: ['otool', '-tvV'], name: 'otool' },
];

/** A universal (fat) Mach-O starts with 0xcafebabe or 0xcafebabf; its arm64 slice is what we read. */
function isUniversalMachO(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 &&
    bytes[0] === 0xca &&
    bytes[1] === 0xfe &&
    bytes[2] === 0xba &&
    (bytes[3] === 0xbe || bytes[3] === 0xbf)
  );
}

/** Extracts the arm64 slice of a universal Mach-O (lipo on macOS, llvm-lipo elsewhere) into `dir`. */
async function arm64Slice(binary: string, dir: string): Promise<string> {
  const slice = join(dir, `${basename(binary)}.arm64`);
  const tried: string[] = [];
  for (const lipo of ['lipo', 'llvm-lipo', 'llvm-lipo-14', 'llvm-lipo-15', 'llvm-lipo-16', 'llvm-lipo-19']) {
    const result = await attempt(lipo, ['-thin', 'arm64', binary, '-output', slice]);
    if (result.ok) return slice;
    if (result.missing) continue;
    tried.push(`${lipo}: ${result.stderr.trim().split('\n')[0]}`);
    const archs = await attempt(lipo, ['-archs', binary]);
    throw new LabError(
      'analyze',
      `${binary} is a universal binary without an arm64 slice${archs.ok ? ` (it holds ${archs.stdout.trim()})` : ''}.`,
      'build it for arm64 (aarch64-apple-darwin).',
    );
  }
  throw new LabError(
    'analyze',
    `${binary} is a universal (fat) Mach-O and no lipo could extract its arm64 ` +
      `slice${tried.length ? ` (${tried.join('; ')})` : ''}.`,
    'install llvm (it ships llvm-lipo), or pass the arm64 slice (lipo -thin arm64).',
  );
}

/** The architecture an LLVM or GNU listing says the file is for, when it says ("file format elf64-x86-64"). */
function listedFormat(listing: string): string | undefined {
  return /file format\s+(\S.*)$/m.exec(listing)?.[1]?.trim();
}

/** Disassembles a binary (object, executable or library) with the first disassembler that works. */
export async function disassemble(binary: string): Promise<{ listing: string; tool: string }> {
  const head = await readFile(binary)
    .then((bytes) => bytes.subarray(0, 8))
    .catch(() => new Uint8Array());
  if (isUniversalMachO(head)) {
    const dir = await makeTempDir(join(tmpdir(), 'perf-lab-slice-'));
    try {
      const { listing, tool } = await disassemble(await arm64Slice(binary, dir));
      return { listing, tool: `${tool}, arm64 slice of a universal binary` };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const failures: string[] = [];
  let emptyListing: string | undefined;
  for (const { command, name } of DISASSEMBLERS) {
    const result = await attempt(command[0]!, [...command.slice(1), binary], { maxBufferBytes: 1 << 30 });
    // An LLVM that does not know `+all` says so and decodes the base set only: try the next form.
    if (/is not a recognized feature/.test(result.stderr)) continue;
    const stdout = result.stdout;
    const format = listedFormat(stdout);
    if (result.ok && format && !/aarch64|arm64/i.test(format)) {
      throw new LabError(
        'analyze',
        `${binary} is not AArch64 code (${name}: file format ${format}).`,
        'build the decoder for aarch64 (Linux) or arm64 (macOS), or pass a listing of such a build.',
      );
    }
    if (result.ok && /\n\s*[0-9a-f]+:?\s/.test(stdout)) return { listing: stdout, tool: name };
    if (result.ok && format) emptyListing ??= name;
    failures.push(`${name}: ${result.ok ? 'no instructions' : result.missing ? 'not installed' : result.failure}`);
  }
  if (emptyListing) {
    throw new LabError(
      'analyze',
      `${binary} holds no code: ${emptyListing} read it as AArch64 and found no instructions (an empty ` +
        `object, or one whose code was stripped).`,
      "pass the object or library that holds the decoder's compiled code.",
    );
  }
  throw new LabError(
    'analyze: disassemble',
    `no disassembler could read ${binary} (${failures.join('; ')}).`,
    'install llvm (Debian: apt-get install llvm) or binutils-aarch64-linux-gnu, or pass a listing made by ' +
      'llvm-objdump -d, objdump -d or otool -tvV.',
  );
}

async function demangle(names: readonly string[]): Promise<Map<string, string>> {
  const result = await attempt('llvm-cxxfilt', [], { input: names.join('\n') });
  if (!result.ok) return new Map();
  const out = result.stdout.split('\n');
  return new Map(names.map((name, i) => [name, out[i] ?? name]));
}

/**
 * Mach-O objects label a function with the first local symbol at its address
 * (ltmp0); the symbol table names the global function that starts there.
 */
async function nameFromSymbolTable(binary: string, functions: AsmFunction[]): Promise<AsmFunction[]> {
  if (!functions.some((fn) => /^(ltmp\d+|l_)/.test(fn.name))) return functions;
  const table = await attempt('llvm-objdump', ['-t', binary]);
  if (!table.ok) return functions;
  const names = new Map<number, string>();
  for (const line of table.stdout.split('\n')) {
    const match =
      /^([0-9a-f]+)\s+g\s+F\s+\S+(?:\s+[0-9a-f]+)?\s+(\S+)$/.exec(line.trim()) ??
      /^([0-9a-f]+)\s+g\s+F\s+.*\s(\S+)$/.exec(line.trim());
    if (match) names.set(parseInt(match[1]!, 16), match[2]!);
  }
  return functions.map((fn) =>
    /^(ltmp\d+|l_)/.test(fn.name) && names.has(fn.instructions[0]!.address)
      ? { ...fn, name: names.get(fn.instructions[0]!.address)! }
      : fn,
  );
}

/**
 * Hand-written assembly's local labels (`decode_loop:`, not `.L…`) are symbols, and the disassembler starts a new
 * "function" at each: a label inside a function symbol's extent (its `F` entry's address and size in the symbol
 * table) continues that function instead.
 */
async function joinLocalLabels(binary: string, functions: AsmFunction[]): Promise<AsmFunction[]> {
  if (functions.length < 2) return functions;
  const table = await attempt('llvm-objdump', ['-t', binary]);
  if (!table.ok) return functions;
  const extents: Array<{ start: number; end: number }> = [];
  for (const line of table.stdout.split('\n')) {
    const match = /^([0-9a-f]+)\s.*\sF\s+\S+\s+([0-9a-f]+)\s+\S+$/.exec(line.trim());
    if (match && parseInt(match[2]!, 16) > 0) {
      const start = parseInt(match[1]!, 16);
      extents.push({ start, end: start + parseInt(match[2]!, 16) });
    }
  }
  const joined: AsmFunction[] = [];
  const labels = new Set<string>();
  for (const fn of functions) {
    const start = fn.instructions[0]!.address;
    const previous = joined.at(-1);
    const owner = extents.find((extent) => extent.start < start && start < extent.end);
    const previousStart = previous?.instructions[0]!.address;
    if (previous && owner && previousStart! >= owner.start && previousStart! < start) {
      joined[joined.length - 1] = { ...previous, instructions: [...previous.instructions, ...fn.instructions] };
      labels.add(fn.name);
    } else joined.push(fn);
  }
  // A branch to a joined label (`b next`) is a local branch, not a tail call to another function.
  for (const fn of joined)
    for (const instruction of fn.instructions)
      if (instruction.callee !== undefined && labels.has(instruction.callee)) delete instruction.callee;
  return joined;
}

/** Function lists read from a binary whose symbol table is gone (only dynamic, exported names remain). */
const strippedFunctions = new WeakSet<readonly AsmFunction[]>();

/** An ELF whose static symbol table was stripped: `llvm-objdump -t` lists no symbol. */
async function isStripped(binary: string): Promise<boolean> {
  const table = await attempt('llvm-objdump', ['-t', binary]);
  if (!table.ok || !/file format elf/i.test(table.stdout)) return false;
  return !/^[0-9a-f]{8,16}\s/m.test(table.stdout.split('SYMBOL TABLE:')[1] ?? '');
}

/** The largest binary or listing `analyze` reads whole. */
const MAX_BINARY_BYTES = 1024 * 1024 * 1024;

/** Reads a listing file, or disassembles a binary; returns its functions. */
export async function loadFunctions(path: string): Promise<{ functions: AsmFunction[]; source: string }> {
  let bytes: Buffer;
  try {
    bytes = await readWholeFile(path, {
      step: 'analyze',
      hint: 'pass an existing binary or disassembly listing.',
      maxBytes: MAX_BINARY_BYTES,
    });
  } catch (error) {
    if (error instanceof LabError) throw error;
    throw new LabError(
      'analyze',
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`,
      'pass an existing binary or disassembly listing.',
    );
  }
  const looksLikeText = !bytes.subarray(0, 4096).includes(0);
  const { listing, tool } = looksLikeText
    ? { listing: bytes.toString('utf8'), tool: 'listing file' }
    : await disassemble(path);
  const parsed = parseListing(listing);
  const functions = looksLikeText ? parsed : await joinLocalLabels(path, await nameFromSymbolTable(path, parsed));
  if (!looksLikeText && (await isStripped(path))) strippedFunctions.add(functions);
  if (functions.length === 0)
    throw new LabError(
      'analyze',
      `${path} holds no ARM64 instructions that perf-lab can read (${tool}).`,
      'pass an AArch64 binary, or a listing from llvm-objdump -d, objdump -d or otool -tvV.',
    );
  return { functions, source: `${path} (${tool})` };
}

const RANGE = /^0x([0-9a-f]+)-0x([0-9a-f]+)$/i;
const hex = (address: number) => `0x${address.toString(16)}`;
/** Section names and the assembler's mapping symbols: what a stripped listing splits code at, not functions. */
const notASymbol = (name: string) => /^(\.|ltmp\d|\$[xd])/.test(name);
const padding = (instruction: Instruction) =>
  /^(nop|udf)$/.test(instruction.mnemonic) || instruction.mnemonic === '.zero';
/** Control does not go on to the next instruction: ret, b, br, a noreturn call, a trap. */
const endsFlow = (instruction: Instruction) => /^(b|br|ret)$/.test(instruction.mnemonic) || endsExecution(instruction);

/**
 * `--function 0xSTART-0xEND` (END exclusive, as a symbol's address + size): the code in that address range as one
 * function, checked to be one — for a stripped library, whose internal functions have no names. Refused, naming what
 * crosses the boundary, when the range does not start where flow cannot fall in (a symbol, or after a ret/b), does
 * not end after a ret/b, holds another symbol's start, is entered in the middle by a branch or call from outside or
 * called in the middle from inside, or holds code after a ret/b that no branch in the range reaches (another
 * function's start).
 */
function functionInRange(functions: readonly AsmFunction[], spec: string, where: string): AsmFunction {
  const [, startText, endText] = RANGE.exec(spec)!;
  const start = parseInt(startText!, 16);
  const end = parseInt(endText!, 16);
  const refuse = (why: string): never => {
    throw new LabError(
      'analyze',
      `--function ${spec} is not one function in ${where}: ${why}.`,
      'pass the range of one function (its start address to the address after its last instruction, e.g. from an ' +
        'unstripped build of the same source or its separate debug file).',
    );
  };
  const all = functions.flatMap((fn) => fn.instructions).sort((a, b) => a.address - b.address);
  if (all.some((instruction, i) => i > 0 && all[i - 1]!.address === instruction.address))
    refuse('the listing holds several sections at the same addresses (an object file): pass a linked library');
  const first = all.findIndex((instruction) => instruction.address >= start);
  if (end <= start || first < 0 || all[first]!.address !== start) refuse(`no instruction starts at ${hex(start)}`);
  const inside = all.filter((instruction) => instruction.address >= start && instruction.address < end);
  const inRange = (address: number | null) => address !== null && address >= start && address < end;
  const symbols = functions.filter((fn) => !notASymbol(fn.name));
  const before = all
    .slice(0, first)
    .reverse()
    .find((instruction) => !padding(instruction));
  const startsSymbol = symbols.some((fn) => fn.instructions[0]!.address === start);
  if (!startsSymbol && before && !endsFlow(before))
    refuse(
      `${hex(before.address)} \`${before.mnemonic} ${before.operands}\` before it falls through into ${hex(start)}`,
    );
  const last = [...inside].reverse().find((instruction) => !padding(instruction))!;
  if (!endsFlow(last))
    refuse(
      `its last instruction, ${hex(last.address)} \`${last.mnemonic} ${last.operands}\`, falls through past the end`,
    );
  const symbol = symbols.find((fn) => fn.instructions[0]!.address > start && inRange(fn.instructions[0]!.address));
  if (symbol) refuse(`${symbol.name} starts at ${hex(symbol.instructions[0]!.address)}, inside it`);
  const into = all.find(
    (instruction) => !inRange(instruction.address) && instruction.target !== start && inRange(instruction.target),
  );
  if (into)
    refuse(
      `${hex(into.address)} \`${into.mnemonic} ${into.operands}\`, outside it, goes to ${hex(into.target!)} inside it`,
    );
  const call = inside.find(
    (instruction) => instruction.mnemonic === 'bl' && instruction.target !== start && inRange(instruction.target),
  );
  if (call) refuse(`${hex(call.address)} \`bl\` calls ${hex(call.target!)} inside it (a function starts there)`);
  const targets = new Set(inside.flatMap((instruction) => (instruction.target === null ? [] : [instruction.target])));
  for (let i = 0; i < inside.length; i++) {
    if (!endsFlow(inside[i]!)) continue;
    const next = inside.slice(i + 1).find((instruction) => !padding(instruction));
    if (next && !targets.has(next.address))
      refuse(
        `${hex(next.address)} follows ${hex(inside[i]!.address)} \`${inside[i]!.mnemonic}\` and no branch in the ` +
          'range reaches it (another function starts there)',
      );
  }
  // Branches inside the range are local; only those leaving it keep (or get) a callee.
  const instructions = inside.map((instruction) => {
    if (!inRange(instruction.target)) return instruction;
    const local = { ...instruction };
    delete local.callee;
    return local;
  });
  return { ...functions[0]!, name: spec, instructions };
}

/** Every function matching a mangled or demangled name (Rust or C), or a /regex/, largest first. */
export async function selectFunctions(
  functions: readonly AsmFunction[],
  name: string,
  where: string,
): Promise<AsmFunction[]> {
  if (RANGE.test(name)) return [functionInRange(functions, name, where)];
  let matches = findFunctions(functions, name);
  if (matches.length === 0) {
    const demangled = await demangle(functions.map((fn) => fn.name));
    matches = findFunctions(
      functions.map((fn) => ({ ...fn, name: demangled.get(fn.name) ?? fn.name })),
      name,
    );
  }
  if (matches.length === 0) {
    const sample = functions
      .slice(0, 8)
      .map((fn) => fn.name)
      .join(', ');
    // Only section names or the assembler's local labels: the symbol table is gone.
    if (functions.every((fn) => notASymbol(fn.name))) {
      throw new LabError(
        'analyze',
        `${where} has no function symbols (a stripped build): its code reads only as ${sample}.`,
        `analyse a build with symbols (cargo: strip = false in the profile), or pass --function ` +
          `${functions[0]!.name} to read that whole section as one function and pin the decode loop with ` +
          `--loop <address> (it may span several functions), or pass one function's address range as --function ` +
          `0xSTART-0xEND (checked to be one function).`,
      );
    }
    // Some exported names are left: say that the rest went with the symbol table.
    if (strippedFunctions.has(functions)) {
      throw new LabError(
        'analyze',
        `${where} is stripped: its symbol table is gone and only exported (dynamic) names remain, and ` +
          `"${name}" is not one of them (internal functions, like zlib's hidden inflate_fast, are not ` +
          `exported); an exported name there spans its own code and any internal code after it.`,
        `analyse a build with symbols (unstripped, or with its separate debug file), or pass the function's ` +
          `address range as --function 0xSTART-0xEND (checked to be one function).`,
      );
    }
    throw new LabError(
      'analyze',
      `no function matching "${name}" in ${where}.`,
      `check the name (functions there include: ${sample}${functions.length > 8 ? ', …' : ''}); a /regex/ also works.`,
    );
  }
  return [...matches].sort((a, b) => b.instructions.length - a.instructions.length);
}

/**
 * One function by name: of several matches the largest, the one with the hot loop (e.g. the inlined decompressor, not a
 * wrapper).
 */
export async function selectFunction(
  functions: readonly AsmFunction[],
  name: string,
  where: string,
): Promise<AsmFunction> {
  return (await selectFunctions(functions, name, where))[0]!;
}
