/**
 * What a decode of a gzip file does, counted from its deflate streams: literals,
 * matches by length and distance, the literal runs between matches, blocks and
 * bits. It walks the block and Huffman structure (RFC 1951) without producing
 * output, so it needs no window; with `output` it also writes the bytes, which
 * is how the tests prove the walk right against zlib.
 */

/** Literal runs per (run length, following match length); match length 0: the run ended at the end of a block. */
export type RunHistogram = Array<[literals: number, matchLength: number, count: number]>;

export interface DeflateProfile {
  /** gzip members (concatenated gzip files decode as one output). */
  members: number;
  blocks: { stored: number; fixed: number; dynamic: number };
  outputBytes: number;
  /** Bytes copied from stored blocks (no symbols: a memcpy, outside any decode loop). */
  storedBytes: number;
  literals: number;
  matches: number;
  matchBytes: number;
  /** Matches by distance: 1 (a byte broadcast), 2–7 (shorter than a word), 8 and more (word copies). */
  matchesByDistance: { one: number; underWord: number; word: number };
  /** Bits read by the deflate streams (headers, code lengths, symbols and extra bits). */
  bits: number;
  runs: RunHistogram;
}

export class DeflateFormatError extends Error {}

const LENGTH_BASE = [
  3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DISTANCE_BASE = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
  8193, 12289, 16385, 24577,
];
const DISTANCE_EXTRA = [
  0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
];
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
const MAX_BITS = 15;

/** LSB-first bit reader over one buffer; reading past its end is a truncated stream. */
class BitReader {
  position = 0;
  private buffer = 0;
  private count = 0;
  bitsRead = 0;
  constructor(private readonly bytes: Uint8Array) {}

  private refill(need: number): void {
    while (this.count < need) {
      if (this.position >= this.bytes.length)
        throw new DeflateFormatError('the deflate stream ends early (truncated file)');
      this.buffer |= this.bytes[this.position++]! << this.count;
      this.count += 8;
    }
  }

  bits(n: number): number {
    if (n === 0) return 0;
    this.refill(n);
    const value = this.buffer & ((1 << n) - 1);
    this.buffer >>>= n;
    this.count -= n;
    this.bitsRead += n;
    return value;
  }

  /** Up to 15 bits without consuming them (zero-padded at the end of the data). */
  peek15(): number {
    while (this.count < MAX_BITS && this.position < this.bytes.length) {
      this.buffer |= this.bytes[this.position++]! << this.count;
      this.count += 8;
    }
    return this.buffer & 0x7fff;
  }

  skip(n: number): void {
    if (n > this.count) throw new DeflateFormatError('the deflate stream ends early (truncated file)');
    this.buffer >>>= n;
    this.count -= n;
    this.bitsRead += n;
  }

  /** Drops the bits left in the current byte (stored blocks and member ends are byte-aligned). */
  alignToByte(): number {
    const drop = this.count & 7;
    this.skip(drop);
    // Whole bytes still in the buffer go back to the byte stream.
    this.position -= this.count >>> 3;
    this.buffer = 0;
    this.count = 0;
    return this.position;
  }
}

/** A canonical Huffman code as a 2^15-entry table: entry = symbol << 4 | code length (0: no such code). */
function huffmanTable(lengths: ArrayLike<number>, what: string): Int32Array {
  const counts = new Array<number>(MAX_BITS + 1).fill(0);
  for (let i = 0; i < lengths.length; i++) counts[lengths[i]!]!++;
  counts[0] = 0;
  let left = 1;
  for (let bits = 1; bits <= MAX_BITS; bits++) {
    left = left * 2 - counts[bits]!;
    if (left < 0) throw new DeflateFormatError(`the ${what} code is over-subscribed`);
  }
  const next = new Array<number>(MAX_BITS + 2).fill(0);
  for (let bits = 1; bits <= MAX_BITS; bits++) next[bits + 1] = (next[bits]! + counts[bits]!) << 1;
  const table = new Int32Array(1 << MAX_BITS);
  for (let symbol = 0; symbol < lengths.length; symbol++) {
    const length = lengths[symbol]!;
    if (length === 0) continue;
    const code = next[length]!++;
    // Codes are read LSB-first: index by the bit-reversed code, every filling of the unused high bits.
    let reversed = 0;
    for (let i = 0; i < length; i++) reversed |= ((code >>> i) & 1) << (length - 1 - i);
    for (let index = reversed; index < table.length; index += 1 << length) table[index] = (symbol << 4) | length;
  }
  return table;
}

