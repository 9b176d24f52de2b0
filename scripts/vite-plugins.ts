/**
 * Vite plugins used by vite.config.ts:
 *  - modelsPlugin: serves the top-level models/ folder (or $MODELS_DIR) at /models/ in dev and
 *    preview, and copies it into <outDir>/models when a build finishes.
 *  - cspPlugin: fills in the Content-Security-Policy <meta> of index.html and sends the same policy
 *    as a header from the dev and preview servers.
 */
import { createReadStream, existsSync } from 'node:fs';
import { cp, rm, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, relative, resolve, sep } from 'node:path';
import type { Plugin, ResolvedConfig } from 'vite';

const MIME: Record<string, string> = {
  '.json': 'application/json; charset=utf-8',
  '.bin': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.tflite': 'application/octet-stream',
  '.task': 'application/octet-stream',
};

export type Next = (error?: unknown) => void;

/**
 * Connect-style handler serving files below `dir`. Mounted at /models, so `req.url` is the path
 * relative to the mount. Missing files answer 404 (not the SPA's index.html), and paths that would
 * leave `dir` answer 403.
 */
export function createModelsHandler(dir: string) {
  const base = resolve(dir);
  return async (req: IncomingMessage, res: ServerResponse, next: Next): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    let rel: string;
    try {
      rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.statusCode = 400;
      res.end('Bad request');
      return;
    }
    const file = resolve(base, `.${rel.startsWith('/') ? rel : `/${rel}`}`);
    if (file !== base && !file.startsWith(base + sep)) {
      res.statusCode = 403;
      res.end('Forbidden');
      return;
    }
    let info;
    try {
      info = await stat(file);
    } catch {
      info = undefined;
    }
    if (!info || !info.isFile()) {
      res.statusCode = 404;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(`Not found: /models${rel}`);
      return;
    }
    res.statusCode = 200;
    res.setHeader('Content-Type', MIME[extname(file).toLowerCase()] ?? 'application/octet-stream');
    res.setHeader('Content-Length', String(info.size));
    res.setHeader('Cache-Control', 'no-cache');
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file).on('error', next).pipe(res);
  };
}

/**
 * Copies `src` (if it exists) to `dest`, replacing what was there. Returns whether it copied.
 * Hidden entries (names starting with '.') are skipped at every level: the temp and backup
 * folders of an interrupted publish (`.<name>.new-*`, `.<name>.old-*`), temp files, dotfiles.
 */
export async function copyModels(src: string, dest: string): Promise<boolean> {
  await rm(dest, { recursive: true, force: true });
  if (!existsSync(src)) return false;
  const root = resolve(src);
  await cp(root, dest, {
    recursive: true,
    filter: (p) =>
      !relative(root, resolve(p))
        .split(/[\\/]/)
        .some((part) => part.startsWith('.')),
  });
  return true;
}

export function modelsPlugin(options: { dir?: string } = {}): Plugin {
  let config: ResolvedConfig | undefined;
  // MODELS_DIR lets tests and scripts point the app at another folder (e.g. fixture models); read
  // when the config resolves, so a script can set it just before calling build() or preview().
  const dirOf = (root: string) => resolve(root, options.dir ?? (process.env.MODELS_DIR || 'models'));
  return {
    name: 'emotion-lens:models',
    configResolved(resolved) {
      config = resolved;
    },
    configureServer(server) {
      server.middlewares.use('/models', createModelsHandler(dirOf(server.config.root)));
    },
    configurePreviewServer(server) {
      // Registered before the static handler, so preview serves the live ./models folder too.
      server.middlewares.use('/models', createModelsHandler(dirOf(server.config.root)));
    },
    async closeBundle() {
      if (!config || config.command !== 'build' || config.build.ssr) return;
      const outDir = resolve(config.root, config.build.outDir);
      const copied = await copyModels(dirOf(config.root), join(outDir, 'models'));
      config.logger.info(copied ? `models/ copied to ${join(outDir, 'models')}` : 'models/ not found; nothing copied');
    },
  };
}

/**
 * The app's Content-Security-Policy: only its own origin. 'wasm-unsafe-eval' lets MediaPipe and the
 * tfjs wasm backend compile WebAssembly; blob: covers workers and media created by those libraries.
 * In dev, Vite injects component CSS as <style> elements, so style-src also allows 'unsafe-inline'.
 */
export function contentSecurityPolicy(options: { dev?: boolean; header?: boolean } = {}): string {
  const directives: Record<string, string[]> = {
    'default-src': ["'self'"],
    'script-src': ["'self'", "'wasm-unsafe-eval'"],
    'style-src': options.dev ? ["'self'", "'unsafe-inline'"] : ["'self'"],
    'img-src': ["'self'", 'data:', 'blob:'],
    'media-src': ["'self'", 'blob:'],
    'connect-src': ["'self'"],
    'worker-src': ["'self'", 'blob:'],
    'font-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'self'"],
    'form-action': ["'self'"],
  };
  // frame-ancestors is ignored (with a console warning) in a <meta> policy; send it only as a header.
  if (options.header) directives['frame-ancestors'] = ["'none'"];
  return Object.entries(directives)
    .map(([name, values]) => `${name} ${values.join(' ')}`)
    .join('; ');
}

/**
 * Cross-origin isolation (enables SharedArrayBuffer, hence the threaded tfjs wasm backend). Harmless
 * here because every resource comes from the app's own origin.
 */
function setIsolationHeaders(res: ServerResponse): void {
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
}

/** index.html carries `<meta http-equiv="Content-Security-Policy" content="%APP_CSP%">`; the plugin fills it in. */
export const CSP_PLACEHOLDER = '%APP_CSP%';

export function cspPlugin(): Plugin {
  let dev = false;
  return {
    name: 'emotion-lens:csp',
    configResolved(resolved) {
      dev = resolved.command === 'serve' && !resolved.isProduction;
    },
    transformIndexHtml: {
      order: 'pre',
      handler(html) {
        if (!html.includes(CSP_PLACEHOLDER)) {
          throw new Error(`index.html must contain <meta http-equiv="Content-Security-Policy" content="${CSP_PLACEHOLDER}">`);
        }
        return html.replaceAll(CSP_PLACEHOLDER, contentSecurityPolicy({ dev }));
      },
    },
    configureServer(server) {
      const policy = contentSecurityPolicy({ dev: true, header: true });
      server.middlewares.use((_req, res, next) => {
        res.setHeader('Content-Security-Policy', policy);
        setIsolationHeaders(res);
        next();
      });
    },
    configurePreviewServer(server) {
      const policy = contentSecurityPolicy({ header: true });
      server.middlewares.use((_req, res, next) => {
        res.setHeader('Content-Security-Policy', policy);
        setIsolationHeaders(res);
        res.setHeader('X-Content-Type-Options', 'nosniff');
        res.setHeader('Referrer-Policy', 'no-referrer');
        next();
      });
    },
  };
}
