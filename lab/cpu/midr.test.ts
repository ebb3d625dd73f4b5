import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { identifyCpu } from './host.js';
import { armParts, identifyFromCpuinfo, midrText, parseCpuinfo } from './midr.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

describe('CPU identification from MIDR in /proc/cpuinfo', () => {
  it('reads every core block, the fields in lower-case hex', () => {
    const cores = parseCpuinfo(fixture('neoverse-n2.cpuinfo'));
    assert.equal(cores.length, 4);
    assert.deepEqual(cores[0], { implementer: '0x41', part: '0xd49', variant: '0x0', revision: '0' });
    assert.equal(midrText(cores[0]), '0x41:0xd49 (variant 0x0, revision 0)');
    // Upper-case and unpadded values as some kernels print them are the same part.
    assert.deepEqual(parseCpuinfo('CPU implementer : 0X41\nCPU part : 0xD49\n')[0]?.part, '0xd49');
  });

  const expected: Array<[string, string, string | null]> = [
    ['neoverse-n1.cpuinfo', 'Arm Neoverse N1', null],
    ['neoverse-n2.cpuinfo', 'Arm Neoverse N2', 'neoverse-n2'],
    ['neoverse-v1.cpuinfo', 'Arm Neoverse V1', 'neoverse-v1'],
    ['neoverse-v2.cpuinfo', 'Arm Neoverse V2', 'neoverse-v2'],
  ];
  for (const [file, name, model] of expected) {
    it(`${file}: ${name}, model ${model ?? 'none'}`, () => {
      const cpu = identifyFromCpuinfo(fixture(file))!;
      assert.equal(cpu.name, name);
      assert.equal(cpu.model, model);
      assert.equal(cpu.known, true);
      assert.equal(cpu.midr?.implementer, '0x41');
    });
  }

  it('an Arm core without a model gets the Arm fallback model, said why', () => {
    const n1 = identifyFromCpuinfo(fixture('neoverse-n1.cpuinfo'))!;
    assert.equal(n1.fallback?.model, 'neoverse-n2');
    assert.match(n1.fallback.why, /without a model of its own/);
  });

  it('names an unlisted part by its numbers, never "unknown" or empty', () => {
    const cpu = identifyFromCpuinfo(fixture('unknown-arm-part.cpuinfo'))!;
    assert.equal(cpu.name, 'ARM64 CPU (implementer 0x41 Arm, part 0xd8e)');
    assert.equal(cpu.known, false);
    assert.equal(cpu.model, null);
    assert.equal(cpu.fallback?.model, 'neoverse-n2');
    const other = identifyFromCpuinfo('CPU implementer\t: 0xc0\nCPU part\t: 0xac3\n')!;
    assert.equal(other.name, 'ARM64 CPU (implementer 0xc0, part 0xac3)');
    assert.equal(other.fallback, null, 'no fallback for an implementer the table does not know');
  });

  it('names a machine of mixed cores by each kind', () => {
    const mixed = `${fixture('neoverse-n2.cpuinfo')}\n${fixture('neoverse-v2.cpuinfo')}`;
    assert.equal(identifyFromCpuinfo(mixed)!.name, 'Arm Neoverse N2 + Arm Neoverse V2');
  });

  it('falls back to the brand string where cpuinfo has no MIDR (x86 Linux, macOS)', () => {
    assert.equal(identifyFromCpuinfo(fixture('x86.cpuinfo')), undefined);
    const x86 = identifyCpu({ cpuinfo: fixture('x86.cpuinfo'), brand: ' Intel(R) Xeon(R) Platinum 8272CL ' });
    assert.equal(x86.name, 'Intel(R) Xeon(R) Platinum 8272CL');
    assert.equal(x86.from, 'CPU brand string (os.cpus)');
    assert.equal(identifyCpu({ cpuinfo: undefined, brand: 'Apple M1 (Virtual)' }).name, 'Apple M1 (Virtual)');
    const n2 = identifyCpu({ cpuinfo: fixture('neoverse-n2.cpuinfo'), brand: '' });
    assert.equal(n2.name, 'Arm Neoverse N2');
    assert.equal(n2.from, 'MIDR in /proc/cpuinfo');
  });

  it('every part and implementer in the table has a source, and each model it names exists', async () => {
    const { listModels } = await import('../uarch/model.js');
    const models = await listModels();
    const table = armParts();
    for (const entry of [...table.parts, ...table.implementers]) assert.ok(entry.source.length > 10);
    for (const part of table.parts) if (part.model) assert.ok(models.includes(part.model), part.model);
    for (const implementer of table.implementers)
      if (implementer.fallbackModel) assert.ok(models.includes(implementer.fallbackModel));
  });
});
