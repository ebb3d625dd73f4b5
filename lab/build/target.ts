import { existsSync } from 'node:fs';
import { LabError } from '../core/errors.js';
import { programOnPath } from '../core/paths.js';

/**
 * What the lab builds for and how it runs what it built: the host (the default), or a cross target.
 *
 * A test seam, not a user feature: PERF_LAB_TARGET=aarch64-linux-gnu builds the harness, libdeflate and Rust decoders
 * for Linux ARM64 as an ubuntu-24.04-arm runner would (GCC; Debian's cargo and rustc, whose libstd-rust-dev:arm64 is
 * an offline aarch64 Rust std), and PERF_LAB_EXEC_WRAPPER=qemu-aarch64 runs the harness and a built CLI decoder
 * through qemu-user on an x86 machine (lab/bench/qemu-arm64.test.ts). This is the one place that maps a target to
 * its tools.
 */
export interface BuildTarget {
  /** "host", or the cross target's name (a GNU triple). */
  name: string;
  /** Whether its code is another machine's (a cross target): not this host's valgrind, system libraries or MIDR. */
  cross: boolean;
  /** The C compiler; undefined on the host (then $CC or cc). */
  cc: string | undefined;
  /** Extra link flags for the lab's native harness. */
  harnessLinkFlags: string[];
  /** cargo's --target triple; undefined on the host. */
  cargoTarget: string | undefined;
  /** The cargo and rustc that build for it (the host's: whatever is on PATH). */
  cargo: string;
  rustc: string;
  /** Environment for cargo (the linker) and for what runs the target's programs (qemu's sysroot). */
  cargoEnv: Record<string, string>;
  runEnv: Record<string, string>;
  /** What a program built for the target is run through (e.g. ["qemu-aarch64"]); empty on the host. */
  execWrapper: string[];
  /** The CPU model its code is priced on when no machine of it was seen, and why (undefined: the host's). */
  model: { name: string; why: string } | undefined;
  /** Folder-name suffix for what a build of another toolchain must not share (cargo lock files, target folders). */
  folderSuffix: string;
}

interface CrossTarget {
  cc: string;
  cargoTarget: string;
  /** The tools and files it needs here, each with the Debian package that installs it (scripts/setup.sh does). */
  needs: Array<{ path: string; package: string }>;
  sysroot: string;
  harnessLinkFlags: string[];
  model: { name: string; why: string };
}

const CROSS_TARGETS: Readonly<Record<string, CrossTarget>> = {
  'aarch64-linux-gnu': {
    cc: 'aarch64-linux-gnu-gcc',
    cargoTarget: 'aarch64-unknown-linux-gnu',
    needs: [
      { path: 'aarch64-linux-gnu-gcc', package: 'gcc-aarch64-linux-gnu' },
      { path: '/usr/aarch64-linux-gnu/lib/libc.so', package: 'libc6-dev-arm64-cross' },
      { path: '/usr/bin/cargo', package: 'cargo' },
      { path: '/usr/bin/rustc', package: 'rustc' },
      { path: '/usr/lib/rustlib/aarch64-unknown-linux-gnu/lib', package: 'libstd-rust-dev:arm64' },
    ],
    // Where qemu-user finds the loader and libc of what is dynamically linked (the decoders' libraries).
    sysroot: '/usr/aarch64-linux-gnu',
    // Static: under Debian 12's qemu-user 7.2 a dynamically linked aarch64 program's forked child spins before its
    // first system call (the harness forks a worker per contender); a static one forks, and dlopens the decoders
    // from the sysroot (the same glibc, 2.36, as the one it was linked with).
    harnessLinkFlags: ['-static'],
    model: {
      name: 'neoverse-n2',
      why:
        'chosen for the build target aarch64-linux-gnu: the ubuntu-24.04-arm runner class (Neoverse N2); no ARM64 ' +
        'machine was seen (its programs ran under an exec wrapper), so there is no MIDR to choose by',
    },
  },
};

const WRAPPER_PACKAGES: Readonly<Record<string, string>> = { 'qemu-aarch64': 'qemu-user' };

