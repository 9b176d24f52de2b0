/**
 * `npm run build:lib`: the library (src/lib/index.ts) as an ES module bundle in dist-lib/, with
 * type declarations from tsconfig.lib.json. TensorFlow.js and MediaPipe stay imports (the host's
 * bundler resolves them once); the inference worker is bundled whole beside it. The runtime
 * files (models, MediaPipe's wasm and .task, tfjs' wasm) are served by the host page: see
 * EmotionLensConfig.
 */
import { defineConfig } from 'vite';

const EXTERNAL = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu', '@mediapipe/tasks-vision'];

export default defineConfig({
  publicDir: false,
  // Asset URLs (the worker) relative to the bundle, wherever the host serves it.
  base: './',
  build: {
    outDir: 'dist-lib',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 4096,
    lib: { entry: 'src/lib/index.ts', formats: ['es'], fileName: 'emotion-lens' },
    rollupOptions: { external: (id) => EXTERNAL.some((name) => id === name || id.startsWith(`${name}/`)) },
  },
  worker: { format: 'es' },
});
