/**
 * `npm run example`: serves this page with Vite on http://127.0.0.1:5174/, with the models
 * (./models, or $MODELS_DIR) at /models/ and the MediaPipe and tfjs wasm files (public/, made by
 * `npm run setup-assets`) from the same origin, under the app's Content-Security-Policy. The page
 * imports the library as `emotion-lens` (src/lib; an app would install the package instead).
 */
import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import { cspPlugin, modelsPlugin } from '../../scripts/vite-plugins.ts';

const repo = resolve(import.meta.dirname, '../..');

export default defineConfig({
  root: import.meta.dirname,
  publicDir: resolve(repo, 'public'),
  plugins: [cspPlugin(), modelsPlugin({ dir: resolve(repo, process.env.MODELS_DIR || 'models') })],
  resolve: { alias: { 'emotion-lens': resolve(repo, 'src/lib/index.ts') } },
  server: { host: '127.0.0.1', port: 5174, fs: { allow: [repo] } },
  preview: { host: '127.0.0.1', port: 5174 },
});
