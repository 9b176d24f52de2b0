/**
 * A fusion model in the browser: the batch page (the app's pipeline and runners in headless
 * Chromium, as `npm run predict` and `npm run evaluate -- --faces` run them) loads a fusion model
 * and its member CNN from a models folder, and its probabilities equal, to 1e-6, what
 * src/core/fusion.ts gives in Node on the same inputs (the page's own member probabilities and
 * feature vector). A fusion entry of another feature version is listed as unsupported, saying to
 * retrain, and the others still run.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base64ToFloat32, type BatchImageResult, type BatchInitResult } from '../../src/core/batch.ts';
import { FEATURE_COUNT, FEATURE_VERSION } from '../../src/core/features/index.ts';
import { parseFusionModel, predictFusion, serializeFusionModel, type FusionModel } from '../../src/core/fusion.ts';
import { NUM_CLASSES } from '../../src/core/labels.ts';
import { mulberry32 } from '../../src/core/random.ts';
import { BatchPages } from '../../src/train/browser/batch-page.ts';
import { findChromium } from '../../src/train/browser/browser.ts';
import { JAFFE_DIR, missingShared, ROOT } from '../helpers/shared-data.ts';

const MEDIAPIPE_MODEL = resolve(ROOT, 'public/mediapipe/face_landmarker.task');
const FER_CNN = join(ROOT, 'models/fer-cnn');
const PHOTOS = ['happy/KA.HA2.30.png', 'surprise/KA.SU1.36.png', 'angry/KA.AN2.40.png'];
const missing = [
  missingShared(JAFFE_DIR),
  !findChromium() && 'Chromium (apt-get install chromium)',
  !existsSync(MEDIAPIPE_MODEL) && `${MEDIAPIPE_MODEL} (npm run setup-assets)`,
  !existsSync(join(FER_CNN, 'model.json')) && `${FER_CNN}`,
].filter(Boolean);
if (missing.length > 0) console.warn(`skipping the fusion Node = browser check: missing ${missing.join(', ')}`);

/** A fusion model over fer-cnn with seeded random parameters (what is checked is the arithmetic). */
function randomFusion(): FusionModel {
  const r = mulberry32(13);
  const d = NUM_CLASSES + FEATURE_COUNT;
  const rand = (n: number, lo: number, hi: number) => Float64Array.from({ length: n }, () => lo + (hi - lo) * r());
  return {
    members: ['fer-cnn'],
    featureVersion: FEATURE_VERSION,
    featureCount: FEATURE_COUNT,
    eps: 1e-4,
    inputDim: d,
    mean: rand(d, -0.2, 0.2),
    scale: rand(d, 0.5, 2),
    weights: rand(NUM_CLASSES * d, -0.3, 0.3),
    bias: rand(NUM_CLASSES, -0.5, 0.5),
  };
}

describe.skipIf(missing.length > 0)('fusion model: Node = browser', () => {
  let work: string;
  let init: BatchInitResult;
  let results: BatchImageResult[];
  let model: FusionModel;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'fusion-browser-'));
    const models = join(work, 'models');
    await mkdir(join(models, 'fusion-test'), { recursive: true });
    await cp(FER_CNN, join(models, 'fer-cnn'), { recursive: true });
    const files = serializeFusionModel(randomFusion());
    await writeFile(join(models, 'fusion-test/model.json'), JSON.stringify(files.json));
    await writeFile(join(models, 'fusion-test/weights.bin'), files.weights);
    await cp(join(models, 'fusion-test'), join(models, 'fusion-old'), { recursive: true });
    const input = { type: 'au-features', featureVersion: FEATURE_VERSION, dim: FEATURE_COUNT };
    const manifest = {
      models: [
        { id: 'fusion-test', name: 'Fusion', kind: 'fusion', path: 'fusion-test/model.json', members: ['fer-cnn'], input },
        { id: 'fer-cnn', name: 'CNN', kind: 'cnn', path: 'fer-cnn/model.json', input: { size: 48, tta: 'hflip-mean' } },
        {
          id: 'fusion-old',
          name: 'Old fusion',
          kind: 'fusion',
          path: 'fusion-old/model.json',
          members: ['fer-cnn'],
          input: { ...input, featureVersion: FEATURE_VERSION + 1 },
        },
      ],
    };
    await writeFile(join(models, 'index.json'), JSON.stringify(manifest));
    const bytes = await readFile(join(models, 'fusion-test/weights.bin'));
    model = parseFusionModel(files.json, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const pages = await BatchPages.open({ numFaces: 1, models: true, modelsDir: models, pages: 1, backend: 'wasm' });
    try {
      init = pages.init;
      results = await pages.processFiles(
        0,
        await Promise.all(PHOTOS.map(async (p) => ({ name: p, bytes: new Uint8Array(await readFile(join(JAFFE_DIR, p))) }))),
      );
    } finally {
      await pages.close();
    }
  }, 240_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('loads the fusion model beside its member; another feature version is unsupported, with why', () => {
    const status = Object.fromEntries(init.models.map((m) => [m.id, m.status]));
    expect(status['fusion-test']).toBe('ready');
    expect(status['fer-cnn']).toBe('ready');
    expect(status['fusion-old']).toMatch(new RegExp(`unsupported.*feature version ${FEATURE_VERSION + 1}.*retrain`));
  });

  it("gives, on every face, what src/core/fusion.ts gives in Node on the page's inputs (1e-6)", () => {
    let faces = 0;
    for (const r of results) {
      for (const face of r.faces) {
        const page = face.predictions!['fusion-test']!;
        const member = face.predictions!['fer-cnn']!;
        const node = predictFusion(model, [member], base64ToFloat32(face.features));
        expect(page).toHaveLength(NUM_CLASSES);
        page.forEach((p, k) => expect(Math.abs(p - node[k]!)).toBeLessThan(1e-6));
        // Not trivially equal: the features move the output away from the member's.
        expect(page.some((p, k) => Math.abs(p - member[k]!) > 1e-3)).toBe(true);
        faces++;
      }
    }
    expect(faces).toBe(PHOTOS.length);
  });
});
