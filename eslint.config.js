// Type-aware lint at zero warnings: the strict and stylistic typescript-eslint sets.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'coverage/',
      'fixtures/',
      'bin/',
      '.github/action/',
      '.stryker-tmp*/',
      'reports/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Every program reproof starts goes through src/child-process.ts, which closes the
    // descriptors its caller left open before the first one.
    files: ['src/**/*.ts'],
    ignores: ['src/child-process.ts'],
    rules: {
      // What reproof prints goes through its streams (src/cli/output.ts): a stray
      // console.log puts lines before a --json answer, which then does not parse.
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        {
          paths: ['node:child_process', 'child_process'].map((name) => ({
            name,
            message: 'start programs through src/child-process.ts',
          })),
        },
      ],
      // The same module loaded at run time: `await import(...)`, or a require made by
      // createRequire.
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportExpression[source.value=/^(node:)?child_process$/]',
          message: 'start programs through src/child-process.ts',
        },
        {
          selector: 'CallExpression[arguments.0.value=/^(node:)?child_process$/]',
          message: 'start programs through src/child-process.ts',
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' },
    },
  },
  {
    // dependency-cruiser reads its configuration as CommonJS.
    files: ['**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable' } },
  },
)
