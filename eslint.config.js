// ESLint: the recommended rules (JavaScript, typescript-eslint without type information, Svelte)
// plus the layer rules: src/core is pure TypeScript (no tfjs, DOM framework or Node), src/learn (training
// shared by Node and the browser) adds tfjs and libsvm-js on top of src/core only, src/app (browser)
// and src/train (Node) build on both and never import each other, src/lib wraps src/app, nothing in src
// imports scripts/ or test/, and src has no import cycle. test/unit/import-graph.test.ts checks the same
// rules on the resolved import graph, as a second barrier.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Imports a layer may not use, as regexes over the import string (each layer's list replaces the one above). */
const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

const NODE_BUILTINS = {
  regex:
    '^(node:|(fs|path|os|child_process|crypto|url|util|worker_threads|zlib|http|https|net|stream|readline|events|process|buffer)(/|$))',
  message: 'src/core is pure TypeScript: no Node modules (the caller passes in what it read).',
};
const TFJS = {
  regex: '^@tensorflow/',
  message: 'src/core does not import TensorFlow.js: tfjs code lives in src/app (browser) or src/train (Node).',
};
const BROWSER_ONLY = { regex: '^(@mediapipe/|svelte(/|$)|playwright)', message: 'src/core does not import browser frameworks or drivers.' };
const SCRIPTS = { regex: '(^|/)scripts/', message: 'src never imports scripts/ (build tooling only): move shared code into src.' };
const TESTS = { regex: '(^|/)test/', message: 'src never imports test/.' };
const OUT_OF_CORE = {
  regex: '^(\\.\\./)+(app|train|lib|learn)(/|$)',
  message: 'src/core imports only src/core: it is the layer src/learn, src/app, src/train and src/lib build on.',
};

export default defineConfig(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'dist-lib/',
      'public/mediapipe/',
      'public/tfjs-wasm/',
      'test-artifacts/',
      'cache/',
      'runs/',
      'data/',
      'models/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
  },
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      // `_`-prefixed names are the codebase's deliberate "unused on purpose" (callbacks, destructuring); `catch (e)` may ignore e.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  // Tests build bad inputs by patching JSON copies and walk schemas by key: `any` is the honest type there.
  { files: ['test/**'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },

  // Globals per runtime.
  { files: ['src/app/**', 'src/lib/**', 'examples/**'], languageOptions: { globals: globals.browser } },
  {
    files: ['src/train/**', 'scripts/**', 'test/**', '*.config.{js,ts}', 'examples/**/vite.config.ts'],
    languageOptions: { globals: globals.node },
  },

  // No import cycles anywhere in src (dynamic imports included: they are still a dependency).
  {
    files: ['src/**/*.{ts,svelte}'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.svelte', '.json'] })],
      'import-x/ignore': ['node_modules'],
      // Which files the cycle check follows, with which parser (the default is .js only). Not .svelte:
      // components are leaves that import .ts modules; test/unit/import-graph.test.ts covers them too.
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true, allowUnsafeDynamicCyclicDependency: false }] },
  },

  // Layers.
  { files: ['src/**'], rules: restrict([SCRIPTS, TESTS]) },
  { files: ['src/core/**'], rules: restrict([SCRIPTS, TESTS, NODE_BUILTINS, TFJS, BROWSER_ONLY, OUT_OF_CORE]) },
  {
    files: ['src/learn/**'],
    rules: restrict([
      SCRIPTS,
      TESTS,
      {
        regex: '^(\\.\\./)+(app|train|lib)(/|$)',
        message: 'src/learn imports only src/core, @tensorflow/tfjs and libsvm-js: it runs in Node (src/train) and the browser (src/app).',
      },
      {
        regex: '^(?!@tensorflow/tfjs$|libsvm-js(/|$)|\\.)',
        // Node modules, DOM frameworks and every other package included.
        message: 'src/learn imports no package but @tensorflow/tfjs and libsvm-js (it must run unchanged in Node and the browser).',
      },
    ]),
  },
  {
    files: ['src/app/**'],
    rules: restrict([
      SCRIPTS,
      TESTS,
      {
        regex: '^(\\.\\./)+(train|lib)(/|$)',
        message: 'src/app never imports src/train or src/lib (src/lib wraps the app, not the other way round).',
      },
    ]),
  },
  {
    files: ['src/train/**'],
    rules: restrict([
      SCRIPTS,
      TESTS,
      { regex: '^(\\.\\./)+(app|lib)(/|$)', message: 'src/train never imports src/app or src/lib: share code through src/core.' },
    ]),
  },
  {
    files: ['src/lib/**'],
    rules: restrict([SCRIPTS, TESTS, { regex: '^(\\.\\./)+train(/|$)', message: 'src/lib imports only src/core and src/app.' }]),
  },
);
