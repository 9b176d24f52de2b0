/**
 * Derives the canonical FER2013 face framing used by src/core/framing/canonical.ts.
 *
 * Method: take the first N FER2013 Training images (default 400), upscale each 4x (48 -> 192 px,
 * bilinear) onto a 50 %-gray canvas padded by 50 % of that size on every side (384 x 384), run
 * MediaPipe FaceLandmarker (IMAGE mode, the same face_landmarker.task as the app) in headless
 * Chromium, map the landmarks back to 48 x 48 coordinates and measure, per image, the eye centres,
 * the mouth centre and the eye-line roll. Prints medians and means as JSON.
 *
 *   npx tsx scripts/derive-framing.ts [--count 400] [--data PATH]
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { keypointsFromLandmarks, landmarkBox } from '../src/core/framing/landmarks.ts';
import { cropTransform } from '../src/core/framing/transform.ts';
import { warpGray } from '../src/core/framing/warp.ts';
import { loadFer2013, resolveFer2013Path } from '../src/train/data/fer2013.ts';
import { launchChromium, serveStatic } from '../src/train/browser/browser.ts';

const { values } = parseArgs({ options: { count: { type: 'string', default: '400' }, data: { type: 'string' } } });
const count = Number(values.count);
const root = resolve(import.meta.dirname, '..');

const UPSCALE = 4;
const SIZE = 48 * UPSCALE;
const PAD = SIZE / 2;
const CANVAS = SIZE + 2 * PAD;

const data = await loadFer2013(resolveFer2013Path(values.data), { limitPerSplit: count });
const train = data.train;
console.error(`loaded ${train.count} FER2013 Training images`);

const server = await serveStatic(
  { '/tv/': resolve(root, 'node_modules/@mediapipe/tasks-vision'), '/mp/': resolve(root, 'public/mediapipe') },
  { '/': '<!doctype html><title>derive-framing</title>' },
);
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}/`);
  await page.evaluate(async () => {
    const vision = await import(/* @vite-ignore */ `${location.origin}/tv/vision_bundle.mjs`);
    const fileset = await vision.FilesetResolver.forVisionTasks('/mp/wasm');
    // The landmarker stays on the page between page.evaluate calls (the module is loaded by URL, untyped).
    (globalThis as unknown as { __lm: unknown }).__lm = await vision.FaceLandmarker.createFromOptions(fileset, {
      baseOptions: { modelAssetPath: '/mp/face_landmarker.task', delegate: 'CPU' },
      runningMode: 'IMAGE',
      numFaces: 1,
    });
  });
  const results: ({ x: number; y: number }[] | null)[] = [];
  const BATCH = 50;
  for (let start = 0; start < train.count; start += BATCH) {
    const images: number[][] = [];
    for (let i = start; i < Math.min(train.count, start + BATCH); i++) {
      images.push(Array.from(train.pixels.subarray(i * 2304, (i + 1) * 2304)));
    }
    const batch = await page.evaluate(
      ({ images, SIZE, PAD, CANVAS }) => {
        const small = document.createElement('canvas');
        small.width = small.height = 48;
        const big = document.createElement('canvas');
        big.width = big.height = CANVAS;
        const sctx = small.getContext('2d')!;
        const bctx = big.getContext('2d')!;
        const out: ({ x: number; y: number }[] | null)[] = [];
        for (const px of images) {
          const img = sctx.createImageData(48, 48);
          for (let i = 0; i < 2304; i++) {
            img.data[i * 4] = img.data[i * 4 + 1] = img.data[i * 4 + 2] = px[i]!;
            img.data[i * 4 + 3] = 255;
          }
          sctx.putImageData(img, 0, 0);
          bctx.fillStyle = 'rgb(128,128,128)';
          bctx.fillRect(0, 0, CANVAS, CANVAS);
          bctx.imageSmoothingEnabled = true;
          bctx.drawImage(small, PAD, PAD, SIZE, SIZE);
          const landmarker = (
            globalThis as unknown as { __lm: { detect(c: HTMLCanvasElement): { faceLandmarks: { x: number; y: number }[][] } } }
          ).__lm;
          const face = landmarker.detect(big).faceLandmarks[0];
          // Back to 48x48 pixel coordinates (pixel centres at +0.5).
          out.push(face ? face.map((p) => ({ x: (p.x * CANVAS - PAD) / (SIZE / 48), y: (p.y * CANVAS - PAD) / (SIZE / 48) })) : null);
        }
        return out;
      },
      { images, SIZE, PAD, CANVAS },
    );
    results.push(...batch);
    console.error(`${results.length}/${train.count}`);
  }

  // Round trip: re-crop each image through the canonical framing and compare with the original;
  // a plain square around the landmarks' bounding box is the baseline. Sampling the 48x48 original
  // directly stands in for sampling its 4x upscale.
  const sim = { canonical: { mad: [] as number[], r: [] as number[] }, bbox: { mad: [] as number[], r: [] as number[] } };
  const compare = (a: Float32Array, b: Float32Array, into: { mad: number[]; r: number[] }) => {
    let mad = 0;
    let ma = 0;
    let mb = 0;
    for (let i = 0; i < a.length; i++) {
      mad += Math.abs(a[i]! - b[i]!);
      ma += a[i]!;
      mb += b[i]!;
    }
    ma /= a.length;
    mb /= b.length;
    let sab = 0;
    let saa = 0;
    let sbb = 0;
    for (let i = 0; i < a.length; i++) {
      sab += (a[i]! - ma) * (b[i]! - mb);
      saa += (a[i]! - ma) ** 2;
      sbb += (b[i]! - mb) ** 2;
    }
    into.mad.push(mad / a.length);
    into.r.push(sab / Math.sqrt(saa * sbb || 1));
  };
  results.forEach((lm, i) => {
    if (!lm) return;
    const pixels = train.pixels.subarray(i * 2304, (i + 1) * 2304);
    const src = { data: pixels, width: 48, height: 48, channels: 1 as const };
    const original = Float32Array.from(pixels, (v) => v / 255);
    compare(original, warpGray(src, cropTransform(keypointsFromLandmarks(lm, 1, 1)).toSource, 48), sim.canonical);
    const box = landmarkBox(lm, 1, 1);
    const side = Math.max(box.width, box.height);
    const s = side / 48;
    const toSource = { a: s, b: 0, c: 0, d: s, e: box.x + box.width / 2 - side / 2, f: box.y + box.height / 2 - side / 2 };
    compare(original, warpGray(src, toSource, 48), sim.bbox);
  });

  const eyeX: number[] = [];
  const eyeY: number[] = [];
  const iod: number[] = [];
  const mouthDrop: number[] = [];
  const roll: number[] = [];
  for (const lm of results) {
    if (!lm) continue;
    const k = keypointsFromLandmarks(lm, 1, 1);
    const dx = k.rightEye.x - k.leftEye.x;
    const dy = k.rightEye.y - k.leftEye.y;
    const d = Math.hypot(dx, dy);
    const mid = { x: (k.leftEye.x + k.rightEye.x) / 2, y: (k.leftEye.y + k.rightEye.y) / 2 };
    // Mouth offset measured perpendicular to the eye line (image "down" once the eyes are level).
    const ux = dx / d;
    const uy = dy / d;
    const drop = -(k.mouth.x - mid.x) * uy + (k.mouth.y - mid.y) * ux;
    eyeX.push(mid.x);
    eyeY.push(mid.y);
    iod.push(d);
    mouthDrop.push(drop);
    roll.push((Math.atan2(dy, dx) * 180) / Math.PI);
  }
  const median = (a: number[]) => {
    const s = [...a].sort((x, y) => x - y);
    return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  const sd = (a: number[]) => Math.sqrt(mean(a.map((v) => (v - mean(a)) ** 2)));
  const summary = (a: number[]) => ({ median: +median(a).toFixed(3), mean: +mean(a).toFixed(3), sd: +sd(a).toFixed(3) });
  console.log(
    JSON.stringify(
      {
        images: results.length,
        found: eyeX.length,
        eyeMidX: summary(eyeX),
        eyeMidY: summary(eyeY),
        interocular: summary(iod),
        mouthDrop: summary(mouthDrop),
        rollDeg: summary(roll),
        roundTrip: {
          canonicalFraming: { meanAbsDiff: summary(sim.canonical.mad), correlation: summary(sim.canonical.r) },
          landmarkBoxSquare: { meanAbsDiff: summary(sim.bbox.mad), correlation: summary(sim.bbox.r) },
        },
      },
      null,
      2,
    ),
  );
} finally {
  await browser.close();
  await server.close();
}
