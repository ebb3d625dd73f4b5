import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LabError } from '../core/errors.js';
import { cargoDecoderSchema, buildCargoDecoder } from './decoder.js';
import { planRustShim, rustShimDir, shimSource, writeRustShim } from './rust-shim.js';
import { materializeGzippyShape } from './shim.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'perf-lab-rust-shim-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('rust adapter: the shim the lab writes', () => {
  it('wraps the call in the C ABI: the owned-output pair for a Vec, the caller-buffer function for a slice', () => {
    const vec = shimSource({ kind: 'rust', call: 'gzippy::decompress_with_threads(input, threads)', output: 'vec' }, 4);
    assert.match(vec, /pub unsafe extern "C" fn perf_lab_rust_decompress_owned\(/);
    assert.match(vec, /pub unsafe extern "C" fn perf_lab_rust_free_output\(/);
    assert.match(
      vec,
      new RegExp(
        String.raw`catch_unwind\(AssertUnwindSafe\(\|\| ` +
          String.raw`PerfLabOutput::into_output\(gzippy::decompress_with_threads\(input, ` +
          String.raw`threads\)\)\)\)`,
      ),
    );
    assert.match(vec, /^const THREADS: usize = 4;$/m);
    const slice = shimSource({ kind: 'rust', call: 'gzippy::decompress_into(input, output)', output: 'slice' }, 1);
    assert.match(
      slice,
      new RegExp(
        String.raw`pub unsafe extern "C" fn perf_lab_rust_decompress_slice\(input: \*const u8, ` +
          String.raw`in_len: usize, out: \*mut u8, out_cap: usize, out_len: \*mut usize\) -> i32`,
      ),
    );
    assert.match(slice, /Ok\(Some\(written\)\) if written <= out_cap/);
  });

  it('refuses a call that is not one expression, at config time', () => {
    const parsed = cargoDecoderSchema.safeParse({
      name: 'x',
      cargo: { path: '.' },
      adapter: { kind: 'rust', call: 'a(input); std::process::exit(0)' },
    });
    assert.equal(parsed.success, false);
    assert.match(JSON.stringify(parsed.error.issues), /must be one expression/);
  });

  it('depends on the decoder crate by path, with its features, profile, toolchain file and lock file', async () => {
    const spec = await materializeGzippyShape({ folder: 'gzippy-shape-shim-test' });
    const project = (spec.cargo as { path: string }).path;
    await writeFile(join(project, 'rust-toolchain.toml'), '[toolchain]\nchannel = "stable"\n');
    const shim = await writeRustShim(
      await planRustShim(project, {
        name: 'shape',
        features: ['extra'],
        adapter: { kind: 'rust', call: 'gzippy::decompress_with_threads(input, threads)', output: 'vec' },
        threads: 2,
        env: process.env,
      }),
      rustShimDir('shape'),
    );
    assert.equal(shim.package, 'gzippy');
    assert.match(
      shim.cargoToml,
      /\[dependencies\.gzippy\]\npath = ".*gzippy-shape-shim-test"\nfeatures = \[ "extra" \]/,
    );
    assert.match(shim.cargoToml, /\[profile\.release\]\nopt-level = 3\ncodegen-units = 1\nlto = true\nstrip = false/);
    assert.match(shim.cargoToml, /^\[workspace\]$/m);
    assert.equal(await readFile(join(shim.dir, 'rust-toolchain.toml'), 'utf8'), '[toolchain]\nchannel = "stable"\n');
    assert.equal(await readFile(join(shim.dir, 'src', 'lib.rs'), 'utf8'), shim.libRs);
  });

  it("keys the shim by its content, the project's folder normalised out: two folders, one key", async () => {
    const options = {
      name: 'shape',
      features: [] as string[],
      adapter: {
        kind: 'rust' as const,
        call: 'gzippy::decompress_with_threads(input, threads)',
        output: 'vec' as const,
      },
      threads: 1,
      env: process.env,
    };
    const plans = [];
    for (const folder of ['one', 'two-with-a-longer-name']) {
      const project = join(work, 'same-shape', folder);
      await cp(join(import.meta.dirname, '..', '..', 'examples', 'gzippy-shape'), project, { recursive: true });
      await writeFile(join(project, 'Cargo.lock'), '# the same lock file in both\n');
      plans.push({ project, plan: await planRustShim(project, options) });
    }
    const [one, two] = plans as [(typeof plans)[0], (typeof plans)[0]];
    assert.ok(one.plan.cargoToml.includes(`path = "${one.project}"`), 'the written Cargo.toml names its folder');
    assert.ok(two.plan.cargoToml.includes(`path = "${two.project}"`));
    assert.equal(one.plan.key, two.plan.key);
    assert.ok(!one.plan.key.includes(one.project), 'no path in the key');
    assert.match(one.plan.key, /path = "\{project\}"/);
    assert.deepEqual(
      one.plan.copied.map((file) => file.to),
      ['Cargo.lock'],
    );

    await writeFile(join(two.project, 'Cargo.lock'), '# another lock file\n');
    assert.notEqual((await planRustShim(two.project, options)).key, one.plan.key, 'the lock file keys it');
    const withFeature = await planRustShim(one.project, { ...options, features: ['extra'] });
    assert.notEqual(withFeature.key, one.plan.key, 'so do the features');
  });

  it('says which call does not compile, where the shim is and how to reproduce', async () => {
    const spec = await materializeGzippyShape({ folder: 'gzippy-shape-bad-call' });
    const bad = {
      ...spec,
      name: 'bad-call',
      adapter: { kind: 'rust' as const, call: 'gzippy::no_such_function(input)', output: 'vec' as const },
    };
    await assert.rejects(buildCargoDecoder(bad), (error: LabError) => {
      assert.match(error.message, /cargo build of the generated shim exited with code 101/);
      assert.match(error.message, /no_such_function/);
      assert.match(
        error.hint,
        new RegExp(
          "check the adapter's call \\(`gzippy::no_such_function\\(input\\)`\\) against the " +
            "crate's API; the shim is .*src\\/lib\\.rs",
        ),
      );
      return true;
    });
  });

  it('refuses a package without a Rust library target', async () => {
    const project = join(work, 'binary-only');
    await cp(join(import.meta.dirname, '..', '..', 'examples', 'gzippy-shape'), project, { recursive: true });
    await writeFile(
      join(project, 'Cargo.toml'),
      '[package]\nname = "binary-only"\nversion = "0.0.0"\nedition = "2021"\n\n[[bin]]\nname = "x"\npath = ' +
        '"src/main.rs"\n',
    );
    await writeFile(join(project, 'src', 'main.rs'), 'fn main() {}\n');
    await rm(join(project, 'src', 'lib.rs'));
    await assert.rejects(
      planRustShim(project, {
        name: 'bin',
        features: [],
        adapter: { kind: 'rust', call: 'x(input)', output: 'vec' },
        threads: 1,
        env: process.env,
      }),
      /the package binary-only has no Rust library target to call/,
    );
  });
});
