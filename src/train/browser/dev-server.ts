/**
 * The app's Vite dev server on 127.0.0.1 at a free port, for Node tools that call app modules in
 * headless Chromium by their source path (`import('/src/app/...')` inside the page): the in-browser
 * calibration trainer's bench and tests. Served with the app's CSP and isolation headers.
 */
import { resolve } from 'node:path';
import { createServer } from 'vite';

const root = resolve(import.meta.dirname, '../../..');

export async function startDevServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = await createServer({
    root,
    configFile: resolve(root, 'vite.config.ts'),
    logLevel: 'error',
    server: { host: '127.0.0.1', port: 0, hmr: false },
    // Pre-bundled up front: discovering a CommonJS package when a worker first imports it would
    // make Vite re-optimise and reload the page mid-run.
    optimizeDeps: { include: ['libsvm-js/asm'] },
  });
  await server.listen();
  const { port } = server.httpServer!.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}
