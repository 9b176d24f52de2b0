/**
 * Builds the app and serves it with `vite preview` on 127.0.0.1 at a free port, optionally with
 * another models folder ($MODELS_DIR): for the e2e tests and the live benchmark (Node only).
 */
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { build, preview } from 'vite';

const root = resolve(import.meta.dirname, '../../..');

/** Runs `fn` with MODELS_DIR set (or left as it is when `modelsDir` is undefined). */
async function withModelsDir<T>(modelsDir: string | undefined, fn: () => Promise<T>): Promise<T> {
  const before = process.env.MODELS_DIR;
  if (modelsDir !== undefined) process.env.MODELS_DIR = modelsDir;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.MODELS_DIR;
    else process.env.MODELS_DIR = before;
  }
}

export async function buildApp(outDir: string, modelsDir?: string): Promise<void> {
  await withModelsDir(modelsDir, () =>
    build({ root, configFile: resolve(root, 'vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } }),
  );
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/** Serves a build; /models/ comes live from `modelsDir` (default: ./models or $MODELS_DIR). */
export async function serveApp(outDir: string, modelsDir?: string): Promise<{ url: string; close: () => Promise<void> }> {
  const port = await freePort();
  const server = await withModelsDir(modelsDir, () =>
    preview({
      root,
      configFile: resolve(root, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir },
      preview: { host: '127.0.0.1', port, strictPort: true, open: false },
    }),
  );
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}
