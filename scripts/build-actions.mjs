// Bundles each action's src/index.ts (and the lab code it calls) into actions/<name>/dist/index.js.
// Usage: node scripts/build-actions.mjs [OUTDIR]  (OUTDIR: write bundles there instead, for the freshness test)
import { readdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outRoot = process.argv[2];
for (const name of readdirSync(join(root, 'actions')).sort()) {
  const entry = join(root, 'actions', name, 'src', 'index.ts');
  if (!existsSync(entry)) continue;
  await build({
    entryPoints: [entry],
    absWorkingDir: root,
    outfile: outRoot ? join(outRoot, name, 'index.js') : join(root, 'actions', name, 'dist', 'index.js'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Prefer each dependency's ESM build: jsonc-parser's "main" is a UMD build whose require('./impl/format')
    // esbuild cannot follow, so the bundle crashed on load (issue #27).
    mainFields: ['module', 'main'],
    legalComments: 'none',
    logLevel: 'warning',
    // Bundled CommonJS dependencies call require(); give the ESM bundle one.
    banner: {
      js:
        "import { createRequire as __perfLabCreateRequire } from 'node:module'; const require = " +
        '__perfLabCreateRequire(import.meta.url);',
    },
  });
}
