/**
 * End to end: "Calibrate to my face" from photos, in Chromium, with the committed models (models/,
 * not fixtures). One JAFFE subject (KA): the subject's photos are added per emotion with "Add
 * photos…" (through the app's still-image detect stage; a photo of two faces is refused naming its
 * file), the personal models are trained in the browser, and on the held-out photos (the last one
 * added of each emotion) the best personal model must score higher than the general CNN (fer-cnn).
 * Then the personal models read a photo of the subject live, with labels. No request leaves
 * localhost. Unlike the webcam e2e (calibration.test.ts), here the labels are the photos' true
 * emotions, so the held-out figures mean something. Screenshots: test-artifacts/calibration-photos-*.png.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PHOTOS_PER_EMOTION } from '../../src/core/calibration/capture.ts';
import { EMOTIONS } from '../../src/core/labels.ts';
import { buildApp, serveApp } from '../../src/train/browser/app-server.ts';
import { findChromium, launchChromium } from '../../src/train/browser/browser.ts';
import { JAFFE_DIR, missingShared, ROOT } from '../helpers/shared-data.ts';
import { blockForeignRequests } from '../helpers/egress.ts';

const SUBJECT = 'KA';
const MODELS = join(ROOT, 'models');
const ARTIFACTS = join(ROOT, 'test-artifacts');
const skipReason = !findChromium()
  ? 'Chromium not found (apt-get install chromium, or set CHROMIUM_PATH)'
  : missingShared(JAFFE_DIR) ||
    (!existsSync(join(ROOT, 'public/mediapipe/face_landmarker.task'))
      ? 'browser assets missing (npm run setup-assets)'
      : !existsSync(join(MODELS, 'fer-cnn/weights.bin')) || !existsSync(join(MODELS, 'svm-au/model.json'))
        ? `the committed models are missing (${MODELS}/fer-cnn, svm-au)`
        : undefined);
if (skipReason) console.warn(`[e2e] calibration-from-photos test skipped: ${skipReason}`);

/** The subject's photos of one emotion, sorted by name (the order they are added). */
function photosOf(emotion: string): string[] {
  return readdirSync(join(JAFFE_DIR, emotion))
    .filter((f) => f.startsWith(`${SUBJECT}.`))
    .sort()
    .map((f) => join(JAFFE_DIR, emotion, f));
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `calibration-photos-${name}.png`), fullPage: true });
}

/** Clicks an emotion's "Add photos…" and picks `files` in the file chooser. */
async function addPhotos(page: Page, emotion: string, files: string[] | { name: string; mimeType: string; buffer: Buffer }[]) {
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    page.click(`[data-action="calibration-add-photos"][data-emotion="${emotion}"]`),
  ]);
  expect(chooser.isMultiple()).toBe(true);
  await chooser.setFiles(files);
  await page.waitForSelector('[data-state="calibration-photos-busy"]', { state: 'detached', timeout: 60_000 });
}

