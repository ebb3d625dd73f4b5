/**
 * The fault-injection suite: every bad input or failing tool gets a clear
 * message (what failed, where, what to do), a non-zero exit where the run
 * cannot be trusted, and no stored file changed or half-written.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, lstat, mkdir, mkdtemp, open, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { execa } from 'execa';
import { cliOutputPath, runHarness, type HarnessContender } from '../bench/harness.js';
import { contenderUsage } from '../bench/usage.js';
import { allowedCpus } from '../bench/cpu-claims.js';
import { outsideTurnFinding } from '../results/index.js';
import { writeResults } from '../results/index.js';
import { batchLogScaleFromTraces } from '../bench/calibrate.js';
import { simulateChecks } from '../bench/simulate.js';
import { readNoiseTraces, type NoiseTraces } from '../bench/traces.js';
import { samplingDefaults } from '../bench/config.js';
import { sampleResults } from '../testing/sample-results.js';
import { runPerfLab } from '../testing/cli.js';
import { buildLibdeflate, type LibdeflateBuild } from '../build/libdeflate.js';
import { materializeGzippyShape, materializeMinizOxideShim } from '../build/shim.js';
import { projectRoot } from '../core/paths.js';
import { LabError } from '../core/errors.js';
import { FakeGitHub } from '../testing/fake-github.js';
import { commentOnPullRequest, renderComment } from '../github/index.js';
import { readJsonAs } from '../testing/json.js';
import type { Manifest } from '../datasets/manifest.js';
import type { LibdeflateBuildRecord } from '../build/libdeflate.js';
import type { BaselineFile } from '../baselines/index.js';
import type { BenchResults } from '../results/index.js';

let work: string;
let datasets: string;
let libdeflate: LibdeflateBuild;
let shimPath: string;
const badLibraries: Record<string, string> = {};
const busyLibraries: Record<string, string> = {};
const BUSY = { 'spin-after': 1, 'spin-between': 2, 'brief-pool': 3, parallel: 4 } as const;
const BAD = {
  crash: 1,
  hang: 2,
  silent: 3,
  overrun: 4,
  short: 5,
  error: 6,
  guard: 7,
  hungry: 8,
  orphan: 9,
  underrun: 10,
} as const;

/** perf-lab's CLI; killed after 10 minutes, so a case that would hang fails (as "timed out") instead. */
const cli = (args: string[], env: Record<string, string> = {}) => runPerfLab(args, { env, timeout: 600_000 });

/** The CLI with a short leash: these cases must end at once (a hang is the defect they guard against). */
const quickCli = (args: string[], env: Record<string, string> = {}) => runPerfLab(args, { env, timeout: 60_000 });

/** Whether this machine lets the suite mount a small tmpfs in a private mount namespace (a real full disk). */
let canMountTmpfs: boolean | undefined;
async function mountsTmpfs(): Promise<boolean> {
  if (canMountTmpfs === undefined) {
    const probe = await execa('unshare', ['-rm', 'sh', '-c', `mount -t tmpfs -o size=64k tmpfs "${work}"`], {
      reject: false,
    });
    canMountTmpfs = process.platform === 'linux' && probe.exitCode === 0;
  }
  return canMountTmpfs;
}

/** Runs `script` (sh) with a tmpfs of `size` mounted on `dir`, in a mount namespace of its own. */
const onTinyDisk = (dir: string, size: string, script: string, env: Record<string, string> = {}) =>
  execa('unshare', ['-rm', 'sh', '-c', `mount -t tmpfs -o size=${size} tmpfs "$0" && ${script}`, dir], {
    reject: false,
    cwd: projectRoot(),
    env: { CI: 'true', ...env },
    timeout: 600_000,
  });

