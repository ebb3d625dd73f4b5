import type { DeflateProfile } from '../datasets/symbols.js';
import type { LoopReport } from './index.js';

/**
 * The decode loop's cycles on a dataset, predicted from its paths: every
 * literal run and match the data holds is cut into the iterations the loop
 * would run (as many literals per iteration as a path carries, a match with
 * the literals before it when a path does that, the nested copy loop for the
 * bytes a long match has beyond its straight copy), and each iteration costs
 * its role's usual-path cycles. A model of the loop alone: table builds, stored
 * blocks, the slow loop near buffer ends and everything outside the loop are
 * what the measurement has and the model does not.
 */
export interface WorkloadPrediction {
  /** Predicted loop cycles per byte of symbol-coded output (literals and match bytes). */
  cyclesPerByte: number;
  iterations: number;
  /** Iterations and cycles per role, largest share of cycles first. */
  byRole: Array<{ roleName: string; iterations: number; cycles: number }>;
  copyLoopPasses: number;
  copyLoopCycles: number;
  /** Symbol-coded output bytes the prediction covers (the divisor of cyclesPerByte). */
  pricedBytes: number;
  /** Output bytes from stored blocks: copied outside any decode loop, not priced. */
  storedBytes: number;
  /**
   * False when a figure rests on an inexact role (unknown instructions) or on iterations with no path to price them.
   */
  exact: boolean;
  /** Why the figure is only a lower bound, when it is. */
  lowerBoundBecause: string[];
  /** Simplifications this figure rests on, with their share of the data. */
  assumptions: string[];
}

interface Priced {
  cycles: number;
  roleName: string;
  exact: boolean;
}

const percent = (part: number, whole: number) => {
  const value = whole > 0 ? (100 * part) / whole : 0;
  return part > 0 && value < 0.05 ? '<0.1%' : `${value.toFixed(1)}%`;
};

