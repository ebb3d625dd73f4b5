import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { benchConfigSchema } from './bench/config.js';
import { buildProgram } from './cli/main.js';
import { projectRoot } from './core/paths.js';

/**
 * The README and docs/ name commands, options, config fields and action inputs: each named there exists, and
 * each that exists is named there (issue #24). The field, command and input lists come from the schema, the
 * commander program and the action.yml files, never from a copy.
 */

const root = projectRoot();
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const docFiles = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** The text of a markdown file without its fenced code blocks (recorded output can say anything). */
function prose(text: string): string {
  return text.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');
}

/** The sections of a markdown file under headings of exactly `level`, keyed by the heading's first code span. */
function sectionsByCodeHeading(text: string, level: number): Map<string, string> {
  const sections = new Map<string, string>();
  const heading = new RegExp(`^${'#'.repeat(level)} \`([^\`]+)\``);
  let current: string | undefined;
  for (const line of text.split('\n')) {
    const match = heading.exec(line);
    if (match) {
      current = match[1]!;
      assert.ok(!sections.has(current), `two headings for ${current}`);
      sections.set(current, '');
    } else if (/^#{1,6} /.test(line) && line.match(/^#+/)![0].length <= level) current = undefined;
    else if (current !== undefined) sections.set(current, `${sections.get(current)!}${line}\n`);
  }
  return sections;
}

/** The anchors GitHub makes of a markdown file's headings (lower case, punctuation dropped, spaces to dashes). */
function headingAnchors(text: string): Set<string> {
  const anchors = [...prose(text).matchAll(/^#{1,6} (.+)$/gm)].map((match) =>
    match[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-'),
  );
  return new Set(anchors);
}

function sorted(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

// --- config fields --------------------------------------------------------------------------------------------

interface JsonSchema {
  properties?: Record<string, JsonSchema>;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
}

/** Every field path of the config schema (the union of its alternatives' fields). */
function schemaFields(schema: JsonSchema, prefix: string, out: Set<string>): Set<string> {
  for (const alternative of [...(schema.oneOf ?? []), ...(schema.anyOf ?? []), ...(schema.allOf ?? [])])
    schemaFields(alternative, prefix, out);
  for (const [key, value] of Object.entries(schema.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    out.add(path);
    schemaFields(value, path, out);
  }
  return out;
}

/**
 * The fields docs/config.md documents once for two places: `base.*` has `decoder`'s shape, and a decoder that is
 * a libdeflate build (`decoder.libdeflate.*`) the top-level `libdeflate`'s.
 */
function documentedAs(field: string): string {
  if (field.startsWith('base.')) return documentedAs(`decoder.${field.slice('base.'.length)}`);
  if (field.startsWith('decoder.libdeflate.')) return field.slice('decoder.'.length);
  return field;
}

const configFields = schemaFields(
  z.toJSONSchema(benchConfigSchema, { unrepresentable: 'any', io: 'input' }) as JsonSchema,
  '',
  new Set(),
);
const allFieldNames = new Set(configFields);

// --- commands and options -------------------------------------------------------------------------------------

interface CommandLike {
  name(): string;
  readonly commands: readonly CommandLike[];
  readonly options: readonly { long?: string }[];
}

/** Every command that runs (groups such as `datasets` only hold subcommands), with its long options. */
function leafCommands(command: CommandLike, prefix: string[] = []): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const sub of command.commands) {
    const path = [...prefix, sub.name()];
    if (sub.commands.length > 0) for (const [name, options] of leafCommands(sub, path)) out.set(name, options);
    else out.set(path.join(' '), sorted(sub.options.flatMap((option) => (option.long ? [option.long] : []))));
  }
  return out;
}

const program = (await buildProgram()) as unknown as CommandLike;
const commands = leafCommands(program);
const globalOptions = sorted(program.options.flatMap((option) => (option.long ? [option.long] : [])));

/**
 * The long options a docs/cli.md section lists, one bullet each: "- `--name <value>`: …" or
 * "- `-q, --quiet`: …".
 */
function listedOptions(section: string): string[] {
  return sorted([...section.matchAll(/^- `(?:-[A-Za-z], )?(--[a-z][a-z-]*)[^`]*`/gm)].map((match) => match[1]!));
}

// --- action inputs --------------------------------------------------------------------------------------------

const actionNames = readdirSync(join(root, 'actions')).filter((name) =>
  existsSync(join(root, 'actions', name, 'action.yml')),
);

function actionInputs(name: string): string[] {
  const action = parseYaml(read(`actions/${name}/action.yml`)) as { inputs?: Record<string, unknown> };
  return sorted(Object.keys(action.inputs ?? {}));
}

// --- the tests ------------------------------------------------------------------------------------------------

describe('docs/config.md', () => {
  const headings = [...read('docs/config.md').matchAll(/^#{2,3} `([^`]+)`$/gm)].map((match) => match[1]!);

  it('has one heading per config field, and every heading is a field', () => {
    assert.deepEqual(sorted(headings), sorted([...configFields].map(documentedAs)));
    assert.equal(headings.length, new Set(headings).size, 'a field has two headings');
  });

  it('every config field named in the README and docs exists', () => {
    for (const file of docFiles) {
      const named = [...prose(read(file)).matchAll(/`((?:bench|decoder|base|libdeflate)\.[A-Za-z.]*[A-Za-z])`/g)];
      for (const [, field] of named) assert.ok(allFieldNames.has(field!), `${file} names ${field}, not a config field`);
    }
  });

  it('the README config of a decoder repository is a valid config', () => {
    const json = /^ {3}```json\n([\s\S]*?)^ {3}```$/m.exec(read('README.md'))?.[1];
    assert.ok(json, 'README.md has no .github/perf-lab.json block');
    benchConfigSchema.parse(JSON.parse(json));
  });
});

describe('docs/cli.md', () => {
  const text = read('docs/cli.md');
  const sections = sectionsByCodeHeading(text, 2);

  it('has one heading per command, and every heading is a command', () => {
    assert.deepEqual(sorted([...sections.keys()]), sorted([...commands.keys()].map((name) => `perf-lab ${name}`)));
  });

  it("lists each command's options, exactly", () => {
    for (const [name, options] of commands)
      assert.deepEqual(listedOptions(sections.get(`perf-lab ${name}`)!), options, `perf-lab ${name}`);
  });

  it('lists the global options', () => {
    const global = /^## Global options\n([\s\S]*?)^## /m.exec(text)?.[1];
    assert.ok(global, 'docs/cli.md has no "Global options" section');
    assert.deepEqual(listedOptions(global), globalOptions);
  });
});

describe('the README', () => {
  const readme = read('README.md');

  it('has the command table: every command, and only commands', () => {
    const table = /^## Commands\n([\s\S]*?)^## /m.exec(readme)?.[1];
    assert.ok(table, 'README.md has no "Commands" section');
    const rows = [...table.matchAll(/^\| `perf-lab ([a-z -]+)` \|/gm)].map((match) => match[1]!);
    assert.deepEqual(sorted(rows), sorted(commands.keys()));
  });

  it('every `perf-lab …` command named in the README and docs exists', () => {
    const names = [...commands.keys()];
    for (const file of docFiles)
      for (const [, words] of prose(read(file)).matchAll(/`(?:npx )?perf-lab ([a-z][a-z -]*)/g)) {
        const named = words!.trim();
        assert.ok(
          names.some(
            (name) =>
              named === name || named.startsWith(`${name} `) || (name.startsWith(`${named} `) && !named.includes(' ')),
          ),
          `${file} names \`perf-lab ${named}\`, not a command`,
        );
      }
  });

  it('every option named in the README and docs is an option of perf-lab (of the command named with it)', () => {
    const any = new Set([...globalOptions, ...[...commands.values()].flat()]);
    for (const file of docFiles)
      for (const [, span] of prose(read(file)).matchAll(/`([^`\n]+)`/g)) {
        const words = span!.replace(/^npx /, '').split(' ');
        let allowed: Set<string> | undefined;
        if (words[0] === 'perf-lab') {
          const name = [...commands.keys()]
            .filter((command) => words.slice(1).join(' ').startsWith(command))
            .sort((a, b) => b.length - a.length)[0];
          allowed = name === undefined ? any : new Set([...globalOptions, ...commands.get(name)!]);
        } else if (words[0]!.startsWith('--')) allowed = any;
        else continue; // another program's command line (llvm-objdump, clang, …)
        for (const [option] of span!.matchAll(/(?<![\w-])--[a-z][a-z-]*/g))
          assert.ok(allowed.has(option), `${file}: \`${span}\` names ${option}, not an option of it`);
      }
  });

  it('shows the PR check callers exactly as examples/github has them', () => {
    const blocks = [...readme.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
    for (const file of ['perf-pr.yml', 'perf-comment.yml'])
      assert.ok(
        blocks.includes(read(`examples/github/${file}`)),
        `README.md does not show examples/github/${file} in full`,
      );
  });

  it('is at most 300 lines', () => {
    assert.ok(readme.split('\n').length <= 300, `${readme.split('\n').length} lines`);
  });
});

describe('docs/github.md', () => {
  const sections = sectionsByCodeHeading(read('docs/github.md'), 3);

  it('has a section per action, and every such section is an action', () => {
    const documented = [...sections.keys()].filter((name) => name.startsWith('actions/'));
    assert.deepEqual(sorted(documented), sorted(actionNames.map((name) => `actions/${name}`)));
  });

  it("lists each action's inputs, exactly", () => {
    for (const name of actionNames) {
      const listed = [...sections.get(`actions/${name}`)!.matchAll(/^- `([a-z][a-z-]*)` \(/gm)].map(
        (match) => match[1]!,
      );
      assert.deepEqual(sorted(listed), actionInputs(name), `actions/${name}`);
    }
  });
});

describe('the README and docs/', () => {
  it('show no machine paths', () => {
    for (const file of docFiles)
      assert.doesNotMatch(read(file), /\/work\/|\/tmp\/|\/home\/|\/Users\//, `${file} shows a path of one machine`);
  });

  it('link only to files and headings that exist', () => {
    for (const file of docFiles)
      for (const [, target, anchor] of prose(read(file)).matchAll(/\]\(([^)#\s]*)(?:#([^)\s]*))?\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        const linked = target ? resolve(root, dirname(file), target) : join(root, file);
        assert.ok(existsSync(linked), `${file} links to ${target}, which does not exist`);
        if (anchor === undefined) continue;
        assert.ok(
          headingAnchors(readFileSync(linked, 'utf8')).has(anchor),
          `${file} links to ${target}#${anchor}, a heading that does not exist`,
        );
      }
  });
});
