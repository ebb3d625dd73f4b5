/**
 * No line over 120 characters anywhere in the repository's own text (issue #24): code, strings, tables, data,
 * workflows and prose. Exempt, because they are kept byte for byte as a program wrote them: recorded fixtures,
 * the nightly example's recorded files, the built bundles and the lock file, and in markdown the fenced blocks
 * (recorded program output and sample reports).
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { projectRoot } from './core/paths.js';

const MAX_LINE_CHARACTERS = 120;
const SKIPPED_FOLDERS = new Set(['node_modules', '.git', '.perf-lab', 'dist', 'scratch', 'fixtures', 'target']);
const SKIPPED_PATHS = new Set(['package-lock.json', 'docs/nightly-example']);
const TEXT_FILE = /\.(ts|js|mjs|json|ya?ml|md|sh|c|h|rs|toml|s)$|^run$/;

async function textFiles(root: string, dir = root): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (SKIPPED_PATHS.has(relative(root, path))) continue;
    if (entry.isDirectory()) {
      if (!SKIPPED_FOLDERS.has(entry.name)) files.push(...(await textFiles(root, path)));
    } else if (entry.isFile() && TEXT_FILE.test(entry.name)) files.push(path);
  }
  return files;
}

/** The 1-based numbers of lines over the limit, in characters (not bytes), outside markdown's fenced blocks. */
function overWideLines(text: string, markdown: boolean): number[] {
  const wide: number[] = [];
  let fenced = false;
  text.split('\n').forEach((line, index) => {
    if (markdown && /^\s*```/.test(line)) fenced = !fenced;
    else if (!fenced && [...line].length > MAX_LINE_CHARACTERS) wide.push(index + 1);
  });
  return wide;
}

test('overWideLines counts characters, and skips fenced blocks only in markdown', () => {
  const wide = 'é'.repeat(121);
  assert.deepEqual(overWideLines(`${'é'.repeat(120)}\n${wide}`, false), [2]);
  assert.deepEqual(overWideLines(['```', wide, '```', wide].join('\n'), true), [4]);
  assert.deepEqual(overWideLines(['```', wide, '```'].join('\n'), false), [2]);
});

test(`no line of the repository's own text is over ${MAX_LINE_CHARACTERS} characters`, async () => {
  const root = projectRoot();
  const offenders: string[] = [];
  for (const file of await textFiles(root)) {
    const wide = overWideLines(await readFile(file, 'utf8'), file.endsWith('.md'));
    if (wide.length > 0) offenders.push(`${relative(root, file)}: line ${wide.join(', ')}`);
  }
  assert.deepEqual(offenders, [], 'lines over 120 characters (build long strings and tables from parts)');
});
