import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { constants, gzipSync } from 'node:zlib';
import { logChunks, softwareChunks } from './generators.js';
import { DeflateFormatError, profileGzip, type DeflateProfile } from './symbols.js';

const text = Buffer.from([...logChunks(300_000)].join('') + [...softwareChunks(300_000)].join(''));
// Bytes no compressor can shrink much: stored blocks at low levels, literal-heavy Huffman blocks otherwise.
const noise = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 2654435761) >>> 24));
const sample = Buffer.concat([text.subarray(0, 200_000), noise, text.subarray(200_000)]);

/** Walks with output and checks the bytes, the trailer-checked length and that the counts add up. */
function profileAndCheck(gzip: Uint8Array, expected: Uint8Array): DeflateProfile {
  const output = new Uint8Array(expected.length);
  const profile = profileGzip(gzip, output);
  assert.ok(Buffer.from(output).equals(expected), 'the walk decodes to the original bytes');
  assert.deepEqual(profileGzip(gzip), profile, 'counting alone gives the same profile');
  assert.equal(profile.outputBytes, expected.length);
  assert.equal(profile.literals + profile.matchBytes + profile.storedBytes, profile.outputBytes);
  const runs = profile.runs;
  assert.equal(
    runs.reduce((sum, [literals, , count]) => sum + literals * count, 0),
    profile.literals,
    'runs hold every literal',
  );
  assert.equal(
    runs.filter(([, length]) => length > 0).reduce((sum, [, , count]) => sum + count, 0),
    profile.matches,
    'one run ends at each match',
  );
  assert.equal(
    runs.reduce((sum, [, length, count]) => sum + length * count, 0),
    profile.matchBytes,
  );
  const { one, underWord, word } = profile.matchesByDistance;
  assert.equal(one + underWord + word, profile.matches);
  return profile;
}

describe('deflate symbol profile (walked against zlib)', () => {
  it('dynamic Huffman blocks (zlib level 9 and 1) decode to the original bytes, counts adding up', () => {
    for (const level of [9, 1]) {
      const profile = profileAndCheck(gzipSync(sample, { level }), sample);
      assert.ok(profile.blocks.dynamic > 0, `level ${level}: dynamic blocks`);
      assert.ok(profile.matches > 1000 && profile.literals > 1000, `level ${level}: literals and matches`);
      assert.ok(profile.bits > 0 && profile.bits <= gzipSync(sample, { level }).length * 8);
    }
  });

  it('fixed-code blocks (Z_FIXED)', () => {
    const profile = profileAndCheck(gzipSync(sample, { strategy: constants.Z_FIXED }), sample);
    assert.ok(profile.blocks.fixed > 0);
    assert.equal(profile.blocks.dynamic, 0);
  });

  it('Huffman-only streams have literals and no match; run-length streams have only distance-1 matches', () => {
    const huffman = profileAndCheck(gzipSync(sample, { strategy: constants.Z_HUFFMAN_ONLY }), sample);
    assert.equal(huffman.matches, 0);
    assert.ok(huffman.literals > text.length, 'every text byte a literal (zlib may store the noise)');
    const rle = profileAndCheck(gzipSync(sample, { strategy: constants.Z_RLE }), sample);
    assert.ok(rle.matches > 0);
    assert.equal(rle.matchesByDistance.one, rle.matches);
  });

  it('stored blocks (level 0) count as stored bytes, not symbols', () => {
    const profile = profileAndCheck(gzipSync(sample, { level: 0 }), sample);
    assert.equal(profile.storedBytes, sample.length);
    assert.equal(profile.literals + profile.matches, 0);
    assert.ok(profile.blocks.stored >= Math.ceil(sample.length / 65535));
  });

  it('concatenated members decode as one output (gzip -9 made the second, as the datasets are)', () => {
    const second = execFileSync('gzip', ['-9', '-c', '-n'], { input: text.subarray(0, 50_000) });
    const both = Buffer.concat([gzipSync(noise), second]);
    const profile = profileAndCheck(both, Buffer.concat([noise, text.subarray(0, 50_000)]));
    assert.equal(profile.members, 2);
  });

  it('refuses truncated, altered and non-gzip input with a reason', () => {
    const good = gzipSync(sample);
    assert.throws(() => profileGzip(good.subarray(0, good.length - 100)), DeflateFormatError);
    const wrongLength = Buffer.from(good);
    wrongLength[wrongLength.length - 1]! ^= 1;
    assert.throws(() => profileGzip(wrongLength), /decodes to \d+ bytes but its trailer says/);
    assert.throws(() => profileGzip(Buffer.from('not gzip at all, just text')), /no gzip header/);
    // BFINAL=1, BTYPE=3 (reserved), after a minimal gzip header.
    const reserved = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0x07]), Buffer.alloc(8)]);
    assert.throws(() => profileGzip(reserved), /reserved type 3/);
  });
});
