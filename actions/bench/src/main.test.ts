import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeCore } from '../../../lab/testing/fake-core.js';
import { readBenchInputs, run } from './main.js';

/** Runs the action with these `with:` values and returns the one failure it reported. */
async function failureOf(given: Record<string, string>): Promise<string> {
  const core = await FakeCore.for('bench', given);
  await run(core);
  assert.equal(core.failures.length, 1, `one failure, got ${JSON.stringify(core.failures)}`);
  return core.failures[0]!;
}

describe('the bench action', () => {
  it("reads its inputs once, with action.yml's defaults, through the CLI's parsers", async () => {
    const inputs = readBenchInputs(
      await FakeCore.for('bench', { base: 'b'.repeat(40), head: 'h'.repeat(40), 'pr-number': '7', datasets: 'LOGS' }),
    );
    assert.equal(inputs.scale, 'full');
    assert.equal(inputs.failOn, 'never');
    assert.deepEqual(inputs.only, ['logs']);
    assert.equal(inputs.config, '.github/perf-lab.json');
    assert.deepEqual(inputs.pullRequest, {
      repository: '.',
      base: 'b'.repeat(40),
      head: 'h'.repeat(40),
      prNumber: 7,
      artifactDir: 'perf-lab-artifact',
    });
    assert.equal(readBenchInputs(await FakeCore.for('bench', {})).pullRequest, undefined);
    assert.equal(inputs.tolerance, undefined, "empty: the config's");
    assert.equal(readBenchInputs(await FakeCore.for('bench', { tolerance: '1%' })).tolerance, 0.01);
    assert.equal(readBenchInputs(await FakeCore.for('bench', { tolerance: '0.02' })).tolerance, 0.02);
  });

  it('fails the step naming the input and what it accepts', async () => {
    assert.match(await failureOf({ scale: 'medium' }), /input scale: the scale must be quick or full, not "medium"/);
    assert.match(
      await failureOf({ 'fail-on': 'always' }),
      /input fail-on: fail-on must be never, regression or change/,
    );
    assert.match(await failureOf({ datasets: 'logs,enwik9' }), /input datasets: unknown dataset "enwik9"/);
    assert.match(await failureOf({ base: 'abc' }), /inputs base and head: only base was given/);
    assert.match(
      await failureOf({ tolerance: '60%' }),
      /input tolerance: must be a relative change above 0 and at most 50%/,
    );
    assert.match(await failureOf({ tolerance: 'tight' }), /input tolerance: must be a relative change/);
    assert.match(
      await failureOf({ base: 'abc', head: 'def', 'pr-number': '-3' }),
      /input pr-number: must be a whole number ≥ 1/,
    );
  });

  it('a config that is not there fails with the lab error naming the file, not an internal error', async () => {
    const failure = await failureOf({ config: '/nonexistent/perf-lab.json', scale: 'quick' });
    assert.match(failure, /\/nonexistent\/perf-lab\.json/);
    assert.doesNotMatch(failure, /internal error/);
  });
});
