import { DATASET_NAMES, SCALES, type DatasetName, type Scale } from '../datasets/index.js';
import { FAIL_ON, type FailOn } from '../results/index.js';
import type { Role } from '../bench/run.js';

/*
 * The parsers of values a user types: CLI flags and action inputs alike go through these, so `--scale` and the bench
 * action's `scale` accept and refuse the same things with the same words. Each throws an Error whose message says
 * what was wrong and what is accepted; the CLI turns it into commander's usage error, an action into a failed step.
 */

/** A comma-separated list, trimmed, empty entries dropped. */
export function commaList(value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new Error(`${what} must be ${allowed.join(', ').replace(/, ([^,]*)$/, ' or $1')}, not "${value}"`);
  return value as T;
}

export function parseScale(value: string): Scale {
  return oneOf(value, SCALES, 'the scale');
}

export function parseFailOn(value: string): FailOn {
  return oneOf(value, FAIL_ON, 'fail-on');
}

/** Dataset names, case-insensitive; empty means all. */
export function parseDatasetList(value: string): DatasetName[] {
  const names = commaList(value.toLowerCase());
  for (const name of names) {
    if (!(DATASET_NAMES as readonly string[]).includes(name))
      throw new Error(`unknown dataset "${name}" (choose from ${DATASET_NAMES.join(', ')})`);
  }
  return names as DatasetName[];
}

const SUBJECTS: readonly Role[] = ['libdeflate', 'head', 'base'];

export function parseSubjectList(value: string): Role[] {
  const roles = [...new Set(commaList(value.toLowerCase()))];
  for (const role of roles) {
    if (!(SUBJECTS as readonly string[]).includes(role))
      throw new Error(`unknown subject "${role}" (choose from ${SUBJECTS.join(', ')})`);
  }
  if (roles.length === 0) throw new Error('name at least one subject');
  return roles as Role[];
}

export function parsePositiveInt(value: string): number {
  const number = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(number) || number < 1)
    throw new Error(`must be a whole number ≥ 1, not "${value}"`);
  return number;
}

/** A tolerance as a maintainer writes it: "1.5%" or 0.015; above 0, at most 50%. */
export function parseTolerance(value: string): number {
  const trimmed = value.trim();
  const percent = trimmed.endsWith('%');
  const number = Number(percent ? trimmed.slice(0, -1) : trimmed) / (percent ? 100 : 1);
  if (!/^\d*\.?\d+%?$/.test(trimmed) || !(number > 0) || number > 0.5)
    throw new Error(`must be a relative change above 0 and at most 50% ("1.5%" or 0.015), not "${value}"`);
  return number;
}
