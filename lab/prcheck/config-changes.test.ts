import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configChanges } from './config-changes.js';

const base = {
  schemaVersion: 1,
  libdeflate: { source: { kind: 'git', url: 'https://github.com/ebiggers/libdeflate', ref: 'v1.24' } },
  decoder: { name: 'gzippy', cargo: { path: '.' }, features: ['simd'] },
  bench: { rounds: 20 },
};

describe('configChanges', () => {
  it('is empty for the same config, whatever the key order', () => {
    const reordered = { bench: { rounds: 20 }, decoder: base.decoder, libdeflate: base.libdeflate, schemaVersion: 1 };
    assert.deepEqual(configChanges(base, reordered), []);
  });

  it('names each changed leaf with both values: a moved libdeflate pin, a dropped feature, a new setting', () => {
    const head = structuredClone(base) as typeof base & { bench: { rounds: number; budgetSeconds?: number } };
    head.libdeflate.source.ref = 'v1.14';
    head.decoder.features = [];
    head.bench.budgetSeconds = 5;
    assert.deepEqual(configChanges(base, head), [
      'bench.budgetSeconds: (absent) → 5',
      'decoder.features: ["simd"] → []',
      'libdeflate.source.ref: "v1.24" → "v1.14"',
    ]);
  });

  it('says when base had no config at all, and caps a long list with a count', () => {
    assert.deepEqual(configChanges(undefined, { a: 1 }), ['(the whole file): (absent) → {"a":1}']);
    const many = Object.fromEntries(
      Array.from({ length: 25 }, (_, index) => [`k${String(index).padStart(2, '0')}`, index]),
    );
    const changes = configChanges({}, many);
    assert.equal(changes.length, 21);
    assert.equal(changes[20], '(+5 more)');
    assert.match(configChanges({ a: 'x'.repeat(200) }, { a: 1 })[0]!, /^a: "x{78}… → 1$/);
  });
});
