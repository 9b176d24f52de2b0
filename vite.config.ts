import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';
import { cspPlugin, modelsPlugin } from './scripts/vite-plugins.ts';

const HOST = '127.0.0.1';
const PORT = 5173;

export default defineConfig({
  plugins: [svelte({ configFile: false }), cspPlugin(), modelsPlugin()],
  server: { host: HOST, port: PORT },
  preview: { host: HOST, port: PORT, strictPort: true },
  build: {
    target: 'es2022',
    // The app fetches models/ and public/ assets at run time; nothing is inlined as data: URLs.
    assetsInlineLimit: 0,
    // TensorFlow.js and MediaPipe are large by nature (and cached after the first visit).
    chunkSizeWarningLimit: 4096,
    // batch.html: the headless page `npm run extract` and `npm run predict` drive (src/app/batch).
    rollupOptions: { input: { main: 'index.html', batch: 'batch.html' } },
  },
  test: {
    environment: 'node',
    // Tiers: test/unit (Node, seconds), test/integration (CLIs, tiny trainings, ../shared, Chromium batch page), test/e2e (the app in Chromium).
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    // The machine is small and often busy training; override with VITEST_MAX_WORKERS.
    maxWorkers: Number(process.env.VITEST_MAX_WORKERS) || 2,
  },
});
