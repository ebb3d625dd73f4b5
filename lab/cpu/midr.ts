import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { resolveCitations, textSchema } from '../core/citations.js';
import { projectRoot } from '../core/paths.js';

/*
 * ARM64 Linux names no CPU brand: /proc/cpuinfo gives each core's MIDR fields instead ("CPU implementer : 0x41",
 * "CPU part : 0xd49"). These pure functions read them and name the CPU from lab/cpu/arm-parts.json (data).
 */

const hex = z.string().regex(/^0x[0-9a-f]+$/);
const armPartsSchema = z
  .object({
    about: textSchema,
    implementers: z.array(
      z
        .object({
          implementer: hex,
          name: z.string().min(1),
          fallbackModel: z.string().nullable(),
          fallbackWhy: textSchema.optional(),
          source: textSchema.pipe(z.string().min(3)),
        })
        .strict(),
    ),
    parts: z.array(
      z
        .object({
          implementer: hex,
          part: hex,
          name: z.string().min(1),
          model: z.string().nullable(),
          source: textSchema.pipe(z.string().min(3)),
        })
        .strict(),
    ),
  })
  .strict();
export type ArmParts = z.infer<typeof armPartsSchema>;

let table: ArmParts | undefined;
/** The MIDR table (lab/cpu/arm-parts.json), read once. */
export function armParts(): ArmParts {
  const path = join(projectRoot(), 'lab', 'cpu', 'arm-parts.json');
  return (table ??= armPartsSchema.parse(resolveCitations(JSON.parse(readFileSync(path, 'utf8')), path, 'cpu')));
}

/** One core's MIDR fields as /proc/cpuinfo prints them (lower-case hex; variant and revision when present). */
export interface Midr {
  implementer: string;
  part: string;
  variant: string | null;
  revision: string | null;
}

/** What a machine's CPU is: the name its runner class is keyed by, and the model the analysis should price it on. */
export interface CpuIdentity {
  /** A human CPU name ("Arm Neoverse N2"); never empty or "unknown" when cpuinfo has MIDR fields. */
  name: string;
  /** The first core's MIDR (null when the name came from a brand string). */
  midr: Midr | null;
  /** The lab's CPU model for this CPU (lab/uarch/models), when the table names one. */
  model: string | null;
  /** A model to use instead when there is none, and why (the implementer's fallback). */
  fallback: { model: string; why: string } | null;
  /** False when the part (or implementer) is not in the table: the name is then built from the numbers. */
  known: boolean;
}

const normalHex = (value: string) => {
  const number = Number.parseInt(value.trim(), value.trim().toLowerCase().startsWith('0x') ? 16 : 10);
  return Number.isFinite(number) ? `0x${number.toString(16)}` : undefined;
};
const partHex = (value: string) => {
  const normal = normalHex(value);
  return normal && `0x${normal.slice(2).padStart(3, '0')}`;
};

/** The MIDR fields of every core in /proc/cpuinfo text (one "processor" block each), in order. */
export function parseCpuinfo(text: string): Midr[] {
  const cores: Midr[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of block.split('\n')) {
      const match = /^([^:]+?)\s*:\s*(.*)$/.exec(line);
      if (match) fields.set(match[1]!.trim().toLowerCase(), match[2]!.trim());
    }
    const implementer = fields.get('cpu implementer');
    const part = fields.get('cpu part');
    if (implementer === undefined || part === undefined) continue;
    const normalImplementer = normalHex(implementer);
    const normalPart = partHex(part);
    if (!normalImplementer || !normalPart) continue;
    const variant = fields.get('cpu variant');
    const revision = fields.get('cpu revision');
    cores.push({
      implementer: normalImplementer,
      part: normalPart,
      variant: variant === undefined ? null : (normalHex(variant) ?? null),
      revision: revision === undefined ? null : revision,
    });
  }
  return cores;
}

/** One core's name and model from the table. */
function identifyCore(midr: Midr, parts: ArmParts): Omit<CpuIdentity, 'midr'> {
  const implementer = parts.implementers.find((entry) => entry.implementer === midr.implementer);
  const part = parts.parts.find((entry) => entry.implementer === midr.implementer && entry.part === midr.part);
  const fallback =
    implementer?.fallbackModel && !part?.model
      ? {
          model: implementer.fallbackModel,
          why: `${implementer.fallbackWhy ?? `the fallback for implementer ${implementer.name}`}`,
        }
      : null;
  if (part) return { name: part.name, model: part.model, fallback, known: true };
  const maker = implementer ? `${midr.implementer} ${implementer.name}` : midr.implementer;
  return { name: `ARM64 CPU (implementer ${maker}, part ${midr.part})`, model: null, fallback, known: false };
}

/**
 * The CPU of /proc/cpuinfo text, or undefined when it has no MIDR fields (not ARM64 Linux). A machine mixing core
 * types (big.LITTLE) is named by all of them ("A + B"), its model and MIDR those of the first core listed.
 */
export function identifyFromCpuinfo(text: string, parts: ArmParts = armParts()): CpuIdentity | undefined {
  const cores = parseCpuinfo(text);
  if (cores.length === 0) return undefined;
  const identities = cores.map((core) => identifyCore(core, parts));
  const names = [...new Set(identities.map((identity) => identity.name))];
  return { ...identities[0]!, name: names.join(' + '), midr: cores[0]!, known: identities.every((i) => i.known) };
}

/** "0x41:0xd49 (variant 0x0, revision 0)": a MIDR as the report prints it. */
export function midrText(midr: Midr): string {
  const extra = [
    midr.variant === null ? undefined : `variant ${midr.variant}`,
    midr.revision === null ? undefined : `revision ${midr.revision}`,
  ].filter(Boolean);
  return `${midr.implementer}:${midr.part}${extra.length ? ` (${extra.join(', ')})` : ''}`;
}
