import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { simpleGit } from 'simple-git';
import { z } from 'zod';
import { LabError } from '../core/errors.js';
import { fileExists, sha256Hex } from '../core/files.js';
import { startProgress } from '../core/log.js';
import { cacheRoot } from '../core/paths.js';
import { attempt, failureText } from '../core/process.js';
import { buildTarget } from './target.js';
import { buildIntoCache, cacheKey, hashTree, readCachedBuild, withBuildLock } from './cache.js';
import {
  planRustShim,
  RUST_SHIM_TARGET,
  rustAdapterSchema,
  rustShimDir,
  rustShimRecordSchema,
  shimSource,
  writeRustShim,
} from './rust-shim.js';
import { parseRustcVersion, type RustToolchain } from './toolchain.js';

export const contenderNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$/, 'must be 1-64 letters, digits, _ . + - (no spaces)');

const cargoAdapterSchema = z.discriminatedUnion('kind', [
  /** A cdylib exporting `perf_lab_gzip_decompress` (lab/bench/README.md), timed in-process. */
  z.object({ kind: z.literal('cabi') }),
  /** A program timed as a whole process; `{bin}` and `{input}` are filled in; it must write the output to stdout. */
  z.object({
    kind: z.literal('cli'),
    binary: z.string().min(1),
    command: z.array(z.string()).min(1).default(['{bin}', '-d', '-c', '{input}']),
  }),
  /** A Rust library called through a shim crate the lab generates (lab/build/rust-shim.ts). */
  rustAdapterSchema,
]);

export const cargoDecoderSchema = z.object({
  name: contenderNameSchema,
  cargo: z.union([
    z.object({ path: z.string().min(1) }).strict(),
    z.object({ git: z.string().min(1), ref: z.string().min(1) }).strict(),
  ]),
  /** A shell command run in the project folder before `cargo build` (the real decoder generates code first). */
  codegen: z.string().min(1).optional(),
  package: z.string().optional(),
  features: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  /** Threads the decoder may use (passed as `threads` to a rust call and `{threads}` in a cli command). */
  threads: z.number().int().min(1).max(1024).default(1),
  adapter: cargoAdapterSchema,
});
export type CargoDecoderSpec = z.infer<typeof cargoDecoderSchema>;

const decoderBuildSchema = z.object({
  name: z.string(),
  adapter: z.enum(['cabi', 'cli', 'rust']),
  description: z.string(),
  /** File name of the artifact inside the build folder. */
  artifact: z.string(),
  command: z.array(z.string()).nullable(),
  toolchain: z.object({
    rustc: z.string(),
    release: z.string(),
    llvm: z.string(),
    commitHash: z.string(),
    host: z.string(),
  }),
  cacheKey: z.string(),
  /** sha256 over the project's files (hashTree) before the code-generation step: what the cache key covers. */
  sourceTree: z.string(),
  /** The same after the code-generation step: the tree cargo built (equal to sourceTree without codegen). */
  builtTree: z.string(),
  /** The rust adapter's generated shim: the exact call, how the output is handed over, and the crate the lab wrote. */
  rust: rustShimRecordSchema.optional(),
});
export type DecoderBuildRecord = z.infer<typeof decoderBuildSchema>;
export interface DecoderBuild extends DecoderBuildRecord {
  artifactPath: string;
  /** Whether this call found the build in the cache (then neither codegen nor cargo ran). */
  cached: boolean;
}

const step = 'build decoder';