function decodeSymbol(reader: BitReader, table: Int32Array, what: string): number {
  const entry = table[reader.peek15()]!;
  if (entry === 0) throw new DeflateFormatError(`an invalid ${what} code`);
  reader.skip(entry & 15);
  return entry >>> 4;
}

let fixedTables: { literalLength: Int32Array; distance: Int32Array } | undefined;
function fixedCodes() {
  if (!fixedTables) {
    const lengths = new Array<number>(288).fill(8, 0, 144).fill(9, 144, 256).fill(7, 256, 280).fill(8, 280, 288);
    fixedTables = {
      literalLength: huffmanTable(lengths, 'fixed literal/length'),
      distance: huffmanTable(new Array<number>(30).fill(5), 'fixed distance'),
    };
  }
  return fixedTables;
}

function dynamicCodes(reader: BitReader): { literalLength: Int32Array; distance: Int32Array } {
  const literalLengthCount = reader.bits(5) + 257;
  const distanceCount = reader.bits(5) + 1;
  const codeLengthCount = reader.bits(4) + 4;
  const codeLengthLengths = new Array<number>(19).fill(0);
  for (let i = 0; i < codeLengthCount; i++) codeLengthLengths[CODE_LENGTH_ORDER[i]!] = reader.bits(3);
  const codeLengthTable = huffmanTable(codeLengthLengths, 'code-length');
  const lengths: number[] = [];
  while (lengths.length < literalLengthCount + distanceCount) {
    const symbol = decodeSymbol(reader, codeLengthTable, 'code-length');
    if (symbol < 16) lengths.push(symbol);
    else if (symbol === 16) {
      if (lengths.length === 0) throw new DeflateFormatError('a repeat code with no length before it');
      const previous = lengths.at(-1)!;
      for (let n = 3 + reader.bits(2); n > 0; n--) lengths.push(previous);
    } else for (let n = symbol === 17 ? 3 + reader.bits(3) : 11 + reader.bits(7); n > 0; n--) lengths.push(0);
  }
  if (lengths.length > literalLengthCount + distanceCount)
    throw new DeflateFormatError('code lengths run past the header counts');
  if (lengths[256] === 0) throw new DeflateFormatError('a block without an end-of-block code');
  return {
    literalLength: huffmanTable(lengths.slice(0, literalLengthCount), 'literal/length'),
    distance: huffmanTable(lengths.slice(literalLengthCount), 'distance'),
  };
}

/** Skips a gzip member header (RFC 1952); returns the offset of its deflate stream. */
function gzipHeader(bytes: Uint8Array, at: number): number {
  if (bytes.length - at < 18 || bytes[at] !== 0x1f || bytes[at + 1] !== 0x8b)
    throw new DeflateFormatError(`no gzip header at byte ${at}`);
  if (bytes[at + 2] !== 8)
    throw new DeflateFormatError(`gzip member at byte ${at} is not deflate (method ${bytes[at + 2]})`);
  const flags = bytes[at + 3]!;
  let position = at + 10;
  if (flags & 4) position += 2 + (bytes[position]! | (bytes[position + 1]! << 8));
  for (const flag of [8, 16]) {
    if (!(flags & flag)) continue;
    while (position < bytes.length && bytes[position] !== 0) position++;
    position++;
  }
  if (flags & 2) position += 2;
  if (position > bytes.length) throw new DeflateFormatError('the gzip header runs past the end of the file');
  return position;
}

/**
 * Counts what decoding `gzip` does. With `output` (sized to the decoded length), also writes the decoded bytes
 * there. Throws DeflateFormatError on a malformed or truncated stream, or when a member's length trailer disagrees.
 */
