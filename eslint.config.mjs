import js from '@eslint/js';
import prettier from 'eslint-config-prettier/flat';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  // Same list as .prettierignore: generated code, vendored CRDs and outputs are not ours to lint.
  globalIgnores(['lib/imports/', 'node_modules/', 'dist/', 'bench/results/', '.pulumi-local/', '.scratch/', 'test/crds/']),
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      // One program for the whole tree: tsconfig.json includes lib, stacks, policy, test, scripts, bench, examples and the
      // vitest configs, and is the one `npm test` type-checks (stacks/tsconfig.json only extends it for Pulumi's ts-node).
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Part of recommendedTypeChecked; named so that turning it off anywhere is a visible decision.
      '@typescript-eslint/no-floating-promises': 'error',
      // A leading underscore marks a parameter an interface requires but this implementation does not use.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'all' }],
    },
  },
  {
    // Tests read rendered manifests and parsed command output as untyped JSON on purpose: the assertion on a path is the
    // check, and a wrong path fails it. The product code (lib, stacks, policy, scripts, bench) keeps every rule.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
  {
    // This file and any other plain JavaScript: not in tsconfig.json, so no type information to check against.
    files: ['**/*.{js,mjs,cjs}'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  // Last among the shared configs: turns off every rule prettier's formatting would fight with (max-len included).
  prettier,
  {
    rules: {
      // Prettier wraps code at 150 but leaves long strings, comments and template literals alone: this catches them.
      // Nothing is exempt (no ignoreStrings/ignoreUrls): a long message is split with `+`, a long URL goes on its own line.
      'max-len': ['error', { code: 150, tabWidth: 2 }],
    },
  },
);
