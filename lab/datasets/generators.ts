/**
 * The SOFTWARE and LOGS generators, byte for byte as the decoder's maintainers
 * define them. Both are pure: they yield text chunks until the record that
 * crosses `targetBytes` has been emitted, so a smaller target gives an exact
 * prefix of the full dataset.
 */

export const FULL_DATASET_BYTES = 211 * 1024 * 1024;
export const QUICK_DATASET_BYTES = 16 * 1024 * 1024;

const SOFTWARE_SNIPPETS: readonly string[] = [
  '    pub fn new() -> Self {\n        Self { data: Vec::new(), count: 0 }\n    }\n',
  '    #[inline(always)]\n    pub fn get(&self) -> usize { self.count }\n',
  '// TODO: Optimize this loop\nfor i in 0..data.len() { sum += data[i]; }\n',
  'fn main() {\n    let args: Vec<String> = std::env::args().collect();\n    println!("{:?}", args);\n}\n',
  'impl Iterator for MyIter {\n    type Item = u32;\n    fn next(&mut self) -> Option<Self::Item> { ' +
    'self.inner.next() }\n}\n',
  '#[derive(Debug, Clone, PartialEq)]\npub struct Config {\n    pub name: String,\n    pub value: i64,\n}\n',
];

const LOG_TEMPLATES: readonly string[] = [
  '2026-01-20 14:30:{:02d} INFO [gzippy.core] Processed block {} in {}ms\n',
  '2026-01-20 14:30:{:02d} DEBUG [gzippy.sched] Lane {} claimed chunk at 0x{:x}\n',
  '2026-01-20 14:30:{:02d} WARN [gzippy.mem] Memory usage at {}%\n',
  '2026-01-20 14:30:{:02d} ERROR [gzippy.io] Write failed: attempt {}\n',
  '2026-01-20 14:30:{:02d} TRACE [gzippy.net] Packet {} received, {} bytes\n',
];

/** The arguments line i offers its template, in order (a template takes as many as it has fields). */
function logArguments(i: number): number[] {
  return [i % 60, i % 10000, (i * 7) % 100, i % 8, i * 4096, 70 + (i % 25)];
}

type Field = (value: number) => string;
const FIELD_FORMATS: Record<string, Field> = {
  '{}': (value) => String(value),
  '{:02d}': (value) => String(value).padStart(2, '0'),
  '{:x}': (value) => value.toString(16),
};

/** A template split once into literal text and field formatters. */
interface CompiledTemplate {
  literals: string[];
  fields: Field[];
}

function compileTemplate(template: string): CompiledTemplate {
  const literals: string[] = [];
  const fields: Field[] = [];
  let rest = template;
  for (;;) {
    const match = /\{[^}]*\}/.exec(rest);
    if (!match) break;
    const format = FIELD_FORMATS[match[0]];
    if (!format) throw new Error(`unsupported field ${match[0]} in log template ${JSON.stringify(template)}`);
    literals.push(rest.slice(0, match.index));
    fields.push(format);
    rest = rest.slice(match.index + match[0].length);
  }
  literals.push(rest);
  return { literals, fields };
}

function fill(template: CompiledTemplate, args: readonly number[]): string {
  let out = template.literals[0] ?? '';
  for (let k = 0; k < template.fields.length; k++) {
    const value = args[k];
    if (value === undefined)
      throw new Error(`log template needs ${template.fields.length} arguments, got ${args.length}`);
    out += template.fields[k]!(value) + template.literals[k + 1];
  }
  return out;
}

const CHUNK_CHARS = 1 << 20;

/** Yields `record(i)` for i = 0, 1, … in ~1 MiB chunks until the record that crosses targetBytes. */
function* recordsUntil(targetBytes: number, record: (i: number) => string): Generator<string> {
  let written = 0;
  let chunk = '';
  for (let i = 0; written < targetBytes; i++) {
    const text = record(i);
    // All generated text is ASCII, so string length equals byte length.
    written += text.length;
    chunk += text;
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}

export function softwareChunks(targetBytes: number): Generator<string> {
  return recordsUntil(targetBytes, (i) => `// Line ${i % 10000}\n${SOFTWARE_SNIPPETS[i % SOFTWARE_SNIPPETS.length]}`);
}

export function logChunks(targetBytes: number): Generator<string> {
  const templates = LOG_TEMPLATES.map(compileTemplate);
  return recordsUntil(targetBytes, (i) => fill(templates[i % templates.length]!, logArguments(i)));
}
