import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contenderUsage } from './usage.js';

const batch = (outsideNs: number, cpuNs: number[], wallNs: number[], roundsRun = 3) => ({
  samplesNs: new Map([['head', new Map(wallNs.map((ns, i) => [i + 1, ns]))]]),
  cpuNs: new Map([['head', new Map(cpuNs.map((ns, i) => [i + 1, ns]))]]),
  outsideCpuNs: new Map([['head', outsideNs]]),
  roundsRun,
  placements: [{ name: 'head', threads: 4, cpus: [0, 1], note: 'asked for 4 CPUs, this machine allows 2' }],
});

describe('contenderUsage', () => {
  it('sums wall and CPU time over batches, parallel efficiency = CPU / (wall × threads)', () => {
    const usage = contenderUsage([batch(0, [8e6, 8e6], [4e6, 4e6]), batch(1e6, [8e6], [4e6])], 'head', 4);
    assert.deepEqual(usage, {
      threads: 4,
      cpus: [0, 1],
      placementNote: 'asked for 4 CPUs, this machine allows 2',
      wallTimeMs: 12,
      cpuTimeMs: 24,
      parallelEfficiency: 0.5,
      outsideTurnCpuMs: 1,
      outsideTurnAllowanceMs: 12, // 6 rounds run × 2 ms
    });
  });
  it('has no efficiency without measured decodes', () => {
    assert.equal(contenderUsage([batch(0, [], [])], 'head', 1).parallelEfficiency, null);
  });
});
