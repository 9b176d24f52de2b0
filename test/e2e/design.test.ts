/**
 * End to end: the app's visual design with the fake webcam (a JAFFE photo, test time) and the
 * untrained fixture models. Screenshots of the live view at 390x844 and 1280x800 in light and
 * dark are saved under test-artifacts/design-*.png (look at them); the tests check what can be
 * checked: no horizontal scroll at 390 px, the video inside the first screenful (one toolbar row on
 * a wide screen, the Settings section below the video), the face panel below the video on a phone
 * and beside it on a wide screen, the theme's colours, Tab reaching the main controls in order with
 * a visible focus ring, the Settings section's open state (by screen width, then the user's stored
 * choice), the per-model order (buttons, keyboard, stored) and the timeline's strip of top labels.
 * Skips with the reason like live.test.ts.
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
const ARTIFACTS = join(ROOT, 'test-artifacts');
const skipReason = !findChromium()
  ? 'Chromium not found (apt-get install chromium, or set CHROMIUM_PATH)'
  : missingShared(HAPPY) ||
    (!existsSync(join(ROOT, 'public/mediapipe/face_landmarker.task')) ? 'browser assets missing (npm run setup-assets)' : undefined);
if (skipReason) console.warn(`[e2e] design tests skipped: ${skipReason}`);

interface Opened {
  page: Page;
  errors: string[];
}

async function open(browser: Browser, width: number, height: number, colorScheme: 'light' | 'dark' = 'light'): Promise<Opened> {
  const page = await browser.newPage({ viewport: { width, height }, colorScheme });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // A Content-Security-Policy violation (e.g. an inline style) is a bug.
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return { page, errors };
}

async function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []);
}

/** Opens the app, starts the camera and waits for both fixture CNNs' labels on face 0. */
async function startCamera(page: Page, base: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.waitForSelector('[data-action="start"]:not([disabled])', { timeout: 90_000 });
  await page.click('[data-action="start"]');
  for (const id of ['fixture-cnn', 'fixture-seed'])
    await page.waitForSelector(`[data-face="0"] [data-model="${id}"][data-label]`, { timeout: 60_000 });
}

/** What sticks out past the viewport's right edge (tag, class, right), for the overflow messages. */
async function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('body *')]
      .map((el) => ({ el, right: el.getBoundingClientRect().right }))
      .filter((e) => e.right > window.innerWidth + 0.5 && !e.el.closest('.scroll'))
      .slice(0, 8)
      .map((e) => `${e.el.tagName.toLowerCase()}.${[...e.el.classList].join('.')} right=${Math.round(e.right)}`),
  );
}

/** Relative luminance (WCAG) of a computed CSS colour "rgb(r, g, b)" or "rgba(...)". */
function luminance(css: string): number {
  const [r, g, b] = (css.match(/[\d.]+/g) ?? []).slice(0, 3).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}
const contrast = (a: string, b: string) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
};

