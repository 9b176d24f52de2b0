/**
 * The built app with the fixture models, served on localhost, and a Chromium whose fake webcam
 * shows one still photo: the set-up the live-view e2e tests share.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { buildApp, serveApp } from '../../src/train/browser/app-server.ts';
import { launchChromium } from '../../src/train/browser/browser.ts';
import { makeFixtureModels } from '../../src/train/browser/fixture-models.ts';
import { composeFrames, writeY4m } from '../../src/train/browser/y4m.ts';

export interface WebcamApp {
  app: { url: string; close: () => Promise<void> };
  browser: Browser;
  /** Scratch folder (removed by close). */
  work: string;
  close: () => Promise<void>;
}

/** Builds and serves the app with fixture models; the browser's webcam shows `photo` (2 s, 30 FPS, looping). */
export async function startWebcamApp(tmpPrefix: string, photo: string): Promise<WebcamApp> {
  const work = await mkdtemp(join(tmpdir(), tmpPrefix));
  const fixtures = await makeFixtureModels();
  let app: WebcamApp['app'] | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await app?.close();
    await rm(work, { recursive: true, force: true });
    await rm(fixtures, { recursive: true, force: true });
  };
  try {
    await buildApp(join(work, 'dist'), fixtures);
    const y4m = join(work, 'webcam.y4m');
    const composer = await launchChromium();
    try {
      await writeY4m(y4m, await composeFrames(composer, [photo]), 2, 30);
    } finally {
      await composer.close();
    }
    app = await serveApp(join(work, 'dist'), fixtures);
    browser = await launchChromium({ fakeVideo: y4m });
    return { app, browser, work, close };
  } catch (error) {
    await close();
    throw error;
  }
}
