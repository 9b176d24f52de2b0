/**
 * End to end: the per-face timeline in the live view with the fake webcam (a JAFFE photo, test
 * time) and the untrained fixture models: after ~2 s face 1's chart has a line per emotion, and the
 * model picker changes what is plotted. Skips with the reason like live.test.ts.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMOTIONS } from '../../src/core/labels.ts';
import { findChromium } from '../../src/train/browser/browser.ts';
import { startWebcamApp, type WebcamApp } from '../helpers/webcam-app.ts';
import { JAFFE_DIR, missingShared, ROOT } from '../helpers/shared-data.ts';

const HAPPY = join(JAFFE_DIR, 'happy/YM.HA2.53.png');
const skipReason = !findChromium()
  ? 'Chromium not found (apt-get install chromium, or set CHROMIUM_PATH)'
  : missingShared(HAPPY) ||
    (!existsSync(join(ROOT, 'public/mediapipe/face_landmarker.task')) ? 'browser assets missing (npm run setup-assets)' : undefined);
if (skipReason) console.warn(`[e2e] timeline tests skipped: ${skipReason}`);

/** The chart's model and, per emotion, its polyline's [x, y] points. */
async function readChart(page: Page, track: string): Promise<{ model: string; series: Record<string, [number, number][]> }> {
  return page.evaluate((track) => {
    const svg = document.querySelector(`[data-timeline-face="${track}"] svg[data-timeline]`)!;
    const series: Record<string, [number, number][]> = {};
    for (const line of svg.querySelectorAll('polyline[data-series]'))
      series[line.getAttribute('data-series')!] = line
        .getAttribute('points')!
        .trim()
        .split(/\s+/)
        .map((p) => p.split(',').map(Number) as [number, number]);
    return { model: svg.getAttribute('data-model')!, series };
  }, track);
}

describe.skipIf(skipReason !== undefined)(`live timeline in Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let setup: WebcamApp;
  let app: WebcamApp['app'];
  let browser: Browser;

  beforeAll(async () => {
    setup = await startWebcamApp('emotion-lens-e2e-timeline-', HAPPY);
    ({ app, browser } = setup);
  }, 240_000);

  afterAll(async () => {
    await setup?.close();
  });

  it('draws a line per emotion for face 1 after ~2 s of webcam, and the model picker changes the series', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`${app.url}/`);
      await page.waitForSelector('[data-action="start"]:not([disabled])', { timeout: 90_000 });
      await page.click('[data-action="start"]');
      for (const id of ['fixture-cnn', 'fixture-seed'])
        await page.waitForSelector(`[data-face="0"] [data-model="${id}"][data-label]`, { timeout: 60_000 });
      const track = (await page.locator('[data-face="0"]').getAttribute('data-track'))!;
      await page.waitForTimeout(2000);

      const chart = `[data-timeline-face="${track}"] svg[data-timeline]`;
      await page.waitForSelector(chart, { timeout: 10_000 });
      const first = await readChart(page, track);
      expect(Object.keys(first.series)).toEqual([...EMOTIONS]);
      for (const [name, pts] of Object.entries(first.series)) {
        expect(pts.length, `${name} points`).toBeGreaterThanOrEqual(5);
        // Inside the plot box (x 56..348, y 12..130 in the chart's viewBox).
        for (const [x, y] of pts) {
          expect(x).toBeGreaterThanOrEqual(56);
          expect(x).toBeLessThanOrEqual(348.01);
          expect(y).toBeGreaterThanOrEqual(12);
          expect(y).toBeLessThanOrEqual(130.01);
        }
      }
      // The y axis runs 0..100 % whatever the data; the x axis is in seconds up to now.
      const ticks = await page.locator(`${chart} text`).allTextContents();
      expect(ticks).toEqual(expect.arrayContaining(['0', '100', '-30', 'seconds (0 = now)']));

      const picker = page.locator(`[data-timeline-face="${track}"] [data-control="timeline-model"]`);
      const options = await picker.locator('option').evaluateAll((els) => els.map((e) => (e as HTMLOptionElement).value));
      expect(options.length).toBeGreaterThanOrEqual(2);
      expect(first.model).toBe(options[0]);
      const other = options.find((o) => o !== first.model)!;
      await picker.selectOption(other);
      await page.waitForSelector(`${chart}[data-model="${other}"]`, { timeout: 5000 });
      const second = await readChart(page, track);
      expect(second.model).toBe(other);
      expect(second.series.happy!.length).toBeGreaterThanOrEqual(5);
      // Another model's probabilities: the lines' heights differ from the first model's.
      const heights = (c: typeof first) => EMOTIONS.map((e) => c.series[e]!.at(-1)![1]);
      expect(heights(second)).not.toEqual(heights(first));

      // The chart is redrawn on its own 4 Hz tick, not with every frame or panel refresh (each
      // redraw replaces the SVG): count replacements and frames over 3 s.
      const counted = await page.evaluate(async (sel) => {
        const host = document.querySelector(sel)!.parentElement!;
        let redraws = 0;
        const observer = new MutationObserver((records) => {
          for (const r of records) for (const n of r.addedNodes) if (n instanceof SVGSVGElement) redraws++;
        });
        observer.observe(host, { childList: true, subtree: true });
        type Hook = { snapshot(withLog: boolean): Promise<{ frames: number }> };
        const hook = (window as unknown as { __emotionLens: Hook }).__emotionLens;
        const before = (await hook.snapshot(false)).frames;
        await new Promise((r) => setTimeout(r, 3000));
        observer.disconnect();
        return { redraws, frames: (await hook.snapshot(false)).frames - before };
      }, chart);
      expect(counted.frames, 'frames in 3 s').toBeGreaterThan(20);
      expect(counted.redraws).toBeGreaterThanOrEqual(6);
      expect(counted.redraws).toBeLessThanOrEqual(15);

      await mkdir(join(ROOT, 'test-artifacts'), { recursive: true });
      await page.screenshot({ path: join(ROOT, 'test-artifacts', 'live-timeline.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 180_000);
});
