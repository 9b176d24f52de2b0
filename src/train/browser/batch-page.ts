/**
 * Drives the app's headless batch page (batch.html, src/app/batch) in Chromium: builds the app,
 * serves it on 127.0.0.1 and calls the page's API (src/core/batch.ts). Node only.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { buildApp, serveApp } from './app-server.ts';
import { launchChromium } from './browser.ts';
import {
  BATCH_GLOBAL,
  bytesToBase64,
  type BatchApi,
  type BatchImageResult,
  type BatchInitOptions,
  type BatchInitResult,
} from '../../core/batch.ts';
import {
  BATCH_VIDEO_GLOBAL,
  type BatchVideoApi,
  type VideoFrame,
  type VideoOpenRequest,
  type VideoOpenResult,
} from '../../core/batch-video.ts';

const root = resolve(import.meta.dirname, '../../..');
/** Each open() builds into its own folder below this one: two jobs at once (two `npm run predict`, parallel tests) never empty each other's build. */
const BUILD_ROOT = resolve(root, 'node_modules/.cache/emotion-lens/batch-app');

export interface BatchPageOptions extends BatchInitOptions {
  /** Pages working in parallel (each its own renderer process). */
  pages?: number;
  /** Serve models from this folder instead of ./models. */
  modelsDir?: string;
  /** Called with the page's console errors. */
  onConsoleError?: (text: string) => void;
}

type Api = Pick<BatchApi, 'processGray' | 'processEncoded'>;

export class BatchPages {
  private constructor(
    private readonly browser: Browser,
    private readonly server: { url: string; close: () => Promise<void> },
    private readonly pages: Page[],
    readonly init: BatchInitResult,
    /** The folder this job built the app into and serves it from; removed by close(). */
    readonly buildDir: string,
  ) {}

  /** Builds and serves the app, opens `pages` batch pages and initialises each. */
  static async open(options: BatchPageOptions): Promise<BatchPages> {
    await mkdir(BUILD_ROOT, { recursive: true });
    const buildDir = await mkdtemp(join(BUILD_ROOT, 'build-'));
    const removeBuild = () => rm(buildDir, { recursive: true, force: true }).catch(() => undefined);
    let served: { url: string; close: () => Promise<void> };
    try {
      await buildApp(buildDir, options.modelsDir);
      served = await serveApp(buildDir, options.modelsDir);
    } catch (error) {
      await removeBuild();
      throw error;
    }
    const server = {
      url: served.url,
      close: async () => {
        await served.close();
        await removeBuild();
      },
    };
    let browser: Browser | undefined;
    try {
      browser = await launchChromium({ webgpu: options.backend === 'webgpu' });
      const pages: Page[] = [];
      let init: BatchInitResult | undefined;
      for (let i = 0; i < Math.max(1, options.pages ?? 1); i++) {
        const page = await browser.newPage();
        page.on('console', (m) => {
          if (m.type() === 'error') options.onConsoleError?.(m.text());
        });
        page.on('pageerror', (e) => options.onConsoleError?.(e.message));
        await page.goto(`${server.url}/batch.html`);
        await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
        const initOptions: BatchInitOptions = {
          numFaces: options.numFaces,
          models: options.models,
          ...(options.backend ? { backend: options.backend } : {}),
          ...(options.modelIds ? { modelIds: options.modelIds } : {}),
          ...(options.neutral ? { neutral: options.neutral } : {}),
        };
        init = await page.evaluate(
          ([name, o]) => (globalThis as unknown as Record<string, BatchApi>)[name as string]!.init(o as BatchInitOptions),
          [BATCH_GLOBAL, initOptions] as const,
        );
        pages.push(page);
      }
      return new BatchPages(browser, server, pages, init!, buildDir);
    } catch (error) {
      await browser?.close();
      await server.close();
      throw error;
    }
  }

  get size(): number {
    return this.pages.length;
  }

  private call<K extends keyof Api>(page: number, method: K, arg: Parameters<Api[K]>[0]): Promise<BatchImageResult[]> {
    return this.pages[page]!.evaluate(
      ([name, m, a]) => {
        const api = (globalThis as unknown as Record<string, BatchApi>)[name as string]!;
        return (api[m as K] as (x: unknown) => Promise<BatchImageResult[]>)(a);
      },
      [BATCH_GLOBAL, method, arg] as const,
    );
  }

  /** FER2013-style gray images (count * size * size bytes) on page `page`. */
  processGray(page: number, pixels: Uint8Array, count: number, size = 48, upscale = 4, pad = 0.5): Promise<BatchImageResult[]> {
    return this.call(page, 'processGray', { pixels: bytesToBase64(pixels), count, size, upscale, pad });
  }

  /** Encoded image files (JPEG, PNG, ...) on page `page`. */
  processFiles(page: number, files: { name: string; bytes: Uint8Array }[]): Promise<BatchImageResult[]> {
    return this.call(
      page,
      'processEncoded',
      files.map((f) => ({ name: f.name, data: bytesToBase64(f.bytes) })),
    );
  }

  private videoCount = 0;

  /**
   * Opens a video file on page `page`: the page fetches it from a URL of its own origin that
   * playwright answers with the file (never through the app server), so nothing else is served.
   */
  async openVideo(
    page: number,
    file: string,
    smoothingMs: number,
    extra: Pick<VideoOpenRequest, 'neutral' | 'withFeatures'> = {},
  ): Promise<VideoOpenResult> {
    const p = this.pages[page]!;
    const url = `${this.server.url}/__predict-video/${++this.videoCount}`;
    await p.route(url, (route) => route.fulfill({ path: file, contentType: 'application/octet-stream' }));
    try {
      return await p.evaluate(([name, request]) => (globalThis as unknown as Record<string, BatchVideoApi>)[name]!.open(request), [
        BATCH_VIDEO_GLOBAL,
        { name: file, url, smoothingMs, ...extra },
      ] as const);
    } finally {
      await p.unroute(url);
    }
  }

  /** Frames of the open video at `times` (seconds), in order. */
  videoFrames(page: number, times: number[]): Promise<VideoFrame[]> {
    return this.pages[page]!.evaluate(([name, t]) => (globalThis as unknown as Record<string, BatchVideoApi>)[name]!.frames(t), [
      BATCH_VIDEO_GLOBAL,
      times,
    ] as const);
  }

  async closeVideo(page: number): Promise<void> {
    await this.pages[page]!.evaluate((name) => (globalThis as unknown as Record<string, BatchVideoApi>)[name]!.close(), BATCH_VIDEO_GLOBAL);
  }

  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    await this.server.close().catch(() => undefined);
  }
}
