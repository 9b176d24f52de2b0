/**
 * The library (src/lib): `npm run build:lib`'s bundle and declarations, and the minimal example
 * page (examples/minimal, served as `npm run example` does) finding a face on a JAFFE photo in
 * headless Chromium with untrained fixture models, all from localhost under the app's CSP.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build, createServer } from 'vite';
import { describe, expect, it } from 'vitest';
import { findChromium, launchChromium } from '../../src/train/browser/browser.ts';
import { makeFixtureModels } from '../../src/train/browser/fixture-models.ts';
import { JAFFE_DIR, missingShared, ROOT } from '../helpers/shared-data.ts';

const root = ROOT;
const PHOTO = join(JAFFE_DIR, 'happy/YM.HA2.53.png');

describe('npm run build:lib', () => {
  it('builds an ES module with the documented exports, a relative worker URL, and declarations', async () => {
    const out = await mkdtemp(join(tmpdir(), 'emotion-lens-lib-'));
    try {
      await build({ configFile: resolve(root, 'vite.lib.config.ts'), root, logLevel: 'warn', build: { outDir: out } });
      const bundle = await readFile(join(out, 'emotion-lens.js'), 'utf8');
      const exported =
        /export\s*\{([^}]*)\}\s*;?\s*$/
          .exec(bundle)?.[1]
          ?.split(',')
          .map((part) =>
            part
              .trim()
              .split(/\s+as\s+/)
              .at(-1)!,
          ) ?? [];
      expect(exported.sort()).toEqual([
        'ConfigError',
        'DEFAULT_CONFIG',
        'EMOTIONS',
        'MAX_FACES_LIMIT',
        'MAX_SMOOTHING_MS',
        'consensusOf',
        'createEmotionLens',
        'validateConfig',
      ]);
      // TensorFlow.js and MediaPipe stay imports; the worker is found beside the bundle.
      expect(bundle).toMatch(/from "@mediapipe\/tasks-vision"/);
      expect(bundle).toMatch(/new URL\("assets\/inference-worker-[\w-]+\.js", import\.meta\.url\)/);
      expect((await readdir(join(out, 'assets'))).some((f) => f.startsWith('inference-worker-'))).toBe(true);
      await promisify(execFile)(
        process.execPath,
        [resolve(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.lib.json', '--outDir', join(out, 'types')],
        { cwd: root },
      );
      const types = await readFile(join(out, 'types/lib/index.d.ts'), 'utf8');
      expect(types).toMatch(/createEmotionLens/);
      expect(types).toMatch(/NeutralBaseline/);
      // The neutral face step, as the app's (the same functions: src/app/live/neutral-face.ts).
      const lens = await readFile(join(out, 'types/lib/emotion-lens.d.ts'), 'utf8');
      expect(lens).toMatch(/captureNeutral\(options\?: \{[^}]*frames\?: number[^}]*\}\): Promise<NeutralBaseline>;/);
      expect(lens).toMatch(/setNeutralBaseline\(baseline: NeutralBaseline \| undefined\): Promise<\{/);
      expect(lens).toMatch(/setAutoNeutral\(on: boolean, onBaseline\?: \(baseline: NeutralBaseline\) => void\): Promise<void>;/);
      expect(await readFile(join(out, 'types/lib/config.d.ts'), 'utf8')).toMatch(/export interface EmotionLensConfig/);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});

const skipReason = !findChromium()
  ? 'Chromium not found (apt-get install chromium, or set CHROMIUM_PATH)'
  : missingShared(PHOTO) ||
    (!existsSync(join(root, 'public/mediapipe/face_landmarker.task')) ? 'browser assets missing (npm run setup-assets)' : undefined);

describe.skipIf(skipReason !== undefined)(`the minimal example page${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  it('loads the library and reads the face on a photo, from localhost only', async () => {
    const fixtures = await makeFixtureModels();
    const before = process.env.MODELS_DIR;
    process.env.MODELS_DIR = fixtures;
    const server = await createServer({
      configFile: resolve(root, 'examples/minimal/vite.config.ts'),
      logLevel: 'warn',
      server: { port: 0, strictPort: false },
    });
    const browser = await launchChromium();
    try {
      await server.listen();
      const base = server.resolvedUrls!.local[0]!.replace(/\/$/, '');
      const page = await browser.newPage();
      const foreign: string[] = [];
      page.on('request', (r) => {
        const url = r.url();
        if (!url.startsWith(`${base}/`) && !url.startsWith('blob:') && !url.startsWith('data:')) foreign.push(url);
      });
      await page.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) =>
          ((window as unknown as { __csp: string[] }).__csp ??= []).push(`${e.violatedDirective} ${e.blockedURI}`),
        );
      });
      await page.goto(`${base}/`);
      await page.waitForSelector('[data-status="ready"]', { timeout: 120_000 });
      expect(await page.locator('#status').textContent()).toMatch(/Ready on (webgpu|webgl|wasm|cpu) with \d+ model\(s\): .*Fixture CNN/);
      await page.setInputFiles('#file', PHOTO);
      await page.waitForSelector('[data-face="0"][data-label]', { timeout: 60_000 });
      expect(await page.locator('#faces li').count()).toBe(1);
      expect(await page.locator('[data-face="0"]').textContent()).toMatch(
        /Fixture CNN: (angry|disgust|fear|happy|sad|surprise|neutral) \d+%/,
      );
      expect(foreign).toEqual([]);
      expect(await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? [])).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
      if (before === undefined) delete process.env.MODELS_DIR;
      else process.env.MODELS_DIR = before;
      await rm(fixtures, { recursive: true, force: true });
    }
  }, 240_000);
});
