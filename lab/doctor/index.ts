import { join } from 'node:path';
import { digestFile, fileExists } from '../core/files.js';
import { sharedCorporaDir } from '../core/paths.js';
import { STAND_IN_CORPORA } from '../datasets/silesia.js';
import { LIBDEFLATE_GIT_URL } from '../build/libdeflate-source.js';
import { attempt } from '../core/process.js';
import { machineInfo } from '../bench/machine.js';
import { hostCpu, pageSizeBytes } from '../cpu/host.js';
import { listModels, loadCpuModel } from '../uarch/model.js';
import { chooseModel } from '../uarch/choose-model.js';
import { findLlvmMca } from '../uarch/llvm-mca-tool.js';
import { cpuCheck } from './cpu.js';
import { llvmMcaCheck } from './llvm-mca.js';

export interface Check {
  name: string;
  needed: 'required' | 'optional';
  /** What it is for. */
  purpose: string;
  ok: boolean;
  detail: string;
  /** What to install when it is missing. */
  fix: string;
}

async function versionOf(command: string, args: string[] = ['--version']): Promise<string | undefined> {
  const result = await attempt(command, args, { timeoutMs: 20_000 });
  if (!result.ok) return undefined;
  return `${result.stdout}\n${result.stderr}`.trim().split('\n')[0]?.trim();
}

const isMac = process.platform === 'darwin';
const install = (debian: string, mac: string) => (isMac ? `brew install ${mac}` : `apt-get install ${debian}`);

