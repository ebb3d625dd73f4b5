import { appendFile, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import lockfile from 'proper-lockfile';
import { z } from 'zod';
import { LabError } from '../core/errors.js';
import { fileExists, MAX_JSON_BYTES, parseStrictJson, readWholeFile } from '../core/files.js';

/** One night's measurement of one dataset with one toolchain: a line of the history file. */
export const historyRecordSchema = z
  .object({
    v: z.literal(1),
    /** The night (UTC date) this belongs to. */
    date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    recordedAt: z.string().datetime(),
    cpuModel: z.string().min(1),
    /** The toolchain as asked for (stable, beta, nightly, 1.xx). */
    toolchain: z.string().min(1),
    rustc: z.string().min(1),
    llvm: z.string().min(1),
    libdeflate: z.string().min(1),
    /** The C compiler that built libdeflate. */
    cc: z.string().min(1),
    dataset: z.string().min(1),
    datasetSha256: z.string().regex(/^[0-9a-f]{64}$/),
    /** Decoder speed / libdeflate speed. */
    ratio: z
      .object({
        estimate: z.number().finite().positive(),
        low: z.number().finite().positive(),
        high: z.number().finite().positive(),
      })
      .strict(),
    /** Loop-carried critical path of the hot loop (cycles/iteration), when analysed. */
    criticalPathCycles: z.number().nonnegative().nullable(),
  })
  .strict()
  .refine((record) => record.ratio.low <= record.ratio.estimate && record.ratio.estimate <= record.ratio.high, {
    message: 'ratio must satisfy low ≤ estimate ≤ high',
    path: ['ratio'],
  });
export type HistoryRecord = z.infer<typeof historyRecordSchema>;

/** What makes two records the same measurement: one per night, machine, toolchain and dataset. */
function recordKey(record: HistoryRecord): string {
  return [record.date, record.cpuModel, record.toolchain, record.cc, record.dataset].join('\u0000');
}

/** Reads a history file, refusing it at the first malformed or duplicated line (named by number). */
export async function readHistory(path: string): Promise<HistoryRecord[]> {
  if (!(await fileExists(path))) return [];
  const text = (
    await readWholeFile(path, {
      step: 'history',
      hint: 'pass the history file (JSON lines) the nightly job writes.',
      maxBytes: MAX_JSON_BYTES,
    })
  ).toString('utf8');
  const records: HistoryRecord[] = [];
  const seen = new Map<string, number>();
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    if (!line.trim()) {
      if (index !== lines.length - 1)
        throw new LabError(
          'history',
          `${path}:${index + 1} is empty.`,
          'remove the empty line (the history is one JSON record per line).',
        );
      continue;
    }
    let json: unknown;
    try {
      json = parseStrictJson(line);
    } catch (error) {
      const duplicate = /appears twice/.test((error as Error).message) ? ` (${(error as Error).message})` : '';
      throw new LabError(
        'history',
        `${path}:${index + 1} is not a JSON record (truncated or corrupt)${duplicate}: ` +
          `${JSON.stringify(line.slice(0, 80))}.`,
        'restore the file from git history, or delete that line.',
      );
    }
    const parsed = historyRecordSchema.safeParse(json);
    if (!parsed.success)
      throw new LabError(
        'history',
        `${path}:${index + 1} is not a valid record: ` +
          parsed.error.issues.map((issue) => `${issue.path.join('.') || '(record)'}: ${issue.message}`).join('; ') +
          '.',
        'restore the file from git history, or delete that line.',
      );
    const key = recordKey(parsed.data);
    if (seen.has(key))
      throw new LabError(
        'history',
        `${path}:${index + 1} duplicates line ${seen.get(key)} (${parsed.data.date}, ${parsed.data.toolchain}, ` +
          `${parsed.data.dataset}).`,
        'delete one of the two lines.',
      );
    seen.set(key, index + 1);
    records.push(parsed.data);
  }
  return records;
}

/**
 * Appends records under a lock, after checking the whole file: a corrupt file
 * is never appended to, and a record already present (same night, machine,
 * toolchain, compiler, dataset) is refused, so reruns cannot duplicate a night.
 * Returns the records actually appended.
 */
export async function appendHistory(path: string, records: readonly HistoryRecord[]): Promise<HistoryRecord[]> {
  for (const record of records) historyRecordSchema.parse(record);
  await mkdir(dirname(path), { recursive: true });
  const release = await lockfile
    .lock(path, { realpath: false, retries: { retries: 50, minTimeout: 20, maxTimeout: 500 }, stale: 60_000 })
    .catch((error: Error) => {
      throw new LabError(
        'history',
        `cannot lock ${path}: ${error.message}`,
        'another writer holds it; retry when it has finished.',
      );
    });
  try {
    const existing = new Set((await readHistory(path)).map(recordKey));
    const fresh = records.filter((record) => {
      const key = recordKey(record);
      if (existing.has(key)) return false;
      existing.add(key);
      return true;
    });
    if (fresh.length === 0) return [];
    // A last line without its newline (an editor, a hand merge) must not swallow the first new record.
    const text = (await fileExists(path))
      ? (
          await readWholeFile(path, { step: 'history', hint: 'check the history file.', maxBytes: MAX_JSON_BYTES })
        ).toString('utf8')
      : '';
    const separator = text.length > 0 && !text.endsWith('\n') ? '\n' : '';
    await appendFile(path, separator + fresh.map((record) => `${JSON.stringify(record)}\n`).join(''));
    const handle = await open(path, 'r');
    await handle.sync();
    await handle.close();
    return fresh;
  } finally {
    await release();
  }
}
