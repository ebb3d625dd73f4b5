import assert from 'node:assert/strict';
import { appendFile, chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { fileExists, readJsonFile } from '../core/files.js';
import { hashTree } from './cache.js';
import type { LabError } from '../core/errors.js';
import { buildCargoDecoder, cargoFailureHint, type CargoDecoderSpec } from './decoder.js';
import { materializeGzippyShape, materializeMinizOxideShim } from './shim.js';

let work: string;
let cargoLog: string;
let codegenLog: string;
let pristine: string;
const saved = { PATH: process.env.PATH, PERF_LAB_CACHE: process.env.PERF_LAB_CACHE };

/** Lines of a log file (none when it does not exist). */
async function lines(path: string): Promise<string[]> {
  if (!(await fileExists(path))) return [];
  return (await readFile(path, 'utf8')).split('\n').filter(Boolean);
}
const cargoBuilds = async () => (await lines(cargoLog)).filter((line) => line.startsWith('build '));

/** A fresh copy of the miniz_oxide shim project: same content, new folder. */
async function copyOfShim(folder: string): Promise<string> {
  const dir = join(work, 'projects', folder);
  await cp(pristine, dir, { recursive: true });
  return dir;
}

// A non-deterministic generator: it logs its run and writes the time into the tree.
const codegen = () => `echo "$PWD" >> '${codegenLog}' && date +%s%N > generated.txt`;
const spec = (dir: string, overrides: Partial<CargoDecoderSpec> = {}): CargoDecoderSpec => ({
  name: 'same-content',
  cargo: { path: dir },
  codegen: codegen(),
  features: [],
  env: {},
  threads: 1,
  adapter: { kind: 'cabi' },
  ...overrides,
});

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'perf-lab-decoder-'));
  process.env.PERF_LAB_CACHE = join(work, 'cache');
  cargoLog = join(work, 'cargo.log');
  codegenLog = join(work, 'codegen.log');
  // cargo on PATH logs each invocation, then runs the real one.
  const realCargo = (await execa('sh', ['-c', 'command -v cargo'])).stdout.trim();
  await mkdir(join(work, 'bin'));
  await writeFile(join(work, 'bin', 'cargo'), `#!/bin/sh\necho "$*" >> '${cargoLog}'\nexec '${realCargo}' "$@"\n`);
  await chmod(join(work, 'bin', 'cargo'), 0o755);
  process.env.PATH = `${join(work, 'bin')}:${process.env.PATH}`;
  pristine = ((await materializeMinizOxideShim()).cargo as { path: string }).path;
});
after(async () => {
  process.env.PATH = saved.PATH;
  if (saved.PERF_LAB_CACHE === undefined) delete process.env.PERF_LAB_CACHE;
  else process.env.PERF_LAB_CACHE = saved.PERF_LAB_CACHE;
  await rm(work, { recursive: true, force: true });
});

describe('cargo decoder builds are keyed by content, never by folder', () => {
  it(
    'builds the same content in two folders once: the ' + 'second is a cache hit, with neither codegen nor cargo',
    async () => {
      const first = await copyOfShim('first');
      const cold = await buildCargoDecoder(spec(first));
      assert.equal(cold.cached, false);
      assert.equal((await cargoBuilds()).length, 1);
      assert.deepEqual(await lines(codegenLog), [first], 'codegen ran once, in the project');
      // The record keeps the tree codegen left (what cargo built), beside the tree the key covers.
      assert.notEqual(cold.builtTree, cold.sourceTree);
      // Its Cargo.lock too: the copy had it before the build (materializeCrate), and cargo left it as it was.
      assert.equal(cold.builtTree, await hashTree(first));
      const record = (await readJsonFile(join(cold.artifactPath, '..', 'build.json'), 'test', '')) as {
        builtTree: string;
      };
      assert.equal(record.builtTree, cold.builtTree);

      const second = await copyOfShim('second-folder-with-another-name');
      const warm = await buildCargoDecoder(spec(second));
      assert.equal(warm.cached, true);
      assert.equal(warm.cacheKey, cold.cacheKey);
      assert.equal(warm.artifactPath, cold.artifactPath);
      assert.equal(warm.builtTree, cold.builtTree, 'the build that was measured, not a new codegen');
      assert.equal(warm.description, `cargo project ${second}`, 'described as this folder');
      assert.equal((await cargoBuilds()).length, 1, 'cargo build did not run again');
      assert.equal((await lines(codegenLog)).length, 1, 'codegen did not run on the hit');
      assert.equal(await fileExists(join(second, 'generated.txt')), false);
      // One cargo target folder, by decoder name (not by a folder's path), and its lock released.
      assert.deepEqual(await readdir(join(work, 'cache', 'cargo-target')), ['same-content']);
    },
  );

  it(
    'misses on a change to the source tree, to the ' + 'codegen command or to the features (codegen once each)',
    async () => {
      const hit = await buildCargoDecoder(spec(await copyOfShim('again')));
      assert.equal(hit.cached, true);
      const builds = (await cargoBuilds()).length;
      const codegens = (await lines(codegenLog)).length;

      const edited = await copyOfShim('edited');
      await appendFile(join(edited, 'src', 'lib.rs'), '\n// an edit\n');
      const source = await buildCargoDecoder(spec(edited));
      const command = await buildCargoDecoder(
        spec(await copyOfShim('other-codegen'), { codegen: `${codegen()} && echo other > other.txt` }),
      );
      const features = await buildCargoDecoder(spec(await copyOfShim('features'), { features: ['skip-isize'] }));
      for (const build of [source, command, features]) assert.equal(build.cached, false);
      assert.equal(new Set([hit, source, command, features].map((build) => build.cacheKey)).size, 4);
      assert.equal((await cargoBuilds()).length, builds + 3);
      assert.equal((await lines(codegenLog)).length, codegens + 3);
      assert.match((await cargoBuilds()).at(-1)!, /--features skip-isize/);
    },
  );

  it("builds a rust adapter's shim over the same project in two folders, under two names, once", async () => {
    const pristineShape = ((await materializeGzippyShape()).cargo as { path: string }).path;
    const builds = (await cargoBuilds()).length;
    const results = [];
    // The warm-up job builds the default branch as `shape`; a PR check builds the same commit as `shape-base`.
    for (const [folder, name] of [
      ['shape-a', 'shape'],
      ['shape-b-elsewhere', 'shape-base'],
    ] as const) {
      const dir = join(work, 'projects', folder);
      await cp(pristineShape, dir, { recursive: true });
      results.push(await buildCargoDecoder({ ...(await materializeGzippyShape()), name, cargo: { path: dir } }));
    }
    const [cold, warm] = results as [(typeof results)[0], (typeof results)[0]];
    assert.deepEqual([cold.cached, warm.cached], [false, true]);
    assert.deepEqual([cold.name, warm.name], ['shape', 'shape-base'], 'each build record carries its own name');
    assert.equal(warm.artifactPath, cold.artifactPath);
    assert.equal((await cargoBuilds()).length, builds + 1);
    assert.match(cold.rust!.cargoToml, /path = ".*shape-a"/, 'the record shows the Cargo.toml that built it');
    assert.deepEqual(await readdir(join(work, 'cache', 'rust-shims')), ['shape'], 'one shim folder, by name');
  });
});

