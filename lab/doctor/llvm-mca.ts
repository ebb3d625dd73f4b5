import { describeLlvmMca, LLVM_MCA_ENV, type LlvmMcaTool } from '../uarch/llvm-mca-tool.js';
import type { Check } from './index.js';

/**
 * Doctor's llvm-mca line, from the cross-check's own search (lab/uarch/llvm-mca-tool.ts): which llvm-mca the
 * cross-check runs (its version and path, how it was found, the others found), or why there is none.
 */
export function llvmMcaCheck(found: LlvmMcaTool | { notRun: string }, install: string): Check {
  return {
    name: 'llvm-mca',
    needed: 'optional',
    purpose: 'the llvm-mca cross-check of perf-lab analyze (the newest found runs)',
    ok: !('notRun' in found),
    detail: 'notRun' in found ? found.notRun : describeLlvmMca(found),
    fix: `${install}, or point ${LLVM_MCA_ENV} at an llvm-mca`,
  };
}
