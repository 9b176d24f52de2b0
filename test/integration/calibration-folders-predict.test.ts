/**
 * Browser-trained and Node-trained personal models are interchangeable: the model folders the
 * calibration builds (src/learn/personal.ts, the code the browser's trainer runs), written out with
 * their manifest entries, are a models folder `npm run predict -- --models DIR` runs on a photo.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CalibrationSample } from '../../src/core/calibration/types.ts';
import { FEATURE_COUNT } from '../../src/core/features/index.ts';
import { mulberry32 } from '../../src/core/random.ts';
import { personalData, trainPersonalCnn, trainPersonalSvm } from '../../src/learn/personal.ts';
import { buildArch } from '../../src/train/cnn/architectures.ts';
import { findChromium } from '../../src/train/browser/browser.ts';
import { predictImages } from '../../src/train/predict/predict.ts';
import { loadLibsvm } from '../../src/train/svm/libsvm.ts';
import { missingShared, sharedPath } from '../helpers/shared-data.ts';

const PHOTO = sharedPath('data/faces/jaffe/happy/KA.HA2.30.png');
const skip = missingShared(PHOTO) || (findChromium() ? false : 'no Chromium');

describe.skipIf(skip)('calibration model folders in npm run predict', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs my-cnn and my-svm-au from a models folder on a photo', async () => {
    await tf.setBackend('cpu');
    const rand = mulberry32(3);
    const samples: CalibrationSample[] = [1, 3, 6].flatMap((label) =>
      Array.from({ length: 5 }, (_, f) => ({
        t: label * 100 + f,
        label,
        crop: Uint8Array.from({ length: 2304 }, () => Math.floor(rand() * 256)),
        features: Float32Array.from({ length: FEATURE_COUNT }, (_, j) => (j % 3 === label % 3 ? 1 : 0) + rand()),
      })),
    );
    const data = personalData(samples);
    const model = buildArch('default', 1, [4, 4, 8, 8]);
    const o = { seed: 1, capturedAt: '2026-12-02T00:00:00Z' };
    const cnn = await trainPersonalCnn(model, data, data, { ...o, baseId: 'tiny', backend: 'cpu', finetune: { epochs: 1, batchSize: 15 } });
    model.dispose();
    const svm = trainPersonalSvm(await loadLibsvm('asm'), data, data, o);
    dir = await mkdtemp(join(tmpdir(), 'calibration-models-'));
    for (const folder of [cnn.folder, svm.folder]) {
      await mkdir(join(dir, folder.entry.id));
      for (const [name, bytes] of Object.entries(folder.files)) await writeFile(join(dir, folder.entry.id, name), bytes);
    }
    await writeFile(join(dir, 'index.json'), JSON.stringify({ models: [cnn.folder.entry, svm.folder.entry] }, null, 2));

    const [image] = await predictImages([PHOTO], { modelsDir: dir, backend: 'cpu', pages: 1 });
    expect(image!.error).toBeUndefined();
    expect(image!.faces).toHaveLength(1);
    const models = image!.faces[0]!.models;
    expect(Object.keys(models).sort()).toEqual(['my-cnn', 'my-svm-au']);
    for (const m of Object.values(models)) {
      expect(m.probs).toHaveLength(7);
      expect(m.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
    }
  });
});
