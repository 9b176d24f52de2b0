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
import type { Browser } from 'playwright-core';
import { build, createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  let fixtures: string;
  let before: string | undefined;
  let server: ViteDevServer;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    fixtures = await makeFixtureModels();
    before = process.env.MODELS_DIR;
    process.env.MODELS_DIR = fixtures;
    server = await createServer({
      configFile: resolve(root, 'examples/minimal/vite.config.ts'),
      logLevel: 'warn',
      server: { port: 0, strictPort: false },
    });
    await server.listen();
    base = server.resolvedUrls!.local[0]!.replace(/\/$/, '');
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (before === undefined) delete process.env.MODELS_DIR;
    else process.env.MODELS_DIR = before;
    if (fixtures) await rm(fixtures, { recursive: true, force: true });
  });

  it('loads the library and reads the face on a photo, from localhost only', async () => {
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
    await page.close();
  }, 240_000);

  it("moves a model by the person's neutral face: captured, set, cleared, learnt (auto), and a set one wins over a learnt one", async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    // The example's own lens loads first: two loads at once would race for the tfjs backend.
    await page.waitForSelector('[data-status="ready"]', { timeout: 120_000 });
    const photo = (await readFile(PHOTO)).toString('base64');
    const libUrl = `/@fs${resolve(root, 'src/lib/index.ts')}`;
    type Lib = typeof import('../../src/lib/index.ts');
    // A string, so that vitest does not rewrite the import() for Node.
    await page.evaluate(`import(${JSON.stringify(libUrl)}).then((lib) => { window.__lib = lib; })`);
    const out = await page.evaluate(
      async ({ photo }) => {
        const lib = (window as unknown as { __lib: Lib }).__lib;
        const lens = lib.createEmotionLens({ models: ['fixture-cnn'], smoothing: 0, worker: 'page' });
        await lens.load();
        const bytes = Uint8Array.from(atob(photo), (c) => c.charCodeAt(0));
        const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
        const probs = async (): Promise<number[]> => {
          const faces = (await lens.detect(bitmap)).faces;
          if (faces.length !== 1) throw new Error(`${faces.length} faces`);
          return faces[0]!.models.find((m) => m.id === 'fixture-cnn')!.probs;
        };
        const plain = await probs();
        // The capture resolves after 5 detect() calls that find one face.
        const capture = lens.captureNeutral({ frames: 5, timeoutMs: 60_000 });
        let done = false;
        void capture.then(() => (done = true));
        while (!done) await probs();
        const baseline = await capture;
        const set = await lens.setNeutralBaseline(baseline);
        const moved = await probs();
        const cleared = (await lens.setNeutralBaseline(undefined), await probs());
        const learntBaselines: unknown[] = [];
        await lens.setAutoNeutral(true, (b) => learntBaselines.push(b));
        for (let i = 0; i < 95 && learntBaselines.length === 0; i++) await probs();
        const learnt = await probs();
        // A set baseline wins over the learnt one: this one reads the photo as if its neutral
        // log-probability were 1 higher, so the photo reads less neutral than the reference.
        const other = structuredClone(baseline);
        other.models['fixture-cnn']!.captured[6] += 1;
        await lens.setNeutralBaseline(other);
        const chosen = await probs();
        await lens.setNeutralBaseline(undefined);
        const backToLearnt = await probs();
        await lens.setAutoNeutral(false);
        const off = await probs();
        lens.dispose();
        return { plain, baseline, set, moved, cleared, learntCount: learntBaselines.length, learnt, chosen, backToLearnt, off };
      },
      { photo },
    );
    const reference = [-2.5, -4, -2.5, -3, -2, -3.5, -1]; // the fixture CNN's (fixture-models.ts)
    const softmax = (z: number[]) => {
      const e = z.map((v) => Math.exp(v - Math.max(...z)));
      const sum = e.reduce((a, b) => a + b);
      return e.map((v) => v / sum);
    };
    const close = (actual: number[], expected: number[]) => actual.forEach((v, k) => expect(v).toBeCloseTo(expected[k]!, 3));
    expect(out.baseline.frames).toBe(5);
    expect(out.set).toEqual({ moved: ['fixture-cnn'], stale: [] });
    // Every frame is the same photo, so the captured face is the photo itself and p' = softmax(reference).
    close(out.moved, softmax(reference));
    expect(out.moved[6]! - out.plain[6]!).not.toBeCloseTo(0, 2);
    close(out.cleared, out.plain);
    expect(out.learntCount).toBeGreaterThan(0);
    close(out.learnt, softmax(reference));
    close(out.chosen, softmax(reference.map((v, k) => (k === 6 ? v - 1 : v))));
    close(out.backToLearnt, softmax(reference));
    close(out.off, out.plain);
    await page.close();
  }, 240_000);
});