/** sha256 of every file under a folder: to show a failure left stored data exactly as it was. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[path.slice(dir.length)] = createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
  }
  return out;
}

async function copyDatasets(name: string): Promise<string> {
  const dir = join(work, name);
  await cp(datasets, dir, { recursive: true });
  return dir;
}

async function writeJson(name: string, value: unknown): Promise<string> {
  const path = join(work, name);
  await writeFile(path, JSON.stringify(value));
  return path;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'perf-lab-faults-'));
  datasets = join(work, 'datasets');
  const prepared = await cli(['datasets', 'prepare', '--offline', '--dir', datasets, '--only', 'logs']);
  assert.equal(prepared.exitCode, 0, String(prepared.stderr));
  libdeflate = await buildLibdeflate({ kind: 'system' });
  shimPath = ((await materializeMinizOxideShim()).cargo as { path: string }).path;
  const source = join(projectRoot(), 'lab', 'bench', 'fixtures', 'bad-decoders.c');
  for (const [name, mode] of Object.entries(BAD)) {
    badLibraries[name] = join(work, `bad-${name}.${process.platform === 'darwin' ? 'dylib' : 'so'}`);
    await execa('cc', ['-O1', '-shared', '-fPIC', `-DBAD_MODE=${mode}`, '-o', badLibraries[name], source]);
  }
  const busySource = join(projectRoot(), 'lab', 'bench', 'fixtures', 'busy-decoders.c');
  for (const [name, mode] of Object.entries(BUSY)) {
    busyLibraries[name] = join(work, `busy-${name}.${process.platform === 'darwin' ? 'dylib' : 'so'}`);
    await execa(
      'cc',
      ['-O1', '-shared', '-fPIC', `-DBUSY_MODE=${mode}`, '-o', busyLibraries[name], busySource].concat([
        '-ldeflate',
        '-lpthread',
      ]),
    );
  }
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

type Case = [name: string, run: (t: TestContext) => Promise<void>];

const datasetCases: Case[] = [
  [
    'truncated compressed file',
    async () => {
      const dir = await copyDatasets('truncated');
      const handle = await open(join(dir, 'logs.raw.gz'), 'r+');
      await handle.truncate(1000);
      await handle.close();
      const before = await snapshot(dir);
      const run = await cli(['datasets', 'verify', '--dir', dir]);
      assert.equal(run.exitCode, 1);
      assert.match(
        String(run.stderr),
        new RegExp(
          String.raw`perf-lab: datasets: verify LOGS: the compressed file .*logs\.raw\.gz does not ` +
            String.raw`match the manifest: expected \d+ bytes sha256 [0-9a-f]{64}, found 1000 bytes`,
        ),
      );
      assert.match(String(run.stderr), /what to do: .*prepare/);
      assert.deepEqual(await snapshot(dir), before);
    },
  ],
  [
    'bit-flipped compressed file',
    async () => {
      const dir = await copyDatasets('flipped');
      const handle = await open(join(dir, 'logs.raw.gz'), 'r+');
      await handle.write(Buffer.from([0xff]), 0, 1, 4096);
      await handle.close();
      const run = await cli(['datasets', 'verify', '--dir', dir]);
      assert.equal(run.exitCode, 1);
      assert.match(
        String(run.stderr),
        /expected (\d+) bytes sha256 ([0-9a-f]{64}), found \1 bytes sha256 (?!\2)[0-9a-f]{64}/,
      );
    },
  ],
  [
    'manifest with a wrong hash',
    async () => {
      const dir = await copyDatasets('wrong-hash');
      const manifest = await readJsonAs<Manifest>(join(dir, 'manifest.json'));
      manifest.datasets[0]!.raw.sha256 = '0'.repeat(64);
      await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
      const run = await cli(['datasets', 'verify', '--dir', dir]);
      assert.equal(run.exitCode, 1);
      assert.match(
        String(run.stderr),
        /the expected output .*logs\.raw does not match the manifest: expected \d+ bytes sha256 0{64}/,
      );
    },
  ],
  [
    'a Silesia zip that is not there (offline)',
    async () => {
      const run = await cli([
        'datasets',
        'prepare',
        '--offline',
        '--dir',
        join(work, 'nozip'),
        '--only',
        'silesia',
        '--silesia-zip',
        join(work, 'silesia.zip'),
      ]);
      assert.equal(run.exitCode, 1);
      assert.match(
        String(run.stderr),
        new RegExp(
          String.raw`perf-lab: datasets: silesia: --silesia-zip .*silesia\.zip does not exist\.\n ` +
            String.raw`{2}what to do: download it from .* or omit --silesia-zip to use the stand-in\.`,
        ),
      );
    },
  ],
  [
    'disk full while generating (simulated)',
    async () => {
      const dir = join(work, 'full-disk');
      const run = await cli(['datasets', 'prepare', '--offline', '--dir', dir, '--only', 'logs'], {
        PERF_LAB_SIMULATE_ENOSPC_AFTER_BYTES: '3000000',
      });
      assert.equal(run.exitCode, 1);
      assert.match(
        String(run.stderr),
        /perf-lab: datasets: generate: cannot write .*logs\.raw.*ENOSPC: no space left on device/,
      );
      assert.match(String(run.stderr), /what to do: check free disk space/);
      assert.deepEqual(await readdir(dir), [], 'no half-written file, no temp file, no manifest');
    },
  ],
  [
    'two prepares into one folder at once, with different --only: both datasets end up in the manifest',
    async () => {
      const dir = join(work, 'concurrent-prepare');
      const runs = await Promise.all([
        cli(['datasets', 'prepare', '--offline', '--dir', dir, '--only', 'logs']),
        cli(['datasets', 'prepare', '--offline', '--dir', dir, '--only', 'software']),
      ]);
      for (const run of runs) assert.equal(run.exitCode, 0, String(run.stderr));
      const manifest = await readJsonAs<Manifest>(join(dir, 'manifest.json'));
      assert.deepEqual(
        manifest.datasets.map((entry) => entry.name),
        ['software', 'logs'],
      );
      assert.ok(
        !(await readdir(dir)).some((name) => name.includes('.lock') || name.includes('.tmp-')),
        'no lock or temp file left',
      );
    },
  ],
  [
    'prepare of a folder already up to date writes nothing (a read-only folder works)',
    async () => {
      const dir = await copyDatasets('up-to-date');
      const before = await snapshot(dir);
      const { mtimeMs } = await stat(join(dir, 'manifest.json'));
      const run = await cli(['datasets', 'prepare', '--offline', '--dir', dir, '--only', 'logs']);
      assert.equal(run.exitCode, 0, String(run.stderr));
      assert.match(String(run.stderr), /logs is up to date/);
      assert.deepEqual(await snapshot(dir), before);
      assert.equal((await stat(join(dir, 'manifest.json'))).mtimeMs, mtimeMs, 'the manifest was not rewritten');
    },
  ],
  [
    'an interrupted prepare left a complete data file the manifest does not list: the next prepare removes it',
    async () => {
      const dir = await copyDatasets('unlisted');
      // What a run killed between finishing software.raw and recording it in the manifest leaves.
      await writeFile(join(dir, 'software.raw'), 'a complete raw file nobody lists');
      const run = await cli(['datasets', 'prepare', '--offline', '--dir', dir, '--only', 'logs']);
      assert.equal(run.exitCode, 0, String(run.stderr));
      assert.match(String(run.stderr), /removed software\.raw, left by an interrupted run \(not in the manifest\)/);
      assert.ok(!(await readdir(dir)).includes('software.raw'));
    },
  ],
  [
    'generation interrupted, then run again',
    async () => {
      const dir = await copyDatasets('interrupted');
      // What a killed run leaves: a temp file of a dead process and a manifest without that dataset.
      await writeFile(join(dir, '.software.raw.tmp-999999-deadbeef'), 'partial');
      const run = await cli(['datasets', 'prepare', '--offline', '--dir', dir, '--only', 'software']);
      assert.equal(run.exitCode, 0, String(run.stderr));
      assert.match(String(run.stderr), /removed \.software\.raw\.tmp-999999-deadbeef, left by an interrupted run/);
      assert.ok(!(await readdir(dir)).some((name) => name.includes('.tmp-')));
      const verify = await cli(['datasets', 'verify', '--dir', dir]);
      assert.equal(verify.exitCode, 0);
      assert.match(String(verify.stdout), /SOFTWARE: ok/);
      assert.match(String(verify.stdout), /LOGS: ok/);
    },
  ],
  [
    'Ctrl-C during raw generation: the partial raw file is removed on the way out',
    async () => {
      const dir = join(work, 'ctrl-c-generate');
      const child = runPerfLab(
        ['datasets', 'prepare', '--offline', '--dir', dir, '--only', 'software', '--scale', 'full'],
        { timeout: 600_000 },
      );
      const partial = async () =>
        (await readdir(dir).catch(() => [] as string[])).filter((name) => /^\.software\.raw\.tmp-/.test(name));
      for (let i = 0; i < 600 && (await partial()).length === 0; i++) await sleep(50);
      assert.equal((await partial()).length, 1, 'the raw file is being written');
      child.kill('SIGINT');
      const run = await child;
      assert.ok(run.signal === 'SIGINT' || run.exitCode === 130, `ended by ${run.signal ?? run.exitCode}`);
      assert.match(String(run.stderr), /perf-lab: stopped by SIGINT; removed 1 partly written file\(s\)\./);
      assert.deepEqual(await partial(), []);
      assert.ok(!(await readdir(dir)).includes('manifest.json'));
    },
  ],
  [
    'a partial raw file of a killed run in a folder otherwise up to date: the next prepare removes it',
    async () => {
      const dir = await copyDatasets('stale-partial');
      await writeFile(join(dir, '.software.raw.tmp-999999-deadbeef'), 'partial');
      await writeFile(join(dir, '.silesia.raw.tmp-999998-0badcafe.full-tar'), 'partial tar');
      const run = await cli(['datasets', 'prepare', '--offline', '--dir', dir, '--only', 'logs']);
      assert.equal(run.exitCode, 0, String(run.stderr));
      assert.match(String(run.stderr), /logs is up to date/);
      assert.match(String(run.stderr), /removed \.software\.raw\.tmp-999999-deadbeef, left by an interrupted run/);
      assert.match(String(run.stderr), /removed \.silesia\.raw\.tmp-999998-0badcafe\.full-tar/);
      assert.ok(!(await readdir(dir)).some((name) => name.includes('.tmp-')));
    },
  ],
  [
    'disk full while gzip compresses (a real 17 MiB tmpfs): the disk named as full, with the file and step',
    async (t) => {
      if (!(await mountsTmpfs())) return t.skip('cannot mount a tmpfs here (needs user namespaces)');
      const dir = join(work, 'full-gzip');
      await mkdir(dir, { recursive: true });
      const perfLab = `node --import tsx ${join(projectRoot(), 'lab', 'cli', 'run.ts')}`;
      const run = await onTinyDisk(
        dir,
        '17m',
        `${perfLab} datasets prepare --offline --dir "$0" --only logs; e=$?; ls -A "$0"; exit $e`,
      );
      assert.equal(run.exitCode, 1, String(run.stderr));
      assert.match(
        String(run.stderr),
        new RegExp(
          String.raw`perf-lab: datasets: compress: cannot write .*logs\.raw\.gz: the disk is full ` +
            String.raw`\(ENOSPC\) — .*gzip.*No space left on device`,
        ),
      );
      assert.match(String(run.stderr), /what to do: free disk space/);
      assert.doesNotMatch(String(run.stderr), /SIGPIPE|internal error/);
      // What the run left: the finished raw file is not listed; no manifest, no temp file.
      assert.doesNotMatch(String(run.stdout), /manifest\.json|\.tmp-/);
    },
  ],
  [
    'disk full while writing the manifest (a real, full tmpfs): "datasets: manifest", the file, "disk is full"',
    async (t) => {
      if (!(await mountsTmpfs())) return t.skip('cannot mount a tmpfs here (needs user namespaces)');
      const dir = join(work, 'full-manifest');
      await mkdir(dir, { recursive: true });
      const script =
        `
        import { writeManifest } from ${JSON.stringify(join(projectRoot(), 'lab', 'datasets', 'manifest.ts'))};
        import { formatError } from ${JSON.stringify(join(projectRoot(), 'lab', 'core', 'errors.ts'))};
        try { await writeManifest(process.argv[1], { schemaVersion: 1, datasets: [] }); }
        catch (error) { process.stderr.write(formatError(error).text); ` +
        'process.exitCode = formatError(error).exitCode; }';
      const run = await onTinyDisk(
        dir,
        '64k',
        `head -c 1000000 /dev/zero > "$0/filler" 2>/dev/null; node --import tsx -e '${script}' "$0"; e=$?; ls ` +
          '-A "$0"; exit $e',
      );
      assert.equal(run.exitCode, 1, String(run.stderr));
      assert.match(
        String(run.stderr),
        new RegExp(
          String.raw`^perf-lab: datasets: manifest: cannot write .*full-manifest\/manifest\.json: ` +
            String.raw`the disk is full \(ENOSPC\)\.\n {2}what to do: free disk space`,
        ),
      );
      assert.equal(String(run.stdout).trim(), 'filler', 'no manifest and no temp file left');
    },
  ],
];

/** The datasets copy with `file` replaced by what `make` puts there (a FIFO, a symlink…). */
async function datasetsWithSpecialFile(name: string, file: string, make: (path: string) => Promise<unknown>) {
  const dir = await copyDatasets(name);
  await rm(join(dir, file));
  await make(join(dir, file));
  return dir;
}

