import { z } from 'zod';
import { LabError } from './errors.js';

/*
 * The lab's sourced data files (lab/uarch/models/*.json, lab/cpu/arm-parts.json, lab/github/runners.json,
 * lab/asm/noreturn.json) keep
 * every line within 120 characters with one format:
 * - any text (a source, a note, an about) is a string or an array of lines, joined with a space;
 * - a file may list its long citations once, in a top-level "sources" map of short ids to text, and a source
 *   cites one as { "ref": "llvm-n2", "detail": text }: it reads "<citation>: <detail>" (the citation alone
 *   without a detail). An unknown ref is refused, naming the file and the key.
 */

/** Text in a data file: a string, or an array of lines joined with a space. */
export const textSchema = z
  .union([z.string(), z.array(z.string()).min(1)])
  .transform((text) => (typeof text === 'string' ? text : text.join(' ')));

const citationSchema = z.object({ ref: z.string().min(1), detail: textSchema.optional() }).strict();
const sourcesSchema = z.record(z.string().regex(/^[a-z0-9-]+$/), textSchema);

/**
 * The file's JSON with its "sources" map applied: every { ref, detail } object becomes its text, and the map is
 * dropped. `step` and `hint` are those of the LabError a bad citation raises.
 */
export function resolveCitations(json: unknown, file: string, step: string): unknown {
  if (!json || typeof json !== 'object' || Array.isArray(json) || !('sources' in json)) return json;
  const { sources: rawSources, ...rest } = json as Record<string, unknown>;
  const parsed = sourcesSchema.safeParse(rawSources);
  if (!parsed.success)
    throw new LabError(step, `${file}: "sources" must map short ids to citations.`, 'fix the sources map.');
  const sources = parsed.data;
  const resolve = (value: unknown, key: string): unknown => {
    if (Array.isArray(value)) return value.map((item, index) => resolve(item, `${key}[${index}]`));
    if (!value || typeof value !== 'object') return value;
    if ('ref' in value) {
      const citation = citationSchema.safeParse(value);
      if (!citation.success)
        throw new LabError(step, `${file}: ${key} is not a citation { ref, detail }.`, 'fix the citation.');
      const text = sources[citation.data.ref];
      if (text === undefined)
        throw new LabError(
          step,
          `${file}: ${key} cites "${citation.data.ref}", which is not in its "sources".`,
          `add it to "sources" or cite one of: ${Object.keys(sources).join(', ')}.`,
        );
      return citation.data.detail === undefined ? text : `${text}: ${citation.data.detail}`;
    }
    return Object.fromEntries(
      Object.entries(value).map(([name, item]) => [name, resolve(item, key ? `${key}.${name}` : name)]),
    );
  };
  return resolve(rest, '');
}
