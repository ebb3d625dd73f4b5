import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { logChunks } from '../datasets/generators.js';
import { profileGzip } from '../datasets/symbols.js';
import { fakeLoop, libdeflateShape } from '../testing/fake-loop.js';
import { gapFinding, measuredOnModelledCore, modelGapSection } from './model-gap.js';

const interval = (estimate: number, low: number, high: number) => ({ estimate, low, high, confidence: 0.95 });
const m1Runner = { arch: 'arm64', cpuModel: 'Apple M1 (Virtual)' };

describe('the loop model against the measurement', () => {
  it('reads how much of a measured gap the predicted ratio explains, and says when it cannot', () => {
    assert.equal(
      gapFinding(0.8, interval(0.6, 0.58, 0.62), undefined, false),
      'the model explains 50% of the gap (head slower); the rest is outside the hot loop or not modelled',
    );
    assert.equal(
      gapFinding(0.6, interval(0.6, 0.58, 0.62), undefined, false),
      'the model explains 100% of the gap (head slower); the loop accounts for it',
    );
    assert.match(
      gapFinding(0.5, interval(0.8, 0.78, 0.82), undefined, false),
      /^the model predicts a larger gap than measured \(250% of it\)/,
    );
    assert.match(
      gapFinding(1.1, interval(0.8, 0.78, 0.82), undefined, false),
      /^the model does not explain it: head is measured slower, the loop model predicts head faster/,
    );
    assert.match(
      gapFinding(0.9, interval(1.0, 0.97, 1.03), undefined, false),
      /^no measured gap \(the 95% interval includes 1\.00×\); the model predicts head slower by 10%/,
    );
    assert.match(
      gapFinding(0.9, interval(0.8, 0.78, 0.82), 'measured on x86', false),
      /^not comparable: measured on x86/,
    );
    assert.match(
      gapFinding(0.9, interval(0.8, 0.78, 0.82), undefined, true),
      /^inconclusive: a prediction is only a lower bound/,
    );
    assert.equal(gapFinding(0.9, null, undefined, false), 'no measured ratio');
  });

  it('compares only a measurement made on the modelled core', () => {
    const model = fakeLoop([]).model;
    assert.equal(measuredOnModelledCore(model, m1Runner), undefined);
    assert.equal(measuredOnModelledCore(model, { arch: 'arm64', cpuModel: 'Apple M1 Pro' }), undefined);
    assert.match(
      measuredOnModelledCore(model, { arch: 'arm64', cpuModel: 'Apple M3' })!,
      /not on the modelled Apple M1/,
    );
    assert.match(
      measuredOnModelledCore(model, { arch: 'x64', cpuModel: 'Intel(R) Xeon(R)' })!,
      /measured on Intel\(R\) Xeon\(R\) \(x64\)/,
    );
  });

  it(
    "puts each dataset's predicted ratio beside the measured one, with where the cycles go and what is left " + 'out',
    () => {
      const gzip = gzipSync(Buffer.from([...logChunks(200_000)].join('')), { level: 9 });
      const profile = profileGzip(gzip);
      // A head that stores one literal per iteration and takes every match through its copy loop.
      const head = fakeLoop(
        [
          [0, 'long', 17],
          [1, 'none', 8],
        ],
        { bytes: 32, cycles: 6 },
        32,
      );
      const markdown = modelGapSection(
        head,
        libdeflateShape(),
        [
          { label: 'LOGS', profile, measured: interval(0.7, 0.68, 0.72) },
          { label: 'SOFTWARE', profile, measured: null, measuredMissing: 'head: exit 1' },
        ],
        m1Runner,
        ['SILESIA: no file with sha256 0123456789ab… in /data'],
      );
      const row = markdown.split('\n').find((line) => line.startsWith('| LOGS |'))!;
      const cells = row.split('|').map((cell) => cell.trim());
      const [headCycles, libdeflateCycles, predictedRatio] = [Number(cells[2]), Number(cells[3]), cells[4]!];
      assert.ok(headCycles > libdeflateCycles, row);
      assert.equal(predictedRatio, `${(libdeflateCycles / headCycles).toFixed(2)}×`);
      assert.match(cells[5]!, /^0\.70× \[0\.68, 0\.72\]$/);
      assert.match(cells[6]!, /^the model (explains \d+% of the gap|predicts a larger gap)/);
      assert.match(markdown, /\| SOFTWARE \|.*\| — \| no measured ratio \(head: exit 1\) \|/);
      assert.match(markdown, /⚠️ Not profiled: SILESIA: no file with sha256/);
      assert.match(markdown, /- \*\*LOGS\*\*: head: long match \(copy loop\) \d+%, literal \d+%/);
      assert.match(markdown, /Huffman block\(s\): their table builds are outside the loop, not priced/);
    },
  );

  it('a head loop without a literal path gets "not predicted", never a number', () => {
    const profile = profileGzip(gzipSync(Buffer.from('abcabcabcabc'.repeat(1000))));
    const markdown = modelGapSection(
      fakeLoop([[0, 'short', 13]]),
      libdeflateShape(),
      [{ label: 'LOGS', profile, measured: interval(0.7, 0.68, 0.72) }],
      m1Runner,
    );
    assert.match(
      markdown,
      new RegExp(
        String.raw`\| LOGS \| not predicted: no path of the loop stores a literal on its own .*\| ` +
          String.raw`— \| 0\.70× \[0\.68, 0\.72\] \| no prediction \|`,
      ),
    );
  });
});
