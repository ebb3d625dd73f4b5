import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseResults, verdictFailures } from './index.js';

describe('verdictFailures (what --fail-on / fail-on fails a PR check on)', () => {
  it('names the datasets whose verdict is a regression, or any change, and nothing for never', async () => {
    const path = join(import.meta.dirname, '..', 'github', 'fixtures', 'results-three-way.json');
    const results = parseResults(JSON.parse(await readFile(path, 'utf8')), 'fixture');
    // The fixture: base 1.14, head 1.23, every dataset an improvement.
    assert.deepEqual(verdictFailures(results, 'regression'), []);
    assert.deepEqual(verdictFailures(results, 'never'), []);
    assert.deepEqual(verdictFailures(results, 'change'), [
      'SILESIA (stand-in): improvement 3.4%',
      'SOFTWARE: improvement 19.4%',
      'LOGS: improvement 14.5%',
    ]);
    results.datasets[1]!.headVsBase!.verdict.kind = 'regression';
    results.datasets[1]!.headVsBase!.verdict.effect = -0.021;
    assert.deepEqual(verdictFailures(results, 'regression'), ['SOFTWARE: regression -2.1%']);
  });
});
