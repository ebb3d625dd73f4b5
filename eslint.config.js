import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.perf-lab/**', 'actions/*/dist/**', 'scratch/**'] },
  js.configs.recommended,
  // With type information: floating promises, unsafe `any`, needless assertions, [object Object] in messages.
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { project: './tsconfig.tests.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // node:test runs describe/it itself; awaiting them is not needed (and not how its docs write tests).
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      // A callback that fills an async interface may have nothing to await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  // Plain JavaScript (build scripts, this file) is not in the TypeScript project.
  { files: ['**/*.js', '**/*.mjs'], extends: [tseslint.configs.disableTypeChecked] },
  // Build scripts run on Node.
  { files: ['scripts/**/*.mjs'], languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
);
