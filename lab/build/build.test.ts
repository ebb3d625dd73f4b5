import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { simpleGit } from 'simple-git';
import { pickArtifact } from './decoder.js';
import { buildLibdeflate } from './libdeflate.js';
import { obtainLibdeflateSource } from './libdeflate-source.js';
import { parseRustcVersion } from './toolchain.js';

describe('toolchain records', () => {
  it('reads rustc -vV, including its LLVM version', () => {
    const text =
      'rustc 1.95.0 (59807616e 2026-04-14)\nbinary: rustc\ncommit-hash: ' +
      '59807616e1fa2540724bfbac14d7976d7e4a3860\ncommit-date: 2026-04-14\nhost: ' +
      'aarch64-apple-darwin\nrelease: 1.95.0\nLLVM version: 22.1.2\n';
    assert.deepEqual(parseRustcVersion(text), {
      rustc: 'rustc 1.95.0 (59807616e 2026-04-14)',
      release: '1.95.0',
      llvm: '22.1.2',
      commitHash: '59807616e1fa2540724bfbac14d7976d7e4a3860',
      host: 'aarch64-apple-darwin',
    });
  });

  it('refuses output that is not rustc', () => {
    assert.throws(() => parseRustcVersion('gcc (Debian 12.2.0) 12.2.0'), /unexpected `rustc -vV` output/);
  });
});

describe('cargo artifacts', () => {
  const messages = [
    { reason: 'compiler-artifact', target: { kind: ['lib'], name: 'dep' }, filenames: ['/t/libdep.rlib'] },
    {
      reason: 'compiler-artifact',
      target: { kind: ['cdylib', 'rlib'], name: 'shim' },
      filenames: ['/t/libshim.so', '/t/libshim.rlib'],
    },
    {
      reason: 'compiler-artifact',
      target: { kind: ['bin'], name: 'gunzip' },
      filenames: ['/t/gunzip'],
      executable: '/t/gunzip',
    },
    { reason: 'build-finished' },
  ];
  it('picks the cdylib for the C ABI adapter and the named binary for the CLI adapter', () => {
    assert.equal(pickArtifact(messages, { kind: 'cabi' }), '/t/libshim.so');
    assert.equal(pickArtifact(messages, { kind: 'cli', binary: 'gunzip', command: ['{bin}'] }), '/t/gunzip');
    assert.equal(pickArtifact(messages, { kind: 'cli', binary: 'other', command: ['{bin}'] }), undefined);
  });

  it("picks the generated shim's cdylib for the rust adapter, never a decoder crate that is a cdylib itself", () => {
    const withShim = [
      ...messages,
      {
        reason: 'compiler-artifact',
        target: { kind: ['cdylib'], name: 'perf_lab_rust_shim' },
        filenames: ['/t/libperf_lab_rust_shim.so'],
      },
    ];
    const rust = { kind: 'rust' as const, call: 'shim::decompress_into(input, output)', output: 'slice' as const };
    assert.equal(pickArtifact(withShim, rust), '/t/libperf_lab_rust_shim.so');
    assert.equal(pickArtifact(messages, rust), undefined, "the dependency's own cdylib (libshim.so) is not the shim");
  });
});

describe('libdeflate sources', () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'perf-lab-build-'));
    process.env.PERF_LAB_CACHE = join(work, 'cache');
  });
  after(async () => {
    delete process.env.PERF_LAB_CACHE;
    await rm(work, { recursive: true, force: true });
  });

  it('builds from a git repository at a tag (a local clone of the Debian 1.23 source)', async () => {
    const tree = (await obtainLibdeflateSource({ kind: 'debian', suite: 'trixie' }))!;
    const repo = join(work, 'libdeflate-git');
    await cp(tree.dir, repo, { recursive: true });
    const git = simpleGit(repo);
    await git.init().addConfig('user.email', 'test@example.invalid').addConfig('user.name', 'test');
    await git.add('.').commit('import 1.23').addTag('v1.23');
    await writeFile(join(repo, 'NEWS.md'), 'changed after the tag\n');
    await git.add('.').commit('after the tag');
    const build = await buildLibdeflate({ kind: 'git', url: repo, ref: 'v1.23' });
    assert.equal(build.version, '1.23');
    assert.match(build.source, /^git .*libdeflate-git @ v1\.23 \(commit [0-9a-f]{12}\)$/);
    assert.equal(build.buildSystem, 'cmake');
    assert.match(build.cflags, /-O\d/);
    assert.ok(build.gzipProgramPath);
    const again = await buildLibdeflate({ kind: 'git', url: repo, ref: 'v1.23' });
    assert.equal(again.cacheKey, build.cacheKey, 'the second build comes from the cache');
  });

  it('builds from a local path and a tarball to the same version', async () => {
    const tree = (await obtainLibdeflateSource({ kind: 'debian', suite: 'bookworm' }))!;
    const fromPath = await buildLibdeflate({ kind: 'path', path: tree.dir });
    assert.equal(fromPath.version, '1.14');
    assert.equal(fromPath.buildSystem, 'make');
    assert.match(fromPath.cflags, /-O2/);
    const tarball = join(work, 'cache', 'apt', 'bookworm', 'download', 'libdeflate_1.14.orig.tar.gz');
    const fromTarball = await buildLibdeflate({ kind: 'tarball', location: tarball });
    assert.equal(fromTarball.version, '1.14');
    assert.match(fromTarball.source, /^tarball .*libdeflate_1\.14\.orig\.tar\.gz \(sha256 [0-9a-f]{12}\)$/);
    assert.equal(fromTarball.cacheKey, fromPath.cacheKey, 'same sources, compiler and flags: same build');
  });

  it('says clearly when a Debian suite cannot supply the requested version', async () => {
    await assert.rejects(
      buildLibdeflate({ kind: 'debian', suite: 'bookworm', version: '1.19' }),
      /libdeflate 1\.19 can't be had from Debian suite bookworm: it has 1\.14/,
    );
  });

  it('says clearly when a git source is unreachable or a path is not libdeflate', async () => {
    await assert.rejects(
      buildLibdeflate({ kind: 'git', url: join(work, 'no-such-repo'), ref: 'v1.0' }),
      /cannot get .*no-such-repo at v1\.0/,
    );
    await assert.rejects(
      buildLibdeflate({ kind: 'path', path: work }),
      /has no libdeflate\.h: not a libdeflate source tree/,
    );
  });

  it('refuses a tarball whose sha256 does not match the pin', async () => {
    const archive = join(work, 'fake.tar.gz');
    await writeFile(archive, 'not really a tarball');
    await assert.rejects(
      buildLibdeflate({ kind: 'tarball', location: archive, sha256: '0'.repeat(64) }),
      /has sha256 [0-9a-f]{64}, expected 0{64}/,
    );
  });
});
