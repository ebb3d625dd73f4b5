import { z } from 'zod';

/**
 * Instruction counts: one decode of each contender per dataset, counted by valgrind's callgrind with the count
 * limited to the decode call (lab/bench/counts.ts). A second, deterministic signal beside the timings — not a time.
 */
export const countsSchema = z.object({
  /** How the counts were made ("valgrind-3.19.0 callgrind, …"); null when none were. */
  tool: z.string().nullable(),
  /** Why nothing was counted ("not available on macOS (no valgrind on macOS arm64)"); null when counted. */
  unavailable: z.string().nullable(),
  datasets: z.array(
    z.object({
      name: z.string(),
      label: z.string(),
      rawBytes: z.number().int().nonnegative(),
      contenders: z.array(
        z.object({
          name: z.string(),
          role: z.enum(['head', 'base', 'libdeflate']),
          /** Instructions retired in the one counted decode call (null: not counted). */
          instructions: z.number().int().nonnegative().nullable(),
          /** instructions / rawBytes. */
          instructionsPerByte: z.number().finite().nonnegative().nullable(),
          /** Why it was not counted (it failed in the timing bench, a CLI decoder, …); null when counted. */
          notCounted: z.string().nullable(),
        }),
      ),
    }),
  ),
});
export type InstructionCounts = z.infer<typeof countsSchema>;
export type DatasetCounts = InstructionCounts['datasets'][number];

/** What the report shows of a dataset's counts: head per byte, its exact change vs base and ratio to libdeflate. */
export interface InstructionComparison {
  headInstructionsPerByte: number | null;
  /** (head − base) / base instructions: exact, not an estimate (null: either side not counted). */
  headVsBaseChange: number | null;
  /** head − base, in instructions per output byte. */
  headVsBaseInstructionsPerByte: number | null;
  /** head instructions / libdeflate instructions. */
  headVsLibdeflate: number | null;
  /** Why head has no count, when it has none. */
  headNotCounted: string | null;
}

export function instructionComparison(dataset: DatasetCounts): InstructionComparison {
  const of = (role: string) => dataset.contenders.find((contender) => contender.role === role);
  const head = of('head');
  const base = of('base');
  const libdeflate = of('libdeflate');
  const counted = (side: typeof head): side is NonNullable<typeof head> & { instructions: number } =>
    typeof side?.instructions === 'number';
  return {
    headInstructionsPerByte: head?.instructionsPerByte ?? null,
    headVsBaseChange:
      counted(head) && counted(base) && base.instructions > 0 ? head.instructions / base.instructions - 1 : null,
    headVsBaseInstructionsPerByte:
      counted(head) && counted(base) && dataset.rawBytes > 0
        ? (head.instructions - base.instructions) / dataset.rawBytes
        : null,
    headVsLibdeflate:
      counted(head) && counted(libdeflate) && libdeflate.instructions > 0
        ? head.instructions / libdeflate.instructions
        : null,
    headNotCounted: head ? head.notCounted : 'no head contender',
  };
}