const specialFileCases: Case[] = (
  [
    [
      'a FIFO',
      'logs.raw.gz',
      (path: string) => execa('mkfifo', [path]),
      /is a named pipe \(FIFO\), not a regular file/,
    ],
    [
      'a symlink to /dev/zero',
      'logs.raw',
      (path: string) => symlink('/dev/zero', path),
      /is a symbolic link to \/dev\/zero, outside the datasets folder/,
    ],
  ] as const
).flatMap(([what, file, make, message]): Case[] => [
  [
    `${what} in place of ${file}: verify, prepare and bench refuse it at once, naming the file; nothing changed`,
    async () => {
      const dir = await datasetsWithSpecialFile(`special-${file}-${what.replace(/\W+/g, '-')}`, file, make);
      const before = await snapshot(dir);
      const config = await writeJson(`special-${file}.json`, {
        schemaVersion: 1,
        libdeflate: { source: { kind: 'system' } },
        bench: { rounds: 4, warmupRounds: 1, minBatches: 1, maxBatches: 1, budgetSeconds: 60 },
        decoder: { name: 'd', libdeflate: { source: { kind: 'system' } } },
      });
      for (const args of [
        ['datasets', 'verify', '--dir', dir],
        ['datasets', 'prepare', '--offline', '--dir', dir, '--only', 'logs'],
        ['bench', '--config', config, '--datasets-dir', dir, '--only', 'logs'],
      ]) {
        const run = await quickCli(args);
        assert.equal(run.timedOut, false, `${args[0]} ${args[1]} hung`);
        assert.equal(run.exitCode, 1, `${args.join(' ')}: ${String(run.stderr)}`);
        assert.match(
          String(run.stderr),
          new RegExp(`perf-lab: datasets: verify LOGS: the .*${file.replace('.', '\\.')} `),
        );
        assert.match(String(run.stderr), message);
        assert.match(String(run.stderr), /what to do: remove .* and run `perf-lab datasets prepare` again/);
        assert.doesNotMatch(String(run.stderr), /internal error/);
      }
      assert.deepEqual(await snapshot(dir), before);
      assert.ok((await lstat(join(dir, file))).isFIFO() || (await lstat(join(dir, file))).isSymbolicLink());
    },
  ],
]);

const reference = { source: { kind: 'system' } };
// Two batches: the fewest that give a ratio (one batch says nothing of the between-process noise).
const quickBench = { rounds: 4, warmupRounds: 1, minBatches: 2, maxBatches: 2, budgetSeconds: 60 };
const benchWith = async (name: string, config: Record<string, unknown>) =>
  cli([
    'bench',
    '--config',
    await writeJson(`${name}.json`, { schemaVersion: 1, libdeflate: reference, bench: quickBench, ...config }),
    '--datasets-dir',
    datasets,
    '--only',
    'logs',
  ]);