describe.skipIf(skipReason !== undefined)(`calibration from photos in Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let work: string;
  let app: { url: string; close: () => Promise<void> } | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'emotion-lens-e2e-calib-photos-'));
    await mkdir(ARTIFACTS, { recursive: true });
    await buildApp(join(work, 'dist'), MODELS);
    app = await serveApp(join(work, 'dist'), MODELS);
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('adds one subject’s photos per emotion, trains, and the personal models beat fer-cnn on the held-out photos; live with labels; nothing leaves localhost', async () => {
    const url = app!.url;
    const context = await browser!.newContext({ viewport: { width: 1200, height: 1000 } });
    const errors: string[] = [];
    // Page and worker requests alike; anything foreign is recorded and cut off here, too.
    const foreign = await blockForeignRequests(context, url);
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`${url}/`);
      await page.click('[data-action="calibrate"]:not([disabled])', { timeout: 120_000 });
      await page.waitForSelector('[data-calibration-step="intro"]');
      // No camera needed: straight to the review, where each emotion has "Add photos…".
      await page.click('[data-action="calibration-photos"]');
      await page.waitForSelector('[data-calibration-step="review"] [data-state="calibration-photo-note"]');
      expect(await page.textContent('[data-state="calibration-photo-note"]')).toMatch(/last 20 % added of each emotion are held out/);

      // A photo with two faces (the subject twice, side by side) is refused, naming the file.
      const pair = await page.evaluate(
        async (src) => {
          const img = new Image();
          img.src = src;
          await img.decode();
          const c = document.createElement('canvas');
          c.width = img.width * 2;
          c.height = img.height;
          const ctx = c.getContext('2d')!;
          ctx.drawImage(img, 0, 0);
          ctx.drawImage(img, img.width, 0);
          return c.toDataURL('image/png').split(',')[1]!;
        },
        `data:image/png;base64,${readFileSync(photosOf('happy')[0]!).toString('base64')}`,
      );
      await addPhotos(page, 'happy', [{ name: 'two-faces.png', mimeType: 'image/png', buffer: Buffer.from(pair, 'base64') }]);
      expect(await page.textContent('[data-state="calibration-photo-refused"]')).toMatch(/"two-faces\.png": several faces found/);
      expect(await page.getAttribute('[data-review-emotion="happy"]', 'data-count')).toBe('0');

      // The subject's photos, emotion by emotion.
      const added: Record<string, number> = {};
      for (const emotion of EMOTIONS) {
        const files = photosOf(emotion);
        await addPhotos(page, emotion, files);
        added[emotion] = files.length;
        expect(Number(await page.getAttribute(`[data-review-emotion="${emotion}"]`, 'data-photos')), `${emotion} photos kept`).toBe(
          files.length,
        );
      }
      expect(await page.locator('[data-state="calibration-photo-refused"]').count()).toBe(0);
      const used = EMOTIONS.filter((e) => added[e]! >= MIN_PHOTOS_PER_EMOTION);
      expect(used.length).toBeGreaterThanOrEqual(4);
      for (const e of EMOTIONS.filter((x) => !used.includes(x)))
        expect(await page.textContent(`[data-review-emotion="${e}"] .row-head`)).toMatch(/not used/);
      await shot(page, '1-review');

      // Train; the held-out photos are the last one added of each emotion used.
      await page.click('[data-action="calibration-train"]');
      await page.waitForSelector('[data-state="calibration-training"] progress');
      await shot(page, '2-training');
      await page.waitForSelector('[data-calibration-step="result"]', { timeout: 300_000 });
      await shot(page, '3-result');
      const accuracy = async (sel: string) => Number(await page.getAttribute(sel, 'data-accuracy'));
      const general = await accuracy('[data-heldout-general="fer-cnn"]');
      const mine = {
        'my-cnn': await accuracy('[data-heldout-personal="my-cnn"]'),
        'my-svm-au': await accuracy('[data-heldout-personal="my-svm-au"]'),
      };
      console.log(`[e2e] ${SUBJECT} held-out photos: fer-cnn ${general}, my-cnn ${mine['my-cnn']}, my-svm-au ${mine['my-svm-au']}`);
      expect(await page.textContent('[data-state="calibration-done"]')).toMatch(new RegExp(`your ${used.length} held-out`));
      expect(Math.max(...Object.values(mine)), 'best personal model vs fer-cnn on the held-out photos').toBeGreaterThan(general);
      await page.click('[data-calibration-step="result"] [data-action="calibration-close"]');

      // Live: a photo of the subject opened in the live view is read by the personal models too.
      const personal = ['my-cnn', 'my-svm-au'];
      await page.waitForSelector(`[data-personal-state="ready"][data-personal-models="${personal.join(',')}"]`, { timeout: 60_000 });
      await page.setInputFiles('[data-action="file"]', photosOf('surprise').at(-1)!);
      for (const id of ['fer-cnn', ...personal])
        await page.waitForSelector(`[data-face="0"] [data-model="${id}"][data-label]`, { timeout: 60_000 });
      for (const id of personal) expect(EMOTIONS).toContain(await page.getAttribute(`[data-face="0"] [data-model="${id}"]`, 'data-label'));
      await shot(page, '4-live');

      expect(foreign, 'requests to other origins').toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 600_000);
});
