import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { identifyCpu } from '../cpu/host.js';
import { cpuCheck } from './cpu.js';
import { doctorReport } from './index.js';

const cpuinfo = (name: string) => readFileSync(join(import.meta.dirname, '..', 'cpu', 'fixtures', name), 'utf8');

describe('perf-lab doctor: the CPU', () => {
  it('prints the CPU, its MIDR, the page size and the model chosen (an N2 runner)', () => {
    const cpu = identifyCpu({ cpuinfo: cpuinfo('neoverse-n2.cpuinfo'), brand: undefined });
    const check = cpuCheck(cpu, { name: 'neoverse-n2', why: "chosen for this machine's CPU, Arm Neoverse N2" }, 4096);
    assert.equal(check.ok, true);
    assert.match(
      doctorReport([check]),
      new RegExp(
        String.raw`^✓ CPU {28}Arm Neoverse N2 \(from the MIDR in \/proc\/cpuinfo, MIDR 0x41:0xd49 ` +
          String.raw`\(variant 0x0, revision 0\)\); 4 KiB pages; analysis model neoverse-n2: chosen ` +
          String.raw`for this machine's CPU, Arm Neoverse N2$`,
        'm',
      ),
    );
  });

  it('says what it did not recognise and what to do', () => {
    const cpu = identifyCpu({ cpuinfo: cpuinfo('unknown-arm-part.cpuinfo'), brand: undefined });
    const check = cpuCheck(cpu, { name: 'neoverse-n2', why: 'no model for it' }, null);
    assert.equal(check.ok, false);
    const report = doctorReport([check]);
    assert.match(report, /ARM64 CPU \(implementer 0x41 Arm, part 0xd8e\)/);
    assert.match(report, /page size unknown/);
    assert.match(report, /to fix: add the part to lab\/cpu\/arm-parts\.json/);
  });
});
