import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { resolveCitations, textSchema } from '../core/citations.js';
import { projectRoot } from '../core/paths.js';

/** lab/asm/noreturn.json: functions that never return, each a name or a pattern with its source. */
const noreturnSchema = z
  .object({
    about: textSchema,
    functions: z
      .array(
        z.union([
          z.object({ name: z.string().regex(/^[\w$.]+$/), source: textSchema }).strict(),
          z.object({ pattern: z.string().min(1), source: textSchema }).strict(),
        ]),
      )
      .min(1),
  })
  .strict();

let matcher: RegExp | undefined;
/** One regular expression over a callee's symbol (Mach-O's leading underscore dropped), read once. */
export function noreturnPattern(): RegExp {
  if (matcher) return matcher;
  const path = join(projectRoot(), 'lab', 'asm', 'noreturn.json');
  const table = noreturnSchema.parse(resolveCitations(JSON.parse(readFileSync(path, 'utf8')), path, 'analyze'));
  const alternatives = table.functions.map((entry) =>
    'name' in entry ? entry.name.replace(/[$.]/g, (character) => `\\${character}`) : entry.pattern,
  );
  return (matcher = new RegExp(`^_?(${alternatives.join('|')})$`));
}
