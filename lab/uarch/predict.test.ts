import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeflateProfile } from '../datasets/symbols.js';
import { fakeLoop, libdeflateShape as makeLibdeflateShape } from '../testing/fake-loop.js';
import { predictWorkload, type WorkloadPrediction } from './predict.js';

const loop = fakeLoop;
const libdeflateShape = makeLibdeflateShape();

function profile(runs: DeflateProfile['runs'], extra: Partial<DeflateProfile> = {}): DeflateProfile {
  const literals = runs.reduce((sum, [n, , count]) => sum + n * count, 0);
  const matches = runs.filter(([, length]) => length > 0).reduce((sum, [, , count]) => sum + count, 0);
  const matchBytes = runs.reduce((sum, [, length, count]) => sum + length * count, 0);
  return {
    members: 1,
    blocks: { stored: 0, fixed: 0, dynamic: 1 },
    outputBytes: literals + matchBytes,
    storedBytes: 0,
    literals,
    matches,
    matchBytes,
    matchesByDistance: { one: 0, underWord: 0, word: matches },
    bits: 0,
    runs,
    ...extra,
  };
}

const known = (prediction: ReturnType<typeof predictWorkload>): WorkloadPrediction => {
  assert.ok(!('unpredictable' in prediction), JSON.stringify(prediction));
  return prediction;
};
const roleCycles = (prediction: WorkloadPrediction) =>
  Object.fromEntries(prediction.byRole.map((role) => [role.roleName, [role.iterations, role.cycles]]));

describe('predicted cycles from the data and the loop paths', () => {
  it('cuts literal runs the way the loop does: 3-literal batches first, up to 2 literals ride with the match', () => {
    // 4 literals then a 10-byte match, twice: 3 literals (18) + literal + match (19) each time.
    const p = known(predictWorkload(profile([[4, 10, 2]]), libdeflateShape));
    assert.deepEqual(roleCycles(p), { '3 literals': [2, 36], 'literal + match': [2, 38] });
    assert.equal(p.iterations, 4);
    assert.equal(p.cyclesPerByte, (36 + 38) / (2 * 14));
    assert.equal(p.exact, true);
  });

  it('a run ending at the end of a block is stored in literal paths only (5 = 3 + 2)', () => {
    const p = known(predictWorkload(profile([[5, 0, 1]]), libdeflateShape));
    assert.deepEqual(roleCycles(p), { '3 literals': [1, 18], '2 literals': [1, 20] });
  });

  it(
    'a match longer than the straight copy takes the long path and a copy-loop pass per 40 bytes beyond the ' +
      'first 80',
    () => {
      // 200 bytes: long path covers 40 (straight) + 40 (one loop pass); 120 more = 3 passes of 2.5 cycles.
      const p = known(
        predictWorkload(
          profile([
            [0, 200, 1],
            [0, 40, 1],
          ]),
          libdeflateShape,
        ),
      );
      assert.deepEqual(roleCycles(p), { 'long match (copy loop)': [1, 13], match: [1, 13] });
      assert.equal(p.copyLoopPasses, 3);
      assert.equal(p.copyLoopCycles, 7.5);
      assert.equal(p.cyclesPerByte, (13 + 13 + 7.5) / 240);
    },
  );

  it('a decoder whose every match goes through its copy loop (zlib shape) prices each match on that path', () => {
    const zlibShape = loop(
      [
        [0, 'long', 17],
        [1, 'none', 8],
      ],
      { bytes: 32, cycles: 6 },
      32,
    );
    const p = known(predictWorkload(profile([[2, 100, 1]]), zlibShape));
    // 2 literals (2 × 8), the match (17) and ceil((100 − 64) / 32) = 2 passes (12).
    assert.deepEqual(roleCycles(p), { literal: [2, 16], 'long match (copy loop)': [1, 17] });
    assert.equal(p.copyLoopCycles, 12);
  });

  it(
    'says what it cannot price: no literal path or no match path gives no prediction; an inexact role a lower ' +
      'bound',
    () => {
      assert.match(
        (predictWorkload(profile([[1, 5, 1]]), loop([[0, 'short', 13]])) as { unpredictable: string }).unpredictable,
        /no path of the loop stores a literal/,
      );
      assert.match(
        (predictWorkload(profile([[1, 5, 1]]), loop([[1, 'none', 8]])) as { unpredictable: string }).unpredictable,
        /no path of the loop copies a match/,
      );
      const inexact = known(
        predictWorkload(
          profile([[1, 5, 1]]),
          loop([
            [0, 'short', 13, false],
            [1, 'none', 8],
          ]),
        ),
      );
      assert.equal(inexact.exact, false);
      assert.match(inexact.lowerBoundBecause.join(), /instructions the model does not know/);
    },
  );

  it('lists its simplifications with their share of the data', () => {
    const p = known(
      predictWorkload(
        profile(
          [
            [0, 10, 3],
            [0, 100, 1],
          ],
          { matchesByDistance: { one: 1, underWord: 1, word: 2 }, storedBytes: 50, outputBytes: 180 },
        ),
        loop([
          [0, 'short', 13],
          [1, 'none', 8],
        ]),
      ),
    );
    assert.ok(
      p.assumptions.some((line) => /^25\.0% of matches are longer than the short path copies \(40 bytes\)/.test(line)),
      p.assumptions.join('\n'),
    );
    assert.ok(p.assumptions.some((line) => /^50\.0% of matches have an offset under 8 bytes/.test(line)));
    assert.ok(p.assumptions.some((line) => /stored blocks: not priced/.test(line)));
  });
});
