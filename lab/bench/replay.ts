import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { LabError } from '../core/errors.js';
import type { BenchConfig } from './config.js';
import type { BatchRunner } from './run.js';
import { readNoiseTraces, traceBatch } from './traces.js';

const step = 'bench: replay';

/** The test seam's variable: `perf-lab bench` replays the batches of this noise-traces file instead of timing. */
export const REPLAY_VARIABLE = 'PERF_LAB_REPLAY_BATCHES';

/**
 * A batch runner that replays a recorded noise-traces file (bench/traces.ts) batch after batch, each recorded worker
 * slot's times going to whoever sits in that slot: the sampling, stopping rule, verdicts and reports run as shipped,
 * and no decode is timed. Refused unless the traces fit the run exactly: the config's rounds and warm-up rounds,
 * at most three contenders, and the very dataset (compressed sha256) they were recorded on.
 */
export async function replayRunner(path: string, bench: BenchConfig['bench']): Promise<BatchRunner> {
  const file = resolve(path);
  const traces = await readNoiseTraces(file);
  if (bench.rounds !== traces.roundsPerBatch || bench.warmupRounds !== traces.warmupRounds)
    throw new LabError(
      step,
      `${file} holds batches of ${traces.roundsPerBatch} rounds after ${traces.warmupRounds} warm-up rounds; the ` +
        `config asks for ${bench.rounds} after ${bench.warmupRounds}.`,
      `set bench.rounds to ${traces.roundsPerBatch} and bench.warmupRounds to ${traces.warmupRounds}, or unset ` +
        `${REPLAY_VARIABLE}.`,
    );
  const digests = new Map<string, string>();
  let next = 0;
  return async (run) => {
    const names = run.contenders.map((contender) => contender.name);
    if (names.length < 2 || names.length > traces.contenders.length)
      throw new LabError(
        step,
        `${file} holds ${traces.contenders.length} worker slots; this run has ${names.length} contenders.`,
        `replay a run of 2 or 3 contenders, or unset ${REPLAY_VARIABLE}.`,
      );
    const digest =
      digests.get(run.compressedPath) ??
      createHash('sha256')
        .update(await readFile(run.compressedPath))
        .digest('hex');
    digests.set(run.compressedPath, digest);
    if (digest !== traces.dataset.compressedSha256)
      throw new LabError(
        step,
        `${file} was recorded on ${traces.dataset.label} (sha256 ${traces.dataset.compressedSha256.slice(0, 12)}); ` +
          `this batch decodes ${run.compressedPath} (sha256 ${digest.slice(0, 12)}).`,
        `bench only that dataset (--only), or unset ${REPLAY_VARIABLE}.`,
      );
    // The recorded batches in turn (from the first again after the last); a two-contender run leaves slot 3 out.
    const unused = '\u0000unused slot';
    const slots = [...names, unused].slice(0, 3) as [string, string, string];
    const batch = traceBatch(traces, next++ % traces.batches.length, slots);
    batch.samplesNs.delete(unused);
    return {
      ...batch,
      failedToStart: new Set(),
      rounds: traces.roundsPerBatch,
      placement: `replayed from ${file} (no decode timed)`,
      cpuNs: batch.samplesNs,
      outsideCpuNs: new Map(names.map((name) => [name, 0])),
      roundsRun: traces.roundsPerBatch + traces.warmupRounds,
      placements: null,
    };
  };
}
