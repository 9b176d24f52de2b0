/**
 * The in-browser calibration trainer (src/app/calibration/trainer.ts) in headless Chromium under the
 * app's CSP, on the wasm backend and a small synthetic calibration set: both personal models come
 * back as model folders, the same seed gives the same weights, Cancel rejects at once, and no
 * request leaves localhost.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium, launchChromium } from '../../src/train/browser/browser.ts';
import { startDevServer } from '../../src/train/browser/dev-server.ts';

/** Runs in the page: trains on a synthetic set and returns what the test checks. */
async function trainInPage(page: Page, args: { seed: number; emotions: number[]; epochs: number; abortAtCnn?: boolean }) {
  return page.evaluate(async ({ seed, emotions, epochs, abortAtCnn }) => {
    type Folder = { entry: { id: string; name: string; path: string }; files: Record<string, Uint8Array> };
    // Imported by beforeAll (as a string: vitest rewrites import() in this file's functions).
    const { trainPersonalModels } = (await (window as unknown as { trainerModule: Promise<unknown> }).trainerModule) as {
      trainPersonalModels(
        set: unknown,
        o: {
          seed: number;
          backend: string;
          finetune: object;
          signal?: AbortSignal;
          onProgress?: (p: { stage: string; fraction: number }) => void;
        },
      ): Promise<{
        cnn: Folder;
        svm: Folder;
        heldOut: { count: number; general: Record<string, number>; personal: Record<string, number> };
      }>;
    };
    let s = seed + 1;
    const rand = () => ((s = (s * 16807) % 2147483647) - 1) / 2147483646;
    const samples = emotions.flatMap((label) =>
      Array.from({ length: 10 }, (_, f) => ({
        t: label * 1000 + f * 33,
        label,
        crop: Uint8Array.from({ length: 2304 }, (_, p) => ((p % 48) * (label + 1) * 4 + rand() * 40) & 255),
        features: Float32Array.from({ length: 168 }, (_, j) => (j % 7 === label ? 1 : 0) + rand() * 0.3),
      })),
    );
    const controller = new AbortController();
    let abortedAt = 0;
    const fractions: number[] = [];
    try {
      const r = await trainPersonalModels(
        { samples, capturedAt: '2026-12-02T00:00:00Z' },
        {
          seed,
          backend: 'wasm',
          finetune: { epochs },
          signal: controller.signal,
          onProgress: (p) => {
            fractions.push(p.fraction);
            if (abortAtCnn && p.stage === 'cnn' && !abortedAt) {
              abortedAt = performance.now();
              controller.abort();
            }
          },
        },
      );
      const hex = async (b: Uint8Array) =>
        Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', b as Uint8Array<ArrayBuffer>)), (x) =>
          x.toString(16).padStart(2, '0'),
        ).join('');
      return {
        ok: true as const,
        cnn: { entry: r.cnn.entry, files: Object.keys(r.cnn.files).sort(), weights: await hex(r.cnn.files['weights.bin']!) },
        svm: {
          entry: r.svm.entry,
          files: Object.keys(r.svm.files).sort(),
          weights: await hex(r.svm.files['weights.bin']!),
          // With libsvm's Platt parameters (probA/probB), drawn from its C rand(): a fresh worker per run.
          modelJson: await hex(r.svm.files['model.json']!),
        },
        heldOut: r.heldOut,
        fractions,
      };
    } catch (error) {
      return {
        ok: false as const,
        name: (error as Error).name,
        message: (error as Error).message,
        msAfterAbort: performance.now() - abortedAt,
      };
    }
  }, args);
}

describe.skipIf(!findChromium())('the in-browser calibration trainer (Chromium, wasm)', () => {
  let server: Awaited<ReturnType<typeof startDevServer>>;
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];
  const cspErrors: string[] = [];

  beforeAll(async () => {
    server = await startDevServer();
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
    });
    await page.goto(`${server.url}/batch.html`);
    await page.evaluate("window.trainerModule = import('/src/app/calibration/trainer.ts')");
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('trains both personal models in its worker; the same seed gives the same weights', async () => {
    const a = await trainInPage(page, { seed: 3, emotions: [0, 3, 5], epochs: 1 });
    const b = await trainInPage(page, { seed: 3, emotions: [0, 3, 5], epochs: 1 });
    if (!a.ok || !b.ok) throw new Error(`training failed: ${JSON.stringify(a.ok ? b : a)}`);
    expect(a.cnn.entry).toMatchObject({ id: 'my-cnn', name: 'Yours: CNN', path: 'my-cnn/model.json' });
    expect(a.svm.entry).toMatchObject({ id: 'my-svm-au', name: 'Yours: AU SVM', path: 'my-svm-au/model.json' });
    expect(a.cnn.files).toEqual(['model.json', 'report.json', 'weights.bin']);
    expect(a.svm.files).toEqual(['model.json', 'report.json', 'weights.bin']);
    // 10 frames per emotion: the last 2 of each held out.
    expect(a.heldOut.count).toBe(6);
    expect(Object.keys(a.heldOut.general).sort()).toEqual(['fer-cnn', 'svm-au']);
    expect(Object.keys(a.heldOut.personal).sort()).toEqual(['my-cnn', 'my-svm-au']);
    expect(a.fractions.at(-1)).toBe(1);
    expect(a.fractions.every((f, i) => i === 0 || f >= a.fractions[i - 1]!)).toBe(true);
    expect(b.cnn.weights).toBe(a.cnn.weights);
    expect(b.svm.weights).toBe(a.svm.weights);
    expect(b.svm.modelJson).toBe(a.svm.modelJson);
    const c = await trainInPage(page, { seed: 4, emotions: [0, 3, 5], epochs: 1 });
    expect(c.ok && c.cnn.weights).not.toBe(a.cnn.weights);
  });

  it('Cancel rejects with an AbortError at once, mid-training', async () => {
    const r = await trainInPage(page, { seed: 1, emotions: [0, 3, 5], epochs: 50, abortAtCnn: true });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.name).toBe('AbortError');
    expect(r.msAfterAbort).toBeLessThan(200);
  });

  it('refuses a set with a single emotion, saying what to record', async () => {
    const r = await trainInPage(page, { seed: 1, emotions: [3], epochs: 1 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/at least two emotions/);
  });

  it('made no request off localhost and broke no CSP rule', () => {
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((u) => !u.startsWith(server.url))).toEqual([]);
    expect(cspErrors).toEqual([]);
  });
});
