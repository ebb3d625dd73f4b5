import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { buildCargoDecoder } from '../build/decoder.js';
import { buildLibdeflate } from '../build/libdeflate.js';
import { materializeMinizOxideShim } from '../build/shim.js';
import { logChunks } from '../datasets/generators.js';
import { DeflateFormatError, profileGzip } from '../datasets/symbols.js';
import type { HarnessContender } from './harness.js';
import { corruptMembers, integrityOutcome, notComparableReason, runIntegrityGate } from './integrity.js';

const raw = Buffer.from([...logChunks(65_536)].join('')).subarray(0, 65_536);

describe('integrity gate: corrupted members', () => {
  const members = new Map(corruptMembers(raw).map((member) => [member.case, member.gzip]));

  it("makes each member broken in exactly its one way (checked with zlib and the lab's walker)", () => {
    assert.deepEqual([...members.keys()], ['crc32', 'isize', 'truncated', 'deflate-bit']);
    for (const [name, gzip] of members) assert.throws(() => gunzipSync(gzip), Error, `zlib refuses the ${name} member`);
    // The CRC32 member decodes to the right bytes: only the checksum tells.
    const decoded = new Uint8Array(raw.length);
    profileGzip(members.get('crc32')!, decoded);
    assert.ok(Buffer.from(decoded).equals(raw));
    // The wrong ISIZE is caught by the length, the truncation by the stream ending.
    assert.throws(() => profileGzip(members.get('isize')!), /trailer says 65537/);
    assert.throws(() => profileGzip(members.get('truncated')!), DeflateFormatError);
    // The flipped deflate bit still decodes, to the same length but other bytes.
    profileGzip(members.get('deflate-bit')!, decoded);
    assert.ok(!Buffer.from(decoded).equals(raw));
  });

  it('reads a decode that returned success (verified or not) as accepted, its own error as rejected', () => {
    assert.equal(integrityOutcome(undefined), 'accepted');
    assert.equal(integrityOutcome('wrong bytes: first difference at offset 1 (got 0x61, expected 0x62)'), 'accepted');
    assert.equal(integrityOutcome('wrong length: produced 100 bytes, expected 65536'), 'accepted');
    assert.equal(integrityOutcome('perf_lab_gzip_decompress returned error code 6'), 'rejected');
    assert.equal(integrityOutcome('libdeflate_gzip_decompress returned result 1'), 'rejected');
    assert.equal(integrityOutcome('command exited with status 1'), 'rejected');
    assert.equal(integrityOutcome('crashed: killed by signal 11 (Segmentation fault)'), 'crashed');
    assert.equal(integrityOutcome('timeout: no result within 3000 ms (hung or far too slow)'), 'hung');
    assert.equal(integrityOutcome('x.so does not export perf_lab_gzip_decompress', false), 'not run');
    assert.equal(
      notComparableReason([
        { case: 'crc32', outcome: 'rejected', detail: '' },
        { case: 'isize', outcome: 'crashed', detail: '' },
      ]),
      null,
    );
    assert.equal(
      notComparableReason([
        { case: 'crc32', outcome: 'accepted', detail: '' },
        { case: 'deflate-bit', outcome: 'accepted', detail: '' },
      ]),
      'does not verify the CRC32 (a flipped trailer bit), the data (a flipped bit in the deflate stream that ' +
        'still decodes, to other bytes) — accepted a corrupted member: ratio not comparable',
    );
  });
});

describe('integrity gate on real decoders (in-process and whole-process)', () => {
  it(
    'passes libdeflate, miniz_oxide and gzip; catches a decoder that skips the CRC32, one that skips ISIZE ' +
      'and a CLI that ignores errors',
    async () => {
      const libdeflate = await buildLibdeflate({ kind: 'debian', suite: 'trixie' });
      const shim = async (features: Array<'skip-crc32' | 'skip-isize'>, name: string) =>
        (await buildCargoDecoder(await materializeMinizOxideShim({ features, name }))).artifactPath;
      const library = (name: string, path: string, kind: 'cabi' | 'libdeflate' = 'cabi') => ({
        name,
        contender: (): HarnessContender => ({ name, kind, library: path }),
      });
      const cli = (name: string, argv: (input: string) => string[]) => ({
        name,
        contender: (input: string): HarnessContender => ({ name, kind: 'cli', argv: argv(input) }),
      });
      const gate = await runIntegrityGate(
        [
          library('libdeflate', libdeflate.sharedLibraryPath, 'libdeflate'),
          library('miniz_oxide', await shim([], 'miniz_oxide')),
          library('skips-crc32', await shim(['skip-crc32'], 'skips-crc32')),
          library('skips-isize', await shim(['skip-isize'], 'skips-isize')),
          cli('gzip', (input) => ['gzip', '-d', '-c', input]),
          cli('careless-cli', (input) => ['sh', '-c', 'gzip -d -c "$1" 2>/dev/null; exit 0', 'sh', input]),
          // A library without the C ABI: its worker never starts, so the gate knows nothing about it.
          library('not-loadable', libdeflate.sharedLibraryPath),
        ],
        raw,
        'a test member',
        { timeoutMs: 20_000, memoryLimitMb: 0 },
      );
      const outcomes = Object.fromEntries(
        gate.contenders.map((entry) => [entry.name, Object.fromEntries(entry.cases.map((c) => [c.case, c.outcome]))]),
      );
      const all = (outcome: string) => ({ crc32: outcome, isize: outcome, truncated: outcome, 'deflate-bit': outcome });
      assert.deepEqual(outcomes, {
        libdeflate: all('rejected'),
        miniz_oxide: all('rejected'),
        'skips-crc32': { crc32: 'accepted', isize: 'rejected', truncated: 'rejected', 'deflate-bit': 'accepted' },
        'skips-isize': { crc32: 'rejected', isize: 'accepted', truncated: 'rejected', 'deflate-bit': 'rejected' },
        gzip: all('rejected'),
        'careless-cli': all('accepted'),
        'not-loadable': all('not run'),
      });
      const reasons = Object.fromEntries(gate.contenders.map((entry) => [entry.name, entry.notComparable]));
      assert.equal(reasons.libdeflate, null);
      assert.equal(reasons.miniz_oxide, null);
      assert.match(reasons['skips-crc32']!, /^does not verify the CRC32 .* ratio not comparable$/);
      assert.match(reasons['skips-isize']!, /^does not verify the length \(a wrong ISIZE trailer\)/);
      assert.match(
        reasons['not-loadable']!,
        /^was not checked by the integrity gate \(it could not start: .*does not export perf_lab_gzip_decompress\)$/,
      );
    },
  );
});
