import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { sha256Hex } from '../core/files.js';
import { cacheRoot, projectRoot } from '../core/paths.js';
import { run } from '../core/process.js';
import { buildIntoCache, readCachedBuild } from '../build/cache.js';
import { buildTarget } from '../build/target.js';
import { cCompiler } from '../build/toolchain.js';

/** One of the lab's own C programs in lab/bench/native (the harness, the instruction-count driver). */
export interface NativeTool {
  /** Its source file in lab/bench/native, e.g. "harness.c". */
  source: string;
  /** The binary's file name; its cache folder is named after it. */
  binary: string;
  /** Extra link flags (a cross target's -static for the harness). */
  linkFlags: readonly string[];
  /** Names the compile in messages. */
  step: string;
}

const buildSchema = z.object({ compiler: z.string(), key: z.string() });
const built = new Map<string, Promise<string>>();

/**
 * Compiles a native tool once per source + compiler + link flags into the build cache (a warm cache holds it: no
 * compile in a PR run), looked up once per process, cache and build target. Returns the binary's path.
 */
export function buildNativeTool(tool: NativeTool): Promise<string> {
  const memo = [cacheRoot(), buildTarget().name, tool.source, ...tool.linkFlags].join('\0');
  let binary = built.get(memo);
  if (!binary) {
    binary = compile(tool).catch((error: unknown) => {
      built.delete(memo);
      throw error;
    });
    built.set(memo, binary);
  }
  return binary;
}

async function compile(tool: NativeTool): Promise<string> {
  const sourcePath = join(projectRoot(), 'lab', 'bench', 'native', tool.source);
  const source = await readFile(sourcePath);
  const compiler = await cCompiler();
  const key = sha256Hex(
    `${sha256Hex(source)}\n${compiler.command}\n${compiler.version}\n${process.platform}-${process.arch}` +
      (tool.linkFlags.length ? `\n${tool.linkFlags.join(' ')}` : ''),
  ).slice(0, 24);
  const dir = join(cacheRoot(), 'builds', `${tool.binary.replace(/^perf-lab-/, '')}-${key}`);
  const binary = join(dir, tool.binary);
  if (await readCachedBuild(dir, buildSchema, () => [binary])) return binary;
  await buildIntoCache(dir, async (temp) => {
    // Warnings are errors: a shadowed name or an unchecked conversion in the lab's C fails its build, here and in CI.
    const warnings = ['-Wall', '-Wextra', '-Wshadow', '-Werror'];
    const args = ['-O2', '-std=c11', ...warnings, '-o', join(temp, tool.binary), sourcePath];
    if (process.platform === 'linux') args.push('-ldl');
    args.push(...tool.linkFlags);
    await run(compiler.command, args, {
      step: `${tool.step}: compile`,
      hint: 'install a C compiler (Debian: build-essential; macOS: xcode-select --install).',
    });
    return { compiler: compiler.version, key };
  });
  return binary;
}
