/**
 * End to end: Record / Stop in the live view with the fake webcam (a JAFFE photo, test time) and the
 * untrained fixture models, then the CSV, JSON and PNG downloads, checked against the frames the
 * session processed meanwhile (window.__emotionLens). Skips with the reason like live.test.ts.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRecordingCsv, parseRecordingJson, type RecordingRow } from '../../src/app/live/recording.ts';
import { findChromium } from '../../src/train/browser/browser.ts';
import { HEIGHT, WIDTH } from '../../src/train/browser/y4m.ts';
import { startWebcamApp, type WebcamApp } from '../helpers/webcam-app.ts';
import { JAFFE_DIR, missingShared, ROOT } from '../helpers/shared-data.ts';

const HAPPY = join(JAFFE_DIR, 'happy/YM.HA2.53.png');
const skipReason = !findChromium()
  ? 'Chromium not found (apt-get install chromium, or set CHROMIUM_PATH)'
  : missingShared(HAPPY) ||
    (!existsSync(join(ROOT, 'public/mediapipe/face_landmarker.task')) ? 'browser assets missing (npm run setup-assets)' : undefined);
if (skipReason) console.warn(`[e2e] recording tests skipped: ${skipReason}`);

/**
 * Clicks a button and reads the session's processed-frame counter (window.__emotionLens) in the same
 * page task, before the click (`counterFirst`) or after it, so that no round trip to the test lets
 * frames pass unseen between the two.
 */
function clickAndCount(page: Page, selector: string, counterFirst: boolean): Promise<number> {
  return page.evaluate(
    async ({ selector, counterFirst }) => {
      const hook = (window as unknown as { __emotionLens: { snapshot(withLog: boolean): Promise<{ frames: number }> } }).__emotionLens;
      const button = document.querySelector<HTMLButtonElement>(selector)!;
      if (!counterFirst) button.click();
      const { frames } = await hook.snapshot(false);
      if (counterFirst) button.click();
      return frames;
    },
    { selector, counterFirst },
  );
}

/** Clicks a download button and returns the downloaded file's name and bytes. */
async function download(page: Page, selector: string): Promise<{ name: string; bytes: Buffer }> {
  const [file] = await Promise.all([page.waitForEvent('download', { timeout: 20_000 }), page.click(selector)]);
  const path = await file.path();
  return { name: file.suggestedFilename(), bytes: await readFile(path) };
}

