import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { cacheRoot } from '../core/paths.js';
import { DeflateFormatError, profileGzip } from '../datasets/symbols.js';
import { runHarness, type HarnessContender } from './harness.js';
import type { IntegrityCase, IntegrityOutcome, IntegrityResult } from '../results/index.js';
import { makeTempDir } from '../core/temp.js';

/**
 * The integrity gate: before timing, every contender decodes gzip members made
 * broken on purpose. A decoder that skips the CRC32 or the length check does
 * less work than one that verifies, so its speed is not comparable; the gate
 * finds that out instead of trusting it.
 */

/** What the case breaks, as the report says it ("does not verify …"). */
const CASE_CHECK: Record<IntegrityCase, string> = {
  crc32: 'the CRC32 (a flipped trailer bit)',
  isize: 'the length (a wrong ISIZE trailer)',
  truncated: 'truncation (a member cut inside its deflate stream)',
  'deflate-bit': 'the data (a flipped bit in the deflate stream that still decodes, to other bytes)',
};

export interface CorruptMember {
  case: IntegrityCase;
  gzip: Uint8Array;
}

/** Bytes of a dataset the gate's member is made from: enough to hold matches, small enough to be instant. */
export const GATE_MEMBER_BYTES = 65_536;

const trailerAt = (gzip: Uint8Array) => gzip.length - 8;

/**
 * The broken members, made from `raw` (compressed by zlib, so the member itself is well formed). The flipped deflate
 * bit is searched for with the lab's own deflate walker: the first flip, from the middle of the stream, whose stream
 * still decodes to the same length but other bytes (so only the CRC32 can tell).
 */
export function corruptMembers(raw: Uint8Array): CorruptMember[] {
  const gzip = gzipSync(raw, { level: 6 });
  const flip = (at: number, mask: number) => {
    const copy = Uint8Array.from(gzip);
    copy[at]! ^= mask;
    return copy;
  };
  const isize = Uint8Array.from(gzip);
  new DataView(isize.buffer).setUint32(trailerAt(gzip) + 4, (raw.length + 1) >>> 0, true);
  const members: CorruptMember[] = [
    { case: 'crc32', gzip: flip(trailerAt(gzip), 0x01) },
    { case: 'isize', gzip: isize },
    { case: 'truncated', gzip: gzip.subarray(0, 10 + Math.floor((trailerAt(gzip) - 10) / 2)) },
  ];
  const decoded = new Uint8Array(raw.length);
  const header = 10;
  const middle = header + Math.floor((trailerAt(gzip) - header) / 2);
  for (let offset = 0; offset < trailerAt(gzip) - header; offset++) {
    // Outward from the middle: middle, middle+1, middle-1, …
    const at = middle + (offset % 2 === 0 ? offset / 2 : -(offset + 1) / 2);
    if (at < header || at >= trailerAt(gzip)) continue;
    for (let bit = 0; bit < 8; bit++) {
      const candidate = flip(at, 1 << bit);
      try {
        profileGzip(candidate, decoded);
      } catch (error) {
        if (error instanceof DeflateFormatError || error instanceof RangeError) continue;
        throw error;
      }
      if (!decoded.every((byte, i) => byte === raw[i])) {
        members.push({ case: 'deflate-bit', gzip: candidate });
        return members;
      }
    }
  }
  return members; // no such flip (a tiny or stored member): the case is not run
}

/**
 * How a contender met a broken member, from the harness's verdict on the decode: success or a verification failure
 * (wrong length, wrong bytes) means the decoder returned success on it; its own error code or exit status means it
 * refused it.
 */
export function integrityOutcome(failure: string | undefined, started = true): IntegrityOutcome {
  // A worker that could not load the decoder ran no decode: that says nothing about what it checks.
  if (!started) return 'not run';
  if (failure === undefined) return 'accepted';
  if (/^(wrong length|wrong bytes)/.test(failure)) return 'accepted';
  if (/^timeout/.test(failure)) return 'hung';
  if (/^crashed|killed by signal|^worker exited|unreadable reply/.test(failure)) return 'crashed';
  return 'rejected';
}

/**
 * "does not verify the CRC32 (a flipped trailer bit) …: ratio not comparable", or null when every case was
 * refused.
 */
export function notComparableReason(cases: IntegrityResult['contenders'][number]['cases']): string | null {
  const notRun = cases.find((entry) => entry.outcome === 'not run');
  if (notRun) return `was not checked by the integrity gate (it could not start: ${notRun.detail})`;
  const accepted = cases.filter((entry) => entry.outcome === 'accepted');
  if (accepted.length === 0) return null;
  return (
    `does not verify ${accepted.map((entry) => CASE_CHECK[entry.case]).join(', ')} — accepted a corrupted ` +
    'member: ratio not comparable'
  );
}

/**
 * Runs every contender on each broken member (one round each, in the harness, so in the same regime as the timing)
 * and records how each met it.
 */
export async function runIntegrityGate(
  contenders: ReadonlyArray<{ name: string; contender: (input: string) => HarnessContender }>,
  raw: Uint8Array,
  source: string,
  options: { timeoutMs: number; memoryLimitMb: number },
): Promise<IntegrityResult> {
  const dir = await makeTempDir(join(cacheRoot(), 'integrity-'));
  try {
    const expected = join(dir, 'expected');
    await writeFile(expected, raw);
    const results = new Map(
      contenders.map((entry) => [entry.name, [] as IntegrityResult['contenders'][number]['cases']]),
    );
    for (const member of corruptMembers(raw)) {
      const input = join(dir, `${member.case}.gz`);
      await writeFile(input, member.gzip);
      const outcome = await runHarness({
        compressedPath: input,
        expectedPath: expected,
        contenders: contenders.map((entry) => entry.contender(input)),
        rounds: 1,
        warmupRounds: 0,
        timeoutMs: options.timeoutMs,
        maxSeconds: 0,
        memoryLimitMb: options.memoryLimitMb,
      });
      for (const entry of contenders) {
        const failure = outcome.failures.get(entry.name);
        results.get(entry.name)!.push({
          case: member.case,
          outcome: integrityOutcome(failure, !outcome.failedToStart.has(entry.name)),
          detail: failure ?? 'returned success',
        });
      }
    }
    return {
      memberBytes: raw.length,
      source,
      contenders: contenders.map((entry) => ({
        name: entry.name,
        cases: results.get(entry.name)!,
        notComparable: notComparableReason(results.get(entry.name)!),
      })),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
