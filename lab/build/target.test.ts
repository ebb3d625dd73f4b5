import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LabError } from '../core/errors.js';
import { buildTarget, targetCommand } from './target.js';

describe('the build target seam (PERF_LAB_TARGET, PERF_LAB_EXEC_WRAPPER)', () => {
  it('is the host when unset: no cross tools, no wrapper', () => {
    const target = buildTarget({});
    assert.equal(target.name, 'host');
    assert.equal(target.cargoTarget, undefined);
    assert.equal(target.cross, false);
    assert.deepEqual(targetCommand(target, ['harness', 'spec.txt']), ['harness', 'spec.txt']);
  });

  it('refuses an unknown target, naming the known ones', () => {
    assert.throws(
      () => buildTarget({ PERF_LAB_TARGET: 'riscv64-linux-gnu' }),
      (error: unknown) =>
        error instanceof LabError &&
        /unknown PERF_LAB_TARGET "riscv64-linux-gnu"/.test(error.message) &&
        /aarch64-linux-gnu/.test(error.hint),
    );
  });

  it('refuses a wrapper without a target', () => {
    assert.throws(
      () => buildTarget({ PERF_LAB_EXEC_WRAPPER: 'qemu-aarch64' }),
      (error: unknown) => error instanceof LabError && /without PERF_LAB_TARGET/.test(error.message),
    );
  });

  it('refuses a wrapper that is not on PATH, naming what installs it', () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      assert.throws(
        () => buildTarget({ PERF_LAB_TARGET: 'aarch64-linux-gnu', PERF_LAB_EXEC_WRAPPER: 'qemu-aarch64' }),
        (error: unknown) =>
          error instanceof LabError &&
          // Either a cross tool (also looked up on PATH) or the wrapper is named, each with its Debian package.
          /not found here|is not on PATH/.test(error.message) &&
          /install (gcc-aarch64-linux-gnu|qemu-user)/.test(error.hint),
      );
    } finally {
      process.env.PATH = saved;
    }
  });

  it('checks a cross target once per setting: the same answer, its tools not looked up again', (t) => {
    const env = { PERF_LAB_TARGET: 'aarch64-linux-gnu' };
    let first;
    try {
      first = buildTarget(env);
    } catch (error) {
      return t.skip(`no cross tools here: ${(error as Error).message}`);
    }
    assert.equal(first.cross, true);
    assert.equal(buildTarget(env), first);
    assert.notEqual(buildTarget({}), first);
  });
});
