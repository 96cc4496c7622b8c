// ESLint for lib/, test/ and scripts/ (npm test runs it): typescript-eslint's recommended rules, plus
// the few that catch real mistakes in this code base. Formatting is Prettier's (.prettierrc.json).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'prebuilds/**', 'node_modules/**', '.libtorch/**', 'docs/**', 'lib/generated/**', 'examples/**/node_modules/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // Callable classes are a class and an interface of one name by design (a Module is a function).
      '@typescript-eslint/no-unsafe-declaration-merging': 'off',
    },
  },
  {
    // Tests load modules inside child processes and workers, and the addon by path.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
