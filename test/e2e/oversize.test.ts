/**
 * Images larger than the browser's texture limit, in the built app and on the batch page (used by
 * `npm run extract` and `npm run predict`). Before the size cap (src/app/live/image-cap.ts), a
 * 20000x20000 plain gray PNG opened after a large face photo showed that photo's face, and the
 * detector could abort for good. Now: a 6000x6000 photo is still read, the 20000x20000 gray image
 * has no face, and a normal JAFFE photo after it gets its own face, in the same place as when it is
 * opened first.
 *
 * Needs Chromium, ../shared/data/faces/jaffe and the browser assets; skips with the reason otherwise.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, serveApp } from '../../src/train/browser/app-server.ts';
import { findChromium, launchChromium } from '../../src/train/browser/browser.ts';
import { BATCH_GLOBAL, bytesToBase64, type BatchApi, type BatchImageResult } from '../../src/core/batch.ts';
import { solidGrayPng } from '../helpers/big-png.ts';
import { JAFFE_DIR, missingShared, ROOT } from '../helpers/shared-data.ts';

const root = ROOT;
const STILL = join(JAFFE_DIR, 'surprise/KA.SU1.36.png');

const skipReason = !findChromium()
  ? 'Chromium not found (apt-get install chromium, or set CHROMIUM_PATH)'
  : missingShared(STILL) ||
    (!existsSync(join(root, 'public/mediapipe/face_landmarker.task')) ? 'browser assets missing (npm run setup-assets)' : undefined);
if (skipReason) console.warn(`[e2e] oversize image tests skipped: ${skipReason}`);

type Box = [number, number, number, number];

/** The JAFFE photo scaled to 6000x6000, as a JPEG made in the browser. */
async function bigFacePhoto(browser: Browser, photo: Buffer): Promise<Buffer> {
  const page = await browser.newPage();
  try {
    const b64 = await page.evaluate(
      async (url) => {
        const img = new Image();
        img.src = url;
        await img.decode();
        const canvas = new OffscreenCanvas(6000, 6000);
        canvas.getContext('2d')!.drawImage(img, 0, 0, 6000, 6000);
        const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.85 })).arrayBuffer());
        let s = '';
        for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
        return btoa(s);
      },
      `data:image/png;base64,${photo.toString('base64')}`,
    );
    return Buffer.from(b64, 'base64');
  } finally {
    await page.close();
  }
}

/** Opens a file in the live view and waits until it is processed: its face box, or why there is none. */
async function openStill(
  page: Page,
  name: string,
  mimeType: string,
  buffer: Buffer,
): Promise<{ box?: Box; state: string | null; size: [number, number] }> {
  await page.setInputFiles('[data-action="file"]', { name, mimeType, buffer });
  await page.waitForSelector(`img[alt="Chosen file ${name}"]`, { state: 'attached' });
  const done = await page.waitForSelector(
    '[data-overlay-face="0"] rect.box, [data-state="no-face"], [data-state="frame-error"], [data-state="bad-file"]',
    { timeout: 60_000 },
  );
  const state = await done.getAttribute('data-state');
  const size = await page.evaluate(() => {
    const box = document.querySelector('svg.overlay')?.getAttribute('viewBox')?.split(' ').map(Number) ?? [0, 0, 0, 0];
    return [box[2]!, box[3]!] as [number, number];
  });
  if (state) return { state, size };
  const box = (await Promise.all(['x', 'y', 'width', 'height'].map((a) => done.getAttribute(a)))).map(Number) as Box;
  return { box, state, size };
}

