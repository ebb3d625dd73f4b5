/*
 * What a PR changed in the bench config. The PR check measures both sides with head's config (the PR's own
 * settings: its libdeflate pin and flags, its sampling plan, its decoder features), so a change there changes
 * what "base" means too; the comment says so, entry by entry.
 */

/** At most this many entries are listed; the rest are counted. */
const MAX_CHANGES = 20;
const MAX_VALUE_CHARS = 80;

function shown(value: unknown): string {
  if (value === undefined) return '(absent)';
  const text = JSON.stringify(value);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The leaves that differ between two configs as `path: base → head` (objects compared key by key, arrays and
 * scalars as a whole), in a stable order; `undefined` base means base has no config file.
 */
export function configChanges(base: unknown, head: unknown): string[] {
  const changes: string[] = [];
  const walk = (path: string, before: unknown, after: unknown) => {
    if (isObject(before) && isObject(after)) {
      for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort())
        walk(path ? `${path}.${key}` : key, before[key], after[key]);
      return;
    }
    if (JSON.stringify(before) !== JSON.stringify(after))
      changes.push(`${path || '(the whole file)'}: ${shown(before)} → ${shown(after)}`);
  };
  walk('', base, head);
  if (changes.length <= MAX_CHANGES) return changes;
  return [...changes.slice(0, MAX_CHANGES), `(+${changes.length - MAX_CHANGES} more)`];
}