const buildCases: Case[] = [
  [
    'a PERF_LAB_CACHE folder that does not exist yet, with a config that builds nothing: created on demand',
    async () => {
      const cache = join(work, 'not-yet', 'cache');
      const config = await writeJson('builds-nothing.json', {
        schemaVersion: 1,
        libdeflate: reference,
        bench: quickBench,
        decoder: { name: 'system-libdeflate', libdeflate: { source: { kind: 'system' } } },
      });
      const args = ['bench', '--config', config, '--datasets-dir', datasets, '--only', 'logs'];
      // No C compiler: a message (the harness cannot be compiled), not an internal error about the cache.
      const noCc = await quickCli(args, { PERF_LAB_CACHE: cache, CC: '/nonexistent/cc' });
      assert.equal(noCc.exitCode, 1, String(noCc.stderr));
      assert.match(
        String(noCc.stderr),
        /perf-lab: build: toolchain: `\/nonexistent\/cc --version` failed: no C compiler found/,
      );
      await rm(join(work, 'not-yet'), { recursive: true, force: true });
      const run = await cli(args, { PERF_LAB_CACHE: cache });
      assert.equal(run.exitCode, 0, String(run.stderr));
      assert.doesNotMatch(String(run.stderr), /internal error|ENOENT/);
    },
  ],
  [
    'C compiler missing',
    async () => {
      const run = await benchWith('no-cc', {
        libdeflate: { source: { kind: 'debian', suite: 'bookworm' }, cc: '/nonexistent/cc' },
        decoder: { name: 'd', cargo: { path: shimPath }, adapter: { kind: 'cabi' } },
      });
      assert.equal(run.exitCode, 1);
      assert.match(
        String(run.stderr),
        new RegExp(
          'perf-lab: build: toolchain: `\\/nonexistent\\/cc --version` failed: no C compiler ' +
            'found\\.\\n {2}what to do: install a C compiler',
        ),
      );
    },
  ],
  [
    'cargo build failure',
    async () => {
      const project = join(work, 'broken');
      await cp(shimPath, project, { recursive: true });
      await writeFile(join(project, 'src', 'lib.rs'), 'fn broken( {}\n');
      const run = await benchWith('broken', {
        decoder: { name: 'broken', cargo: { path: project }, adapter: { kind: 'cabi' } },
      });
      assert.equal(run.exitCode, 1);
      assert.match(
        String(run.stderr),
        /build decoder broken: cargo build exited with code 101\.\n--- last lines of its output ---/,
      );
      assert.match(String(run.stderr), /Reproduce with: \(cd .*broken && cargo build --release/);
    },
  ],
  [
    'code-generation step failure',
    async () => {
      const run = await benchWith('codegen', {
        decoder: {
          name: 'gen',
          cargo: { path: shimPath },
          codegen: 'echo "generator: missing template" >&2; exit 3',
          adapter: { kind: 'cabi' },
        },
      });
      assert.equal(run.exitCode, 1);
      assert.match(
        String(run.stderr),
        new RegExp(
          String.raw`build decoder gen: codegen step: .* exited with code 3\.\n--- last lines of its ` +
            String.raw`output ---\ngenerator: missing template`,
        ),
      );
    },
  ],
  [
    'libdeflate version not to be had',
    async () => {
      const run = await benchWith('no-version', {
        libdeflate: { source: { kind: 'debian', suite: 'bookworm', version: '1.99' } },
        decoder: { name: 'd', cargo: { path: shimPath }, adapter: { kind: 'cabi' } },
      });
      assert.equal(run.exitCode, 1);
      assert.match(String(run.stderr), /libdeflate 1\.99 can't be had from Debian suite bookworm: it has 1\.14/);
    },
  ],
  [
    'cached build whose record does not match its files',
    async () => {
      const cache = join(work, 'cache');
      const env = { ...process.env };
      process.env.PERF_LAB_CACHE = cache;
      try {
        const first = await buildLibdeflate({ kind: 'debian', suite: 'bookworm' });
        const recordPath = join(
          first.sharedLibraryPath.slice(0, first.sharedLibraryPath.indexOf(first.sharedLibrary)),
          'build.json',
        );
        const record = await readJsonAs<LibdeflateBuildRecord>(recordPath);
        await writeFile(recordPath, JSON.stringify({ ...record, sharedLibrary: 'src/not-the-library.so' }));
        const second = await buildLibdeflate({ kind: 'debian', suite: 'bookworm' });
        assert.equal(
          second.sharedLibrary,
          record.sharedLibrary,
          'the damaged record was discarded and the build redone',
        );
        assert.equal((await readJsonAs<LibdeflateBuildRecord>(recordPath)).sharedLibrary, record.sharedLibrary);
      } finally {
        process.env = env;
      }
    },
  ],
];

const harness = (bad: keyof typeof BAD, options: { timeoutMs?: number; memoryLimitMb?: number } = {}) =>
  runHarness({
    compressedPath: join(datasets, 'logs.raw.gz'),
    expectedPath: join(datasets, 'logs.raw'),
    contenders: [
      { name: bad, kind: 'cabi', library: badLibraries[bad]! },
      { name: 'libdeflate', kind: 'libdeflate', library: libdeflate.sharedLibraryPath } satisfies HarnessContender,
    ],
    rounds: 2,
    warmupRounds: 0,
    timeoutMs: options.timeoutMs ?? 20_000,
    maxSeconds: 0,
    memoryLimitMb: options.memoryLimitMb ?? 0,
  });
const benchCase = (
  name: string,
  bad: keyof typeof BAD,
  reported: RegExp,
  options: { timeoutMs?: number; memoryLimitMb?: number } = {},
): Case => [
  name,
  async () => {
    const outcome = await harness(bad, options);
    assert.match(outcome.failures.get(bad) ?? '(no failure)', reported);
    assert.equal(outcome.samplesNs.get(bad)!.size, 0, 'no speed is reported for it');
    assert.equal(outcome.samplesNs.get('libdeflate')!.size, 2, 'the other contender is still measured');
  },
];

let noisy: NoiseTraces;
const benchCases: Case[] = [
  benchCase('decoder returns wrong bytes', 'silent', /^wrong bytes: first difference at offset \d+/),
  benchCase('decoder reports a wrong length', 'short', /^wrong length: produced \d+ bytes, expected \d+$/),
  benchCase('decoder crashes (SIGSEGV)', 'crash', /^crashed: killed by signal \d+ \((Segmentation fault|Bus error)\)$/),
  benchCase('decoder hangs (timeout)', 'hang', /^timeout: no result within 1000 ms \(hung or far too slow\)$/, {
    timeoutMs: 1000,
  }),
  benchCase(
    'decoder writes just past its buffer (canary)',
    'overrun',
    /^wrote past the end of its output buffer \(canary at \+0 overwritten\)$/,
  ),
  benchCase('decoder writes far past its buffer (guard page)', 'guard', /^crashed: killed by signal \d+/),
  benchCase(
    'decoder writes just before its buffer (front canary)',
    'underrun',
    /^wrote before the start of its output buffer \(canary at -64 overwritten\)$/,
  ),
  benchCase(
    'decoder runs out of memory (address-space limit)',
    'hungry',
    process.platform === 'linux' ? /^perf_lab_gzip_decompress returned error code 12$/ : /./,
    { memoryLimitMb: 512 },
  ),
  [
    'machine too noisy to reach the CI target: inconclusive, never a false verdict',
    async () => {
      const traces = await readNoiseTraces(
        join(projectRoot(), 'lab', 'bench', 'fixtures', 'noise-logs-quick-x86_64.json'),
      );
      const plan = {
        targetHalfWidth: samplingDefaults.targetHalfWidth,
        confidence: 0.95,
        minBatches: samplingDefaults.minBatches,
        maxBatches: samplingDefaults.maxBatches,
        budgetSeconds: samplingDefaults.budgetSeconds,
      };
      // Calibrated on the calm machine; the run below is far noisier than its calibration.
      const policy = {
        confidence: 0.99,
        minimumEffect: samplingDefaults.minimumEffect,
        tolerance: samplingDefaults.tolerance,
        calibration: { ...batchLogScaleFromTraces(traces), source: 'calm calibration' },
      };
      // The same machine with 20x the noise: every sample scaled by a deterministic factor of up to ±30%.
      noisy = {
        ...traces,
        batches: traces.batches.map((batch, b) => ({
          ...batch,
          samples: batch.samples.map((samples, s) =>
            samples.map(
              ([round, ns]) =>
                [round, Math.round(ns * (1 + 0.3 * Math.sin(round * 7.1 + s * 3.3 + b * 1.7)))] as [number, number],
            ),
          ),
        })),
      };
      const result = await simulateChecks(noisy, 200, {
        plan,
        policy,
        headSlowdown: 1,
        batchIndexes: noisy.batches.map((_, i) => i),
      });
      assert.ok(result.changeRate <= 0.01, `false verdicts ${result.changeRate}`);
      assert.ok(result.inconclusiveRate >= 0.9, `inconclusive ${result.inconclusiveRate}`);
      assert.ok(result.targetMetRate <= 0.02, `CI target met in ${result.targetMetRate} of checks`);
    },
  ],
];

const storedCases: Case[] = [];
{
  const storeWith = async (name: string) => {
    const store = join(work, name);
    const resultsPath = join(work, `${name}-results.json`);
    await writeResults(resultsPath, sampleResults());
    const update = await cli(['baseline', 'update', '--results', resultsPath, '--baselines', store]);
    assert.equal(update.exitCode, 0, String(update.stderr));
    const [file] = (await readdir(store)).filter((n) => n.endsWith('.json'));
    return { store, resultsPath, file: join(store, file!) };
  };
  storedCases.push(
    [
      'baseline file that is not JSON',
      async () => {
        const { store, resultsPath, file } = await storeWith('malformed');
        await writeFile(file, '{"schemaVersion": 1, "key": ');
        const before = await snapshot(store);
        const run = await cli(['compare', '--results', resultsPath, '--baselines', store]);
        assert.equal(run.exitCode, 1);
        assert.match(
          String(run.stderr),
          /perf-lab: baselines: .*\.json is not valid JSON .*\n {2}what to do: restore it from git history/,
        );
        assert.deepEqual(await snapshot(store), before);
      },
    ],
    [
      'baseline of an unknown schema version',
      async () => {
        const { store, resultsPath, file } = await storeWith('version');
        await writeFile(file, JSON.stringify({ ...JSON.parse(await readFile(file, 'utf8')), schemaVersion: 9 }));
        const before = await snapshot(store);
        const run = await cli(['baseline', 'update', '--results', resultsPath, '--baselines', store]);
        assert.equal(run.exitCode, 1);
        assert.match(String(run.stderr), /has schemaVersion 9; this perf-lab reads version 1/);
        assert.deepEqual(await snapshot(store), before);
      },
    ],
    [
      'baseline file holding another key',
      async () => {
        const { store, file } = await storeWith('key');
        const stored = await readJsonAs<BaselineFile>(file);
        await writeFile(file, JSON.stringify({ ...stored, key: { ...stored.key, libdeflateVersion: '9.9' } }));
        const before = await snapshot(store);
        const other = join(work, 'key-other.json');
        await writeResults(other, sampleResults({ createdAt: '2026-12-01T00:00:00.000Z' }));
        const run = await cli(['baseline', 'update', '--results', other, '--baselines', store]);
        assert.equal(run.exitCode, 1);
        assert.match(String(run.stderr), /holds a baseline for a different key/);
        assert.deepEqual(await snapshot(store), before);
      },
    ],
    [
      'results that failed verification are never stored',
      async () => {
        const { store } = await storeWith('failed');
        const failed = join(work, 'failed.json');
        await writeResults(failed, sampleResults({ ok: false }));
        const before = await snapshot(store);
        const run = await cli(['baseline', 'update', '--results', failed, '--baselines', store]);
        assert.equal(run.exitCode, 1);
        assert.match(
          String(run.stderr),
          new RegExp(
            String.raw`perf-lab: baseline update: these results failed verification.*\n {2}what to ` +
              String.raw`do: fix the decoder and measure again`,
          ),
        );
        assert.deepEqual(await snapshot(store), before);
      },
    ],
    [
      'a baseline file with a key given twice is refused, not read as its last value',
      async () => {
        const { store, resultsPath, file } = await storeWith('duplicate-key');
        const text = await readFile(file, 'utf8');
        // The stored ratio twice in the last entry: JSON.parse would silently take the second.
        await writeFile(file, text.replace(/"batches": (\d+)/, '"batches": $1, "batches": 999'));
        const before = await snapshot(store);
        const run = await cli(['compare', '--results', resultsPath, '--baselines', store]);
        assert.equal(run.exitCode, 1);
        assert.match(
          String(run.stderr),
          /is not valid JSON \(the key "batches" appears twice in one object .*inside entries\)/,
        );
        assert.deepEqual(await snapshot(store), before);
      },
    ],
    [
      'a history line with a key given twice is refused, not read as a fake change',
      async () => {
        const path = join(work, 'history-duplicate.jsonl');
        const record = {
          v: 1,
          date: '2026-11-20',
          recordedAt: '2026-11-20T03:00:00.000Z',
          cpuModel: 'Apple M1 (Virtual)',
          toolchain: 'nightly',
          rustc: 'rustc 1.95.0',
          llvm: '22.1.2',
          libdeflate: '1.24',
          cc: 'clang 15',
          dataset: 'LOGS',
          datasetSha256: 'a'.repeat(64),
          ratio: { estimate: 0.9, low: 0.89, high: 0.91 },
          criticalPathCycles: null,
        };
        const line = JSON.stringify(record).replace('"estimate":0.9', '"estimate":0.9,"estimate":1.4');
        await writeFile(path, `${line}\n`);
        const run = await cli(['history', '--history', path]);
        assert.equal(run.exitCode, 1);
        assert.match(
          String(run.stderr),
          new RegExp(
            String.raw`history-duplicate\.jsonl:1 is not a JSON record \(truncated or corrupt\) ` +
              String.raw`\(the key "estimate" appears twice in one object .*inside ratio\)`,
          ),
        );
      },
    ],
    [
      'a history file that does not exist: refused by the query (not "0 records"), naming the path',
      async () => {
        const path = join(work, 'no-such-history.jsonl');
        const run = await cli(['history', '--history', path]);
        assert.equal(run.exitCode, 1);
        assert.equal(String(run.stdout), '');
        assert.match(String(run.stderr), new RegExp(`^perf-lab: history: there is no history file at ${path}\\.`));
        assert.match(String(run.stderr), /what to do: pass --history <the nightly\.jsonl perf-lab nightly writes>/);
      },
    ],
    [
      'results with a key given twice are refused',
      async () => {
        const path = join(work, 'results-duplicate.json');
        await writeFile(path, JSON.stringify(sampleResults()).replace('"ok":true', '"ok":false,"ok":true'));
        const run = await cli(['report', '--results', path]);
        assert.equal(run.exitCode, 1);
        assert.match(String(run.stderr), /the key "ok" appears twice in one object/);
      },
    ],
    [
      'concurrent baseline updates from separate processes',
      async () => {
        const store = join(work, 'concurrent');
        const paths = await Promise.all(
          Array.from({ length: 6 }, async (_, i) => {
            const path = join(work, `concurrent-${i}.json`);
            await writeResults(path, sampleResults({ createdAt: `2026-11-0${i + 1}T00:00:00.000Z` }));
            return path;
          }),
        );
        const runs = await Promise.all(
          paths.map((path) => cli(['baseline', 'update', '--results', path, '--baselines', store])),
        );
        for (const run of runs) assert.equal(run.exitCode, 0, String(run.stderr));
        const [file] = (await readdir(store)).filter((n) => n.endsWith('.json'));
        assert.equal((await readJsonAs<BaselineFile>(join(store, file!))).entries.length, 6, 'every write survived');
        assert.ok(
          !(await readdir(store)).some((name) => name.includes('.tmp-') || name.endsWith('.lock')),
          'no temp or lock left',
        );
      },
    ],
  );
}

const HEAD = 'e'.repeat(40);
const token = 'ghs_faultsuitetoken9876543210';
async function githubSetup(name: string): Promise<{ github: FakeGitHub; api: string; artifact: string }> {
  const github = new FakeGitHub();
  const api = await github.start();
  github.pulls.set(3, { headSha: HEAD, headRepo: 'fork/decoder' });
  github.pulls.set(4, { headSha: 'f'.repeat(40), headRepo: 'owner/decoder' });
  github.runs.set(77, { headSha: HEAD, event: 'pull_request' });
  const artifact = join(work, name);
  await execa('mkdir', ['-p', artifact]);
  await writeResults(join(artifact, 'results.json'), sampleResults());
  await writeFile(join(artifact, 'pr.json'), JSON.stringify({ prNumber: 3, headSha: HEAD }));
  return { github, api, artifact };
}
/** Runs a GitHub case against its own local server, stopping the server whatever happens. */
async function withGitHub(
  name: string,
  body: (setup: Awaited<ReturnType<typeof githubSetup>>) => Promise<void>,
): Promise<void> {
  const setup = await githubSetup(name);
  try {
    await body(setup);
  } finally {
    await setup.github.stop();
  }
}
const comment = (api: string, artifact: string) =>
  commentOnPullRequest({
    artifactDir: artifact,
    repository: 'owner/decoder',
    runId: 77,
    token,
    apiUrl: api,
    retryBaseMs: 1,
  });

const githubCases: Case[] = [
  [
    '403 on workflow_run (no pull-requests: write granted): fails naming the permission',
    () =>
      withGitHub('gh-403', async ({ github, api, artifact }) => {
        github.failNext('POST', /\/comments$/, 403, { body: { message: 'Resource not accessible by integration' } });
        await assert.rejects(comment(api, artifact), (error: Error) =>
          /pull-requests: write/.test(error instanceof LabError ? error.hint : ''),
        );
        assert.equal(github.comments.length, 0);
      }),
  ],
  [
    'rate limit: waits for the reset and goes on',
    () =>
      withGitHub('gh-rate', async ({ github, api, artifact }) => {
        github.failNext('GET', /\/actions\/runs\/77$/, 429, {
          headers: { 'retry-after': '0' },
          body: { message: 'You have exceeded a secondary rate limit' },
        });
        assert.equal((await comment(api, artifact)).outcome.action, 'created');
      }),
  ],
  [
    '5xx from GitHub: retried',
    () =>
      withGitHub('gh-5xx', async ({ github, api, artifact }) => {
        github.failNext('GET', /\/pulls\/3$/, 503, { times: 2 });
        assert.equal((await comment(api, artifact)).outcome.action, 'created');
      }),
  ],
  [
    'artifact with a forged PR number (or a PR that moved on): no comment, a notice',
    () =>
      withGitHub('gh-forged', async ({ github, api, artifact }) => {
        await writeFile(join(artifact, 'pr.json'), JSON.stringify({ prNumber: 4, headSha: HEAD }));
        const { outcome } = await comment(api, artifact);
        assert.equal(outcome.action, 'skipped');
        assert.match(outcome.action === 'skipped' ? outcome.reason : '', /PR #4's head is f{40}, not e{40}/);
        assert.equal(github.comments.length, 0);
      }),
  ],
  [
    'hostile markdown in a decoder name or error text',
    async () => {
      const results = sampleResults();
      results.head.name = '<script>alert(1)</script>@admins';
      results.datasets[0]!.contenders[0]!.failure = '```\n</table><img src=x>';
      results.datasets[0]!.verified = false;
      results.ok = false;
      const body = renderComment(results);
      assert.ok(!/<script|<img|<\/table/.test(body));
      assert.ok(!/@admins/.test(body));
    },
  ],
  [
    'the token is never printed, even when the API call fails',
    () =>
      withGitHub('gh-token', async ({ api, artifact }) => {
        const run = await cli(
          ['comment', '--artifact', artifact, '--repo', 'owner/decoder', '--run-id', '12345', '--api-url', api],
          { GITHUB_TOKEN: token, PERF_LAB_RETRY_BASE_MS: '1' },
        );
        assert.equal(run.exitCode, 1);
        assert.ok(!`${run.stdout}${run.stderr}`.includes(token));
        assert.match(
          String(run.stderr),
          new RegExp(
            String.raw`perf-lab: comment: verify: reading workflow run 12345 of owner\/decoder: ` +
              String.raw`GitHub answered 404 \(Not Found\)\.\n {2}what to do: check the repository ` +
              String.raw`name, the PR number and the run id`,
          ),
        );
      }),
  ],
];

/** Processes whose command line holds `marker` (Linux /proc), to show nothing a decoder started outlived the run. */
async function survivors(marker: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.split('\0').includes(marker)) found.push(`${pid}: ${cmdline.replace(/\0/g, ' ')}`);
  }
  return found;
}

const cliHarness = (argv: string[], cliOutputDir: string | undefined, timeoutMs = 3000) =>
  runHarness({
    compressedPath: join(datasets, 'logs.raw.gz'),
    expectedPath: join(datasets, 'logs.raw'),
    contenders: [{ name: 'cli', kind: 'cli', argv }],
    rounds: 2,
    warmupRounds: 0,
    timeoutMs,
    maxSeconds: 0,
    cliOutputDir,
  });

const linuxOnly = (name: string, run: (t: TestContext) => Promise<void>): Case => [
  name,
  async (t) => {
    // macOS has no child subreaper: a setsid() descendant can outlive the run there (README, perf-lab doctor).
    if (process.platform !== 'linux') return;
    await run(t);
  },
];

/** Stops a run whose decoder hangs, by `signal` to perf-lab (or its whole process group), and checks the clean end. */
async function stopDuringHang(signal: 'SIGTERM' | 'SIGINT', exitCode: number, toGroup: boolean): Promise<void> {
  const cache = join(work, `${signal}-cache`);
  // A config cannot name a bare library as the decoder, so the hung run is driven through runHarness in a child.
  const child = execa(
    'node',
    [
      '--import',
      'tsx',
      '-e',
      `
    import { runHarness } from ${JSON.stringify(join(projectRoot(), 'lab', 'bench', 'harness.ts'))};
    import { exitCleanlyOnSignals } from ${JSON.stringify(join(projectRoot(), 'lab', 'core', 'temp.ts'))};
    exitCleanlyOnSignals();
    await runHarness({ compressedPath: ${JSON.stringify(join(datasets, 'logs.raw.gz'))}, ` +
        `expectedPath: ${JSON.stringify(join(datasets, 'logs.raw'))},
      contenders: [{ name: 'hang', kind: 'cabi', library: ${JSON.stringify(badLibraries.hang)} }], ` +
        `rounds: 2, warmupRounds: 0, timeoutMs: 600000, maxSeconds: 0 });
  `,
    ],
    { reject: false, cwd: projectRoot(), env: { PERF_LAB_CACHE: cache }, detached: toGroup },
  );
  // Wait until the hung worker has the library loaded.
  const loaded = async () => {
    for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
      if ((await readFile(`/proc/${pid}/maps`, 'utf8').catch(() => '')).includes(badLibraries.hang!)) return true;
    }
    return false;
  };
  for (let i = 0; i < 300 && !(await loaded()); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(await loaded(), 'the hung worker started');
  if (toGroup) process.kill(-child.pid!, signal);
  else child.kill(signal);
  const run = await child;
  // Ended by the signal itself (a shell sees 128 + its number).
  assert.ok(run.signal === signal || run.exitCode === exitCode, `${run.signal ?? run.exitCode}: ${String(run.stderr)}`);
  assert.match(String(run.stderr), new RegExp(`perf-lab: stopped by ${signal}; removed 1 temporary folder\\(s\\)\\.`));
  for (let i = 0; i < 50 && (await loaded()); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(await loaded(), false, 'no process has the hung library loaded');
  assert.deepEqual(
    (await readdir(cache)).filter((name) => name.startsWith('harness-spec-')),
    [],
  );
}

const containmentCases: Case[] = [
  linuxOnly(
    'C-ABI decoder leaves a setsid() process holding every descriptor: the run ends, the process does not survive',
    async () => {
      const outcome = await harness('orphan');
      assert.match(outcome.failures.get('orphan')!, /^perf_lab_gzip_decompress returned error code 7$/);
      assert.equal(outcome.samplesNs.get('libdeflate')!.size, 2);
      assert.deepEqual(await survivors('4242.5'), []);
    },
  ),
  linuxOnly(
    'CLI decoder whose setsid() child keeps stdout and stderr open: decodes still end, through a pipe or a file',
    async () => {
      const argv = ['sh', '-c', 'setsid sleep 4243.5 & exec gzip -d -c "$1"', 'sh', join(datasets, 'logs.raw.gz')];
      for (const dir of [undefined, (await cliOutputPath()).dir]) {
        const outcome = await cliHarness(argv, dir);
        assert.equal(outcome.failures.get('cli'), undefined, `output via ${dir ?? 'a pipe'}`);
        assert.equal(outcome.samplesNs.get('cli')!.size, 2);
        assert.deepEqual(await survivors('4243.5'), []);
      }
    },
  ),
  linuxOnly(
    'CLI decoder starts a background process with its output to /dev/null: it does not survive the run',
    async () => {
      const argv = [
        'sh',
        '-c',
        '(sleep 4244.5 >/dev/null 2>&1 &); exec gzip -d -c "$1"',
        'sh',
        join(datasets, 'logs.raw.gz'),
      ];
      const outcome = await cliHarness(argv, undefined);
      assert.equal(outcome.samplesNs.get('cli')!.size, 2);
      assert.deepEqual(await survivors('4244.5'), []);
    },
  ),
  [
    'CLI decoder that fails says why: the last line of its stderr, capped, in the failure',
    async () => {
      const outcome = await cliHarness(
        ['sh', '-c', 'head -c 300000000 /dev/zero >&2; echo "gzippy: bad block header at 0x1f" >&2; exit 2'],
        undefined,
        30_000,
      );
      assert.equal(outcome.failures.get('cli'), 'command exited with status 2: gzippy: bad block header at 0x1f');
    },
  ],
  linuxOnly('SIGTERM to perf-lab during a hung decode: exit 143, the hung worker gone, no temporary folder left', () =>
    stopDuringHang('SIGTERM', 143, false),
  ),
  linuxOnly('Ctrl-C (SIGINT to the whole process group) during a hung decode: exit 130, the same clean end', () =>
    stopDuringHang('SIGINT', 130, true),
  ),
  [
    'Ctrl-C while a file-system thread is blocked for good (open() of a FIFO nobody writes): the process still ends',
    async () => {
      const fifo = join(work, 'blocked.fifo');
      await execa('mkfifo', [fifo]);
      const child = execa(
        'node',
        [
          '--import',
          'tsx',
          '-e',
          `import { readFile } from 'node:fs/promises';
           import { exitCleanlyOnSignals } from ${JSON.stringify(join(projectRoot(), 'lab', 'core', 'temp.ts'))};
           exitCleanlyOnSignals();
           process.stderr.write('reading\\n');
           await readFile(${JSON.stringify(fifo)});`,
        ],
        { reject: false, cwd: projectRoot(), timeout: 60_000 },
      );
      child.stderr.once('data', () => {
        void sleep(500).then(() => child.kill('SIGINT'));
      });
      const run = await child;
      assert.equal(run.timedOut, false, 'the process stayed alive after Ctrl-C');
      assert.ok(run.signal === 'SIGINT' || run.exitCode === 130, `ended by ${run.signal ?? run.exitCode}`);
      assert.match(String(run.stderr), /perf-lab: stopped by SIGINT\./);
    },
  ],
];

const refusedResults = (
  name: string,
  damage: (results: ReturnType<typeof sampleResults>) => unknown,
  field: RegExp,
): Case => [
  `results with ${name} are refused, naming the field`,
  async () => {
    const path = join(work, `damaged-${name.replace(/\W+/g, '-')}.json`);
    const results = sampleResults();
    damage(results);
    await writeFile(path, JSON.stringify(results));
    const run = await cli(['report', '--results', path]);
    assert.equal(run.exitCode, 1, String(run.stderr));
    assert.match(String(run.stderr), field);
    assert.doesNotMatch(String(run.stderr), /internal error/);
  },
];

const inputCases: Case[] = [
  [
    'a run of one batch: "not enough batches" in the report, no interval stored, no baseline from it',
    async () => {
      const json = join(work, 'one-batch-results.json');
      const config = await writeJson('one-batch.json', {
        schemaVersion: 1,
        libdeflate: reference,
        bench: { ...quickBench, minBatches: 1, maxBatches: 1 },
        decoder: { name: 'system-libdeflate', libdeflate: { source: { kind: 'system' } } },
      });
      const run = await cli([
        'bench',
        '--config',
        config,
        '--datasets-dir',
        datasets,
        '--only',
        'logs',
        '--json',
        json,
      ]);
      assert.equal(run.exitCode, 0, String(run.stderr));
      assert.match(
        String(run.stdout),
        /\| LOGS \| .* \| not enough batches \(1\): raise the time budget \| ✅ 1×4 rounds/,
      );
      assert.doesNotMatch(String(run.stdout), /e\+\d\d/, 'no interval of e^±50');
      const results = await readJsonAs<BenchResults>(json);
      assert.equal(results.datasets[0]!.batches, 1);
      assert.equal(results.datasets[0]!.headVsLibdeflate, null, 'no interval stored from one batch');
      const store = join(work, 'one-batch-store');
      const update = await quickCli(['baseline', 'update', '--results', json, '--baselines', store]);
      assert.equal(update.exitCode, 1, String(update.stderr));
      assert.match(String(update.stderr), /perf-lab: baseline update: .*LOGS/);
      assert.equal(await readdir(store).catch(() => 'absent'), 'absent', 'nothing stored');
    },
  ],
  [
    'a results file with zero batches but a ratio: refused with a message by report, compare and baseline update',
    async () => {
      const path = join(work, 'zero-batches.json');
      const results = sampleResults();
      results.datasets[0]!.batches = 0;
      results.datasets[0]!.rounds = 0;
      await writeFile(path, JSON.stringify(results));
      const store = join(work, 'zero-batches-store');
      for (const command of [
        ['report'],
        ['compare', '--baselines', store],
        ['baseline', 'update', '--baselines', store],
      ]) {
        const run = await quickCli([...command, '--results', path]);
        assert.equal(run.exitCode, 1, `${command[0]}: ${String(run.stderr)}`);
        assert.match(
          String(run.stderr),
          new RegExp(
            String.raw`perf-lab: results: .*zero-batches\.json is not a valid results file: ` +
              String.raw`datasets\.0\.batches: is 0, but the dataset has a ratio`,
          ),
        );
        assert.doesNotMatch(String(run.stderr), /internal error|ZodError/);
      }
      assert.equal(await readdir(store).catch(() => 'absent'), 'absent', 'nothing stored');
    },
  ],
  [
    'a results file far too large (a sparse 600 MB file): refused by its size before it is read',
    async () => {
      const path = join(work, 'huge-results.json');
      const handle = await open(path, 'w');
      await handle.truncate(600 * 1024 * 1024);
      await handle.close();
      const run = await quickCli(['report', '--results', path]);
      assert.equal(run.exitCode, 1, String(run.stderr));
      assert.match(
        String(run.stderr),
        new RegExp(
          String.raw`perf-lab: results: .*huge-results\.json is 629145600 bytes, more than the ` +
            String.raw`67108864 bytes perf-lab reads from such a file\.`,
        ),
      );
      assert.doesNotMatch(String(run.stderr), /Invalid string length|internal error/);
    },
  ],
  [
    'a FIFO given as --results or --config: refused at once, not waited on',
    async () => {
      const fifo = join(work, 'results.fifo');
      await execa('mkfifo', [fifo]);
      for (const args of [
        ['report', '--results', fifo],
        ['bench', '--config', fifo, '--datasets-dir', datasets],
      ]) {
        const run = await quickCli(args);
        assert.equal(run.timedOut, false, `${args[0]} hung`);
        assert.equal(run.exitCode, 1, String(run.stderr));
        assert.match(String(run.stderr), /results\.fifo is a named pipe \(FIFO\), not a regular file\./);
      }
    },
  ],
  [
    '--dir that is a regular file (prepare and verify)',
    async () => {
      const file = join(work, 'not-a-folder');
      await writeFile(file, 'x');
      const prepare = await cli(['datasets', 'prepare', '--offline', '--dir', file, '--only', 'logs']);
      assert.equal(prepare.exitCode, 1);
      assert.match(
        String(prepare.stderr),
        new RegExp(
          String.raw`perf-lab: datasets: prepare: --dir .*not-a-folder is a file, not a folder\.\n ` +
            String.raw`{2}what to do: pass a folder with --dir`,
        ),
      );
      const verify = await cli(['datasets', 'verify', '--dir', file]);
      assert.equal(verify.exitCode, 1);
      assert.match(String(verify.stderr), /the datasets folder .*not-a-folder is a file, not a folder/);
      assert.equal(await readFile(file, 'utf8'), 'x');
    },
  ],
  [
    'a path with bytes that are not UTF-8: refused before anything is read or written',
    async () => {
      const parent = join(work, 'non-utf8');
      await rm(parent, { recursive: true, force: true });
      await cp(datasets, parent, { recursive: true });
      // The shell passes the raw byte 0xff; Node would see U+FFFD and name another folder.
      const script =
        'exec node --import tsx "$0" datasets prepare --offline --only logs --dir "$(printf ' +
        `'${parent}/data\\377')"`;
      const run = await execa('sh', ['-c', script, join(projectRoot(), 'lab', 'cli', 'run.ts')], {
        reject: false,
        cwd: projectRoot(),
        env: { CI: 'true' },
      });
      assert.equal(run.exitCode, 1, String(run.stderr));
      assert.match(String(run.stderr), /perf-lab: arguments: ".*non-utf8\/data\uFFFD" holds bytes that are not UTF-8/);
      assert.deepEqual(
        (await readdir(parent)).filter((name) => name.startsWith('data')),
        [],
        'no folder was created',
      );
    },
  ],
  [
    '--baselines that is a regular file (compare and update)',
    async () => {
      const file = join(work, 'baselines-file');
      await writeFile(file, 'x');
      const results = join(work, 'for-baselines-file.json');
      await writeResults(results, sampleResults());
      for (const command of [['compare'], ['baseline', 'update']]) {
        const run = await cli([...command, '--results', results, '--baselines', file]);
        assert.equal(run.exitCode, 1, command.join(' '));
        assert.match(String(run.stderr), /--baselines .*baselines-file is a file, not a folder/);
      }
    },
  ],
  refusedResults(
    'createdAt "yesterday"',
    (results) => (results.createdAt = 'yesterday'),
    /createdAt: must be an ISO 8601 date and time/,
  ),
  refusedResults(
    'empty cycleRatios',
    (results) => (results.datasets[0]!.headVsLibdeflate!.cycleRatios = []),
    /cycleRatios: must hold at least one cycle ratio/,
  ),
  refusedResults(
    'verdictConfidence 5',
    (results) => (results.settings.verdictConfidence = 5),
    /settings\.verdictConfidence/,
  ),
  [
    'memoryLimitMb of 2^44 is refused at config time (it would wrap around in the harness)',
    async () => {
      const run = await benchWith('huge-memory', {
        decoder: { name: 'd', cargo: { path: shimPath }, adapter: { kind: 'cabi' } },
        bench: { ...quickBench, memoryLimitMb: 2 ** 44 },
      });
      assert.equal(run.exitCode, 1);
      assert.match(String(run.stderr), /bench\.memoryLimitMb: .*16777216/);
    },
  ],
  [
    "20,000 rounds a batch with a 2-minute timeout: the run budget does not overflow Node's timer",
    async () => {
      const outcome = await runHarness({
        compressedPath: join(datasets, 'logs.raw.gz'),
        expectedPath: join(datasets, 'logs.raw'),
        contenders: [{ name: 'libdeflate', kind: 'libdeflate', library: libdeflate.sharedLibraryPath }],
        rounds: 20_000,
        warmupRounds: 0,
        timeoutMs: 120_000,
        maxSeconds: 1, // stops starting rounds after a second, so the case stays short
      });
      assert.equal(outcome.failures.size, 0);
      assert.ok(outcome.samplesNs.get('libdeflate')!.size > 0);
    },
  ],
  [
    'a dataset libdeflate also fails on is blamed, not the decoders: exit 1, results kept',
    async () => {
      const dir = await copyDatasets('bad-dataset');
      // An expected output that no decoder produces, with a manifest that agrees with it (so verify passes).
      const raw = await readFile(join(dir, 'logs.raw'));
      raw[1000]! ^= 0x20;
      await writeFile(join(dir, 'logs.raw'), raw);
      const manifest = await readJsonAs<Manifest>(join(dir, 'manifest.json'));
      manifest.datasets.find((entry) => entry.name === 'logs')!.raw.sha256 = createHash('sha256')
        .update(raw)
        .digest('hex');
      await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
      const json = join(work, 'bad-dataset.json');
      const config = await writeJson('bad-dataset-config.json', {
        schemaVersion: 1,
        libdeflate: reference,
        bench: quickBench,
        decoder: { name: 'd', cargo: { path: shimPath }, adapter: { kind: 'cabi' } },
      });
      const run = await cli(['bench', '--config', config, '--datasets-dir', dir, '--only', 'logs', '--json', json]);
      assert.equal(run.exitCode, 1, String(run.stderr));
      assert.match(
        String(run.stderr),
        new RegExp(
          String.raw`perf-lab: bench: libdeflate, the reference, failed too — the dataset \(or ` +
            String.raw`libdeflate's build\) is bad, not the decoders: LOGS: libdeflate-[\d.]+: wrong ` +
            String.raw`bytes: first difference at offset 1000`,
        ),
      );
      assert.match(String(run.stderr), /The results above are kept/);
      assert.equal((await readJsonAs<BenchResults>(json)).ok, false);
    },
  ],
];

const adapterCases: Case[] = [
  [
    "a rust adapter call that does not compile: cargo's error, the call and the generated shim named",
    async () => {
      const shape = await materializeGzippyShape({ folder: 'gzippy-shape-faults' });
      const run = await benchWith('bad-call', {
        decoder: {
          name: 'bad-call',
          cargo: shape.cargo,
          adapter: { kind: 'rust', call: 'gzippy::decompress_everything(input)' },
        },
      });
      assert.equal(run.exitCode, 1);
      assert.match(
        String(run.stderr),
        /perf-lab: build decoder bad-call: cargo build of the generated shim exited with code 101/,
      );
      assert.match(String(run.stderr), /decompress_everything/);
      assert.match(
        String(run.stderr),
        new RegExp(
          "what to do: check the adapter's call \\(`gzippy::decompress_everything\\(input\\)`\\) " +
            "against the crate's API; the shim is .*src\\/lib\\.rs",
        ),
      );
    },
  ],
  [
    'a rust adapter call with statements in it is refused at config time',
    async () => {
      const run = await benchWith('statements', {
        decoder: {
          name: 's',
          cargo: { path: shimPath },
          adapter: { kind: 'rust', call: 'x(input); std::process::exit(0)' },
        },
      });
      assert.equal(run.exitCode, 1);
      assert.match(String(run.stderr), /decoder\.adapter\.call: must be one expression/);
    },
  ],
  [
    'a CLI adapter whose program is missing: exit 1 naming it, nothing timed',
    async () => {
      const run = await benchWith('missing-program', {
        decoder: {
          name: 'cli',
          cargo: { path: shimPath },
          adapter: { kind: 'cli', binary: 'perf-lab-gunzip', command: ['/nonexistent/gzippy', '-d', '{input}'] },
        },
      });
      assert.equal(run.exitCode, 1);
      assert.match(String(run.stderr), /the program "\/nonexistent\/gzippy" does not exist or is not executable/);
    },
  ],
  [
    'a compressor that writes nothing is refused, and no manifest is written',
    async () => {
      const dir = join(work, 'true-compressor');
      const run = await cli([
        'datasets',
        'prepare',
        '--offline',
        '--dir',
        dir,
        '--only',
        'logs',
        '--gzip',
        '/bin/true',
      ]);
      assert.equal(run.exitCode, 1);
      assert.match(String(run.stderr), /perf-lab: datasets: /);
      assert.ok(!(await readdir(dir).catch(() => [] as string[])).includes('manifest.json'));
    },
  ],
];

/** A small C function compiled for `target` into `name`.o, for the analysis cases. */
async function objectFor(
  name: string,
  target: string,
  source = 'unsigned f(const unsigned char *p, int n) { unsigned s = 0; for (int i = 0; i < n; i++) s = s * 31 ' +
    '+ p[i]; return s; }\n',
): Promise<string> {
  const c = join(work, `${name}.c`);
  await writeFile(c, source);
  await execa('clang', [`--target=${target}`, '-O2', '-ffreestanding', '-c', c, '-o', join(work, `${name}.o`)]);
  return join(work, `${name}.o`);
}

const analysisCases: Case[] = [
  [
    'an x86 object given to analyze: "not AArch64", exit 1',
    async () => {
      const run = await cli(['analyze', '--binary', await objectFor('x86', 'x86_64-linux-gnu'), '--function', 'f']);
      assert.equal(run.exitCode, 1);
      assert.match(String(run.stderr), /is not AArch64 code/);
    },
  ],
  [
    'an empty object given to analyze: "holds no code", exit 1',
    async () => {
      const run = await cli([
        'analyze',
        '--binary',
        await objectFor('empty', 'aarch64-linux-gnu', ''),
        '--function',
        'f',
      ]);
      assert.equal(run.exitCode, 1);
      assert.match(String(run.stderr), /holds no code/);
    },
  ],
  [
    'a stripped build given to analyze: says so, and how to read it anyway',
    async () => {
      const object = await objectFor('stripped', 'aarch64-linux-gnu');
      await execa('llvm-strip', ['--strip-all', object]).catch(() =>
        execa('aarch64-linux-gnu-strip', ['--strip-all', object]),
      );
      const run = await cli(['analyze', '--binary', object, '--function', 'f']);
      assert.equal(run.exitCode, 1);
      assert.match(String(run.stderr), /has no function symbols \(a stripped build\)/);
      assert.match(String(run.stderr), /pass --function \.text/);
    },
  ],
  [
    'a loop pin that matches no loop: the loops there are listed',
    async () => {
      const run = await cli([
        'analyze',
        '--binary',
        await objectFor('pin', 'aarch64-linux-gnu'),
        '--function',
        'f',
        '--loop',
        '0x9999',
      ]);
      assert.equal(run.exitCode, 1);
      assert.match(String(run.stderr), /no loop with its header at 0x9999 in f \(pinned as "0x9999"\)/);
      assert.match(String(run.stderr), /loops in f: 0x[0-9a-f]+ \(\+0x[0-9a-f]+\)/);
    },
  ],
  [
    'a text file that is no disassembly: refused, naming the formats it reads',
    async () => {
      const path = join(work, 'not-a-listing.txt');
      await writeFile(path, 'hello\nthis is not objdump output\n');
      const run = await cli(['analyze', '--binary', path, '--function', 'f']);
      assert.equal(run.exitCode, 1);
      assert.match(String(run.stderr), /holds no ARM64 instructions that perf-lab can read/);
    },
  ],
];

/** A busy decoder against libdeflate: 6 rounds, with `threads` for it. */
const busyRun = (name: keyof typeof BUSY | 'cli', threads = 1, argv?: string[]) =>
  runHarness({
    compressedPath: join(datasets, 'logs.raw.gz'),
    expectedPath: join(datasets, 'logs.raw'),
    contenders: [
      argv ? { name, kind: 'cli', argv } : { name, kind: 'cabi', library: busyLibraries[name]! },
      argv
        ? { name: 'libdeflate', kind: 'cli', argv: ['gzip', '-d', '-c', join(datasets, 'logs.raw.gz')] }
        : { name: 'libdeflate', kind: 'libdeflate', library: libdeflate.sharedLibraryPath },
    ],
    rounds: 6,
    warmupRounds: 1,
    timeoutMs: 20_000,
    maxSeconds: 0,
    threads: { [name]: threads },
  });

const outsideCase = (name: string, run: () => ReturnType<typeof busyRun>, flagged: boolean): Case => [
  `${name}: ` +
    (flagged
      ? 'marked not comparable (CPU outside its decode calls over the allowance)'
      : 'within the allowance, not marked'),
  async (t) => {
    const outcome = await run();
    const busy = [...outcome.samplesNs.keys()][0]!;
    const usage = contenderUsage([outcome], busy, 1);
    const reference = contenderUsage([outcome], 'libdeflate', 1);
    t.diagnostic(`${busy}: ${usage.outsideTurnCpuMs} ms outside (allowance ${usage.outsideTurnAllowanceMs} ms)`);
    assert.equal(outcome.failures.size, 0, [...outcome.failures.values()].join('; '));
    assert.equal(Boolean(outsideTurnFinding(usage)), flagged, JSON.stringify(usage));
    if (flagged) assert.match(outsideTurnFinding(usage)!, /^used \d+ ms of CPU outside its decode calls/);
    assert.equal(outsideTurnFinding(reference), undefined, 'libdeflate did not work outside its turn');
  },
];

const fairnessCases: Case[] = [
  linuxOnly(
    'a parallel decoder (threads 2) gets 2 CPUs: its threads can run at once, CPU of both counted',
    async (t) => {
      if ((allowedCpus()?.length ?? 0) < 2) return; // one CPU: nothing can run in parallel here
      const outcome = await busyRun('parallel', 2);
      assert.equal(outcome.failures.get('parallel'), undefined, 'its threads were allowed 2 CPUs');
      assert.equal(outcome.placements?.find((entry) => entry.name === 'parallel')?.cpus.length, 2);
      const usage = contenderUsage([outcome], 'parallel', 2);
      // Each decode: two threads of 2 ms CPU each, on top of the decode itself — all of it in the decode's CPU time.
      assert.ok(usage.cpuTimeMs >= 4 * outcome.samplesNs.get('parallel')!.size, JSON.stringify(usage));
      assert.ok(usage.parallelEfficiency !== null && usage.parallelEfficiency > 0, JSON.stringify(usage));
      t.diagnostic(
        `parallel: ${usage.cpuTimeMs} ms CPU in ${usage.wallTimeMs} ms, efficiency ${usage.parallelEfficiency}`,
      );
    },
  ),
  linuxOnly(
    'the same decoder given 1 thread is pinned to one CPU: its threads cannot run in parallel, and it says so',
    async () => {
      const outcome = await busyRun('parallel', 1);
      assert.match(outcome.failures.get('parallel') ?? '', /returned error code 9/);
      assert.deepEqual(outcome.placements?.find((entry) => entry.name === 'parallel')?.cpus?.length, 1);
    },
  ),
  outsideCase('a C-ABI decoder leaving a thread spinning after its call returns', () => busyRun('spin-after'), true),
  outsideCase('a C-ABI decoder whose thread spins between calls', () => busyRun('spin-between'), true),
  outsideCase(
    'a CLI decoder that leaves a spinning background process',
    () =>
      busyRun('cli', 1, [
        'sh',
        '-c',
        '(while :; do :; done) & exec gzip -d -c "$1"',
        'sh',
        join(datasets, 'logs.raw.gz'),
      ]),
    true,
  ),
  outsideCase('a decoder whose pool spins 0.5 ms after each call', () => busyRun('brief-pool'), false),
  linuxOnly('two benches at once on the same CPUs: the second one warns, naming the other', async () => {
    // Another bench (here: a sleeping process) holds every CPU this machine allows.
    const other = execa('sleep', ['60'], { reject: false });
    const dir = join(tmpdir(), 'perf-lab-cpu-claims');
    await mkdir(dir, { recursive: true });
    const claims = (allowedCpus() ?? []).map((cpu) => join(dir, `cpu-${cpu}-${other.pid}`));
    for (const claim of claims) await writeFile(claim, '');
    try {
      const run = await execa(
        'node',
        [
          '--import',
          'tsx',
          '-e',
          `import { runHarness } from ${JSON.stringify(join(projectRoot(), 'lab', 'bench', 'harness.ts'))};
           await runHarness({ compressedPath: ${JSON.stringify(join(datasets, 'logs.raw.gz'))},
             expectedPath: ${JSON.stringify(join(datasets, 'logs.raw'))},
             contenders: [{ name: 'l', kind: 'libdeflate', library: ${JSON.stringify(libdeflate.sharedLibraryPath)} }],
             rounds: 1, warmupRounds: 0, timeoutMs: 20000, maxSeconds: 0 });`,
        ],
        { reject: false, cwd: projectRoot(), env: { CI: 'true' } },
      );
      assert.equal(run.exitCode, 0, String(run.stderr));
      assert.match(
        String(run.stderr),
        new RegExp(`warning: bench: another perf-lab bench \\(pid ${other.pid}\\) was running on CPU \\d+: `),
      );
    } finally {
      other.kill();
      for (const claim of claims) await rm(claim, { force: true });
    }
  }),
];

fairnessCases.push([
  'bench end to end: a CLI head that leaves a spinner is not comparable in the verdict, the report, the ' +
    'comment and the baseline',
  async () => {
    const cliDecoder = (name: string, command: string[]) => ({
      name,
      cargo: { path: shimPath },
      adapter: { kind: 'cli', binary: 'perf-lab-gunzip', command },
    });
    const json = join(work, 'spinner-results.json');
    const config = await writeJson('spinner.json', {
      schemaVersion: 1,
      libdeflate: reference,
      bench: quickBench,
      decoder: cliDecoder('spinner', ['sh', '-c', '(while :; do :; done) & exec "$0" "$1"', '{bin}', '{input}']),
      base: cliDecoder('clean', ['{bin}', '{input}']),
    });
    const run = await cli(['bench', '--config', config, '--datasets-dir', datasets, '--only', 'logs', '--json', json]);
    assert.equal(run.exitCode, 0, String(run.stderr));
    const results = await readJsonAs<BenchResults>(json);
    const [logs] = results.datasets;
    const usage = (name: string) => logs!.contenders.find((contender) => contender.name === name)!.usage!;
    assert.ok(
      usage('spinner').outsideTurnCpuMs > usage('spinner').outsideTurnAllowanceMs,
      JSON.stringify(usage('spinner')),
    );
    assert.ok(usage('clean').outsideTurnCpuMs <= usage('clean').outsideTurnAllowanceMs, JSON.stringify(usage('clean')));
    assert.equal(logs!.headVsBase!.verdict.kind, 'inconclusive');
    assert.match(
      logs!.headVsBase!.verdict.reason!,
      /^not comparable: head \(spinner\) used \d+ ms of CPU outside its decode calls \(allowance \d+ ms\)/,
    );
    const report = await cli(['report', '--results', json]);
    assert.match(String(report.stdout), /⚠️ Not comparable: spinner used CPU outside its decode calls/);
    assert.match(
      String(report.stdout),
      /⚠️ \*\*Not comparable:\*\* spinner used \d+ ms of CPU outside its decode calls/,
    );
    assert.match(
      String(report.stdout),
      new RegExp(
        String.raw`\| LOGS \| spinner \| 1 \| \d+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| ⚠️ [\d.]+ ms ` +
          String.raw`\(allowance \d+ ms: 2 ms × \d+ rounds\) \|`,
      ),
    );
    assert.match(renderComment(results), /spinner used CPU outside its decode calls/);
    const store = join(work, 'spinner-baselines');
    const update = await cli(['baseline', 'update', '--results', json, '--baselines', store]);
    assert.equal(update.exitCode, 1, String(update.stderr));
    assert.match(
      String(update.stderr),
      /perf-lab: baseline update: not comparable: spinner: used \d+ ms of CPU outside/,
    );
    assert.equal(await readdir(store).catch(() => 'absent'), 'absent', 'nothing stored');
  },
]);

const catalog: Array<[string, Case[]]> = [
  ['a fair contest', fairnessCases],
  ['datasets', datasetCases],
  ['dataset files that are not regular files', specialFileCases],
  ['builds', buildCases],
  ['bench', benchCases],
  ['containment', containmentCases],
  ['inputs', inputCases],
  ['adapters', adapterCases],
  ['analysis inputs', analysisCases],
  ['stored data', storedCases],
  ['GitHub', githubCases],
];

describe('fault-injection suite', () => {
  it('has at least 60 named cases', () => {
    assert.ok(catalog.reduce((sum, [, cases]) => sum + cases.length, 0) >= 60);
  });
  for (const [area, cases] of catalog) {
    describe(area, () => {
      for (const [name, run] of cases) it(name, run);
    });
  }
});
