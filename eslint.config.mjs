// Lint with type information (typescript-eslint): no floating promises, no unsafe `any` at
// the edges, no unused code. Run by `npm test` (scripts/test.sh) and `npm run lint`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', '.build/**', '.vscode-test/**', 'node_modules/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // Mocha's `async () =>` test bodies without an await are fine; a fake's async method too.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    // Agent text only ever enters a webview as text: no raw-HTML escape hatches (issue 22).
    files: ['media/**/*.ts', 'media/**/*.tsx'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "JSXAttribute[name.name='dangerouslySetInnerHTML']",
          message: 'Webviews render agent text as text (see media/common/AgentText.tsx).',
        },
        {
          selector: 'MemberExpression[property.name=/^(innerHTML|outerHTML)$/]',
          message: 'Webviews never write HTML: build elements (Preact) or set textContent.',
        },
        {
          selector: "CallExpression[callee.property.name='insertAdjacentHTML']",
          message: 'Webviews never write HTML: build elements (Preact) or set textContent.',
        },
        {
          selector: "CallExpression[callee.property.name=/^(write|writeln)$/][callee.object.name='document']",
          message: 'document.write is an HTML sink.',
        },
        {
          selector: "Property[key.name='dangerouslySetInnerHTML']",
          message: 'Webviews render agent text as text (see media/common/AgentText.tsx).',
        },
      ],
    },
  },
);
