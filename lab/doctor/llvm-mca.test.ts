import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { findLlvmMca } from '../uarch/llvm-mca-tool.js';
import { runDoctor } from './index.js';
import { llvmMcaCheck } from './llvm-mca.js';

/* Doctor's llvm-mca line says which llvm-mca the cross-check runs, found by the cross-check's own search. */
describe("doctor's llvm-mca line", () => {
  it('names the version, path and how it was found, or why there is none', () => {
    const tool = {
      command: '/opt/homebrew/opt/llvm@18/bin/llvm-mca',
      version: '18.1.8',
      major: 18,
      foundBy: 'Homebrew keg (/opt/homebrew)',
      others: [],
    };
    assert.deepEqual(llvmMcaCheck(tool, 'brew install llvm'), {
      name: 'llvm-mca',
      needed: 'optional',
      purpose: 'the llvm-mca cross-check of perf-lab analyze (the newest found runs)',
      ok: true,
      detail: 'llvm-mca 18.1.8 at /opt/homebrew/opt/llvm@18/bin/llvm-mca (Homebrew keg (/opt/homebrew))',
      fix: 'brew install llvm, or point PERF_LAB_LLVM_MCA at an llvm-mca',
    });
    const none = llvmMcaCheck({ notRun: 'llvm-mca not installed: apt-get install llvm / brew install llvm' }, 'x');
    assert.equal(none.ok, false);
    assert.match(none.detail, /^llvm-mca not installed/);
  });

  it('on this machine: the same llvm-mca as the cross-check', async () => {
    const found = await findLlvmMca();
    const line = (await runDoctor()).find((check) => check.name === 'llvm-mca');
    assert.ok(line);
    assert.equal(line.ok, !('notRun' in found));
    if (!('notRun' in found)) {
      const version = await execa(found.command, ['--version']);
      assert.ok(String(version.stdout).includes(`LLVM version ${found.version}`));
      assert.match(line.detail, new RegExp(`^llvm-mca ${found.version.replace(/\./g, '\\.')} at `));
    }
  });
});
