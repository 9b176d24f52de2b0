/**
 * End to end: the built app in headless Chromium on localhost, with a fake webcam made at test time
 * from JAFFE photos (the shared data, test/helpers/shared-data.ts), untrained fixture models (shape-real, so labels are arbitrary) and,
 * when models/fer-cnn exists, the real trained model on a clearly happy face.
 *
 * Needs Chromium (apt-get install chromium, or CHROMIUM_PATH), ../shared/data/faces/jaffe and the
 * browser assets (npm run setup-assets); skips with the reason otherwise.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, serveApp } from '../../src/train/browser/app-server.ts';
import { findChromium, launchChromium } from '../../src/train/browser/browser.ts';
import { makeFixtureModels } from '../../src/train/browser/fixture-models.ts';
import { composeFrames, HEIGHT, WIDTH, writeY4m } from '../../src/train/browser/y4m.ts';
import { JAFFE_DIR, missingShared, ROOT } from '../helpers/shared-data.ts';

const root = ROOT;
const jaffe = JAFFE_DIR;
// A broad smile (an epoch-8 checkpoint of fer-cnn already read it as happy at 0.94).
const HAPPY = join(jaffe, 'happy/YM.HA2.53.png');
const STILL = join(jaffe, 'surprise/KA.SU1.36.png');
// E2E_REAL_MODELS points the trained-model test at another folder (e.g. a checkpoint export).
const realModels = resolve(process.env.E2E_REAL_MODELS ?? join(root, 'models'));
const hasRealCnn = existsSync(join(realModels, 'fer-cnn/model.json')) && existsSync(join(realModels, 'index.json'));

const skipReason = !findChromium()
  ? 'Chromium not found (apt-get install chromium, or set CHROMIUM_PATH)'
  : missingShared(HAPPY) ||
    missingShared(STILL) ||
    (!existsSync(join(root, 'public/mediapipe/face_landmarker.task')) ? 'browser assets missing (npm run setup-assets)' : undefined);
if (skipReason) console.warn(`[e2e] live app tests skipped: ${skipReason}`);

const FIXTURE_CNNS = ['fixture-cnn', 'fixture-seed'];
const FIXTURE_SVMS = ['fixture-svm-au', 'fixture-svm-pixels'];
const artifacts = join(root, 'test-artifacts');

interface Watched {
  page: Page;
  /** Requests that went anywhere but the app's origin (or blob:/data:). */
  foreign: string[];
  errors: string[];
}

async function openApp(browser: Browser, base: string, query = ''): Promise<Watched> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
  const foreign: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(`${base}/`) && !url.startsWith('blob:') && !url.startsWith('data:')) foreign.push(url);
  });
  page.on('pageerror', (e) => errors.push(e.message));
  // Any Content-Security-Policy violation (e.g. an inline style) is a bug.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      ((window as unknown as { __csp: string[] }).__csp ??= []).push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  await page.goto(`${base}/${query}`);
  await page.waitForSelector('[data-action="start"]:not([disabled])', { timeout: 90_000 });
  return { page, foreign, errors };
}

async function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []);
}

/** Starts the camera and waits for every given model's label on face 0. */
async function startAndRead(page: Page, modelIds: string[], timeout = 60_000): Promise<void> {
  await page.click('[data-action="start"]');
  for (const id of modelIds) await page.waitForSelector(`[data-face="0"] [data-model="${id}"][data-label]`, { timeout });
}

