import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseListing } from '../asm/parse.js';
import { describeLlvmMca, findLlvmMca, LLVM_MCA_CANDIDATES, LLVM_MCA_INSTALL } from './llvm-mca-tool.js';
import { mcaCrossCheck, mcaTextLines } from './mca.js';
import { loadCpuModel } from './model.js';

/*
 * Where llvm-mca is found (lab/uarch/llvm-mca-tool.ts), with fake llvm-mca scripts laid out as on the runners:
 * Ubuntu's /usr/lib/llvm-N/bin and llvm-mca-N, Homebrew's keg-only llvm@N, xcrun; never the host's llvm-mca.
 */
let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'perf-lab-mca-tool-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A fake executable at `path` answering --version with LLVM `version` (and logging its arguments beside it). */
async function fake(path: string, version: string): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(
    path,
    `#!/bin/sh\necho "$@" >> "${path}.args"\nif [ "$1" = --version ]; then echo "LLVM (http://llvm.org/):"; ` +
      `echo "  LLVM version ${version}"; else /bin/cat >/dev/null; echo "no figures"; fi\n`,
  );
  await chmod(path, 0o755);
  return path;
}

/** A fake `name` (brew, xcrun) on PATH printing `out`. */
async function fakeTool(dir: string, name: string, out: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, name), `#!/bin/sh\necho "${out}"\n`);
  await chmod(join(dir, name), 0o755);
}

const env = (root: string, path: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  PATH: path,
  PERF_LAB_LLVM_MCA_SEARCH_ROOT: root,
  ...extra,
});

