import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatCpuList, parseCpuList, placeContenders } from './placement.js';

const cpusOf = (placement: ReturnType<typeof placeContenders>) =>
  Object.fromEntries(placement.contenders.map((entry) => [entry.name, entry.cpus]));

describe('placement of contenders on CPUs', () => {
  it('reads and writes Linux CPU lists', () => {
    assert.deepEqual(parseCpuList('0-3,8,10-11\n'), [0, 1, 2, 3, 8, 10, 11]);
    assert.equal(formatCpuList([11, 0, 1, 2, 3, 8, 10]), '0-3,8,10-11');
    assert.throws(() => parseCpuList('0-a'));
  });

  it('single-threaded contenders share one CPU (no core-to-core bias between them)', () => {
    const placement = placeContenders([0, 1, 2, 3], new Map(), [
      { name: 'head', threads: 1 },
      { name: 'libdeflate', threads: 1 },
    ]);
    assert.deepEqual(cpusOf(placement), { head: [0], libdeflate: [0] });
    assert.deepEqual(placement.warnings, []);
  });

  it('on 8 CPUs a 4-thread head gets 4 of its own, apart from the shared CPU and from a 2-thread base', () => {
    const placement = placeContenders([0, 1, 2, 3, 4, 5, 6, 7], new Map(), [
      { name: 'head', threads: 4 },
      { name: 'base', threads: 2 },
      { name: 'libdeflate', threads: 1 },
    ]);
    assert.deepEqual(cpusOf(placement), { head: [1, 2, 3, 4], base: [5, 6], libdeflate: [0] });
    assert.ok(placement.contenders.every((entry) => entry.note === null));
  });

  it('on 2 CPUs a 4-thread head gets both, and the result is marked (fewer CPUs than asked, shared)', () => {
    const placement = placeContenders([0, 1], new Map(), [
      { name: 'head', threads: 4 },
      { name: 'libdeflate', threads: 1 },
    ]);
    assert.deepEqual(cpusOf(placement), { head: [0, 1], libdeflate: [0] });
    assert.equal(
      placement.contenders[0]!.note,
      'asked for 4 CPUs, this machine allows 2; its CPUs 0-1 are also where libdeflate decodes (in turn, not ' +
        'at once: ' +
        'only caches and clocks are shared)',
    );
    assert.equal(placement.contenders[1]!.note, null);
    assert.match(placement.warnings[0]!, /^head: asked for 4 CPUs, this machine allows 2.*; its result is marked\.$/);
  });

  it('on 2 CPUs a 2-thread head and single-threaded libdeflate: head has its 2, shared with libdeflate, said', () => {
    const placement = placeContenders([0, 1], new Map(), [
      { name: 'head', threads: 2 },
      { name: 'libdeflate', threads: 1 },
    ]);
    assert.deepEqual(cpusOf(placement), { head: [0, 1], libdeflate: [0] });
    assert.match(placement.contenders[0]!.note!, /^its CPUs 0-1 are also where libdeflate decodes \(in turn/);
  });

  it('on 1 CPU everything shares it, and a parallel decoder is marked', () => {
    const placement = placeContenders([3], new Map(), [
      { name: 'head', threads: 2 },
      { name: 'libdeflate', threads: 1 },
    ]);
    assert.deepEqual(cpusOf(placement), { head: [3], libdeflate: [3] });
    assert.match(placement.contenders[0]!.note!, /^asked for 2 CPUs, this machine allows 1/);
  });

  it('avoids CPUs another bench holds, and warns when it cannot', () => {
    const avoided = placeContenders([0, 1, 2, 3], new Map([[0, 4242]]), [
      { name: 'head', threads: 1 },
      { name: 'libdeflate', threads: 1 },
    ]);
    assert.deepEqual(cpusOf(avoided), { head: [1], libdeflate: [1] });
    assert.deepEqual(avoided.warnings, []);
    const shared = placeContenders(
      [0, 1],
      new Map([
        [0, 4242],
        [1, 4343],
      ]),
      [
        { name: 'head', threads: 1 },
        { name: 'libdeflate', threads: 1 },
      ],
    );
    assert.deepEqual(shared.warnings, [
      "another perf-lab bench (pid 4242) was running on CPU 0: both runs' speeds are disturbed (ratios less so); " +
        'run one bench at a time.',
    ]);
    assert.match(shared.concurrentBench ?? '', /^another perf-lab bench \(pid 4242\) was running on CPU 0/);
  });
});
