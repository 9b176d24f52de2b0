/**
 * End to end: "Calibrate to my face" in Chromium with a fake webcam showing one JAFFE subject (YM)
 * going through their photos, emotion by emotion (0.2 s each, looping), and the fixture models.
 * Capture of two emotions (countdown, kept frames, review, delete one crop, re-record one), training
 * in the browser (from models/fer-cnn, copied beside the fixtures) with progress and held-out
 * scores; the personal models read the face live as "Yours", survive a reload, export as a .zip the
 * manifest parser reads, "Forget my models" removes them (also after a reload), and Import brings
 * the exported .zip back (a damaged one is refused naming the file). No request leaves localhost and
 * no CSP violation occurs. (The fake webcam does not follow the prompts, so the held-out figures
 * here say nothing about accuracy: bench:calibrate measures that.)
 * Screenshots of each step: test-artifacts/calibration-*.png.
 */
import { existsSync, readdirSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelFiles, zipModelFolders } from '../../src/app/calibration/model-zip.ts';
import { parseRecordingJson } from '../../src/app/live/recording.ts';
import { parseManifest } from '../../src/core/contracts/manifest.ts';
import { EMOTIONS } from '../../src/core/labels.ts';
import { buildApp, serveApp } from '../../src/train/browser/app-server.ts';
import { findChromium, launchChromium } from '../../src/train/browser/browser.ts';
import { makeFixtureModels } from '../../src/train/browser/fixture-models.ts';
import { composeFrames, writeY4m } from '../../src/train/browser/y4m.ts';
import { personalFolders } from '../helpers/personal-folders.ts';
import { JAFFE_DIR, missingShared, ROOT } from '../helpers/shared-data.ts';
import { blockForeignRequests } from '../helpers/egress.ts';

const SUBJECT = 'YM';
const ARTIFACTS = join(ROOT, 'test-artifacts');
const skipReason = !findChromium()
  ? 'Chromium not found (apt-get install chromium, or set CHROMIUM_PATH)'
  : missingShared(JAFFE_DIR) ||
    (!existsSync(join(ROOT, 'public/mediapipe/face_landmarker.task')) ? 'browser assets missing (npm run setup-assets)' : undefined);
if (skipReason) console.warn(`[e2e] calibration tests skipped: ${skipReason}`);

/** The subject's photos, emotion by emotion (EMOTIONS order), each emotion's sorted by name. */
function subjectPhotos(): string[] {
  return EMOTIONS.flatMap((e) =>
    readdirSync(join(JAFFE_DIR, e))
      .filter((f) => f.startsWith(`${SUBJECT}.`))
      .sort()
      .map((f) => join(JAFFE_DIR, e, f)),
  );
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `calibration-${name}.png`), fullPage: true });
}

/** Waits until the face's panel has a reading of every model in `ids`. */
async function waitForReadings(page: Page, ids: string[]): Promise<void> {
  for (const id of ids) await page.waitForSelector(`[data-face="0"] [data-model="${id}"][data-label]`, { timeout: 90_000 });
}