describe('finding llvm-mca where the runners have it', () => {
  it('the candidates are data: PATH names, Ubuntu, Homebrew (brew --prefix, /opt/homebrew, /usr/local), xcrun', () => {
    assert.deepEqual(
      LLVM_MCA_CANDIDATES.map((candidate) => (candidate.kind === 'pattern' ? candidate.pattern : candidate.kind)),
      [
        'path',
        '/usr/lib/llvm-*/bin/llvm-mca',
        '{brew}/opt/llvm*/bin/llvm-mca',
        '/opt/homebrew/opt/llvm*/bin/llvm-mca',
        '/usr/local/opt/llvm*/bin/llvm-mca',
        'xcrun',
      ],
    );
  });

  it('none anywhere: "llvm-mca not installed"', async () => {
    const root = join(work, 'none');
    await mkdir(join(root, 'bin'), { recursive: true });
    assert.deepEqual(await findLlvmMca(env(root, join(root, 'bin'))), { notRun: LLVM_MCA_INSTALL });
  });

  it('ubuntu-24.04-arm: llvm-16, -17, -18 packages, no plain llvm-mca: the newest, llvm-mca-18, runs', async () => {
    const root = join(work, 'ubuntu');
    for (const [n, v] of [
      ['16', '16.0.6'],
      ['17', '17.0.6'],
      ['18', '18.1.3'],
    ] as const) {
      const real = await fake(join(root, `usr/lib/llvm-${n}/bin/llvm-mca`), v);
      await mkdir(join(root, 'usr/bin'), { recursive: true });
      await symlink(real, join(root, `usr/bin/llvm-mca-${n}`));
    }
    const tool = await findLlvmMca(env(root, join(root, 'usr/bin')));
    assert.ok(!('notRun' in tool), JSON.stringify(tool));
    assert.equal(tool.version, '18.1.3');
    assert.equal(tool.major, 18);
    assert.equal(tool.command, join(root, 'usr/bin/llvm-mca-18'));
    assert.equal(tool.foundBy, 'on PATH');
    // Each found once (llvm-mca-N links to /usr/lib/llvm-N/bin/llvm-mca).
    assert.deepEqual(
      tool.others.map((other) => other.version),
      ['17.0.6', '16.0.6'],
    );
    assert.match(
      describeLlvmMca(tool),
      /^llvm-mca 18\.1\.3 at .*llvm-mca-18 \(on PATH; also found: 17\.0\.6 at .*, 16\.0\.6/,
    );
  });

  it('macOS: keg-only Homebrew llvm@18 / llvm@20, found through brew --prefix and /opt/homebrew', async () => {
    const root = join(work, 'mac');
    const bin = join(root, 'bin');
    await fakeTool(bin, 'brew', join(root, 'brew-prefix'));
    await fake(join(root, 'brew-prefix/opt/llvm@18/bin/llvm-mca'), '18.1.8');
    await fake(join(root, 'opt/homebrew/opt/llvm@20/bin/llvm-mca'), '20.1.8');
    await fake(join(root, 'usr/local/opt/llvm/bin/llvm-mca'), '19.1.0');
    const tool = await findLlvmMca(env(root, bin));
    assert.ok(!('notRun' in tool));
    assert.equal(tool.version, '20.1.8');
    assert.equal(tool.foundBy, 'Homebrew keg (/opt/homebrew)');
    assert.deepEqual(tool.others.map((other) => other.version).sort(), ['18.1.8', '19.1.0']);
    // xcrun, when it finds one, is a candidate like the others.
    const xcode = join(root, 'xcode');
    await fake(join(xcode, 'Toolchain/usr/bin/llvm-mca'), '21.0.0');
    await fakeTool(join(xcode, 'bin'), 'xcrun', join(xcode, 'Toolchain/usr/bin/llvm-mca'));
    const withXcrun = await findLlvmMca(env(root, `${bin}:${join(xcode, 'bin')}`));
    assert.ok(!('notRun' in withXcrun));
    assert.equal(withXcrun.version, '21.0.0');
    assert.equal(withXcrun.foundBy, 'xcrun --find llvm-mca');
  });

  it('PERF_LAB_LLVM_MCA overrides the search, even with an older one; a broken override is said', async () => {
    const root = join(work, 'override');
    await fake(join(root, 'usr/lib/llvm-19/bin/llvm-mca'), '19.1.7');
    const old = await fake(join(root, 'old/llvm-mca'), '14.0.6');
    const tool = await findLlvmMca(env(root, join(root, 'bin'), { PERF_LAB_LLVM_MCA: old }));
    assert.ok(!('notRun' in tool));
    assert.equal(tool.command, old);
    assert.equal(tool.version, '14.0.6');
    assert.equal(tool.foundBy, 'PERF_LAB_LLVM_MCA');
    const missing = await findLlvmMca(env(root, join(root, 'bin'), { PERF_LAB_LLVM_MCA: join(root, 'nope') }));
    assert.ok('notRun' in missing);
    assert.match(missing.notRun, /^PERF_LAB_LLVM_MCA=.*nope: .*nope not found$/);
  });
});

describe("the cross-check takes the model's llvmMca entry for the running llvm-mca's LLVM version", () => {
  const [fn] = parseListing(
    [
      '0000000000000000 <f>:',
      '       0: 00 04 00 91  \tadd\tx0, x0, #1',
      '       4: 61 ff ff 54  \tb.ne\t0x0 <f>',
    ].join('\n'),
  );
  const ours = {
    predictedCycles: 1,
    criticalPathCycles: 1,
    resourceBoundCycles: 1,
    resourceBottleneck: '1 uop',
    bound: 'critical path',
    exact: true,
  };
  const paths = [{ roleName: 'loop', instructions: fn!.instructions, ours }];
  const saved = { ...process.env };
  async function withLlvm<T>(version: string, body: () => Promise<T>): Promise<{ result: T; args: string }> {
    const root = join(work, `llvm-${version}`);
    const command = await fake(join(root, `usr/lib/llvm-${version.split('.')[0]}/bin/llvm-mca`), version);
    Object.assign(process.env, env(root, join(root, 'bin')));
    try {
      const result = await body();
      return { result, args: await readFile(`${command}.args`, 'utf8') };
    } finally {
      process.env.PATH = saved.PATH;
      delete process.env.PERF_LAB_LLVM_MCA_SEARCH_ROOT;
    }
  }

  it('neoverse-n2 on LLVM 14: not run, saying why and which LLVM has N2', async () => {
    const { result } = await withLlvm('14.0.6', async () => mcaCrossCheck(await loadCpuModel('neoverse-n2'), paths));
    assert.deepEqual(mcaTextLines(result), [
      'llvm-mca cross-check: not run (no llvm-mca -mcpu fits neoverse-n2 — LLVM 14 has no scheduling model for ' +
        "Neoverse N2: -mcpu=neoverse-n2 is priced with Cortex-A57's (a 3-wide 2012 core), whose cycles would not " +
        "describe N2; LLVM ≥ 15 runs -mcpu=neoverse-n2 (LLVM's Neoverse N2 model))",
    ]);
  });

  it("neoverse-n2 on LLVM 18 (ubuntu-24.04-arm's newest) runs -mcpu=neoverse-n2", async () => {
    const { result, args } = await withLlvm('18.1.3', async () =>
      mcaCrossCheck(await loadCpuModel('neoverse-n2'), paths),
    );
    assert.match(args, /-mtriple=aarch64 -mcpu=neoverse-n2 -iterations=500/);
    // The fake's output has no figures: said as such, with the -mcpu it ran.
    assert.equal(result.ran, false);
    assert.equal(result.mcpu, 'neoverse-n2');
    assert.match(mcaTextLines(result)[0]!, /not run \(llvm-mca's output is unparseable/);
  });

  it('apple-m3 on LLVM 14 runs -mcpu=apple-m1, on LLVM 20 (macos-26) -mcpu=apple-m3', async () => {
    const m3 = await loadCpuModel('apple-m3');
    assert.match((await withLlvm('14.0.6', () => mcaCrossCheck(m3, paths))).args, /-mcpu=apple-m1 /);
    assert.match((await withLlvm('20.1.8', () => mcaCrossCheck(m3, paths))).args, /-mcpu=apple-m3 /);
  });

  it('a version with no entry (neoverse-v1 on LLVM 17, not checked) says so', async () => {
    const { result } = await withLlvm('17.0.6', async () => mcaCrossCheck(await loadCpuModel('neoverse-v1'), paths));
    assert.match(
      mcaTextLines(result)[0]!,
      new RegExp(
        String.raw`^llvm-mca cross-check: not run \(the neoverse-v1 model has no llvm-mca entry for LLVM 17 ` +
          String.raw`\(llvm-mca 17\.0\.6 at .*\): it was checked on LLVM 14, LLVM 15–16, LLVM ≥ 19; ` +
          String.raw`LLVM ≥ 19 runs -mcpu=neoverse-v1 \(LLVM's Neoverse V1 model\)\)$`,
      ),
    );
  });
});
