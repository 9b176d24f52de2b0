/**
 * Two batch jobs at once (two `npm run predict`, or test files in parallel) each build and serve
 * the app from their own folder: one job's build never empties the folder another is serving,
 * and each folder is removed when its job closes.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BatchPages } from '../../src/train/browser/batch-page.ts';
import { findChromium } from '../../src/train/browser/browser.ts';

const MEDIAPIPE_MODEL = resolve('public/mediapipe/face_landmarker.task');
const missing = [
  !findChromium() && 'Chromium (apt-get install chromium)',
  !existsSync(MEDIAPIPE_MODEL) && `${MEDIAPIPE_MODEL} (npm run setup-assets)`,
].filter(Boolean);
if (missing.length > 0) console.warn(`skipping batch-page build test: missing ${missing.join(', ')}`);
const BUILD_ROOT = resolve('node_modules/.cache/emotion-lens/batch-app');
const builds = async () => (existsSync(BUILD_ROOT) ? (await readdir(BUILD_ROOT)).filter((n) => n.startsWith('build-')) : []);

describe.skipIf(missing.length > 0)('batch pages', () => {
  it('two jobs opened at once both load, and their build folders are removed on close', async () => {
    const [a, b] = await Promise.all([BatchPages.open({ numFaces: 1, models: false }), BatchPages.open({ numFaces: 1, models: false })]);
    // Each job has its own folder under the shared root (other jobs, e.g. test files running in
    // parallel, may add theirs meanwhile: only these two are checked).
    expect(a.buildDir).not.toBe(b.buildDir);
    const during = await builds();
    for (const job of [a, b]) {
      expect(dirname(job.buildDir)).toBe(BUILD_ROOT);
      expect(during).toContain(basename(job.buildDir));
    }
    // The first job is still usable after the second one built.
    expect(a.size).toBe(1);
    expect(b.size).toBe(1);
    await Promise.all([a.close(), b.close()]);
    expect(existsSync(a.buildDir)).toBe(false);
    expect(existsSync(b.buildDir)).toBe(false);
  }, 180_000);
});
