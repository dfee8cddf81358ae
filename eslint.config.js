// Lint configuration (ESLint flat config): ESLint's and typescript-eslint's recommended rules on
// the whole tree. Type checking itself is `tsc --noEmit` in `npm run lint`, so the rules here
// stay syntactic and fast.
import eslint from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['node_modules/', '.tap/', 'coverage/', 'build/', 'dist/', 'bench-results/', '.kvc/', '.scratch/']),
  // Written by proto-loader-gen-types (npm run gen:proto), which emits empty interfaces and `any`;
  // tsc still checks these files.
  globalIgnores(['src/proto/generated/']),
  eslint.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // Matches tsc's noUnusedParameters, which accepts a leading underscore for a deliberately unused name.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
);
