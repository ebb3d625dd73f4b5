import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { logChunks, softwareChunks } from './generators.js';

const collect = (chunks: Iterable<string>) => [...chunks].join('');

/**
 * An independent reading of the issue's definitions, written the way the
 * maintainers' Python generator reads (str.format over all six arguments).
 */
function pythonStyleFormat(template: string, args: number[]): string {
  let next = 0;
  return template.replace(/\{(:[^}]*)?\}/g, (_match, spec: string | undefined) => {
    const value = args[next++]!;
    if (spec === ':02d') return value < 10 ? `0${value}` : `${value}`;
    if (spec === ':x') return value.toString(16);
    return `${value}`;
  });
}

function referenceLogs(target: number): string {
  const templates = [
    '2026-01-20 14:30:{:02d} INFO [gzippy.core] Processed block {} in {}ms\n',
    '2026-01-20 14:30:{:02d} DEBUG [gzippy.sched] Lane {} claimed chunk at 0x{:x}\n',
    '2026-01-20 14:30:{:02d} WARN [gzippy.mem] Memory usage at {}%\n',
    '2026-01-20 14:30:{:02d} ERROR [gzippy.io] Write failed: attempt {}\n',
    '2026-01-20 14:30:{:02d} TRACE [gzippy.net] Packet {} received, {} bytes\n',
  ];
  const lines: string[] = [];
  let size = 0;
  let i = 0;
  while (size < target) {
    const line = pythonStyleFormat(templates[i % 5]!, [
      i % 60,
      i % 10000,
      (i * 7) % 100,
      i % 8,
      i * 4096,
      70 + (i % 25),
    ]);
    lines.push(line);
    size += Buffer.byteLength(line);
    i++;
  }
  return lines.join('');
}

function referenceSoftware(target: number): string {
  const snippets = [
    '    pub fn new() -> Self {\n        Self { data: Vec::new(), count: 0 }\n    }\n',
    '    #[inline(always)]\n    pub fn get(&self) -> usize { self.count }\n',
    '// TODO: Optimize this loop\nfor i in 0..data.len() { sum += data[i]; }\n',
    'fn main() {\n    let args: Vec<String> = std::env::args().collect();\n    println!("{:?}", args);\n}\n',
    'impl Iterator for MyIter {\n    type Item = u32;\n    fn next(&mut self) -> Option<Self::Item> { ' +
      'self.inner.next() }\n}\n',
    '#[derive(Debug, Clone, PartialEq)]\npub struct Config {\n    pub name: String,\n    pub value: i64,\n}\n',
  ];
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < target; i++) {
    const record = `// Line ${i % 10000}\n` + snippets[i % 6];
    parts.push(record);
    size += Buffer.byteLength(record);
  }
  return parts.join('');
}

describe('LOGS generator', () => {
  it('starts with the lines the definition gives, checked by hand', () => {
    const text = collect(logChunks(400));
    const lines = text.split('\n');
    assert.equal(lines[0], '2026-01-20 14:30:00 INFO [gzippy.core] Processed block 0 in 0ms');
    assert.equal(lines[1], '2026-01-20 14:30:01 DEBUG [gzippy.sched] Lane 1 claimed chunk at 0x7');
    assert.equal(lines[2], '2026-01-20 14:30:02 WARN [gzippy.mem] Memory usage at 2%');
    assert.equal(lines[3], '2026-01-20 14:30:03 ERROR [gzippy.io] Write failed: attempt 3');
    assert.equal(lines[4], '2026-01-20 14:30:04 TRACE [gzippy.net] Packet 4 received, 28 bytes');
  });

  it('formats late lines (hex, wrap-around of every modulus) as the independent reading does', () => {
    const target = 3_000_000; // about 50,000 lines: i mod 10000 and i mod 60 wrap many times
    assert.equal(collect(logChunks(target)), referenceLogs(target));
  });

  it('stops right after the line that crosses the target', () => {
    const text = collect(logChunks(1000));
    const lastLineStart = text.lastIndexOf('\n', text.length - 2) + 1;
    assert.ok(text.length >= 1000);
    assert.ok(lastLineStart < 1000, 'the last line must be the one that crossed the target');
  });
});

describe('SOFTWARE generator', () => {
  it('writes a header and snippet i mod 6 per record', () => {
    const text = collect(softwareChunks(10));
    assert.equal(text, '// Line 0\n    pub fn new() -> Self {\n        Self { data: Vec::new(), count: 0 }\n    }\n');
  });

  it('matches the independent reading past the 10000-line wrap', () => {
    const target = 2_500_000; // about 28,000 records
    assert.equal(collect(softwareChunks(target)), referenceSoftware(target));
  });

  it('makes a quick run an exact prefix of a longer one', () => {
    const short = collect(softwareChunks(100_000));
    const long = collect(softwareChunks(300_000));
    assert.ok(long.startsWith(short));
  });
});
