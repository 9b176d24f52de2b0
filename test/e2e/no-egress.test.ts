/**
 * Nothing leaves the browser, and not only because the CSP says so: the built app reads a fake
 * webcam for longer than MediaPipe's usage-logger flush period (60 s: `setInterval(..., 6e4)` in
 * @mediapipe/tasks-vision's vision_bundle.mjs), and no request goes to any origin but the app's
 * own, and no Content-Security-Policy violation happens at all: the in-page guard
 * (src/app/egress-guard.ts) refuses the logger's POST before the CSP would have to.
 *
 * One test, about 70 s. Needs Chromium, ../shared/data/faces/jaffe and the browser assets; skips
 * with the reason otherwise.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium } from '../../src/train/browser/browser.ts';
import { startWebcamApp, type WebcamApp } from '../helpers/webcam-app.ts';
import { JAFFE_DIR, missingShared, ROOT } from '../helpers/shared-data.ts';
import { blockForeignRequests } from '../helpers/egress.ts';

const root = ROOT;
const HAPPY = join(JAFFE_DIR, 'happy/YM.HA2.53.png');
/** MediaPipe's logger flushes every 60 s after the landmarker is created; a margin on top. */
const RUN_MS = 66_000;

const skipReason = !findChromium()
  ? 'Chromium not found (apt-get install chromium, or set CHROMIUM_PATH)'
  : missingShared(HAPPY) ||
    (!existsSync(join(root, 'public/mediapipe/face_landmarker.task')) ? 'browser assets missing (npm run setup-assets)' : undefined);
if (skipReason) console.warn(`[e2e] no-egress test skipped: ${skipReason}`);

describe.skipIf(skipReason !== undefined)(`no egress${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let setup: WebcamApp;
  let app: WebcamApp['app'];
  let browser: Browser;

  beforeAll(async () => {
    setup = await startWebcamApp('emotion-lens-egress-', HAPPY);
    ({ app, browser } = setup);
  }, 240_000);

  afterAll(async () => {
    await setup?.close();
  });

  it(`runs the webcam for ${RUN_MS / 1000} s (past the logger's 60 s flush): no request off localhost, no CSP violation`, async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 1000 } });
    const logged: string[] = [];
    const errors: string[] = [];
    // Page and worker requests alike; anything foreign is recorded and cut off here, too.
    const foreign = await blockForeignRequests(context, app.url);
    try {
      const page = await context.newPage();
      page.on('console', (m) => logged.push(`${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => errors.push(e.message));
      await page.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) => {
          ((window as unknown as { __csp: string[] }).__csp ??= []).push(`${e.violatedDirective} ${e.blockedURI}`);
        });
      });
      const start = Date.now();
      await page.goto(`${app.url}/`);
      await page.waitForSelector('[data-action="start"]:not([disabled])', { timeout: 90_000 });
      await page.click('[data-action="start"]');
      await page.waitForSelector('[data-face="0"] [data-model="fixture-cnn"][data-label]', { timeout: 60_000 });
      // Frames keep flowing (the logger counts them) until past the flush.
      await page.waitForTimeout(Math.max(0, RUN_MS - (Date.now() - start)));
      expect(await page.locator('[data-face="0"]').count()).toBe(1);

      expect(foreign, 'requests to other origins').toEqual([]);
      expect(await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []), 'securitypolicyviolation events').toEqual(
        [],
      );
      expect(
        logged.filter((m) => /Content[ -]Security[ -]Policy|Refused to/i.test(m)),
        'CSP messages in the console',
      ).toEqual([]);
      expect(errors).toEqual([]);
      // The logger did try, and the guard refused it in the page: this run covered the flush.
      const blocked = await page.evaluate(
        () => (globalThis as unknown as Record<symbol, string[] | undefined>)[Symbol.for('emotion-lens.egress-blocked')] ?? [],
      );
      expect(
        blocked,
        "MediaPipe's logger made no request in the run: if a new @mediapipe/tasks-vision no longer logs, drop this check",
      ).toContain('https://odml.pa.googleapis.com/v1/log');
    } finally {
      await context.close();
    }
  }, 200_000);
});