async function projectDir(spec: CargoDecoderSpec, baseDir: string): Promise<{ dir: string; description: string }> {
  if ('path' in spec.cargo) {
    const dir = resolve(baseDir, spec.cargo.path);
    if (!(await fileExists(join(dir, 'Cargo.toml')))) {
      throw new LabError(
        `${step} ${spec.name}`,
        `${dir} has no Cargo.toml.`,
        basename(baseDir) === '.github'
          ? 'a repository\'s .github/perf-lab.json names the repository (".") for pr-check and the workflows: run ' +
              '`perf-lab pr-check --repo <the repository>` with it, or give `bench` a config of its own whose ' +
              'decoder.cargo.path is the cargo project.'
          : 'set decoder.cargo.path to the root of the cargo project.',
      );
    }
    return { dir, description: `cargo project ${dir}` };
  }
  const { git: url, ref } = spec.cargo;
  const dir = join(cacheRoot(), 'sources', `cargo-${sha256Hex(url).slice(0, 24)}`);
  try {
    if (!(await fileExists(join(dir, '.git')))) {
      await mkdir(join(cacheRoot(), 'sources'), { recursive: true });
      await simpleGit().clone(url, dir);
    } else {
      await simpleGit(dir).fetch(['--tags', '--force', 'origin']);
    }
    const repo = simpleGit(dir);
    await repo.checkout(['--force', ref]);
    await repo.clean('f', ['-d', '-x', '-e', 'target']);
    const commit = (await repo.revparse(['HEAD'])).trim();
    return { dir, description: `git ${url} @ ${ref} (commit ${commit.slice(0, 12)})` };
  } catch (error) {
    throw new LabError(
      `${step} ${spec.name}`,
      `cannot get ${url} at ${ref}: ${(error as Error).message.trim().split('\n').slice(-2).join(' ')}`,
      'check the git URL, the ref and the network.',
    );
  }
}

/**
 * What to do about a failed cargo build, from what cargo said: a registry it could not reach, the decoder's own
 * code, or (only when the errors are in the lab's generated shim) the adapter's call.
 */
export function cargoFailureHint(stderr: string, shim?: { dir: string; call: string }): string {
  if (
    new RegExp(
      String.raw`Could not resolve host|failed to (get|download|fetch|update)|spurious network er` +
        String.raw`ror|failed to query replaced source`,
      'i',
    ).test(stderr)
  )
    return (
      'cargo could not reach a crate registry (no network, or a registry it may not use). Offline, vendor the ' +
      "dependencies or point cargo at a local source: a [source] replacement in the project's .cargo/config.toml " +
      'or in $CARGO_HOME/config.toml (Debian: directory = "/usr/share/cargo/registry").'
    );
  const errorPlaces = [...stderr.matchAll(/^\s*--> (.+?):\d+:\d+$/gm)].map((match) => match[1]!);
  // cargo names the shim's own files relative to it (it builds in the shim's folder), the decoder's by full path.
  if (shim && errorPlaces.length > 0 && errorPlaces.every((place) => !isAbsolute(place) || place.startsWith(shim.dir)))
    return (
      `check the adapter's call (\`${shim.call}\`) against the crate's API; the shim is ` +
      `${join(shim.dir, 'src', 'lib.rs')}.`
    );
  return "fix the decoder's build (cargo's errors are above).";
}

interface CargoArtifactMessage {
  reason: string;
  target?: { kind?: string[]; name?: string };
  filenames?: string[];
  executable?: string | null;
}

/** Picks the artifact the adapter needs from cargo's JSON messages (for the rust adapter: the shim's own cdylib). */
export function pickArtifact(
  messages: readonly CargoArtifactMessage[],
  adapter: CargoDecoderSpec['adapter'],
): string | undefined {
  for (const message of messages) {
    if (message.reason !== 'compiler-artifact') continue;
    const kinds = message.target?.kind ?? [];
    // A decoder crate can be a cdylib itself; the rust adapter wants the shim's library, not its dependency's.
    if (adapter.kind === 'rust' && message.target?.name !== RUST_SHIM_TARGET) continue;
    if ((adapter.kind === 'cabi' || adapter.kind === 'rust') && kinds.includes('cdylib')) {
      return message.filenames?.find((file) => /\.(so|dylib)$/.test(file));
    }
    if (
      adapter.kind === 'cli' &&
      kinds.includes('bin') &&
      message.target?.name === adapter.binary &&
      message.executable
    ) {
      return message.executable;
    }
  }
  return undefined;
}

/**
 * The workspace a member crate belongs to, when its root lies above the project folder: its manifest, lock file and
 * cargo config change the build too (the project's own files are in its tree). A hash of their contents, or null.
 */
async function enclosingWorkspace(dir: string): Promise<string | null> {
  const isWorkspace = async (folder: string) =>
    /^\s*\[workspace[\].]/m.test(await readFile(join(folder, 'Cargo.toml'), 'utf8').catch(() => ''));
  if (await isWorkspace(dir)) return null;
  for (let parent = dirname(dir); parent !== dirname(parent); parent = dirname(parent)) {
    if (!(await isWorkspace(parent))) continue;
    const hash = createHash('sha256');
    for (const file of ['Cargo.toml', 'Cargo.lock', '.cargo/config.toml', '.cargo/config']) {
      const text = await readFile(join(parent, file)).catch(() => undefined);
      if (text) hash.update(`${file}\0`).update(text).update('\0');
    }
    return hash.digest('hex');
  }
  return null;
}