function expectSameBox(actual: Box | undefined, expected: Box | undefined, tolerance = 2): void {
  expect(actual).toBeDefined();
  actual!.forEach((v, i) => expect(Math.abs(v - expected![i]!), `box ${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance));
}

describe.skipIf(skipReason !== undefined)(`oversize images${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let work: string;
  let app: { url: string; close: () => Promise<void> };
  let browser: Browser;
  let photo: Buffer;
  let bigPhoto: Buffer;
  let huge: Buffer;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'emotion-lens-oversize-'));
    // No models: the faces (boxes) are what is checked here.
    const models = join(work, 'no-models');
    await mkdir(models);
    await buildApp(join(work, 'dist'), models);
    app = await serveApp(join(work, 'dist'), models);
    browser = await launchChromium();
    photo = await readFile(STILL);
    bigPhoto = await bigFacePhoto(browser, photo);
    // Over every texture limit (8192 in SwiftShader, 16384 on most GPUs); ~0.4 MB as a PNG.
    huge = await solidGrayPng(20000, 20000, 128);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('live view: a 6000 px photo, then a 20000 px gray image (no face), then a normal photo (its own face)', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('crash', () => errors.push('the page crashed'));
    try {
      await page.goto(`${app.url}/`);
      await page.waitForSelector('[data-action="start"]:not([disabled])', { timeout: 90_000 });
      const reference = await openStill(page, 'first.png', 'image/png', photo);
      expect(reference.box, 'the JAFFE photo opened first').toBeDefined();

      const big = await openStill(page, 'big.jpg', 'image/jpeg', bigPhoto);
      expect(big.box, 'the 6000x6000 photo').toBeDefined();
      expect(big.size).toEqual([4096, 4096]); // what the detector read
      expect(big.box![2]).toBeGreaterThan(1000);

      const gray = await openStill(page, 'huge.png', 'image/png', huge);
      expect(gray.state, 'the 20000x20000 gray image must not get a face').toBe('no-face');
      expect(await page.locator('[data-face]').count()).toBe(0);

      const after = await openStill(page, 'after.png', 'image/png', photo);
      expect(after.size).toEqual(reference.size);
      expectSameBox(after.box, reference.box);
      expect(await page.locator('[role="alert"]').count()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it("batch page (extract, predict): the same sequence, boxes in the images' own pixels", async () => {
    const page = await browser.newPage();
    page.on('crash', () => {
      throw new Error('the batch page crashed');
    });
    try {
      await page.goto(`${app.url}/batch.html`);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
      const call = (method: 'init' | 'processEncoded', arg: unknown) =>
        page.evaluate(
          ([name, m, a]) =>
            ((globalThis as unknown as Record<string, BatchApi>)[name as string]![m as 'init'] as (x: unknown) => Promise<unknown>)(a),
          [BATCH_GLOBAL, method, arg] as const,
        );
      await call('init', { numFaces: 1, models: false });
      const encode = (name: string, bytes: Buffer) => ({ name, data: bytesToBase64(bytes) });
      const [alone] = (await call('processEncoded', [encode('first.png', photo)])) as BatchImageResult[];
      expect(alone!.faces).toHaveLength(1);
      const results = (await call('processEncoded', [
        encode('big.jpg', bigPhoto),
        encode('huge.png', huge),
        encode('after.png', photo),
      ])) as BatchImageResult[];
      const [big, gray, after] = results;
      expect(big).toMatchObject({ status: 'ok', width: 6000, height: 6000 });
      expect(big!.faces).toHaveLength(1);
      // Detected at 4096 px, reported in the photo's own 6000 px: about 6000/256 times the JAFFE box.
      expect(big!.faces[0]!.box[2] / alone!.faces[0]!.box[2]).toBeGreaterThan((6000 / 256) * 0.9);
      expect(big!.faces[0]!.box[2] / alone!.faces[0]!.box[2]).toBeLessThan((6000 / 256) * 1.1);
      expect(gray).toMatchObject({ status: 'ok', width: 20000, height: 20000, faces: [] });
      expect(after).toMatchObject({ status: 'ok', width: alone!.width, height: alone!.height });
      expect(after!.faces).toHaveLength(1);
      expectSameBox(after!.faces[0]!.box, alone!.faces[0]!.box, 1);
      // A file the browser cannot decode is an error for that file only.
      const [broken, next] = (await call('processEncoded', [
        encode('broken.png', huge.subarray(0, 100)),
        encode('next.png', photo),
      ])) as BatchImageResult[];
      expect(broken).toMatchObject({ status: 'not-image', faces: [] });
      expect(broken!.error).toMatch(/^broken\.png could not be decoded as an image/);
      expect(next!.faces).toHaveLength(1);
    } finally {
      await page.close();
    }
  });
});