/** Records a short WebM of the photo (a data: URL) in the page itself, then drops it on the live view as a file. */
async function recordAndDrop(page: Page, png: string): Promise<void> {
  await page.evaluate(async (url) => {
    const img = new Image();
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = 320;
    canvas.height = 240;
    const ctx = canvas.getContext('2d')!;
    const stream = canvas.captureStream(15);
    const recorder = new MediaRecorder(stream, { mimeType: 'video/webm' });
    const chunks: Blob[] = [];
    recorder.ondataavailable = (e) => chunks.push(e.data);
    const done = new Promise((r) => (recorder.onstop = r));
    recorder.start();
    for (let i = 0; i < 20; i++) {
      ctx.fillStyle = '#808080';
      ctx.fillRect(0, 0, 320, 240);
      ctx.drawImage(img, 60 + (i % 3), 20, 200, 200);
      await new Promise((r) => setTimeout(r, 66));
    }
    recorder.stop();
    await done;
    const file = new File(chunks, 'clip.webm', { type: 'video/webm' });
    const dt = new DataTransfer();
    dt.items.add(file);
    document.querySelector('.live')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, png);
}

describe.skipIf(skipReason !== undefined)(`live app in Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let work: string;
  let outDir: string;
  let fixtures: string;
  let happyY4m: string;
  let app: { url: string; close: () => Promise<void> };
  let browser: Browser;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'emotion-lens-e2e-'));
    outDir = join(work, 'dist');
    happyY4m = join(work, 'happy.y4m');
    fixtures = await makeFixtureModels();
    await buildApp(outDir, fixtures);
    const composer = await launchChromium();
    try {
      await writeY4m(happyY4m, await composeFrames(composer, [HAPPY]), 2, 30);
    } finally {
      await composer.close();
    }
    app = await serveApp(outDir, fixtures);
    browser = await launchChromium({ fakeVideo: happyY4m });
    await mkdir(artifacts, { recursive: true });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    if (work) await rm(work, { recursive: true, force: true });
    if (fixtures) await rm(fixtures, { recursive: true, force: true });
  });

  it('webcam: boxes the face, shows every model, HUD, states, and stays on localhost', async () => {
    const { page, foreign, errors } = await openApp(browser, app.url);
    try {
      await startAndRead(page, [...FIXTURE_CNNS, ...FIXTURE_SVMS]);
      // On the video: the box, the face number and one caption; the numbers are in the face panel.
      const face = page.locator('[data-face="0"]');
      const box = page.locator('[data-overlay-face="0"] rect.box');
      expect(Number(await box.getAttribute('width'))).toBeGreaterThan(80);
      const trackId = await face.getAttribute('data-track');
      expect(await page.locator('[data-overlay-face="0"] [data-overlay-label]').textContent()).toMatch(
        new RegExp(`^\\s*${trackId}\\s+(models disagree|uncertain \\(\\w+\\?\\)|\\w+ \\d+%)\\s*$`),
      );
      for (const id of [...FIXTURE_CNNS, ...FIXTURE_SVMS]) {
        const model = face.locator(`[data-model="${id}"]`);
        expect(['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']).toContain(await model.getAttribute('data-label'));
        const score = Number(await model.getAttribute('data-score'));
        expect(score).toBeGreaterThan(0);
        expect(score).toBeLessThanOrEqual(1);
      }
      // Models the app cannot run say why, by name.
      await expect.poll(() => page.locator('[data-model-status="fixture-svm-old"]').textContent()).toMatch(/feature version 0.*retrain/);
      await expect
        .poll(() => page.locator('[data-model-status="fixture-missing"]').textContent())
        .toMatch(/missing.*fixture-missing\/model\.json/);
      await expect
        .poll(() => page.locator('[data-model-status="fixture-corrupt"]').textContent())
        .toMatch(/corrupt.*fixture-corrupt\/model\.json/);
      // Damaged weights are an error naming the model and the file, never "ready".
      await expect
        .poll(() => page.locator('[data-model-status="fixture-nan"]').textContent())
        .toMatch(/Fixture NaN weights.*corrupt.*fixture-nan\/model\.json: weight ".*" element 0 is NaN/);
      await expect
        .poll(() => page.locator('[data-model-status="fixture-overflow"]').textContent())
        .toMatch(
          /corrupt \(Fixture overflowing weights \(.*fixture-overflow\/model\.json\): a warm-up inference .* gives (NaN|-?Infinity)/,
        );
      await expect
        .poll(() => page.locator('[data-model-status="fixture-truncated"]').textContent())
        .toMatch(/corrupt.*fixture-truncated\/weights\.bin: \d+ bytes, expected \d+/);
      // HUD
      await expect
        .poll(async () => Number(await page.locator('[data-hud]').getAttribute('data-fps')), { timeout: 20_000 })
        .toBeGreaterThan(0);
      expect(await page.locator('[data-hud]').getAttribute('data-backend')).toMatch(/^(webgpu|webgl|wasm|cpu)$/);
      expect(await page.locator('[data-hud]').getAttribute('data-faces')).toBe('1');
      // Side panel: one grid row per model, seven percentages each, the top label highlighted.
      for (const id of [...FIXTURE_CNNS, ...FIXTURE_SVMS]) {
        const cells = face.locator(`[data-model="${id}"] td`);
        expect(await cells.count()).toBe(7);
        const numbers = (await cells.locator('.pct').allTextContents()).map(Number);
        expect(numbers.every((n) => Number.isInteger(n) && n >= 0 && n <= 100)).toBe(true);
        expect(await face.locator(`[data-model="${id}"] td.top`).getAttribute('data-emotion')).toBe(
          await face.locator(`[data-model="${id}"]`).getAttribute('data-label'),
        );
      }
      // The 17 action units with their FACS names (the AU SVM makes the pipeline compute them).
      expect(await face.locator('[data-au]').count()).toBe(17);
      expect(await face.locator('[data-au="AU12"]').textContent()).toMatch(/AU12\s*Lip corner puller\s*\d+/);
      // Mirror: on by default for a camera; the box moves to the other side with the video.
      const video = page.locator('.stage video');
      expect(await video.evaluate((v) => getComputedStyle(v).transform)).toBe('matrix(-1, 0, 0, 1, 0, 0)');
      const boxX = async () => Number(await box.getAttribute('x')) + Number(await box.getAttribute('width')) / 2;
      const mirroredX = await boxX();
      await page.uncheck('[data-control="mirror"]');
      expect(await video.evaluate((v) => getComputedStyle(v).transform)).toBe('none');
      await expect.poll(boxX).not.toBeCloseTo(mirroredX, -1);
      await page.check('[data-control="mirror"]');
      // Hiding a model removes its row, stops running it (the frames after carry no time for it,
      // and still one for the others), and the choice is stored.
      const takeLog = () =>
        page.evaluate(() =>
          (window as unknown as { __emotionLens: { takeLog(): { models: Record<string, number> }[] } }).__emotionLens.takeLog(),
        );
      await page.uncheck('[data-model-toggle="fixture-seed"]');
      await expect.poll(() => face.locator('[data-model="fixture-seed"]').count()).toBe(0);
      await page.waitForTimeout(500); // frames begun before the change end
      await takeLog();
      await page.waitForTimeout(1500);
      const afterHide = await takeLog();
      expect(afterHide.length).toBeGreaterThan(0);
      expect(afterHide.every((t) => !('fixture-seed' in t.models) && 'fixture-cnn' in t.models)).toBe(true);
      expect(await face.locator('[data-model="fixture-cnn"]').count()).toBe(1);
      expect(await page.evaluate(() => localStorage.getItem('emotion-lens.overlay.v1'))).toMatch(/"hidden":\["fixture-seed"\]/);
      await page.check('[data-model-toggle="fixture-seed"]');
      await page.waitForSelector('[data-face="0"] [data-model="fixture-seed"]');
      // Every model hidden: nothing runs, and the panel says how to show one.
      const toggles = page.locator('[data-model-toggle]');
      const ids = await toggles.evaluateAll((els) => els.map((e) => e.getAttribute('data-model-toggle')!));
      for (const id of ids) await page.uncheck(`[data-model-toggle="${id}"]`);
      await page.waitForSelector('[data-face="0"] [data-note="all-hidden"]');
      for (const id of ids) await page.check(`[data-model-toggle="${id}"]`);
      await page.waitForSelector('[data-face="0"] [data-model="fixture-seed"]');
      await page.screenshot({ path: join(artifacts, 'live-webcam.png') });
      // Stop
      await page.click('[data-action="stop"]');
      await page.waitForSelector('[data-face]', { state: 'detached' });
      expect(foreign).toEqual([]);
      expect(await cspViolations(page)).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('overlay label stays inside the frame, panel fits, at 390 px and 1280 px wide', async () => {
    const { page, errors } = await openApp(browser, app.url);
    try {
      await page.setViewportSize({ width: 390, height: 844 });
      await startAndRead(page, FIXTURE_CNNS);
      for (const [width, height] of [
        [390, 844],
        [1280, 900],
      ] as const) {
        await page.setViewportSize({ width, height });
        // Wait for a frame drawn at this size (the label's font follows the displayed size).
        await page.waitForTimeout(500);
        await page.waitForSelector('[data-overlay-face="0"] [data-overlay-label]');
        // The frame: the overlay's viewBox fitted into it (object-fit: contain, like the video).
        const { stage, label } = await page.evaluate(() => {
          const svg = document.querySelector<SVGSVGElement>('svg.overlay')!;
          const r = svg.getBoundingClientRect();
          const vb = svg.viewBox.baseVal;
          const k = Math.min(r.width / vb.width, r.height / vb.height);
          const left = r.left + (r.width - vb.width * k) / 2;
          const top = r.top + (r.height - vb.height * k) / 2;
          const l = document.querySelector('[data-overlay-face="0"] [data-overlay-label]')!.getBoundingClientRect();
          return {
            stage: { left, top, right: left + vb.width * k, bottom: top + vb.height * k },
            label: { left: l.left, right: l.right, top: l.top, bottom: l.bottom, width: l.width },
          };
        });
        expect(label.width).toBeGreaterThan(20);
        expect(label.left).toBeGreaterThanOrEqual(stage.left - 0.5);
        expect(label.right).toBeLessThanOrEqual(stage.right + 0.5);
        expect(label.top).toBeGreaterThanOrEqual(stage.top - 0.5);
        expect(label.bottom).toBeLessThanOrEqual(stage.bottom + 0.5);
        // Nothing runs past the right edge (model names wrap instead of being cut).
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
        for (const id of FIXTURE_CNNS) expect(await page.locator(`[data-face="0"] [data-model="${id}"] .pct`).count()).toBe(7);
        // Panel beside the video on a wide screen, below it on a narrow one.
        const [v, p] = await page.evaluate(() =>
          ['.stage', '.panels'].map(
            (s) =>
              document.querySelector(s)!.getBoundingClientRect().toJSON() as { top: number; bottom: number; left: number; right: number },
          ),
        );
        if (width <= 700) expect(p!.top).toBeGreaterThanOrEqual(v!.bottom);
        else expect(p!.left).toBeGreaterThanOrEqual(v!.right);
        await page.screenshot({ path: join(artifacts, `live-overlay-${width}.png`), fullPage: true });
      }
      expect(await cspViolations(page)).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('still image through the file input, and a file that is neither image nor video', async () => {
    const { page, foreign } = await openApp(browser, app.url);
    try {
      await page.setInputFiles('[data-action="file"]', STILL);
      for (const id of FIXTURE_CNNS) await page.waitForSelector(`[data-face="0"] [data-model="${id}"][data-label]`, { timeout: 30_000 });
      // Files are not mirrored by default.
      expect(await page.locator('.stage img').evaluate((v) => getComputedStyle(v).transform)).toBe('none');
      expect(await page.isChecked('[data-control="mirror"]')).toBe(false);
      await page.screenshot({ path: join(artifacts, 'live-still.png') });
      await page.setInputFiles('[data-action="file"]', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
      await expect.poll(() => page.locator('[data-state="bad-file"]').textContent()).toMatch(/"notes\.txt" is not an image or a video/);
      expect(foreign).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('plays a video file dropped on the page', async () => {
    const { page } = await openApp(browser, app.url);
    try {
      await recordAndDrop(page, `data:image/png;base64,${(await readFile(STILL)).toString('base64')}`);
      for (const id of FIXTURE_CNNS) await page.waitForSelector(`[data-face="0"] [data-model="${id}"][data-label]`, { timeout: 30_000 });
      expect(await page.locator('[data-action="close-file"]').count()).toBe(1);
    } finally {
      await page.close();
    }
  });

  it('a video dropped while the app is still loading is processed once it is ready (issue 15)', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
    // Hold the models manifest until the video is dropped, so the drop surely lands mid-setup.
    let dropped!: () => void;
    const drop = new Promise<void>((r) => (dropped = r));
    await page.route('**/models/index.json', async (route) => {
      await drop;
      await route.continue();
    });
    try {
      await page.goto(`${app.url}/`);
      const png = `data:image/png;base64,${(await readFile(STILL)).toString('base64')}`;
      await recordAndDrop(page, png);
      expect(await page.locator('[data-state="loading"]').count()).toBe(1);
      expect(await page.locator('[data-action="start"]').isDisabled()).toBe(true);
      dropped();
      for (const id of FIXTURE_CNNS) await page.waitForSelector(`[data-face="0"] [data-model="${id}"][data-label]`, { timeout: 60_000 });
      await expect
        .poll(async () => Number(await page.locator('[data-hud]').getAttribute('data-fps')), { timeout: 20_000 })
        .toBeGreaterThan(0);
    } finally {
      dropped();
      await page.close();
    }
  });

  it('report view: one summary column per named evaluation set, report tables and charts with axes', async () => {
    // The real-face evaluation (npm run evaluate -- --faces): fixture-seed marked in-sample.
    const scored = (id: string, inSample: boolean, accuracy: number) => ({
      id,
      name: id,
      kind: 'cnn',
      inSample,
      inSampleReason: inSample ? 'trained on jaffe' : 'trained on FER2013, not on this folder',
      images: 192,
      correct: Math.round(accuracy * 192),
      accuracy,
      macroF1: accuracy,
    });
    const realFaces = {
      version: 1,
      set: 'jaffe',
      counts: { labelled: 192, scored: 192, withFace: 192, noFace: 0, severalFaces: 0, unreadable: 0 },
      models: [scored('fixture-cnn', false, 0.5), scored('fixture-seed', true, 0.9)],
      best: 'fixture-cnn',
      notes: [],
    };
    await writeFile(join(fixtures, 'real-faces.json'), JSON.stringify(realFaces));
    const { page } = await openApp(browser, app.url);
    try {
      await page.click('[data-nav="reports"]');
      await expect.poll(() => page.locator('[data-report="fixture-cnn"] [data-accuracy]').textContent()).toBe('50.0 %');
      expect(await page.locator('[data-report="fixture-cnn"] svg[aria-label="Confusion matrix"] rect.cell').count()).toBe(49);
      expect(await page.locator('[data-report="fixture-cnn"] tbody tr').count()).toBe(7);
      // Training curves with ticks on both axes (epochs 1..3) and axis labels.
      const curves = page.locator('[data-report="fixture-cnn"] svg[aria-label^="Training curves"]');
      expect(await curves.locator('[data-tick="x"]').count()).toBeGreaterThanOrEqual(6);
      expect(await curves.locator('[data-tick="y"]').count()).toBeGreaterThanOrEqual(6);
      expect(await curves.count()).toBe(2);
      const curveText = (await curves.allTextContents()).join(' ');
      for (const label of ['loss', 'accuracy', 'epoch', 'train', 'val']) expect(curveText).toContain(label);
      // Reports load independently; wait for this one to settle rather than read it mid-load.
      await expect.poll(() => page.locator('[data-report="fixture-seed"]').textContent()).toMatch(/No report|could not be read/);
      // The summary: each evaluation set its own column, named with its size.
      await page.waitForSelector('[data-summary-set="Real faces: jaffe"]');
      const header = (await page.locator('[data-summary] thead').textContent())!.replace(/\s+/g, ' ');
      expect(header).toMatch(/FER2013 PrivateTest\s*n = 70/);
      expect(header).toMatch(/Real faces: jaffe\s*n = 192/);
      const inSample = page.locator('[data-report-row="fixture-seed"] [data-summary-cell="Real faces: jaffe"]');
      expect(await inSample.textContent()).toMatch(/90\.0%\s*in-sample/);
      expect(await inSample.getAttribute('class')).not.toMatch(/\bbest\b/);
      expect(await page.locator('[data-report-row="fixture-cnn"] [data-summary-cell="Real faces: jaffe"]').getAttribute('class')).toMatch(
        /\bbest\b/,
      );
      // The comparison (models/report.json): one row per model, the generated summary, unknown photos.
      await page.waitForSelector('[data-comparison]');
      expect(await page.locator('[data-comparison-row]').count()).toBe(2);
      expect(await page.locator('[data-comparison-summary]').textContent()).toMatch(/Fixture CNN is best/);
      expect(await page.locator('[data-comparison-unknown]').textContent()).toMatch(/unknown\/a\.png/);
      // The charts are inline SVG with presentation attributes only: nothing the CSP blocks.
      expect(await cspViolations(page)).toEqual([]);
      await page.screenshot({ path: join(artifacts, 'reports-view-fixtures.png'), fullPage: true });
    } finally {
      await page.close();
      await rm(join(fixtures, 'real-faces.json'), { force: true });
    }
  });

  for (const backend of ['wasm', 'webgl', 'webgpu'] as const) {
    it(`runs every model on the ${backend} backend${backend === 'wasm' ? '' : ' (SwiftShader)'}`, async () => {
      const b = backend === 'webgpu' ? await launchChromium({ fakeVideo: happyY4m, webgpu: true }) : browser;
      const { page } = await openApp(b, app.url, `?backend=${backend}`);
      try {
        expect(await page.locator('[data-hud]').getAttribute('data-backend')).toBe(backend);
        await startAndRead(page, FIXTURE_CNNS, 90_000);
      } finally {
        await page.close();
        if (b !== browser) await b.close();
      }
    }, 180_000);
  }

  it('runs the models in the inference worker too (?worker=1)', async () => {
    const { page } = await openApp(browser, app.url, '?backend=wasm&worker=1');
    try {
      expect(await page.locator('[data-hud]').getAttribute('data-models-in')).toBe('worker');
      await startAndRead(page, [...FIXTURE_CNNS, ...FIXTURE_SVMS]);
    } finally {
      await page.close();
    }
  });

  it('reads video frames ahead in the worker: most frames start their crop models before the landmarks, every model on every frame; still frames reuse the landmarks (not with ?reuse=0)', async () => {
    type Log = { log: { models: Record<string, number>; readAhead?: boolean; reused?: boolean; landmarker: number }[] };
    const all = [...FIXTURE_CNNS, ...FIXTURE_SVMS];
    const run = async (query: string) => {
      const { page, foreign } = await openApp(browser, app.url, query);
      try {
        await startAndRead(page, all);
        await page.waitForTimeout(3000);
        const { log } = await page.evaluate(() =>
          (window as unknown as { __emotionLens: { snapshot(): Promise<Log> } }).__emotionLens.snapshot(),
        );
        expect(foreign).toEqual([]);
        return log;
      } finally {
        await page.close();
      }
    };
    const log = await run('?backend=wasm&worker=1');
    const ahead = log.filter((t) => t.readAhead);
    // A still face: after its first frames nearly every frame is read ahead.
    expect(ahead.length).toBeGreaterThan(log.length / 2);
    for (const t of ahead) expect(Object.keys(t.models).sort()).toEqual([...all].sort());
    // The fake webcam shows each photo unchanged for a second: about every other frame reuses the
    // landmarks, never two in a row, and runs every model all the same.
    const reused = log.filter((t) => t.reused);
    expect(reused.length).toBeGreaterThan(log.length / 4);
    expect(log.some((t, i) => t.reused && log[i + 1]?.reused)).toBe(false);
    for (const t of reused) expect(t).toMatchObject({ readAhead: true, landmarker: 0 });
    const fresh = await run('?backend=wasm&worker=1&reuse=0');
    expect(fresh.filter((t) => t.readAhead).length).toBeGreaterThan(fresh.length / 2);
    expect(fresh.some((t) => t.reused)).toBe(false);
  });

  it('runs the landmarker in its own worker with ?landmarker=worker', async () => {
    const { page, foreign, errors } = await openApp(browser, app.url, '?backend=wasm&landmarker=worker');
    try {
      await startAndRead(page, [...FIXTURE_CNNS, ...FIXTURE_SVMS]);
      await expect.poll(async () => page.locator('[data-hud]').getAttribute('data-faces'), { timeout: 10_000 }).toBe('1');
      expect(foreign).toEqual([]);
      expect(errors).toEqual([]);
      expect(await cspViolations(page)).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('splits the models between the page and the worker (?worker=split), every model read once', async () => {
    const { page } = await openApp(browser, app.url, '?backend=wasm&worker=split');
    try {
      const hud = page.locator('[data-hud]');
      expect(await hud.getAttribute('data-models-in')).toBe('split');
      const lanes = (await hud.getAttribute('data-lanes'))!;
      const [pageIds, workerIds] = lanes
        .replace(/^page: /, '')
        .split('; worker: ')
        .map((l) => l.split(', ').filter(Boolean));
      expect(pageIds!.length).toBeGreaterThan(0);
      expect(workerIds!.length).toBeGreaterThan(0);
      expect([...pageIds!, ...workerIds!].sort()).toEqual([...FIXTURE_CNNS, ...FIXTURE_SVMS].sort());
      await startAndRead(page, [...FIXTURE_CNNS, ...FIXTURE_SVMS]);
      for (const id of [...FIXTURE_CNNS, ...FIXTURE_SVMS])
        expect(await page.locator(`[data-face="0"] [data-model="${id}"]`).count()).toBe(1);
      // Timings come back for the models of both lanes.
      const times = await page.evaluate(() =>
        (
          window as unknown as { __emotionLens: { snapshot(): Promise<{ log: { models: Record<string, number> }[] }> } }
        ).__emotionLens.snapshot(),
      );
      expect(Object.keys(times.log.at(-1)!.models).sort()).toEqual([...FIXTURE_CNNS, ...FIXTURE_SVMS].sort());
    } finally {
      await page.close();
    }
  });

  it('keeps every model on the page thread with ?worker=0', async () => {
    const { page } = await openApp(browser, app.url, '?backend=wasm&worker=0');
    try {
      expect(await page.locator('[data-hud]').getAttribute('data-models-in')).toBe('page');
      await startAndRead(page, [...FIXTURE_CNNS, ...FIXTURE_SVMS]);
    } finally {
      await page.close();
    }
  });

  it('says when no face is in view', async () => {
    const empty = join(work, 'empty.y4m');
    await writeY4m(empty, [new Uint8Array(WIDTH * HEIGHT).fill(128)], 2, 30);
    const b = await launchChromium({ fakeVideo: empty });
    try {
      const { page } = await openApp(b, app.url);
      await page.click('[data-action="start"]');
      await expect.poll(() => page.locator('[data-state="no-face"]').textContent(), { timeout: 30_000 }).toMatch(/No face in view/);
      expect(await page.locator('[data-face]').count()).toBe(0);
    } finally {
      await b.close();
    }
  });

  it('still boxes faces when no model is trained yet', async () => {
    const empty = join(work, 'no-models');
    await mkdir(empty, { recursive: true });
    const bare = await serveApp(outDir, empty);
    try {
      const { page } = await openApp(browser, bare.url);
      try {
        expect(await page.locator('[data-state="no-models"]').textContent()).toMatch(/No trained models yet/);
        await page.click('[data-action="start"]');
        await page.waitForSelector('[data-overlay-face="0"] rect.box', { timeout: 30_000 });
        expect(await page.locator('[data-face="0"] [data-model]').count()).toBe(0);
        await page.click('[data-nav="reports"]');
        await expect.poll(() => page.locator('section[aria-label="Model reports"]').textContent()).toMatch(/No trained models yet/);
      } finally {
        await page.close();
      }
    } finally {
      await bare.close();
    }
  });

  it('says so when camera permission is denied', async () => {
    const b = await launchChromium({ fakeVideo: happyY4m, grantCamera: false });
    try {
      const { page } = await openApp(b, app.url);
      await page.click('[data-action="start"]');
      await expect
        .poll(() => page.locator('[data-state="camera-denied"]').textContent(), { timeout: 20_000 })
        .toMatch(/Camera permission denied/);
    } finally {
      await b.close();
    }
  });

  it('says so when there is no camera', async () => {
    const b = await launchChromium({ grantCamera: true });
    try {
      const { page } = await openApp(b, app.url);
      const cameras = await page.evaluate(
        async () => (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput').length,
      );
      if (cameras > 0) {
        console.warn('[e2e] "no camera" state not checked: this machine has a real camera');
        return;
      }
      await page.click('[data-action="start"]');
      await expect.poll(() => page.locator('[data-state="camera-none"]').textContent(), { timeout: 20_000 }).toMatch(/No camera found/);
    } finally {
      await b.close();
    }
  });

  it.skipIf(!hasRealCnn)(
    `the trained CNN reads a clearly happy face as happy${hasRealCnn ? '' : ' (skipped: models/fer-cnn not trained yet)'}`,
    async () => {
      const real = await serveApp(outDir, realModels);
      try {
        const { page } = await openApp(browser, real.url);
        try {
          await page.click('[data-action="start"]');
          await page.waitForSelector('[data-face="0"] [data-model="fer-cnn"][data-label]', { timeout: 60_000 });
          await expect
            .poll(() => page.locator('[data-face="0"] [data-model="fer-cnn"]').getAttribute('data-label'), { timeout: 20_000 })
            .toBe('happy');
          await page.screenshot({ path: join(artifacts, 'live-real-model.png') });
          // Every CNN in the manifest shows a label.
          const ids = await page
            .locator('[data-model-status][data-status="ready"]')
            .evaluateAll((els) => els.map((e) => e.getAttribute('data-model-status')!));
          for (const id of ids) await page.waitForSelector(`[data-face="0"] [data-model="${id}"][data-label]`, { timeout: 30_000 });
        } finally {
          await page.close();
        }
      } finally {
        await real.close();
      }
    },
  );

  it.skipIf(!hasRealCnn)(
    `the neutral face step: the captured face then reads as neutral, kept across a reload, and cleared${hasRealCnn ? '' : ' (skipped: models/fer-cnn not trained yet)'}`,
    async () => {
      const manifest = JSON.parse(await readFile(join(realModels, 'index.json'), 'utf8')) as {
        models: { id: string; neutral?: unknown }[];
      };
      const withReference = manifest.models.filter((m) => m.neutral).map((m) => m.id);
      expect(withReference).toContain('fer-cnn');
      const real = await serveApp(outDir, realModels);
      try {
        const { page, foreign } = await openApp(browser, real.url);
        const label = (id: string) => page.locator(`[data-face="0"] [data-model="${id}"]`).getAttribute('data-label');
        try {
          expect(await page.locator('[data-action="neutral-capture"]').isDisabled()).toBe(true);
          await page.click('[data-action="start"]');
          await expect.poll(() => label('fer-cnn'), { timeout: 60_000 }).toBe('happy');
          // The webcam's smiling face as this person's neutral face: every model with a reference
          // then reads it as FER2013's neutral faces read, i.e. neutral; the others are not moved.
          await page.click('[data-action="neutral-capture"]');
          await page.waitForSelector('[data-neutral-state="capturing"]', { timeout: 5_000 });
          await page.waitForSelector('[data-neutral-state="set"]', { timeout: 30_000 });
          const moved = (await page.locator('[data-neutral-moved]').getAttribute('data-neutral-moved'))!.split(',');
          expect(moved.sort()).toEqual([...withReference].sort());
          for (const id of moved) await expect.poll(() => label(id), { timeout: 10_000 }).toBe('neutral');
          expect(await page.locator('[data-face="0"] [data-neutral-mark]').count()).toBe(moved.length);
          // A smile is not a relaxed face: the capture is kept but the user is told.
          expect(await page.locator('[data-state="neutral-message"]').textContent()).toMatch(/You seemed to be smiling/);
          await page.screenshot({ path: join(artifacts, 'live-neutral-face.png') });
          const stored = await page.evaluate('localStorage.getItem("emotion-lens.neutral-face.v1")');
          expect(JSON.parse(stored as string)).toMatchObject({ version: 1, frames: 30 });
          // Kept in this browser: after a reload it applies again.
          await page.reload();
          await page.waitForSelector('[data-action="start"]:not([disabled])', { timeout: 90_000 });
          await page.waitForSelector('[data-neutral-state="set"]');
          await page.click('[data-action="start"]');
          await expect.poll(() => label('fer-cnn'), { timeout: 60_000 }).toBe('neutral');
          await page.click('[data-action="neutral-clear"]');
          await expect.poll(() => label('fer-cnn'), { timeout: 10_000 }).toBe('happy');
          expect(await page.evaluate('localStorage.getItem("emotion-lens.neutral-face.v1")')).toBeNull();
          expect(foreign).toEqual([]);
        } finally {
          await page.close();
        }
      } finally {
        await real.close();
      }
    },
  );

  it.skipIf(!hasRealCnn)(
    `Auto: the neutral face learnt from the frames, without a capture, and the choice kept across a reload${hasRealCnn ? '' : ' (skipped: models/fer-cnn not trained yet)'}`,
    async () => {
      const real = await serveApp(outDir, realModels);
      try {
        const { page, foreign } = await openApp(browser, real.url);
        const label = (id: string) => page.locator(`[data-face="0"] [data-model="${id}"]`).getAttribute('data-label');
        try {
          await page.click('[data-action="start"]');
          await expect.poll(() => label('fer-cnn'), { timeout: 60_000 }).toBe('happy');
          // The fake webcam shows one smiling face on every frame: its most relaxed frames are that
          // face, so once learnt it reads as neutral, as after a capture, with nothing stored.
          await page.check('[data-action="neutral-auto"]');
          await page.waitForSelector('[data-neutral-state="auto"]', { timeout: 60_000 });
          expect(await page.locator('[data-action="neutral-capture"]').textContent()).toContain('Neutral face: auto');
          const moved = (await page.locator('[data-neutral-moved]').getAttribute('data-neutral-moved'))!.split(',');
          expect(moved).toContain('svm-au');
          for (const id of moved) await expect.poll(() => label(id), { timeout: 10_000 }).toBe('neutral');
          // Its most relaxed frames still smile: the view says so.
          expect(await page.locator('[data-state="neutral-auto-expressive"]').textContent()).toMatch(
            /Auto learnt a face that looks like a smile \(\d+ %\)/,
          );
          expect(await page.evaluate('localStorage.getItem("emotion-lens.neutral-face.v1")')).toBeNull();
          expect(await page.evaluate('localStorage.getItem("emotion-lens.neutral-auto.v1")')).toBe('1');
          await page.screenshot({ path: join(artifacts, 'live-neutral-auto.png') });
          await page.reload();
          await page.waitForSelector('[data-action="start"]:not([disabled])', { timeout: 90_000 });
          expect(await page.isChecked('[data-action="neutral-auto"]')).toBe(true);
          await page.click('[data-action="start"]');
          await page.waitForSelector('[data-neutral-state="auto"]', { timeout: 60_000 });
          await page.uncheck('[data-action="neutral-auto"]');
          await page.waitForSelector('[data-neutral-state="none"]');
          await expect.poll(() => label('fer-cnn'), { timeout: 10_000 }).toBe('happy');
          expect(foreign).toEqual([]);
        } finally {
          await page.close();
        }
      } finally {
        await real.close();
      }
    },
  );
});