describe.skipIf(skipReason !== undefined)(`design in Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let setup: WebcamApp;
  let base: string;

  beforeAll(async () => {
    setup = await startWebcamApp('emotion-lens-e2e-design-', HAPPY);
    base = setup.app.url;
    await mkdir(ARTIFACTS, { recursive: true });
  }, 240_000);

  afterAll(async () => {
    await setup?.close();
  });

  it('live view at 390 and 1280 px, light and dark: no horizontal scroll, panels below or beside, strip of top labels; screenshots', async () => {
    const { page, errors } = await open(setup.browser, 390, 844);
    try {
      await startCamera(page, base);
      const track = (await page.locator('[data-face="0"]').getAttribute('data-track'))!;
      const timeline = `[data-timeline-face="${track}"]`;
      // The timeline's second mode: every shown model's top label as a strip.
      await page.locator(`${timeline} [data-control="timeline-mode"][value="labels"]`).check();
      const strip = `${timeline} svg[data-timeline-strip]`;
      await page.waitForSelector(strip, { timeout: 10_000 });
      await page.waitForTimeout(2000);
      const panelModels = await page
        .locator('[data-face="0"] [data-model]')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-model')!));
      expect(panelModels.length).toBeGreaterThanOrEqual(2);
      // One row per shown model, in the panel's order, each with spans inside the strip's plot.
      expect(
        await page.locator(`${strip} [data-strip-model]`).evaluateAll((gs) => gs.map((g) => g.getAttribute('data-strip-model'))),
      ).toEqual(panelModels);
      const spans = await page.locator(`${strip} rect[data-span]`).evaluateAll((rs) =>
        rs.map((r) => ({
          label: r.getAttribute('data-label')!,
          x: Number(r.getAttribute('x')),
          width: Number(r.getAttribute('width')),
        })),
      );
      expect(spans.length).toBeGreaterThanOrEqual(panelModels.length);
      for (const s of spans) {
        expect(EMOTIONS).toContain(s.label);
        expect(s.x).toBeGreaterThanOrEqual(104 - 1e-6);
        expect(s.x + s.width).toBeLessThanOrEqual(348 + 1e-6);
      }
      // The strip's latest label per model is the label the panel shows (the same readings).
      for (const id of panelModels)
        await expect
          .poll(
            () =>
              page.evaluate(
                ({ strip, id }) => {
                  const last = [...document.querySelectorAll(`${strip} [data-strip-model="${id}"] rect[data-span]`)].at(-1);
                  const panel = document.querySelector(`[data-face="0"] [data-model="${id}"]`);
                  return last?.getAttribute('data-label') === panel?.getAttribute('data-label');
                },
                { strip, id },
              ),
            { timeout: 5000 },
          )
          .toBe(true);

      for (const scheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        for (const [width, height] of [
          [390, 844],
          [1280, 800],
        ] as const) {
          await page.setViewportSize({ width, height });
          await page.waitForTimeout(600);
          // Measured from the top of the page, as a visitor first sees it.
          await page.evaluate(() => window.scrollTo(0, 0));
          const m = await page.evaluate(() => ({
            scrollWidth: document.documentElement.scrollWidth,
            innerWidth: window.innerWidth,
            bg: getComputedStyle(document.documentElement).backgroundColor,
            fg: getComputedStyle(document.documentElement).color,
            stage: document.querySelector('.stage')!.getBoundingClientRect().toJSON() as DOMRect,
            panel: document.querySelector('.panels')!.getBoundingClientRect().toJSON() as DOMRect,
            video: document.querySelector('.stage video')!.getBoundingClientRect().toJSON() as DOMRect,
            settings: document.querySelector('[data-section="settings"]')!.getBoundingClientRect().toJSON() as DOMRect,
            // The primary toolbar's controls and their vertical centres (one row on a wide screen).
            toolbar: [...document.querySelectorAll<HTMLElement>('.toolbar button, .toolbar select')]
              .filter((el) => el.getClientRects().length > 0)
              .map((el) => {
                const r = el.getBoundingClientRect();
                return { key: el.dataset.action ?? el.dataset.control ?? el.textContent!.trim(), middle: (r.top + r.bottom) / 2 };
              }),
          }));
          if (m.scrollWidth > m.innerWidth)
            expect.fail(`${width} px ${scheme}: horizontal overflow: ${(await overflowing(page)).join(', ')}`);
          if (scheme === 'light') expect(luminance(m.bg)).toBeGreaterThan(0.8);
          else expect(luminance(m.bg)).toBeLessThan(0.05);
          expect(contrast(m.fg, m.bg)).toBeGreaterThanOrEqual(7);
          if (width <= 700) expect(m.panel.top).toBeGreaterThanOrEqual(m.stage.bottom);
          else expect(m.panel.left).toBeGreaterThanOrEqual(m.stage.right);
          // The video is seen without scrolling: its top, and all of it, inside the first screenful.
          expect(m.video.height, `${width} px: the video is shown`).toBeGreaterThan(100);
          expect(m.video.top, `${width} px ${scheme}: video top`).toBeLessThan(height);
          expect(m.video.bottom, `${width} px ${scheme}: video bottom`).toBeLessThanOrEqual(height);
          // Settings, models shown and the personal models come after the video, its panel and timeline.
          expect(m.settings.top).toBeGreaterThanOrEqual(Math.max(m.stage.bottom, m.panel.bottom));
          if (width > 700) {
            const middles = m.toolbar.map((t) => t.middle);
            expect(m.toolbar.map((t) => t.key)).toEqual([
              'stop',
              'camera',
              'Open image or video…',
              'record',
              'snapshot',
              'neutral-capture',
            ]);
            expect(
              Math.max(...middles) - Math.min(...middles),
              `${width} px: toolbar in one row ${JSON.stringify(m.toolbar)}`,
            ).toBeLessThan(8);
          }
          await page.screenshot({ path: join(ARTIFACTS, `design-live-${width}-${scheme}.png`), fullPage: true });
          // What a visitor sees before scrolling.
          await page.screenshot({ path: join(ARTIFACTS, `design-live-${width}-${scheme}-first-screen.png`) });
        }
      }
      // The Settings section opened (closed at first here: the page opened at 390 px): no overflow at either width.
      await page.click('[data-section="settings"] > summary');
      for (const [width, height, scheme] of [
        [390, 844, 'dark'],
        [1280, 800, 'light'],
      ] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.setViewportSize({ width, height });
        await page.waitForTimeout(600);
        expect(await page.isVisible('[data-action="calibrate"]'), `${width} px: Settings still open while frames update`).toBe(true);
        if (!(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)))
          expect.fail(`${width} px, Settings open: horizontal overflow: ${(await overflowing(page)).join(', ')}`);
        await page.locator('[data-section="settings"]').screenshot({ path: join(ARTIFACTS, `design-settings-${width}-${scheme}.png`) });
      }
      // The Model reports view at 390 px in dark: no page-wide horizontal scroll either (wide tables scroll in their box).
      await page.setViewportSize({ width: 390, height: 844 });
      await page.click('[data-nav="reports"]');
      await page.waitForSelector('[data-summary]', { timeout: 30_000 });
      await page.waitForSelector('[data-report] [data-accuracy]', { timeout: 30_000 });
      if (!(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)))
        expect.fail(`Model reports at 390 px: horizontal overflow: ${(await overflowing(page)).join(', ')}`);
      await page.screenshot({ path: join(ARTIFACTS, 'design-reports-390-dark.png'), fullPage: true });
      expect(await cspViolations(page)).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 240_000);

  it('Tab reaches the main controls in a sensible order, each with a visible focus ring', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      const { page, errors } = await open(setup.browser, 1280, 800, scheme);
      try {
        await startCamera(page, base);
        // A click on the (unfocusable) title moves the sequential focus starting point to the top of the page.
        await page.click('h1');
        const seen: { key: string; ring: boolean; ringContrast: number }[] = [];
        for (let i = 0; i < 70; i++) {
          await page.keyboard.press('Tab');
          const f = await page.evaluate(() => {
            const el = document.activeElement as HTMLElement | null;
            if (!el || el === document.body) return null;
            const d = el.dataset;
            const key =
              d.nav ??
              d.action ??
              (d.modelMove ? `move-${d.modelMove}` : undefined) ??
              (d.control === 'timeline-mode' ? `timeline-mode-${(el as HTMLInputElement).value}` : d.control) ??
              el.textContent!.trim();
            // The timeline's radios are see-through; their label draws the ring.
            const ringOf = d.control === 'timeline-mode' ? el.closest('label')! : el;
            const s = getComputedStyle(ringOf);
            return {
              key,
              outline: `${s.outlineStyle} ${s.outlineWidth}`,
              width: parseFloat(s.outlineWidth),
              style: s.outlineStyle,
              color: s.outlineColor,
              bg: getComputedStyle(document.documentElement).backgroundColor,
            };
          });
          if (!f) continue;
          seen.push({ key: f.key, ring: f.style !== 'none' && f.width >= 2, ringContrast: contrast(f.color, f.bg) });
        }
        const keys = seen.map((s) => s.key);
        expect(keys[0], 'the first Tab stop').toBe('live');
        // The main controls, in reading order (a subsequence of everything Tab visits).
        const expected = [
          'live',
          'reports',
          'theme',
          'stop',
          'camera',
          'Open image or video…',
          'record',
          'snapshot',
          // The video's panel and timeline, then the Settings section below them.
          'timeline-mode-probs',
          'timeline-model',
          'Settings',
          'faces',
          'smoothing',
          'smoothing-ms',
          'mirror',
          'min-confidence',
          'crops',
          'backend',
          'show-model',
          'move-down',
          'calibrate',
        ];
        let at = -1;
        for (const k of expected) {
          const next = keys.indexOf(k, at + 1);
          expect(next, `${scheme}: Tab order ${keys.join(' > ')} should reach "${k}" after "${keys[at] ?? 'start'}"`).toBeGreaterThan(at);
          at = next;
        }
        for (const s of seen) {
          expect(s.ring, `${scheme}: "${s.key}" has no visible focus ring`).toBe(true);
          // WCAG 1.4.11: a focus indicator contrasts 3:1 with what is around it.
          expect(s.ringContrast, `${scheme}: "${s.key}" focus ring contrast`).toBeGreaterThanOrEqual(3);
        }
        expect(errors).toEqual([]);
      } finally {
        await page.close();
      }
    }
  }, 240_000);

  it("Settings section: closed on a phone and open on a wide screen at first, then the user's choice, kept over a reload; keyboard toggles it", async () => {
    const isOpen = (page: Page) => page.evaluate(() => document.querySelector<HTMLDetailsElement>('[data-section="settings"]')!.open);
    const summary = '[data-section="settings"] > summary';
    // Each page has its own context (no stored choice): the screen width decides.
    const phone = await open(setup.browser, 390, 844);
    const wide = await open(setup.browser, 1280, 800);
    try {
      for (const o of [phone, wide]) {
        await o.page.goto(`${base}/`);
        await o.page.waitForSelector('[data-action="start"]:not([disabled])', { timeout: 90_000 });
      }
      expect(await isOpen(phone.page), 'closed at first on a phone').toBe(false);
      expect(await phone.page.isVisible('[data-control="faces"]')).toBe(false);
      expect(await phone.page.isVisible('[data-action="calibrate"]')).toBe(false);
      expect(await isOpen(wide.page), 'open at first on a wide screen').toBe(true);
      expect(await wide.page.isVisible('[data-control="faces"]')).toBe(true);
      expect(await wide.page.isVisible('[data-action="calibrate"]')).toBe(true);

      // Keyboard: Enter on the summary opens it on the phone; the choice outlives a reload and a wider window.
      await phone.page.focus(summary);
      await phone.page.keyboard.press('Enter');
      await expect.poll(() => isOpen(phone.page)).toBe(true);
      expect(await phone.page.isVisible('[data-action="calibrate"]')).toBe(true);
      // The choice is stored by the details' toggle event, a task of its own: wait for it before reloading.
      await expect.poll(() => phone.page.evaluate(() => localStorage.getItem('emotion-lens.settings-open.v1'))).toBe('open');
      await phone.page.reload();
      await phone.page.waitForSelector('[data-action="start"]:not([disabled])', { timeout: 90_000 });
      expect(await isOpen(phone.page), 'opened by the user: open after a reload').toBe(true);

      // Space closes it on the wide screen; closed after a reload although the screen is wide.
      await wide.page.focus(summary);
      await wide.page.keyboard.press('Space');
      await expect.poll(() => isOpen(wide.page)).toBe(false);
      await expect.poll(() => wide.page.evaluate(() => localStorage.getItem('emotion-lens.settings-open.v1'))).toBe('closed');
      await wide.page.reload();
      await wide.page.waitForSelector('[data-action="start"]:not([disabled])', { timeout: 90_000 });
      expect(await isOpen(wide.page), 'closed by the user: closed after a reload').toBe(false);
      expect(await wide.page.evaluate(() => localStorage.getItem('emotion-lens.settings-open.v1'))).toBe('closed');
      expect(phone.errors).toEqual([]);
      expect(wide.errors).toEqual([]);
    } finally {
      await phone.page.close();
      await wide.page.close();
    }
  }, 240_000);

  it('per-model order by keyboard: panel and strip follow, and the order and the theme survive a reload', async () => {
    const { page, errors } = await open(setup.browser, 1280, 800);
    try {
      await startCamera(page, base);
      const rows = () => page.locator('[data-model-row]').evaluateAll((els) => els.map((e) => e.getAttribute('data-model-row')!));
      const panel = () => page.locator('[data-face="0"] [data-model]').evaluateAll((els) => els.map((e) => e.getAttribute('data-model')!));
      const before = await rows();
      expect(before.length).toBeGreaterThanOrEqual(3);
      const [first, second, third] = before as [string, string, string];
      // The first model has no "up", the last no "down".
      expect(await page.isDisabled(`[data-model-move="up"][data-model-id="${first}"]`)).toBe(true);
      expect(await page.isDisabled(`[data-model-move="down"][data-model-id="${before.at(-1)!}"]`)).toBe(true);

      // Two steps down with Enter: the focus stays on the moved model's button.
      await page.focus(`[data-model-move="down"][data-model-id="${first}"]`);
      await page.keyboard.press('Enter');
      await page.keyboard.press('Enter');
      const after = [second, third, first, ...before.slice(3)];
      await expect.poll(rows).toEqual(after);
      expect(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.modelId)).toBe(first);
      // Space on "up" moves it back one.
      await page.keyboard.press('Shift+Tab');
      expect(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.modelMove)).toBe('up');
      await page.keyboard.press('Space');
      const final = [second, first, third, ...before.slice(3)];
      await expect.poll(rows).toEqual(final);
      // The face panel's grid follows (it lists the models that produced readings, all of them here).
      await expect.poll(panel).toEqual(final.filter((id) => before.includes(id)));
      const track = (await page.locator('[data-face="0"]').getAttribute('data-track'))!;
      await page.locator(`[data-timeline-face="${track}"] [data-control="timeline-mode"][value="labels"]`).check();
      await expect
        .poll(() =>
          page
            .locator(`[data-timeline-face="${track}"] [data-strip-model]`)
            .evaluateAll((gs) => gs.map((g) => g.getAttribute('data-strip-model'))),
        )
        .toEqual(final);
      // The probability chart's model picker lists them in that order too.
      await page.locator(`[data-timeline-face="${track}"] [data-control="timeline-mode"][value="probs"]`).check();
      expect(
        await page
          .locator(`[data-timeline-face="${track}"] [data-control="timeline-model"] option`)
          .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)),
      ).toEqual(final);

      // Theme: dark forced over the system's light.
      await page.selectOption('[data-control="theme"]', 'dark');
      expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
      expect(luminance(await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor))).toBeLessThan(0.05);

      await page.reload();
      await page.waitForSelector('[data-model-row]', { timeout: 90_000 });
      await expect.poll(rows, { timeout: 30_000 }).toEqual(final);
      expect(await page.inputValue('[data-control="theme"]')).toBe('dark');
      expect(luminance(await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor))).toBeLessThan(0.05);
      // Back to the system's choice: the attribute goes and the page is light again.
      await page.selectOption('[data-control="theme"]', 'system');
      expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBeUndefined();
      expect(luminance(await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor))).toBeGreaterThan(0.8);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 240_000);
});
