/**
 * runnerFromFolder: a personal model folder held in memory runs as a live Runner (no fetch), with
 * the checks a fetched model gets, and predicts what the model predicts.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runnerFromFolder } from '../../../src/app/calibration/runner-from-folder.ts';
import { ModelLoadError } from '../../../src/app/live/model-load.ts';
import type { CalibrationSample, ModelFolder } from '../../../src/core/calibration/types.ts';
import { FEATURE_COUNT } from '../../../src/core/features/index.ts';
import { mulberry32 } from '../../../src/core/random.ts';
import { layersModelFromFiles } from '../../../src/learn/cnn-artifacts.ts';
import { personalData, trainPersonalCnn, trainPersonalSvm } from '../../../src/learn/personal.ts';
import { predictProbs } from '../../../src/learn/predict.ts';
import { parseSvmModel, predictSvm } from '../../../src/core/svm/index.ts';
import { buildArch } from '../../../src/train/cnn/architectures.ts';
import { loadLibsvm } from '../../../src/train/svm/libsvm.ts';
import { parseManifest } from '../../../src/core/contracts/index.ts';
import { ROOT } from '../../helpers/shared-data.ts';

function samples(): CalibrationSample[] {
  const rand = mulberry32(11);
  return [0, 3, 6].flatMap((label) =>
    Array.from({ length: 6 }, (_, f) => ({
      t: 100 * label + f,
      label,
      crop: Uint8Array.from({ length: 2304 }, (_, p) => ((p % 48) * (label + 2) + rand() * 30) & 255),
      features: Float32Array.from({ length: FEATURE_COUNT }, (_, j) => (j % 5 === label % 5 ? 1 : 0) + rand() * 0.2),
    })),
  );
}

describe('runnerFromFolder', () => {
  let cnn: ModelFolder;
  let svm: ModelFolder;
  const set = samples();
  const data = personalData(set);

  beforeAll(async () => {
    await tf.setBackend('cpu');
    const model = buildArch('default', 1, [4, 4, 8, 8]);
    const o = { seed: 1, capturedAt: '2026-12-02T00:00:00Z', baseId: 'tiny', backend: 'cpu', finetune: { epochs: 1, batchSize: 9 } };
    cnn = (await trainPersonalCnn(model, data, data, o)).folder;
    model.dispose();
    svm = trainPersonalSvm(await loadLibsvm('asm'), data, data, { seed: 1, capturedAt: o.capturedAt }).folder;
  });

  it('runs the CNN folder as the model predicts it, with flip TTA', async () => {
    const runner = await runnerFromFolder(cnn);
    expect(runner.entry.id).toBe('my-cnn');
    expect(runner.needsFeatures).toBe(false);
    const crops = [0, 7].map((i) => Float32Array.from(set[i]!.crop, (v) => v / 255));
    const got = await runner.predict(crops, []);
    const model = await layersModelFromFiles(cnn.files, 'my-cnn');
    const pixels = new Uint8Array([...set[0]!.crop, ...set[7]!.crop]);
    const want = predictProbs(model, pixels, 2, true);
    model.dispose();
    got.flat().forEach((p, i) => expect(p).toBeCloseTo(want[i]!, 4));
    runner.dispose();
  });

  it('runs the SVM folder on features as the app SVM inference does', async () => {
    const runner = await runnerFromFolder(svm);
    expect(runner.needsFeatures).toBe(true);
    const got = await runner.predict([], [set[2]!.features]);
    const model = parseSvmModel(JSON.parse(new TextDecoder().decode(svm.files['model.json'])), svm.files['weights.bin']!);
    predictSvm(model, set[2]!.features).probs.forEach((p, i) => expect(got[0]![i]).toBeCloseTo(p, 4));
    runner.dispose();
  });

  it('refuses damaged or missing files as a fetched model would (corrupt / missing, naming the model)', async () => {
    const weights = cnn.files['weights.bin']!.slice();
    weights[10] ^= 0x55;
    const damaged = runnerFromFolder({ ...cnn, files: { ...cnn.files, 'weights.bin': weights } });
    await expect(damaged).rejects.toBeInstanceOf(ModelLoadError);
    await expect(damaged).rejects.toMatchObject({ status: { state: 'corrupt', message: expect.stringMatching(/my-cnn.*sha256/) } });
    const { 'weights.bin': _gone, ...rest } = svm.files;
    await expect(runnerFromFolder({ ...svm, files: rest })).rejects.toMatchObject({
      status: { state: 'missing', message: expect.stringMatching(/my-svm-au: weights.bin is not in the model folder/) },
    });
  });

  const committed = ['fer-cnn-finetuned', 'svm-au-personal'];
  it.skipIf(!committed.every((id) => existsSync(join(ROOT, 'models', id, 'model.json'))))(
    "runs the Node fine-tune's committed personal models (npm run train -- finetune) from memory too",
    async () => {
      const manifest = parseManifest(JSON.parse(await readFile(join(ROOT, 'models/index.json'), 'utf8')));
      for (const id of committed) {
        const entry = manifest.models.find((m) => m.id === id)!;
        const files: Record<string, Uint8Array> = {};
        for (const name of ['model.json', 'weights.bin']) files[name] = new Uint8Array(await readFile(join(ROOT, 'models', id, name)));
        const runner = await runnerFromFolder({ entry, files });
        const [probs] = await runner.predict([Float32Array.from(set[0]!.crop, (v) => v / 255)], [set[0]!.features]);
        expect(probs).toHaveLength(7);
        expect(probs!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
        runner.dispose();
      }
    },
  );
});