async function rustToolchain(name: string, dir: string, env: NodeJS.ProcessEnv): Promise<RustToolchain> {
  const rustcText = await attempt(buildTarget().rustc, ['-vV'], { cwd: dir, env });
  if (!rustcText.ok) {
    const said = rustcText.stderr.trim().split('\n')[0];
    throw new LabError(
      name,
      `\`rustc -vV\` failed${env.RUSTUP_TOOLCHAIN ? ` for toolchain ${env.RUSTUP_TOOLCHAIN}` : ''}: ` +
        `${said || 'no Rust toolchain'}.`,
      env.RUSTUP_TOOLCHAIN
        ? `install it (rustup toolchain install ${env.RUSTUP_TOOLCHAIN}) or drop it from --toolchains.`
        : 'install Rust (rustup, or Debian: apt-get install rustc cargo).',
    );
  }
  return parseRustcVersion(rustcText.stdout);
}

/**
 * Builds a cargo decoder and copies the artifact into a cache folder keyed by content only: the project's tree as
 * it is before the code-generation step, the codegen command, the enclosing workspace, the generated shim (its
 * project path normalised out), the spec, RUSTFLAGS and the toolchain — never a folder's path, so the same commit
 * checked out in two folders is one build, and base and head builds never overwrite each other. On a hit nothing
 * runs (no codegen, no cargo build); on a miss codegen runs once, then cargo, and the build record keeps the hash of
 * the tree codegen left (what cargo built).
 */
