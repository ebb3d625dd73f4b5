import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseBenchConfig } from './config.js';
import { runBenchmark, type BatchRunner } from './run.js';
import { contenderOrder } from './sampling.js';
import { readNoiseTraces, traceBatch } from './traces.js';

let work: string;
const savedCache = process.env.PERF_LAB_CACHE;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'perf-lab-run-'));
  // A cache of its own: no calibration from another run decides the verdict, nothing is left behind.
  process.env.PERF_LAB_CACHE = join(work, 'cache');
});
after(async () => {
  if (savedCache === undefined) delete process.env.PERF_LAB_CACHE;
  else process.env.PERF_LAB_CACHE = savedCache;
  await rm(work, { recursive: true, force: true });
});

describe('runBenchmark with a batch runner of its caller', () => {
  it(
    'samples, rotates and judges recorded A/A batches as a real run does, ' + 'building no decoder with cargo',
    async () => {
      const traces = await readNoiseTraces(join(import.meta.dirname, 'fixtures', 'noise-logs-quick-x86_64.json'));
      const system = { source: { kind: 'system' } };
      const config = parseBenchConfig(
        {
          schemaVersion: 1,
          libdeflate: system,
          decoder: { name: 'head', libdeflate: system },
          base: { name: 'base', libdeflate: system },
          bench: {
            rounds: traces.roundsPerBatch,
            warmupRounds: traces.warmupRounds,
            minBatches: 4,
            maxBatches: 8,
            budgetSeconds: 600,
          },
        },
        'the replay config',
        work,
      );
      const slots: string[][] = [];
      // The recorded batches in turn, each slot's times going to whoever sits in that slot this batch.
      const replay: BatchRunner = async (run) => {
        const names = run.contenders.map((contender) => contender.name) as [string, string, string];
        const batch = traceBatch(traces, slots.length % traces.batches.length, names);
        slots.push(names);
        return {
          ...batch,
          failedToStart: new Set(),
          rounds: traces.roundsPerBatch,
          placement: 'replayed (no decode timed)',
          cpuNs: batch.samplesNs,
          outsideCpuNs: new Map(names.map((name) => [name, 0])),
          roundsRun: traces.roundsPerBatch + traces.warmupRounds,
          placements: null,
        };
      };
      const results = await runBenchmark({
        config,
        scale: 'quick',
        datasetsDir: join(work, 'datasets'),
        only: ['logs'],
        offline: true,
        runBatch: replay,
      });
      const dataset = results.datasets[0]!;
      assert.equal(results.regime, 'in-process');
      assert.equal(dataset.batches, slots.length, 'every batch the runner gave is in the results');
      assert.ok(dataset.batches >= 4 && dataset.batches <= 8, `${dataset.batches} batches`);
      const sides = dataset.contenders.map((contender) => contender.name);
      slots.forEach((names, index) => {
        assert.deepEqual(
          names,
          contenderOrder(index, 3).map((at) => sides[at]),
          `batch ${index + 1}'s slot order`,
        );
        const slot = names.indexOf('head');
        const recorded = traces.batches[index]!.samples[slot]!.map(([, ns]) => ns);
        assert.deepEqual(dataset.contenders.find((c) => c.name === 'head')!.samplesNs[index], recorded);
      });
      // A/A noise: the shipped verdict may be undecided, never a change.
      assert.ok(
        ['no change', 'inconclusive'].includes(dataset.headVsBase!.verdict.kind),
        dataset.headVsBase!.verdict.kind,
      );
      assert.ok(results.ok);
    },
  );
});
