// ESLint (flat config): the recommended rules over the page, its workers, the
// benchmark, the scripts and the tests. `make lint` runs it (`npx eslint .`).

import js from '@eslint/js';
import globals from 'globals';

export default [
  {
    // Built or copied at build time, never hand-written.
    ignores: ['target/**', 'node_modules/**', 'www/vendor/**', 'www/pkg/**', 'www/pkg-*/**', 'www/bench/pkg/**', 'www/bench/pkg-*/**', 'www/bench/vendor/**'],
  },
  js.configs.recommended,
  {
    // The page and its module workers: ES modules in a browser.
    files: ['www/**/*.js'],
    languageOptions: { sourceType: 'module', globals: { ...globals.browser } },
  },
  {
    files: ['www/worker.js', 'www/bench/bench-worker.js'],
    languageOptions: { globals: { ...globals.worker } },
  },
  {
    // A classic worker: tf.min.js is a script loaded with importScripts.
    files: ['www/bench/bench-tfjs-worker.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.worker } },
  },
  {
    files: ['scripts/**/*.{js,mjs}', 'tests/**/*.{js,mjs}', 'eslint.config.js'],
    languageOptions: { sourceType: 'module', globals: { ...globals.node } },
  },
  {
    // Page tests pass functions to the browser (page.evaluate / waitForFunction) and its workers.
    files: ['tests/e2e/**/*.mjs', 'scripts/bench.mjs', 'scripts/bench-memory.mjs', 'scripts/screenshot.mjs'],
    languageOptions: { globals: { ...globals.node, ...globals.browser, ...globals.worker } },
  },
];
