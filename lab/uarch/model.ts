import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { InstructionClass } from '../asm/semantics.js';
import { LabError } from '../core/errors.js';
import { readJsonFile } from '../core/files.js';
import { projectRoot } from '../core/paths.js';
import { resolveCitations, textSchema } from '../core/citations.js';
import { describeIssues } from '../core/schema.js';

/** Every number in a model carries where it came from (text, or a citation of the file's "sources": core/citations). */
const sourced = textSchema.pipe(z.string().min(3));

/** A form of a class that issues differently (N2: logical ops with any shift, add/sub with LSL ≤ 4 are 1-cycle). */
const formTimingSchema = z
  .object({
    /** The mnemonics this form is (e.g. and, orr, eor). */
    mnemonics: z.array(z.string().min(1)).min(1),
    /** Only when the shifted operand's shift is an LSL by at most this many bits (an extend never matches). */
    maxLslAmount: z.number().int().nonnegative().optional(),
    latency: z.number().nonnegative(),
    uops: z.number().int().nonnegative(),
    units: z.array(z.string()),
    source: sourced,
  })
  .strict();

const classTimingSchema = z
  .object({
    /** Cycles from issue to result available to a dependent ALU op. */
    latency: z.number().nonnegative(),
    /** For loads: cycles until the value can be used as another load's address. */
    addressLatency: z.number().nonnegative().optional(),
    /** Latency of the register-register form, where a model distinguishes it from the immediate form. */
    registerLatency: z.number().nonnegative().optional(),
    /** For loads with an index register ([x0, x1, lsl #3]), where a model distinguishes them. */
    indexedLatency: z.number().nonnegative().optional(),
    /** For loads into a SIMD/FP register (ldr q0, ld1), where a model gives them another latency than integer loads. */
    vectorLatency: z.number().nonnegative().optional(),
    /** For multiply-adds: cycles from the addend (accumulator) input to the result, where it is read late. */
    addendLatency: z.number().nonnegative().optional(),
    /** Uops and units of the register-register form, where a model issues it differently from the immediate form. */
    registerUops: z.number().int().nonnegative().optional(),
    registerUnits: z.array(z.string()).optional(),
    /** Uops of the register-indexed load form ([x0, x1, lsl #3]), where a model splits it. */
    indexedUops: z.number().int().nonnegative().optional(),
    uops: z.number().int().nonnegative(),
    /** The execution units it may issue to (empty: handled at rename, no unit). */
    units: z.array(z.string()),
    /** Forms of the class that issue differently; the first that matches an instruction wins. */
    forms: z.array(formTimingSchema).optional(),
    source: sourced,
    inherited: z.boolean().optional(),
  })
  .strict();
export type ClassTiming = z.infer<typeof classTimingSchema>;

const CLASSES = [
  'alu',
  'alu-shifted',
  'flags',
  'bitfield-insert',
  'mul',
  'madd',
  'div',
  'load',
  'store',
  'branch',
  'move',
  'simd',
  'nop',
  'call',
  'unknown',
] as const;

export const cpuModelSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9-]+$/),
    core: textSchema,
    /** A model that only overrides some numbers of another. */
    inherits: z.string().nullable(),
    /** Micro-ops the front end takes per cycle (decode/dispatch width). */
    decodeWidth: z
      .object({ value: z.number().int().positive(), source: sourced, inherited: z.boolean().optional() })
      .strict()
      .optional(),
    compareBranchFusion: z
      .object({ value: z.boolean(), source: sourced, inherited: z.boolean().optional() })
      .strict()
      .optional(),
    /** Cycles from a store to a load of the same address (store-to-load forwarding). */
    storeToLoadLatency: z
      .object({ value: z.number().nonnegative(), source: sourced, inherited: z.boolean().optional() })
      .strict()
      .optional(),
    classes: z.partialRecord(z.enum(CLASSES), classTimingSchema).optional(),
    /** Per-mnemonic exceptions to the class timing (e.g. a model where ORR costs more than ADD). */
    mnemonicOverrides: z.record(z.string(), classTimingSchema).optional(),
    /**
     * CPU brand strings (os.cpus() model) of machines with this core: a measurement made elsewhere is not comparable.
     */
    cpuBrands: z
      .object({ value: z.array(z.string().min(1)), source: sourced })
      .strict()
      .optional(),
    /**
     * A model of a tool's assumptions (llvm-mca's), not of a core: never chosen for a host by its brand or MIDR,
     * only by --cpu.
     */
    crossCheck: z.boolean().optional(),
    /**
     * What llvm-mca runs for this core, per LLVM version range ("14", "15-16", ">=19"): its -mcpu (null: that LLVM
     * has no scheduling model fit to cross-check with) and the scheduling model it prices that -mcpu with (or why
     * there is none); the cross-check takes the entry of the running llvm-mca's major version: see lab/uarch/mca.ts.
     */
    llvmMca: z
      .array(
        z
          .object({
            llvm: z.string().regex(/^(\d+|\d+-\d+|>=\d+)$/),
            mcpu: z
              .string()
              .regex(/^[a-z0-9-]+$/)
              .nullable(),
            schedulingModel: textSchema.pipe(z.string().min(3)),
            source: sourced,
          })
          .strict(),
      )
      .min(1)
      .optional(),
    notes: z.array(textSchema).optional(),
  })
  .strict();