describe.skipIf(skipReason !== undefined)(`live recording and export in Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let setup: WebcamApp;
  let app: WebcamApp['app'];
  let browser: Browser;

  beforeAll(async () => {
    setup = await startWebcamApp('emotion-lens-e2e-rec-', HAPPY);
    ({ app, browser } = setup);
  }, 240_000);

  afterAll(async () => {
    await setup?.close();
  });

  it('records ~3 s, downloads CSV and JSON matching the frames seen, and a PNG snapshot of the view', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 1000 }, acceptDownloads: true });
    const foreign: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => {
      const url = r.url();
      if (!url.startsWith(`${app.url}/`) && !url.startsWith('blob:') && !url.startsWith('data:')) foreign.push(url);
    });
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`${app.url}/`);
      await page.waitForSelector('[data-action="start"]:not([disabled])', { timeout: 90_000 });
      expect(await page.locator('[data-action="record"]').isDisabled()).toBe(true); // no source yet
      await page.click('[data-action="start"]');
      // The fixture models that read faces; once all have read face 0, the model list is settled.
      for (const id of ['fixture-cnn', 'fixture-seed', 'fixture-svm-au', 'fixture-svm-pixels'])
        await page.waitForSelector(`[data-face="0"] [data-model="${id}"][data-label]`, { timeout: 60_000 });
      const ready = await page
        .locator('[data-model-status][data-status="ready"]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-model-status')!));
      expect(ready).toEqual(expect.arrayContaining(['fixture-cnn', 'fixture-seed', 'fixture-svm-au', 'fixture-svm-pixels']));
      for (const id of ready) await page.waitForSelector(`[data-face="0"] [data-model="${id}"][data-label]`, { timeout: 60_000 });

      // Record ~3 s, then Stop.
      const before = await clickAndCount(page, '[data-action="record"]', true);
      await page.waitForSelector('[data-record-state="recording"]');
      await page.waitForTimeout(3000);
      const seen = (await clickAndCount(page, '[data-action="record-stop"]', false)) - before;
      const status = page.locator('[data-record-state]');
      expect(await status.getAttribute('data-record-state')).toBe('stopped');
      const frames = Number(await status.getAttribute('data-frames'));
      const rows = Number(await status.getAttribute('data-rows'));
      expect(seen).toBeGreaterThan(5);
      // The frames recorded are the frames processed between the two clicks (a frame or two may land on either side of each: the counter is read asynchronously).
      expect(Math.abs(frames - seen), `recorded ${frames} frames, the session processed ${seen}`).toBeLessThanOrEqual(2);
      expect(await status.textContent()).toMatch(
        new RegExp(`Recorded\\s+${rows.toLocaleString('en')} rows, ${frames} frames, \\d+\\.\\d s`),
      );

      const csv = await download(page, '[data-action="download-csv"]');
      expect(csv.name).toMatch(/^emotion-lens-\d{8}-\d{6}\.csv$/);
      const text = csv.bytes.toString('utf8');
      expect(text.split('\r\n')[0]).toBe('t_ms,face,model,label,angry,disgust,fear,happy,sad,surprise,neutral');
      const csvRows = parseRecordingCsv(text);
      // One row per face, model and frame: one face here, every ready model, every recorded frame.
      expect(csvRows).toHaveLength(rows);
      expect(rows).toBe(frames * ready.length);
      const byFrame = new Map<number, RecordingRow[]>();
      for (const row of csvRows) byFrame.set(row.tMs, [...(byFrame.get(row.tMs) ?? []), row]);
      expect(byFrame.size).toBe(frames);
      for (const group of byFrame.values()) expect(group.map((r) => r.model).sort()).toEqual([...ready].sort());
      const times = [...byFrame.keys()];
      expect(times.every((t, i) => i === 0 || t > times[i - 1]!)).toBe(true);
      expect(times.at(-1)!).toBeGreaterThan(2000);
      for (const row of csvRows) {
        expect(row.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
        // The label is the top probability (6 decimals in the file: near-ties may round equal).
        const k = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'].indexOf(row.label);
        expect(row.probs[k]).toBeCloseTo(Math.max(...row.probs), 5);
      }

      const json = await download(page, '[data-action="download-json"]');
      expect(json.name).toMatch(/\.json$/);
      const parsed = parseRecordingJson(json.bytes.toString('utf8'));
      expect(parsed.capped).toBe(false);
      expect(Object.keys(parsed.models).sort()).toEqual([...ready].sort());
      expect(parsed.rows).toEqual(csvRows);

      // Snapshot: a PNG of the video's size, with the overlay's box drawn on it.
      const box = page.locator('[data-overlay-face="0"] rect.box');
      const [bx, by, bh, color] = await Promise.all([
        box.getAttribute('x'),
        box.getAttribute('y'),
        box.getAttribute('height'),
        box.getAttribute('stroke'),
      ]);
      const png = await download(page, '[data-action="snapshot"]');
      expect(png.name).toMatch(/\.png$/);
      expect(png.bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
      expect(png.bytes.subarray(12, 16).toString('ascii')).toBe('IHDR');
      expect([png.bytes.readUInt32BE(16), png.bytes.readUInt32BE(20)]).toEqual([WIDTH, HEIGHT]);
      // The box's left edge, in the PNG, has the box's colour (within a few pixels: the face barely moves).
      // (Decoded from a data: URL by an <img>: the CSP's img-src allows data:, connect-src does not.)
      const hit = await page.evaluate(
        async ({ b64, x, y, color }) => {
          const img = new Image();
          img.src = `data:image/png;base64,${b64}`;
          await img.decode();
          const canvas = document.createElement('canvas');
          canvas.width = img.naturalWidth;
          canvas.height = img.naturalHeight;
          const ctx = canvas.getContext('2d')!;
          ctx.drawImage(img, 0, 0);
          const want = [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16));
          const data = ctx.getImageData(Math.round(x) - 4, Math.round(y) - 3, 9, 7).data;
          for (let i = 0; i < data.length; i += 4) if (want.every((v, k) => Math.abs(data[i + k]! - v) < 40)) return true;
          return false;
        },
        { b64: png.bytes.toString('base64'), x: Number(bx), y: Number(by) + Number(bh) / 2, color: color! },
      );
      expect(hit).toBe(true);

      // Keyboard: Record is a focusable button that Enter presses; Discard drops the recording.
      await page.focus('[data-action="record"]');
      await page.keyboard.press('Enter');
      await page.waitForSelector('[data-record-state="recording"]');
      await page.click('[data-action="record-stop"]');
      await page.focus('[data-action="record-discard"]');
      await page.keyboard.press('Enter');
      await page.waitForSelector('[data-record-state]', { state: 'detached' });

      expect(foreign).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 180_000);
});
