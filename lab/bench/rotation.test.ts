import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LabError } from '../core/errors.js';
import { requireFullRotation } from './run.js';

describe('rounds per batch', () => {
  it('must hold one whole rotation of the contenders, refused before anything is built', () => {
    assert.doesNotThrow(() => requireFullRotation(2, 2, 'bench'));
    assert.doesNotThrow(() => requireFullRotation(3, 3, 'calibrate'));
    assert.throws(
      () => requireFullRotation(2, 3, 'bench'),
      (error: unknown) =>
        error instanceof LabError &&
        error.step === 'bench: config' &&
        /bench\.rounds is 2, fewer than the 3 contenders/.test(error.message) &&
        /at least 3/.test(error.hint),
    );
  });
});
