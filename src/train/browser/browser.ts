/**
 * Headless Chromium helpers shared by scripts (derive-framing, bench-live) and the e2e tests:
 * finding the browser, launching it with the flags this project needs, a fake webcam, and a tiny
 * static file server for pages that do not need the app (Node only).
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, resolve, sep } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The Chromium binary: $CHROMIUM_PATH, else the Debian locations. undefined when none exists. */
export function findChromium(): string | undefined {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  return CANDIDATES.find((p) => existsSync(p));
}

export type Gpu = 'webgl' | 'webgpu';

export interface LaunchOptions {
  /** A .y4m file Chromium plays as the webcam. */
  fakeVideo?: string;
  /** Auto-accept the camera permission prompt (default true when fakeVideo is set; without
   *  fakeVideo, true means "real cameras only", e.g. none on a server). */
  grantCamera?: boolean;
  /** Also enable WebGPU on the SwiftShader adapter (CPU). */
  webgpu?: boolean;
  extraArgs?: string[];
}

export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error('Chromium not found: install it (apt-get install chromium) or set CHROMIUM_PATH');
  const args = [
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-default-apps',
    '--no-first-run',
    '--disable-features=Translate,MediaRouter,OptimizationHints',
    // Keep timers and rAF running at full rate in headless/background pages.
    '--disable-background-timer-throttling',
    '--disable-renderer-backgrounding',
    '--disable-backgrounding-occluded-windows',
    '--ignore-gpu-blocklist',
    '--enable-unsafe-swiftshader',
  ];
  if (options.fakeVideo) {
    args.push('--use-fake-device-for-media-stream');
    if (options.grantCamera ?? true) args.push('--use-fake-ui-for-media-stream');
  } else if (options.grantCamera) {
    // Permission granted but no fake device: the machine's real cameras (none on a server).
    args.push('--use-fake-ui-for-media-stream');
  }
  if (options.fakeVideo) args.push(`--use-file-for-fake-video-capture=${options.fakeVideo}`);
  if (options.webgpu) args.push('--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan');
  args.push(...(options.extraArgs ?? []));
  return chromium.launch({ executablePath, headless: true, args });
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.png': 'image/png',
};

/**
 * Serves `routes` (URL prefix -> folder) on 127.0.0.1 at a free port, plus `pages` (URL -> HTML).
 * For helper pages only; the app itself is served by `vite preview`.
 */
export async function serveStatic(
  routes: Record<string, string>,
  pages: Record<string, string> = {},
): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const page = pages[path];
      if (page !== undefined) {
        res.setHeader('Content-Type', MIME['.html']!);
        res.end(page);
        return;
      }
      for (const [prefix, dir] of Object.entries(routes)) {
        if (!path.startsWith(prefix)) continue;
        const base = resolve(dir);
        const file = resolve(base, `.${path.slice(prefix.length - 1)}`);
        if (!file.startsWith(base + sep)) break;
        try {
          if (!(await stat(file)).isFile()) break;
          res.setHeader('Content-Type', MIME[extname(file)] ?? 'application/octet-stream');
          res.end(await readFile(file));
          return;
        } catch {
          break;
        }
      }
      res.statusCode = 404;
      res.end('not found');
    })();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