export async function buildCargoDecoder(spec: CargoDecoderSpec, baseDir = process.cwd()): Promise<DecoderBuild> {
  const name = `${step} ${spec.name}`;
  const progress = startProgress(name);
  const project = await projectDir(spec, baseDir);
  // A cross target (lab/build/target.ts) builds with its own cargo and rustc, for its triple.
  const target = buildTarget();
  const env = { ...process.env, ...target.cargoEnv, ...spec.env };
  const toolchain = await rustToolchain(name, project.dir, env);
  const sourceTree = await hashTree(project.dir);
  // The rust adapter builds the lab's shim crate, which depends on the project: its generated content keys the build.
  const shimOptions =
    spec.adapter.kind === 'rust'
      ? {
          name: spec.name,
          package: spec.package,
          features: spec.features,
          adapter: spec.adapter,
          threads: spec.threads,
          env,
        }
      : undefined;
  // Before codegen the project may not be a complete crate yet (codegen may write its lib.rs): then the shim is
  // planned after codegen and keyed here by its call alone.
  const plannedShim = shimOptions
    ? await planRustShim(project.dir, shimOptions).catch((error: unknown) => {
        if (spec.codegen) return undefined;
        throw error;
      })
    : undefined;
  const key = cacheKey({
    tree: sourceTree,
    workspace: await enclosingWorkspace(project.dir),
    codegen: spec.codegen ?? null,
    shim: shimOptions
      ? plannedShim
        ? sha256Hex(plannedShim.key)
        : { plannedAfterCodegen: shimSource(shimOptions.adapter, spec.threads) }
      : null,
    toolchain,
    package: spec.package ?? null,
    features: spec.features,
    env: spec.env,
    threads: spec.threads,
    adapter: spec.adapter,
    ...(target.cargoTarget ? { cargoTarget: target.cargoTarget } : {}),
    rustflags: env.RUSTFLAGS ?? '',
    encodedRustflags: env.CARGO_ENCODED_RUSTFLAGS ?? '',
  });
  // Keyed by content alone, not by the name: the warm-up builds the decoder as `gzippy`, a PR check the same commit
  // as `gzippy-base`, and that is one build.
  const finalDir = join(cacheRoot(), 'builds', `decoder-${key}`);
  const fromCache = () => readCachedBuild(finalDir, decoderBuildSchema, (record) => [join(finalDir, record.artifact)]);
  // The same build may have been made from another folder or source: the description is this one's.
  const hit = (record: DecoderBuildRecord): DecoderBuild => {
    progress.done(`${spec.name} (cached)`);
    return {
      ...record,
      name: spec.name,
      description: project.description,
      artifactPath: join(finalDir, record.artifact),
      cached: true,
    };
  };
  const cached = await fromCache();
  if (cached) return hit(cached);

  // One target folder (and shim folder) per decoder name, kept between builds so cargo reuses what did not change;
  // the lock keeps two processes building the same name from mixing them up (cargo would only serialise its builds,
  // not the copy of the artifact after).
  const targetDir = join(cacheRoot(), 'cargo-target', `${spec.name}${target.folderSuffix}`);
  return withBuildLock(`${targetDir}.lock`, name, async () => {
    // Built by another process while this one waited for the lock.
    const built = await fromCache();
    if (built) return hit(built);
    if (spec.codegen) {
      progress.update('running the code-generation step');
      const result = await attempt('sh', ['-c', spec.codegen], { cwd: project.dir, env });
      if (!result.ok) {
        progress.done('failed');
        throw new LabError(
          `${name}: codegen step`,
          failureText(`\`${spec.codegen}\``, result),
          `fix the code-generation step. Reproduce with: ${result.reproduce}`,
        );
      }
    }
    const builtTree = spec.codegen ? await hashTree(project.dir) : sourceTree;
    const plan =
      shimOptions && (spec.codegen || !plannedShim) ? await planRustShim(project.dir, shimOptions) : plannedShim;
    const shim = plan ? await writeRustShim(plan, rustShimDir(`${spec.name}${target.folderSuffix}`)) : undefined;
    const buildDir = shim?.dir ?? project.dir;
    progress.update(`cargo build --release (${toolchain.rustc})`);
    const args = ['build', '--release', '--message-format=json-render-diagnostics'];
    if (target.cargoTarget) args.push('--target', target.cargoTarget);
    // The shim names the package and its features in its own Cargo.toml.
    if (spec.package && !shim) args.push('--package', spec.package);
    if (spec.features.length && !shim) args.push('--features', spec.features.join(','));
    const cargo = await attempt(target.cargo, args, { cwd: buildDir, env: { ...env, CARGO_TARGET_DIR: targetDir } });
    if (!cargo.ok) {
      progress.done('failed');
      // stdout is cargo's JSON messages; the rendered diagnostics are on stderr.
      throw new LabError(
        name,
        failureText(shim ? 'cargo build of the generated shim' : 'cargo build', cargo, cargo.stderr),
        cargoFailureHint(
          cargo.stderr,
          shim && spec.adapter.kind === 'rust' ? { dir: shim.dir, call: spec.adapter.call } : undefined,
        ) +
          ' ' +
          `Reproduce with: ${cargo.reproduce}`,
      );
    }
    const messages = cargo.stdout.split('\n').flatMap((line) => {
      try {
        return [JSON.parse(line) as CargoArtifactMessage];
      } catch {
        return [];
      }
    });
    const artifact = pickArtifact(messages, spec.adapter);
    if (!artifact) {
      const wanted =
        spec.adapter.kind === 'cli' ? `a binary named ${spec.adapter.binary}` : 'a cdylib (crate-type = ["cdylib"])';
      throw new LabError(
        name,
        `cargo built no ${wanted}.`,
        spec.adapter.kind === 'cli'
          ? 'set adapter.binary to the name of the [[bin]] target.'
          : 'add crate-type = ["cdylib"] to [lib] in Cargo.toml, or use the rust or cli adapter.',
      );
    }
    const artifactName = basename(artifact);
    const record = await buildIntoCache(finalDir, async (temp): Promise<DecoderBuildRecord> => {
      await copyFile(artifact, join(temp, artifactName));
      await chmod(join(temp, artifactName), 0o755);
      return {
        name: spec.name,
        adapter: spec.adapter.kind,
        description: project.description,
        artifact: artifactName,
        command: spec.adapter.kind === 'cli' ? spec.adapter.command : null,
        toolchain,
        cacheKey: key,
        sourceTree,
        builtTree,
        ...(shim && spec.adapter.kind === 'rust'
          ? {
              rust: {
                call: spec.adapter.call,
                output: spec.adapter.output,
                package: shim.package,
                cargoToml: shim.cargoToml,
                libRs: shim.libRs,
              },
            }
          : {}),
      };
    });
    progress.done(`${spec.name} built (${toolchain.rustc}, LLVM ${toolchain.llvm})`);
    return { ...record, artifactPath: join(finalDir, artifactName), cached: false };
  });
}