describe.skipIf(skipReason !== undefined)(`calibration in Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let work: string;
  let fixtures: string | undefined;
  let app: { url: string; close: () => Promise<void> } | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'emotion-lens-e2e-calib-'));
    await mkdir(ARTIFACTS, { recursive: true });
    fixtures = await makeFixtureModels();
    // The trainer starts from the general CNN at /models/fer-cnn (served, not in the fixtures' list).
    await cp(join(ROOT, 'models/fer-cnn'), join(fixtures, 'fer-cnn'), { recursive: true });
    await buildApp(join(work, 'dist'), fixtures);
    const photos = subjectPhotos();
    expect(photos.length).toBeGreaterThanOrEqual(14);
    const composer = await launchChromium();
    try {
      // 6 frames (0.2 s) per photo: a 4 s capture sees every photo about once.
      await writeY4m(join(work, 'webcam.y4m'), await composeFrames(composer, photos), 6, 30);
    } finally {
      await composer.close();
    }
    app = await serveApp(join(work, 'dist'), fixtures);
    browser = await launchChromium({ fakeVideo: join(work, 'webcam.y4m') });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    if (fixtures) await rm(fixtures, { recursive: true, force: true });
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('on a phone-sized screen, opening the calibration brings its prompt and Start button into view', async () => {
    const height = 844;
    const context: BrowserContext = await browser!.newContext({ viewport: { width: 390, height } });
    const page = await context.newPage();
    try {
      await page.goto(`${app!.url}/`);
      await page.waitForSelector('[data-action="start"]:not([disabled])', { timeout: 90_000 });
      await page.click('[data-action="start"]');
      await waitForReadings(page, ['fixture-cnn']);
      // Settings start closed on a phone.
      await page.click('[data-section="settings"] > summary');
      // As a user who scrolled just far enough to see the button, at the foot of the screen.
      await page.evaluate(() => document.querySelector('[data-action="calibrate"]')!.scrollIntoView({ block: 'end' }));
      await page.click('[data-action="calibrate"]');
      await page.waitForSelector('[data-calibration-step="intro"]');
      // The flow opens at the foot of Settings, far below the video at this width.
      await page.waitForFunction(
        (h) => {
          const panel = document.querySelector('[data-calibration-step]')!.getBoundingClientRect();
          const start = document.querySelector('[data-action="calibration-start"]')!.getBoundingClientRect();
          return panel.top >= 0 && panel.top < h && start.top >= 0 && start.bottom <= h;
        },
        height,
        { timeout: 5_000 },
      );
      await page.screenshot({ path: join(ARTIFACTS, 'calibration-phone-open.png') });
    } finally {
      await context.close();
    }
  });

  it("the calibration's neutral step also sets the page's neutral face", async () => {
    const context: BrowserContext = await browser!.newContext({ viewport: { width: 1200, height: 1000 } });
    const foreign = await blockForeignRequests(context, app!.url);
    const page = await context.newPage();
    try {
      await page.goto(`${app!.url}/`);
      await page.waitForSelector('[data-action="start"]:not([disabled])', { timeout: 90_000 });
      await page.waitForSelector('[data-neutral-state="none"]');
      await page.click('[data-action="start"]');
      await waitForReadings(page, ['fixture-cnn']);
      await page.click('[data-action="calibrate"]');
      await page.click('[data-action="calibration-start"]');
      // Skip every emotion before neutral, then let neutral's countdown and capture run.
      for (const e of ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise']) {
        await page.waitForSelector(`[data-emotion="${e}"] [data-countdown]`);
        await page.click('[data-action="calibration-skip"]');
      }
      await page.waitForSelector('[data-emotion="neutral"] [data-capturing]', { timeout: 10_000 });
      await page.waitForSelector('[data-calibration-step="review"]', { timeout: 20_000 });
      await page.waitForSelector('[data-state="calibration-neutral-set"]');
      // The toolbar shows it, the fixture CNN (the one model with a reference) is read against it, and it is stored.
      await page.waitForSelector('[data-neutral-state="set"][data-neutral-moved="fixture-cnn"]');
      await page.waitForSelector('[data-face="0"] [data-model="fixture-cnn"] [data-neutral-mark]');
      expect(await page.evaluate('localStorage.getItem("emotion-lens.neutral-face.v1")')).toMatch(/"version":1/);
      await page.click('[data-action="neutral-clear"]');
      await page.waitForSelector('[data-neutral-state="none"]');
      expect(foreign).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('captures two emotions, trains, runs personal models live as "Yours" (recorded too), keeps them over a reload, exports, forgets and imports them; nothing leaves localhost', async () => {
    const url = app!.url;
    const context: BrowserContext = await browser!.newContext({ viewport: { width: 1200, height: 1000 }, acceptDownloads: true });
    const logged: string[] = [];
    const errors: string[] = [];
    // Page and worker requests alike; anything foreign is recorded and cut off here, too.
    const foreign = await blockForeignRequests(context, url);
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        ((window as unknown as { __csp: string[] }).__csp ??= []).push(`${e.violatedDirective} ${e.blockedURI}`);
      });
    });
    const page = await context.newPage();
    page.on('console', (m) => logged.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => errors.push(e.message));
    const cspOf = () => page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []);
    try {
      await page.goto(`${url}/`);
      await page.waitForSelector('[data-action="start"]:not([disabled])', { timeout: 90_000 });
      // No personal models yet: nothing to export or forget.
      await page.waitForSelector('[data-personal-state="idle"]');
      expect(await page.locator('[data-action="personal-export"]').isDisabled()).toBe(true);
      await page.click('[data-action="start"]');
      await waitForReadings(page, ['fixture-cnn', 'fixture-svm-au']);
      await shot(page, '1-live');

      // --- Capture: angry and disgust, then stop at fear's countdown.
      await page.click('[data-action="calibrate"]');
      await page.waitForSelector('[data-calibration-step="intro"]');
      await shot(page, '2-intro');
      await page.click('[data-action="calibration-start"]');
      await page.waitForSelector('[data-emotion="angry"] [data-countdown]');
      await shot(page, '3-countdown');
      await page.waitForSelector('[data-emotion="angry"] [data-capturing]', { timeout: 10_000 });
      await page.waitForSelector('[data-emotion="angry"] [data-kept]:not([data-kept="0"])', { timeout: 10_000 });
      await shot(page, '4-capturing');
      await page.waitForSelector('[data-emotion="fear"] [data-countdown]', { timeout: 30_000 });
      await page.click('[data-action="calibration-stop"]');
      await page.waitForSelector('[data-calibration-step="review"]');

      const countOf = async (emotion: string) => Number(await page.getAttribute(`[data-review-emotion="${emotion}"]`, 'data-count'));
      const thumbsOf = (emotion: string) => page.locator(`[data-review-emotion="${emotion}"] [data-action="delete-crop"]`).count();
      const angry = await countOf('angry');
      const disgust = await countOf('disgust');
      // About 20 distinct photos pass in 4 s; consecutive frames of one photo are too similar to keep.
      expect(angry, 'angry frames kept').toBeGreaterThanOrEqual(5);
      expect(angry).toBeLessThanOrEqual(40);
      expect(disgust, 'disgust frames kept').toBeGreaterThanOrEqual(5);
      for (const e of ['fear', 'happy', 'sad', 'surprise', 'neutral']) expect(await countOf(e)).toBe(0);
      expect(await thumbsOf('angry')).toBe(angry);
      await shot(page, '5-review');

      // Delete one bad crop; re-record disgust.
      await page.locator('[data-review-emotion="angry"] [data-action="delete-crop"]').first().click();
      await expect.poll(() => countOf('angry')).toBe(angry - 1);
      await expect.poll(() => thumbsOf('angry')).toBe(angry - 1);
      await page.click('[data-action="calibration-rerecord"][data-emotion="disgust"]');
      await page.waitForSelector('[data-emotion="disgust"] [data-capturing]', { timeout: 10_000 });
      await page.waitForSelector('[data-calibration-step="review"]', { timeout: 15_000 });
      expect(await countOf('disgust')).toBeGreaterThanOrEqual(5);
      expect(await countOf('angry')).toBe(angry - 1); // untouched by the other emotion's re-record
      expect(await page.locator('[data-state="calibration-not-ready"]').count()).toBe(0);

      // --- Train (the trainer fine-tunes /models/fer-cnn, copied beside the fixtures); Cancel first.
      await page.click('[data-action="calibration-train"]');
      await page.waitForSelector('[data-state="calibration-training"] progress');
      await page.click('[data-action="calibration-cancel"]');
      await page.waitForSelector('[data-calibration-step="review"] [data-state="calibration-notice"]');
      expect(await page.textContent('[data-state="calibration-notice"]')).toMatch(/Training cancelled/);
      expect(await countOf('angry')).toBe(angry - 1); // the captured frames are kept
      expect(await page.getAttribute('[data-personal-state]', 'data-personal-state')).toBe('idle'); // nothing kept
      await page.click('[data-action="calibration-train"]');
      await page.waitForSelector('[data-state="calibration-training"] progress');
      await page.waitForSelector('[data-state="calibration-training"] progress:not([data-fraction="0.000"])', { timeout: 120_000 });
      await shot(page, '6-training');
      await page.waitForSelector('[data-calibration-step="result"]', { timeout: 300_000 });
      await shot(page, '7-result');
      expect(await page.getAttribute('[data-heldout-general="fer-cnn"]', 'data-accuracy')).toMatch(/^(0(\.\d+)?|1)$/);
      expect(await page.locator('[data-heldout-personal]').count()).toBe(2);
      await page.click('[data-calibration-step="result"] [data-action="calibration-close"]');
      const personal = ['my-cnn', 'my-svm-au'];

      // --- Live: the personal models read the face beside the general ones, named "Yours".
      await page.waitForSelector(`[data-personal-state="ready"][data-personal-models="${personal.join(',')}"]`, { timeout: 60_000 });
      await waitForReadings(page, ['fixture-cnn', ...personal]);
      const rowNames = await page.locator('[data-face="0"] [data-model^="my-"] .name').allTextContents();
      expect(rowNames).toEqual(['Yours: CNN', 'Yours: AU SVM']);
      for (const id of personal) {
        const label = await page.getAttribute(`[data-face="0"] [data-model="${id}"]`, 'data-label');
        expect(EMOTIONS).toContain(label);
      }
      await shot(page, '8-yours-live');

      // --- Reload: they come back from IndexedDB.
      await page.reload();
      await page.waitForSelector(`[data-personal-state="ready"][data-personal-models="${personal.join(',')}"]`, { timeout: 90_000 });
      await page.click('[data-action="start"]');
      await waitForReadings(page, ['fixture-cnn', ...personal]);
      expect(await page.locator('[data-model-toggle="my-cnn"]').count()).toBe(1);
      await shot(page, '9-after-reload');

      // --- Recorded like any other model.
      await page.click('[data-action="record"]');
      await page.waitForSelector('[data-record-state="recording"]');
      await page.waitForTimeout(1500);
      await page.click('[data-action="record-stop"]');
      const [json] = await Promise.all([page.waitForEvent('download', { timeout: 20_000 }), page.click('[data-action="download-json"]')]);
      const recording = parseRecordingJson(await readFile(await json.path(), 'utf8'));
      expect(recording.models).toMatchObject({ 'my-cnn': 'Yours: CNN', 'my-svm-au': 'Yours: AU SVM' });
      for (const id of personal) expect(recording.rows.some((r) => r.model === id)).toBe(true);
      await page.click('[data-action="record-discard"]');

      // --- Export: a .zip of the models folder, read back with the manifest parser and integrity checks.
      const [download] = await Promise.all([
        page.waitForEvent('download', { timeout: 20_000 }),
        page.click('[data-action="personal-export"]'),
      ]);
      expect(download.suggestedFilename()).toMatch(/^emotion-lens-my-models-\d{8}-\d{6}\.zip$/);
      const exported = await readFile(await download.path());
      const files = unzipSync(new Uint8Array(exported));
      const manifest = parseManifest(JSON.parse(new TextDecoder().decode(files['index.json'])), 'index.json');
      expect(manifest.models.map((m) => m.id)).toEqual(personal);
      for (const m of manifest.models) {
        expect(Object.keys(files)).toEqual(expect.arrayContaining([m.path, m.report!, `${m.id}/weights.bin`]));
      }
      expect((await readModelFiles(files, 'export.zip')).map((f) => f.entry.id)).toEqual(personal);

      // --- Forget: gone now and after a reload.
      await page.click('[data-action="personal-forget"]');
      await page.waitForSelector('[data-personal-state="idle"]');
      expect(await page.textContent('[data-personal-message]')).toMatch(/deleted from this browser/);
      await page.waitForFunction(() => document.querySelector('[data-face="0"] [data-model="my-cnn"]') === null, null, { timeout: 10_000 });
      await shot(page, '10-forgotten');
      await page.reload();
      await page.waitForSelector('[data-action="start"]:not([disabled])', { timeout: 90_000 });
      await page.waitForSelector('[data-personal-state="idle"]');
      await page.click('[data-action="start"]');
      await waitForReadings(page, ['fixture-cnn']);
      expect(await page.locator('[data-model^="my-"]').count()).toBe(0);

      // --- Import: the exported .zip brings them back.
      await page.setInputFiles('[data-input="personal-zip"]', { name: 'my-models.zip', mimeType: 'application/zip', buffer: exported });
      await page.waitForSelector(`[data-personal-state="ready"][data-personal-models="${personal.join(',')}"]`, { timeout: 60_000 });
      expect(await page.textContent('[data-personal-message]')).toMatch(/Imported 2 model/);
      await waitForReadings(page, personal);
      // A damaged .zip is refused, naming the file; the models in use stay.
      const damaged = Buffer.from(zipModelFolders(await personalFolders()));
      const files2 = unzipSync(new Uint8Array(damaged));
      delete files2['my-cnn/weights.bin'];
      await page.setInputFiles('[data-input="personal-zip"]', {
        name: 'bad.zip',
        mimeType: 'application/zip',
        buffer: Buffer.from(zipSync(files2)),
      });
      await page.waitForFunction(() => /Import failed/.test(document.querySelector('[data-personal-message]')?.textContent ?? ''));
      expect(await page.textContent('[data-personal-message]')).toMatch(/bad\.zip: my-cnn\/weights\.bin is missing/);
      expect(await page.getAttribute('[data-personal-state]', 'data-personal-state')).toBe('ready');
      await shot(page, '11-imported');
      await page.click('[data-action="personal-forget"]');
      await page.waitForSelector('[data-personal-state="idle"]');

      expect(foreign, 'requests to other origins').toEqual([]);
      expect(await cspOf(), 'securitypolicyviolation events').toEqual([]);
      expect(
        logged.filter((m) => /Content[ -]Security[ -]Policy|Refused to/i.test(m)),
        'CSP messages in the console',
      ).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 600_000);
});