/** Prices the profile's iterations on a loop's paths, or says why it cannot (no literal or no match path). */
export function predictWorkload(
  profile: DeflateProfile,
  report: LoopReport,
): WorkloadPrediction | { unpredictable: string } {
  const role = (literals: number, match: 'none' | 'short' | 'long'): Priced | undefined => {
    const found = report.roles.find((entry) => entry.role.literals === literals && entry.role.match === match);
    return found && { cycles: found.analysis.predictedCycles, roleName: found.roleName, exact: found.analysis.exact };
  };
  const literalOnly = report.roles
    .filter((entry) => entry.role.match === 'none' && entry.role.literals > 0)
    .map((entry) => entry.role.literals);
  const mostLiterals = Math.max(0, ...literalOnly);
  const short = role(0, 'short');
  const long = role(0, 'long');
  if (mostLiterals === 0)
    return {
      unpredictable:
        'no path of the loop stores a literal on its own (roles: ' +
        `${report.roles.map((entry) => entry.roleName).join(', ')})`,
    };
  if (!short && !long)
    return {
      unpredictable:
        'no path of the loop copies a match (roles: ' + `${report.roles.map((entry) => entry.roleName).join(', ')})`,
    };
  const shortRole = report.roles.find((entry) => entry.role.literals === 0 && entry.role.match === 'short');
  const longRole = report.roles.find((entry) => entry.role.literals === 0 && entry.role.match === 'long');
  // Bytes the usual short match copies without a loop; a longer match takes the long path.
  const shortBytes = shortRole ? shortRole.role.wordCopyBytes || shortRole.role.copyBytes : 0;
  const copyLoop = report.copyLoop;
  const longFirstBytes = longRole ? longRole.role.copyBytes + (copyLoop?.bytesPerIteration ?? 0) : 0;

  const byRole = new Map<string, { iterations: number; cycles: number }>();
  const lowerBound = new Map<string, number>();
  const assumptions: string[] = [];
  let exact = true;
  let iterations = 0;
  let cycles = 0;
  let copyLoopPasses = 0;
  let copyLoopCycles = 0;
  const run = (priced: Priced, count: number) => {
    const entry = byRole.get(priced.roleName) ?? { iterations: 0, cycles: 0 };
    entry.iterations += count;
    entry.cycles += priced.cycles * count;
    byRole.set(priced.roleName, entry);
    iterations += count;
    cycles += priced.cycles * count;
    if (!priced.exact) exact = false;
  };
  const largestLiteralRole = (atMost: number) => {
    for (let n = Math.min(atMost, mostLiterals); n > 0; n--) {
      const found = role(n, 'none');
      if (found) return { n, priced: found };
    }
    return undefined;
  };
  const unpriced = (why: string, count: number) => lowerBound.set(why, (lowerBound.get(why) ?? 0) + count);
  /**
   * Literal-only iterations for a run, as the loop takes them: each stores as many literals as its widest path
   * fitting the rest does, until no more than `keep` remain (the literals a following match path carries).
   */
  const literalIterations = (literals: number, count: number, keep = 0): number => {
    let rest = literals;
    while (rest > keep) {
      const chunk = largestLiteralRole(rest);
      if (!chunk) {
        unpriced('literal runs no literal path fits', count);
        return 0;
      }
      const times = Math.min(Math.floor((rest - keep - 1) / chunk.n) + 1, Math.floor(rest / chunk.n));
      run(chunk.priced, times * count);
      rest -= times * chunk.n;
    }
    return rest;
  };
  let shortFallback = 0;
  let combinedFallback = 0;
  for (const [literals, matchLength, count] of profile.runs) {
    if (matchLength === 0) {
      literalIterations(literals, count);
      continue;
    }
    // A match the short path copies whole takes it; a longer one the long path (when the loop has one).
    const fitsShort = matchLength <= shortBytes;
    const kind: 'short' | 'long' = short && (fitsShort || !long) ? 'short' : 'long';
    if (kind === 'short' && !fitsShort) shortFallback += count;
    // Up to `withMatch` literals ride with the match on one path; the loop stores the others in literal-only
    // iterations first.
    const withMatch = Math.max(
      ...report.roles.filter((entry) => entry.role.match === kind).map((entry) => entry.role.literals),
    );
    const carried = literalIterations(literals, count, withMatch);
    const combined = role(carried, kind);
    if (combined) run(combined, count);
    else {
      combinedFallback += count;
      literalIterations(carried, count);
      run(role(0, kind)!, count);
    }
    const beyond = kind === 'long' ? matchLength - longFirstBytes : 0;
    if (beyond <= 0) continue;
    if (!copyLoop) {
      unpriced('long matches need more copy passes, but the nested copy loop was not found', count);
      continue;
    }
    const passes = Math.ceil(beyond / copyLoop.bytesPerIteration) * count;
    copyLoopPasses += passes;
    if (!copyLoop.bounds.exact) exact = false;
    copyLoopCycles += passes * copyLoop.bounds.predictedCycles;
    cycles += passes * copyLoop.bounds.predictedCycles;
  }
  const pricedBytes = profile.literals + profile.matchBytes;
  if (shortFallback)
    assumptions.push(
      `${percent(shortFallback, profile.matches)} of matches are longer than the short path copies ` +
        `(${shortBytes} bytes) and no long-match path was found: priced as short matches`,
    );
  if (combinedFallback)
    assumptions.push(
      `${percent(combinedFallback, profile.matches)} of matches follow a literal count no path carries with a ` +
        'match: priced as literal iterations and a match',
    );
  const otherCopies = profile.matchesByDistance.one + profile.matchesByDistance.underWord;
  if (otherCopies)
    assumptions.push(
      `${percent(otherCopies, profile.matches)} of matches have an offset under 8 bytes (other copy code): ` +
        'priced as the usual match',
    );
  if (profile.storedBytes)
    assumptions.push(
      `${percent(profile.storedBytes, profile.outputBytes)} of the output comes from stored blocks: not priced`,
    );
  assumptions.push(
    `${profile.blocks.dynamic + profile.blocks.fixed} Huffman block(s): their table builds are outside the ` +
      'loop, not priced',
  );
  const lowerBoundBecause = [...lowerBound].map(([why, n]) => `${why} (${n} times)`);
  if (!exact) lowerBoundBecause.push('a role used rests on instructions the model does not know');
  return {
    cyclesPerByte: pricedBytes > 0 ? cycles / pricedBytes : 0,
    iterations,
    byRole: [...byRole].map(([roleName, entry]) => ({ roleName, ...entry })).sort((a, b) => b.cycles - a.cycles),
    copyLoopPasses,
    copyLoopCycles,
    pricedBytes,
    storedBytes: profile.storedBytes,
    exact: exact && lowerBound.size === 0,
    lowerBoundBecause,
    assumptions,
  };
}
