/**
 * The TensorFlow.js backends the app (live view and batch page) can run on, by the names the
 * ?backend= URL parameter, the live view's picker, `npm run predict -- --backend` and
 * `npm run bench:live -- --backends` use. Training in Node has its own (src/train/kernels/backend.ts).
 */
export const BROWSER_BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;

export type BrowserBackend = (typeof BROWSER_BACKENDS)[number];

export function isBrowserBackend(value: unknown): value is BrowserBackend {
  return (BROWSER_BACKENDS as readonly unknown[]).includes(value);
}
