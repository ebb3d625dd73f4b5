import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { identifyCpu } from '../cpu/host.js';
import { chooseModel, resolveCpuModel } from './choose-model.js';
import { listModels, loadCpuModel, type CpuModel } from './model.js';

const cpuinfo = (name: string) => readFileSync(join(import.meta.dirname, '..', 'cpu', 'fixtures', name), 'utf8');
/** A Linux ARM64 machine as machineInfo() records it, from a cpuinfo fixture. */
const linuxArm = (fixture: string) => {
  const cpu = identifyCpu({ cpuinfo: cpuinfo(fixture), brand: undefined });
  return { os: 'linux', arch: 'arm64', cpuModel: cpu.name, midr: cpu.midr! };
};

let models: CpuModel[];
before(async () => {
  models = await Promise.all((await listModels()).map((name) => loadCpuModel(name)));
});

describe('the CPU model chosen for a machine', () => {
  it('Apple M-series on macOS by the brand string, as before (never the llvm-mca cross-check model)', () => {
    const mac = { os: 'darwin', arch: 'arm64', cpuModel: 'Apple M1 (Virtual)' };
    assert.deepEqual(chooseModel(mac, models), {
      name: 'apple-m1',
      why: "chosen for this machine's CPU, Apple M1 (Virtual)",
    });
    assert.equal(chooseModel({ ...mac, cpuModel: 'Apple M3 Max' }, models).name, 'apple-m3');
  });

  it('neoverse-n2 on an N2 Linux host, V1/V2 on theirs, by MIDR', () => {
    const n2 = chooseModel(linuxArm('neoverse-n2.cpuinfo'), models);
    assert.equal(n2.name, 'neoverse-n2');
    assert.equal(n2.why, "chosen for this machine's CPU, Arm Neoverse N2 (MIDR 0x41:0xd49 (variant 0x0, revision 0))");
    assert.equal(chooseModel(linuxArm('neoverse-v1.cpuinfo'), models).name, 'neoverse-v1');
    assert.equal(chooseModel(linuxArm('neoverse-v2.cpuinfo'), models).name, 'neoverse-v2');
  });

  it('an Arm core with no model (N1, an unlisted part): the Arm fallback, saying so', () => {
    for (const fixture of ['neoverse-n1.cpuinfo', 'unknown-arm-part.cpuinfo']) {
      const choice = chooseModel(linuxArm(fixture), models);
      assert.equal(choice.name, 'neoverse-n2');
      assert.match(choice.why, /^no model for .+ \(MIDR 0x41:0xd(0c|8e)/);
      assert.match(choice.why, /its numbers are not sourced for this core$/);
    }
  });

  it('an unknown host (x86, an M4): the default, saying which and why', () => {
    const x86 = chooseModel({ os: 'linux', arch: 'x64', cpuModel: 'Intel(R) Xeon(R) Platinum 8272CL' }, models);
    assert.equal(x86.name, 'apple-m1');
    assert.equal(
      x86.why,
      "no model names this machine's CPU (Intel(R) Xeon(R) Platinum 8272CL, linux x64): apple-m1, the default, " +
        "is used; analyze's and pr-check's --cpu choose another",
    );
    assert.equal(chooseModel({ os: 'darwin', arch: 'arm64', cpuModel: 'Apple M4' }, models).name, 'apple-m1');
  });

  it('an explicit --cpu wins over the machine', async () => {
    const model = await resolveCpuModel('apple-m2', () => linuxArm('neoverse-n2.cpuinfo'));
    assert.equal(model.name, 'apple-m2');
    assert.equal(model.chosenBecause, 'chosen by --cpu');
    const chosen = await resolveCpuModel(undefined, () => linuxArm('neoverse-n2.cpuinfo'));
    assert.equal(chosen.name, 'neoverse-n2');
    assert.match(chosen.chosenBecause!, /Arm Neoverse N2/);
  });
});