describe("the lab's own crates, copied into the cache", () => {
  it('have their lock file before any build, so the first build does not change the tree its key covers', async () => {
    // Without it cargo writes Cargo.lock at the first build: the next build of the same crate misses and builds again.
    const before = await hashTree(pristine);
    assert.equal(await fileExists(join(pristine, 'Cargo.lock')), true, 'Cargo.lock written when copied');
    assert.equal(await hashTree(((await materializeMinizOxideShim()).cargo as { path: string }).path), before);
    const shape = ((await materializeGzippyShape()).cargo as { path: string }).path;
    assert.equal(await fileExists(join(shape, 'Cargo.lock')), true);
  });
});

describe('what a failed cargo build tells the user to do', () => {
  it("a repository's .github/perf-lab.json given to bench: use pr-check (its '.' is the repository)", async () => {
    const dotGithub = join(work, 'repo', '.github');
    await mkdir(dotGithub, { recursive: true });
    const spec = { name: 'gzippy', cargo: { path: '.' }, adapter: { kind: 'cabi' } } as CargoDecoderSpec;
    await assert.rejects(buildCargoDecoder(spec, dotGithub), (error: LabError) => {
      assert.equal(error.message, `${dotGithub} has no Cargo.toml.`);
      assert.match(
        error.hint,
        /names the repository \("\."\) for pr-check .* `perf-lab pr-check --repo <the repository>`/,
      );
      return true;
    });
    await assert.rejects(buildCargoDecoder(spec, join(work, 'repo')), (error: LabError) => {
      assert.equal(error.hint, 'set decoder.cargo.path to the root of the cargo project.');
      return true;
    });
  });
  const shim = { dir: '/cache/rust-shims/gzippy-head', call: 'gzippy::decompress(input)' };
  it('a registry it could not reach: go offline with a source replacement, not "check the call"', () => {
    const hint = cargoFailureHint(
      'error: failed to get `crc32fast` as a dependency of package `gzippy v0.1.0`\n' +
        'Caused by: download of config.json failed\nCould not resolve host: index.crates.io',
      shim,
    );
    assert.match(hint, /^cargo could not reach a crate registry/);
    assert.match(hint, /\[source\] replacement/);
  });
  it("errors in the decoder's own code (full paths) are the decoder's to fix; errors in the shim, the call's", () => {
    const decoderError = 'error[E0425]: cannot find value `x`\n  --> /work/pr/head/src/inflate.rs:12:5\n';
    assert.equal(cargoFailureHint(decoderError, shim), "fix the decoder's build (cargo's errors are above).");
    const shimError = 'error[E0425]: cannot find function `decompress`\n  --> src/lib.rs:21:17\n';
    assert.match(cargoFailureHint(shimError, shim), /^check the adapter's call \(`gzippy::decompress\(input\)`\)/);
    assert.equal(cargoFailureHint(shimError), "fix the decoder's build (cargo's errors are above).");
  });
});