/** Checks the tools and inputs each part of the lab needs, and says what to install. */
export async function runDoctor(options: { network?: boolean } = {}): Promise<Check[]> {
  const checks: Check[] = [];
  const tool = async (
    name: string,
    needed: Check['needed'],
    purpose: string,
    fix: string,
    command = name,
    args?: string[],
  ) => {
    const version = await versionOf(command, args);
    checks.push({ name, needed, purpose, ok: Boolean(version), detail: version ?? 'not found', fix });
  };
  const models = await Promise.all((await listModels()).map((name) => loadCpuModel(name)));
  checks.push(cpuCheck(hostCpu(), chooseModel(machineInfo(), models), pageSizeBytes()));
  const [major] = process.versions.node.split('.').map(Number);
  checks.push({
    name: 'node',
    needed: 'required',
    purpose: 'runs perf-lab',
    ok: (major ?? 0) >= 20,
    detail: process.version,
    fix: 'install Node.js 20 or newer',
  });
  await tool(
    'cc',
    'required',
    'compiles the native harness and libdeflate',
    isMac ? 'xcode-select --install' : 'apt-get install build-essential',
    process.env.CC ?? 'cc',
  );
  await tool(
    'make',
    'required',
    'builds libdeflate ≤ 1.14 (Makefile)',
    isMac ? 'xcode-select --install' : 'apt-get install make',
  );
  await tool('cmake', 'required', 'builds libdeflate ≥ 1.15', install('cmake', 'cmake'));
  await tool('gzip', 'required', 'compresses the datasets', install('gzip', 'gzip'));
  await tool(
    'cargo',
    'required',
    'builds the decoder under test',
    'install Rust (rustup, or apt-get install cargo rustc)',
  );
  await tool(
    'rustc',
    'required',
    'records the toolchain (rustc, LLVM)',
    'install Rust (rustup, or apt-get install cargo rustc)',
    'rustc',
    ['-vV'],
  );
  await tool('git', 'required', 'fetches sources, worktrees for pr-check, baseline publishing', install('git', 'git'));
  await tool(
    'pkg-config',
    'optional',
    'finds the system libdeflate (source kind "system")',
    install('pkg-config', 'pkg-config'),
  );
  const systemLibdeflate = await versionOf('pkg-config', ['--modversion', 'libdeflate']);
  checks.push({
    name: 'libdeflate (system)',
    needed: 'optional',
    purpose: 'source kind "system"',
    ok: Boolean(systemLibdeflate),
    detail: systemLibdeflate ? `libdeflate ${systemLibdeflate}` : 'not found',
    fix: install('libdeflate-dev libdeflate-tools', 'libdeflate'),
  });
  await tool('llvm-objdump', 'optional', 'disassembles binaries for perf-lab analyze', install('llvm', 'llvm'));
  checks.push(llvmMcaCheck(await findLlvmMca(), install('llvm', 'llvm')));
  await tool('clang', 'optional', 'cross-compiles ARM64 test code', install('clang', 'llvm'));
  if (!isMac)
    await tool(
      'aarch64-linux-gnu-objdump',
      'optional',
      'reads GNU objdump listings of ARM64 code',
      'apt-get install binutils-aarch64-linux-gnu',
    );
  // The bench's instruction counts (bench/counts.ts): valgrind's callgrind, Linux only.
  if (isMac)
    checks.push({
      name: 'valgrind',
      needed: 'optional',
      purpose: 'instruction counts in the bench',
      ok: false,
      detail: 'not available on macOS (no valgrind on macOS arm64): the results say so',
      fix: 'none on macOS; counts run on the Linux runners',
    });
  else await tool('valgrind', 'optional', 'instruction counts in the bench (callgrind)', 'apt-get install valgrind');
  if (isMac)
    await tool('otool', 'optional', 'disassembles Mach-O binaries', 'xcode-select --install', 'otool', ['--version']);
  const apt = await versionOf('apt-get');
  checks.push({
    name: 'apt-get (Debian source packages)',
    needed: 'optional',
    purpose: 'libdeflate source kind "debian"',
    ok: Boolean(apt),
    detail: apt ?? 'not found',
    fix: 'use source kind git, tarball, path or system on this machine',
  });
  const corpora = sharedCorporaDir();
  let corporaOk = true;
  for (const [file, sha256] of Object.entries(STAND_IN_CORPORA)) {
    const path = join(corpora, file);
    if (!(await fileExists(path)) || (await digestFile(path)).sha256 !== sha256) corporaOk = false;
  }
  // What a hostile decoder leaves running is killed only where the harness can adopt it (Linux's child subreaper).
  checks.push({
    name: 'process containment',
    needed: 'optional',
    purpose: 'kill everything a decoder starts, even after setsid()',
    ok: process.platform === 'linux',
    detail:
      process.platform === 'linux'
        ? 'child subreaper + PR_SET_PDEATHSIG'
        : `${process.platform}: no child subreaper; a setsid() descendant of a decoder can outlive the run`,
    fix:
      'on macOS runners the job ends with the runner; locally, check for stray processes after a run of ' +
      'untrusted code',
  });
  checks.push({
    name: 'Calgary + Canterbury corpora',
    needed: 'optional',
    purpose: 'the SILESIA stand-in when no silesia.zip is at hand',
    ok: corporaOk,
    detail: corporaOk ? corpora : `missing or altered in ${corpora}`,
    fix: 'put calgary.tar.gz and cantrbry.tar.gz there, or set PERF_LAB_SHARED_CORPORA',
  });
  if (options.network) {
    const reach = await attempt('git', ['ls-remote', '--exit-code', LIBDEFLATE_GIT_URL, 'HEAD'], { timeoutMs: 15_000 });
    checks.push({
      name: 'libdeflate git repository',
      needed: 'optional',
      purpose: 'libdeflate source kind "git" (the default on GitHub)',
      ok: reach.ok,
      detail: reach.ok ? LIBDEFLATE_GIT_URL : (reach.stderr || reach.failure).split('\n')[0]!,
      fix: 'offline, use a Debian source package, a tarball, a local path or the system library',
    });
  }
  return checks;
}

export function doctorReport(checks: readonly Check[]): string {
  const lines = checks.map(
    (check) =>
      `${check.ok ? '✓' : check.needed === 'required' ? '✗' : '–'} ${check.name.padEnd(30)} ` +
      `${check.ok ? check.detail : `${check.detail} — ${check.purpose}; to fix: ${check.fix}`}`,
  );
  const missing = checks.filter((check) => !check.ok && check.needed === 'required');
  lines.push(
    '',
    missing.length
      ? `${missing.length} required tool(s) missing: ${missing.map((check) => check.name).join(', ')}`
      : 'all required tools are present',
  );
  return `${lines.join('\n')}\n`;
}
