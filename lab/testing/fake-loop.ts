import type { LoopReport } from '../uarch/index.js';
import { roleName, type PathRole } from '../uarch/paths.js';

/**
 * A loop report with just the roles (literals, match kind, cycles, exact) and copy loop the workload prediction
 * reads, for tests of the prediction and the report: real analyses are tested beside the analyzer.
 */
export function fakeLoop(
  roles: Array<[number, PathRole['match'], number, boolean?]>,
  copyLoop?: { bytes: number; cycles: number },
  copyBytes = 40,
): LoopReport {
  return {
    model: {
      name: 'apple-m1',
      core: 'Apple M1 performance core (Firestorm)',
      inheritedFrom: null,
      cpuBrands: ['Apple M1'],
    },
    loopChoice: { how: 'evidence', decodeLoop: true, decodeLoops: 1, reason: 'fake', sourceLine: null, runnersUp: [] },
    roles: roles.map(([literals, match, cycles, exact = true]) => {
      const role: PathRole = {
        literals,
        match,
        refill: true,
        copyBytes: match === 'none' ? 0 : copyBytes,
        wordCopyBytes: match === 'none' ? 0 : copyBytes,
      };
      return { role, roleName: roleName(role), analysis: { predictedCycles: cycles, exact } };
    }),
    copyLoop: copyLoop
      ? {
          headerAddress: 0x100,
          bytesPerIteration: copyLoop.bytes,
          bounds: { predictedCycles: copyLoop.cycles, exact: true },
        }
      : null,
  } as unknown as LoopReport;
}

/** libdeflate 1.23's fastloop shape on apple-m1: literal batches of up to 3, up to 2 literals ride with a match. */
export const libdeflateShape = () =>
  fakeLoop(
    [
      [0, 'short', 13],
      [1, 'short', 19],
      [2, 'short', 25],
      [0, 'long', 13],
      [1, 'long', 19],
      [2, 'long', 25],
      [1, 'none', 14],
      [2, 'none', 20],
      [3, 'none', 18],
    ],
    { bytes: 40, cycles: 2.5 },
  );
