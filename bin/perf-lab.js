#!/usr/bin/env node
// The CLI is compiled to dist/ by `npm ci` (the prepare script) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/lab/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('perf-lab: the CLI is not built (dist/lab/cli/main.js is missing).\n  Run `npm ci` (or `npm run build`) in the perf-lab checkout first.');
  process.exit(2);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv);