const step = 'build: target';

const HOST: BuildTarget = {
  name: 'host',
  cross: false,
  cc: undefined,
  harnessLinkFlags: [],
  cargoTarget: undefined,
  cargo: 'cargo',
  rustc: 'rustc',
  cargoEnv: {},
  runEnv: {},
  execWrapper: [],
  model: undefined,
  folderSuffix: '',
};

/**
 * The target of PERF_LAB_TARGET (unset: the host) with PERF_LAB_EXEC_WRAPPER, checked: an unknown target, a missing
 * cross tool or wrapper is refused with the package that installs it.
 */
export function buildTarget(env: NodeJS.ProcessEnv = process.env): BuildTarget {
  const name = env.PERF_LAB_TARGET?.trim() || undefined;
  const wrapper = env.PERF_LAB_EXEC_WRAPPER?.trim() || undefined;
  // Read at each use, but a cross target's tool checks touch the file system: once per setting (and PATH).
  const key = [name ?? '', wrapper ?? '', process.env.PATH ?? ''].join('\0');
  const known = checkedTargets.get(key);
  if (known) return known;
  const target = resolveTarget(name, wrapper);
  checkedTargets.set(key, target);
  return target;
}

const checkedTargets = new Map<string, BuildTarget>();

function resolveTarget(name: string | undefined, wrapper: string | undefined): BuildTarget {
  if (!name) {
    if (wrapper)
      throw new LabError(
        step,
        `PERF_LAB_EXEC_WRAPPER=${wrapper} is set without PERF_LAB_TARGET: the host's programs need no wrapper.`,
        `set PERF_LAB_TARGET (${Object.keys(CROSS_TARGETS).join(', ')}) too, or unset PERF_LAB_EXEC_WRAPPER.`,
      );
    return HOST;
  }
  const cross = CROSS_TARGETS[name];
  if (!cross)
    throw new LabError(
      step,
      `unknown PERF_LAB_TARGET ${JSON.stringify(name)}.`,
      `use one of: ${Object.keys(CROSS_TARGETS).join(', ')} (or unset it to build for this machine).`,
    );
  const missing = cross.needs.filter(
    (need) => !(need.path.includes('/') ? existsSync(need.path) : programOnPath(need.path) !== undefined),
  );
  if (missing.length)
    throw new LabError(
      step,
      `building for ${name} needs ${missing.map((need) => need.path).join(', ')}, not found here.`,
      `install ${[...new Set(missing.map((need) => need.package))].join(' ')} (Debian: dpkg --add-architecture ` +
        'arm64, then apt-get install; scripts/setup.sh does it).',
    );
  const wrapperArgv = wrapper ? wrapper.split(/\s+/) : [];
  if (wrapperArgv[0] && programOnPath(wrapperArgv[0]) === undefined)
    throw new LabError(
      step,
      `the exec wrapper ${JSON.stringify(wrapperArgv[0])} (PERF_LAB_EXEC_WRAPPER) is not on PATH.`,
      `install ${WRAPPER_PACKAGES[wrapperArgv[0]] ?? 'it'} (scripts/setup.sh does on Debian x86_64).`,
    );
  const cargoTargetEnv = cross.cargoTarget.toUpperCase().replace(/-/g, '_');
  return {
    name,
    cross: true,
    cc: cross.cc,
    harnessLinkFlags: cross.harnessLinkFlags,
    cargoTarget: cross.cargoTarget,
    cargo: '/usr/bin/cargo',
    rustc: '/usr/bin/rustc',
    cargoEnv: { RUSTC: '/usr/bin/rustc', [`CARGO_TARGET_${cargoTargetEnv}_LINKER`]: cross.cc },
    runEnv: wrapperArgv.length ? { QEMU_LD_PREFIX: cross.sysroot } : {},
    execWrapper: wrapperArgv,
    model: cross.model,
    folderSuffix: `-${name}`,
  };
}

/** A program built for the target, as argv to run here: through the exec wrapper where there is one. */
export function targetCommand(target: BuildTarget, argv: readonly string[]): string[] {
  return [...target.execWrapper, ...argv];
}