export type LlvmMcaEntry = NonNullable<z.infer<typeof cpuModelSchema>['llvmMca']>[number];

/** Whether an llvmMca entry's LLVM range ("14", "15-16", ">=19") holds a major version. */
export function llvmRangeHolds(range: string, major: number): boolean {
  const [low, high] = range.startsWith('>=')
    ? [Number(range.slice(2)), Infinity]
    : range.includes('-')
      ? range.split('-').map(Number)
      : [Number(range), Number(range)];
  return major >= low! && major <= high!;
}

export interface CpuModel {
  name: string;
  core: string;
  decodeWidth: number;
  compareBranchFusion: boolean;
  storeToLoadLatency: number;
  classes: Record<InstructionClass, ClassTiming>;
  mnemonicOverrides: Record<string, ClassTiming>;
  /** Which numbers were inherited from another model rather than sourced for this one. */
  inheritedFrom: string | null;
  /** Brand strings of machines with this core ([] when the model names none). */
  cpuBrands: string[];
  /** A tool's model (llvm-mca's), never a host's default. */
  crossCheck: boolean;
  /** Per LLVM version range, llvm-mca's -mcpu for this core and LLVM's scheduling model for it (mcpu null: none). */
  llvmMca: { entries: LlvmMcaEntry[]; inherited: boolean } | null;
  notes: string[];
  /** How this model came to price the code: by --cpu, or chosen for the machine (see lab/uarch/choose-model.ts). */
  chosenBecause?: string;
}

function modelsDir(): string {
  return join(projectRoot(), 'lab', 'uarch', 'models');
}

export async function listModels(): Promise<string[]> {
  return (await readdir(modelsDir()))
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.replace(/\.json$/, ''))
    .sort();
}

async function readRaw(name: string): Promise<z.infer<typeof cpuModelSchema>> {
  const path = join(modelsDir(), `${name}.json`);
  // Only a model of the models folder: a name is not a path (--cpu ../x would read any JSON file).
  const models = await listModels();
  if (!models.includes(name))
    throw new LabError('uarch', `no CPU model "${name}" (${path}).`, `choose one of: ${models.join(', ')}.`);
  // A model that exists but does not parse is a damaged file, not a missing model: said as such.
  const json = await readJsonFile(path, 'uarch', 'fix the model file (JSON, one object); every number needs a source.');
  const parsed = cpuModelSchema.safeParse(resolveCitations(json, path, 'uarch'));
  if (!parsed.success)
    throw new LabError(
      'uarch',
      `${path} is invalid: ${describeIssues(parsed.error)}.`,
      'fix the model file; every number needs a source.',
    );
  return parsed.data;
}

/** Loads a model, resolving `inherits` (numbers taken from the parent are marked inherited). */
export async function loadCpuModel(name: string, seen: string[] = []): Promise<CpuModel> {
  if (seen.includes(name))
    throw new LabError(
      'uarch',
      `CPU models inherit in a cycle: ${[...seen, name].join(' → ')}.`,
      'fix the inherits fields.',
    );
  const raw = await readRaw(name);
  const parent = raw.inherits ? await loadCpuModel(raw.inherits, [...seen, name]) : undefined;
  const classes = {
    ...(parent
      ? Object.fromEntries(Object.entries(parent.classes).map(([key, timing]) => [key, { ...timing, inherited: true }]))
      : {}),
    ...(raw.classes ?? {}),
  } as Record<InstructionClass, ClassTiming>;
  for (const key of CLASSES) {
    if (!classes[key])
      throw new LabError(
        'uarch',
        `CPU model ${name} has no timing for instruction class "${key}".`,
        'add it (or inherit from a model that has it).',
      );
  }
  const decodeWidth = raw.decodeWidth?.value ?? parent?.decodeWidth;
  const compareBranchFusion = raw.compareBranchFusion?.value ?? parent?.compareBranchFusion;
  const storeToLoadLatency = raw.storeToLoadLatency?.value ?? parent?.storeToLoadLatency;
  if (decodeWidth === undefined || compareBranchFusion === undefined || storeToLoadLatency === undefined) {
    throw new LabError(
      'uarch',
      `CPU model ${name} lacks decodeWidth, compareBranchFusion or storeToLoadLatency.`,
      'add them (or inherit).',
    );
  }
  return {
    name: raw.name,
    core: raw.core,
    decodeWidth,
    compareBranchFusion,
    storeToLoadLatency,
    classes,
    mnemonicOverrides: { ...(parent?.mnemonicOverrides ?? {}), ...(raw.mnemonicOverrides ?? {}) },
    inheritedFrom: raw.inherits,
    cpuBrands: raw.cpuBrands?.value ?? [],
    crossCheck: raw.crossCheck ?? false,
    llvmMca: raw.llvmMca
      ? { entries: raw.llvmMca, inherited: false }
      : parent?.llvmMca
        ? { ...parent.llvmMca, inherited: true }
        : null,
    notes: [...(raw.notes ?? []), ...(parent ? [`numbers not given here are inherited from ${parent.name}`] : [])],
  };
}
