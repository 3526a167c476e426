import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/**
 * Branded types (src/protocol/ids.ts). A cast to one outside ids.ts would brand a value
 * nothing validated; test/unit/brand-casts.test.ts checks this list names every brand.
 */
export const BRANDS = ['MachineId', 'EventId', 'ProjectId', 'TaskId', 'AssignmentId', 'UpdateId', 'Hlc'];
const brandName = `/^(${BRANDS.join('|')})$/`;
const BRAND_CAST_SELECTORS = [
  `TSAsExpression TSTypeReference[typeName.name=${brandName}]`,
  `TSTypeAssertion TSTypeReference[typeName.name=${brandName}]`,
];
const BRAND_CAST_MESSAGE = 'Brand a value in src/protocol/ids.ts only: parse it (an *IdSchema, parseHlc/asHlc) or, read back from our store, use a trusted* function.';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test-output/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'vitest.config.ts'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // Narrow instead: a `!` is a crash the types were told could not happen.
    files: ['src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'error',
      'no-restricted-syntax': ['error', ...BRAND_CAST_SELECTORS.map((selector) => ({ selector, message: BRAND_CAST_MESSAGE }))],
    },
  },
  {
    // ids.ts is where strings become branded ids: its parse and trusted* functions.
    files: ['src/protocol/ids.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['src/cli/**/*.ts', 'bench/**', 'tools/**', 'scripts/**', 'test/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: { ...globals.node } },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // "No any in production code": tests may read JSON bodies loosely.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // Focused tests would silently skip the rest of the suite.
    files: ['test/**/*.ts'],
    rules: {
      'no-restricted-properties': ['error',
        { object: 'it', property: 'only' }, { object: 'test', property: 'only' }, { object: 'describe', property: 'only' }],
    },
  },
);
