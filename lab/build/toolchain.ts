import { LabError } from '../core/errors.js';
import { probe } from '../core/process.js';
import { buildTarget } from './target.js';

export interface RustToolchain {
  rustc: string;
  release: string;
  llvm: string;
  commitHash: string;
  host: string;
}

export interface CCompiler {
  command: string;
  version: string;
}

/** Parses `rustc -vV` output into the fields the lab records. */
export function parseRustcVersion(text: string): RustToolchain {
  const field = (name: string) => new RegExp(`^${name}: (.+)$`, 'm').exec(text)?.[1]?.trim() ?? 'unknown';
  const rustc = text.split('\n')[0]?.trim() ?? '';
  if (!rustc.startsWith('rustc ')) {
    throw new LabError(
      'build: toolchain',
      `unexpected \`rustc -vV\` output: ${JSON.stringify(text.slice(0, 200))}`,
      'check that rustc on PATH is a real Rust compiler.',
    );
  }
  return {
    rustc,
    release: field('release'),
    llvm: field('LLVM version'),
    commitHash: field('commit-hash'),
    host: field('host'),
  };
}

/** The C compiler: the one named, else the build target's (lab/build/target.ts), else $CC, else cc. */
export async function cCompiler(command = buildTarget().cc ?? process.env.CC ?? 'cc'): Promise<CCompiler> {
  const text = await probe(command, ['--version']);
  if (!text) {
    throw new LabError(
      'build: toolchain',
      `\`${command} --version\` failed: no C compiler found.`,
      'install a C compiler (Debian: apt-get install build-essential clang; macOS: xcode-select --install) or set CC.',
    );
  }
  return { command, version: text.split('\n')[0]!.trim() };
}
