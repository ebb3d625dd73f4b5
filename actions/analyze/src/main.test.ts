import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeCore } from '../../../lab/testing/fake-core.js';
import { readAnalyzeInputs, run } from './main.js';

const builds = { base: 'b.so', head: 'h.so', reference: 'libdeflate.so', function: 'decode' };

describe('the analyze action', () => {
  it("reads its inputs once, with action.yml's defaults", async () => {
    const inputs = readAnalyzeInputs(await FakeCore.for('analyze', builds));
    assert.equal(inputs.cpu, undefined, 'empty: chosen for the runner');
    assert.equal(inputs.measurement, undefined);
    assert.equal(inputs.artifactDir, undefined);
    assert.match(inputs.output, /perf-lab-analysis\.md$/);
  });

  it('refuses results without datasets-dir, and a missing required input, naming them', async () => {
    const half = await FakeCore.for('analyze', { ...builds, results: 'r.json' });
    await run(half);
    assert.match(half.failures.join('\n'), /inputs results and datasets-dir: only results was given/);
    const missing = await FakeCore.for('analyze', { ...builds, head: '' });
    await run(missing);
    assert.match(missing.failures.join('\n'), /action analyze: input head: it is required and was not given/);
  });
});