export function profileGzip(gzip: Uint8Array, output?: Uint8Array): DeflateProfile {
  const profile: DeflateProfile = {
    members: 0,
    blocks: { stored: 0, fixed: 0, dynamic: 0 },
    outputBytes: 0,
    storedBytes: 0,
    literals: 0,
    matches: 0,
    matchBytes: 0,
    matchesByDistance: { one: 0, underWord: 0, word: 0 },
    bits: 0,
    runs: [],
  };
  // Run histogram keyed by literals * 512 + match length (match lengths are at most 258).
  const runs = new Map<number, number>();
  const countRun = (literals: number, matchLength: number) => {
    const key = literals * 512 + matchLength;
    runs.set(key, (runs.get(key) ?? 0) + 1);
  };
  let out = 0;
  let at = 0;
  while (at < gzip.length) {
    const memberStart = out;
    const reader = new BitReader(gzip);
    reader.position = gzipHeader(gzip, at);
    let last = false;
    while (!last) {
      last = reader.bits(1) === 1;
      const type = reader.bits(2);
      if (type === 0) {
        const start = reader.alignToByte();
        if (start + 4 > gzip.length) throw new DeflateFormatError('the deflate stream ends early (truncated file)');
        const length = gzip[start]! | (gzip[start + 1]! << 8);
        const check = gzip[start + 2]! | (gzip[start + 3]! << 8);
        if ((length ^ 0xffff) !== check)
          throw new DeflateFormatError(`a stored block's length check fails at byte ${start}`);
        if (start + 4 + length > gzip.length)
          throw new DeflateFormatError('the deflate stream ends early (truncated file)');
        if (output) output.set(gzip.subarray(start + 4, start + 4 + length), out);
        out += length;
        profile.storedBytes += length;
        profile.blocks.stored++;
        reader.position = start + 4 + length;
        reader.bitsRead += 32 + 8 * length;
        continue;
      }
      if (type === 3) throw new DeflateFormatError('a block of the reserved type 3');
      const { literalLength, distance } = type === 1 ? fixedCodes() : dynamicCodes(reader);
      if (type === 1) profile.blocks.fixed++;
      else profile.blocks.dynamic++;
      let run = 0;
      for (;;) {
        const symbol = decodeSymbol(reader, literalLength, 'literal/length');
        if (symbol < 256) {
          if (output) output[out] = symbol;
          out++;
          run++;
          continue;
        }
        if (symbol === 256) break;
        if (symbol > 285) throw new DeflateFormatError(`the invalid length symbol ${symbol}`);
        const length = LENGTH_BASE[symbol - 257]! + reader.bits(LENGTH_EXTRA[symbol - 257]!);
        const distanceSymbol = decodeSymbol(reader, distance, 'distance');
        if (distanceSymbol > 29) throw new DeflateFormatError(`the invalid distance symbol ${distanceSymbol}`);
        const offset = DISTANCE_BASE[distanceSymbol]! + reader.bits(DISTANCE_EXTRA[distanceSymbol]!);
        if (offset > out - memberStart)
          throw new DeflateFormatError(`a match reaches ${offset} bytes back, before the start of the output`);
        if (output) for (let i = 0; i < length; i++, out++) output[out] = output[out - offset]!;
        else out += length;
        profile.literals += run;
        profile.matches++;
        profile.matchBytes += length;
        if (offset === 1) profile.matchesByDistance.one++;
        else if (offset < 8) profile.matchesByDistance.underWord++;
        else profile.matchesByDistance.word++;
        countRun(run, length);
        run = 0;
      }
      profile.literals += run;
      countRun(run, 0);
    }
    profile.bits += reader.bitsRead;
    const trailer = reader.alignToByte();
    if (trailer + 8 > gzip.length) throw new DeflateFormatError('the gzip trailer is missing (truncated file)');
    const expected =
      (gzip[trailer + 4]! | (gzip[trailer + 5]! << 8) | (gzip[trailer + 6]! << 16) | (gzip[trailer + 7]! << 24)) >>> 0;
    if (expected !== (out - memberStart) % 2 ** 32)
      throw new DeflateFormatError(
        `member ${profile.members + 1} decodes to ${out - memberStart} bytes but its trailer says ${expected}`,
      );
    profile.members++;
    at = trailer + 8;
    // gzip ignores zero padding after the last member.
    while (at < gzip.length && gzip[at] === 0) at++;
  }
  profile.outputBytes = out;
  profile.runs = [...runs]
    .map(([key, count]): [number, number, number] => [Math.floor(key / 512), key % 512, count])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return profile;
}
