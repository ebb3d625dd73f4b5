#!/usr/bin/env node
// The CLI is compiled to dist/ by `npm ci` (the prepare script) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/lab/cli/run.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error(
    'perf-lab: the CLI is not built (dist/lab/cli/run.js is missing).\n' +
      '  Run `npm ci` (or `npm run build`) in the perf-lab checkout first.',
  );
  process.exit(2);
}
await import(entry.href);
