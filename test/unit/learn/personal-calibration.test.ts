/**
 * Personal models from a calibration set (src/learn/personal.ts), on the cpu backend with a tiny
 * synthetic set: the same set and seed give the same weights; the folders are the Node fine-tune's
 * artifacts (same bytes as saveLayersModel, read back by model-io, readSvmModel, parseReport and
 * the manifest parser that `npm run predict -- --models DIR` uses).
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CalibrationSample } from '../../../src/core/calibration/types.ts';
import { parseReport } from '../../../src/core/contracts/index.ts';
import { FEATURE_COUNT } from '../../../src/core/features/index.ts';
import { mulberry32 } from '../../../src/core/random.ts';
import { layersModelFiles, layersModelFromFiles } from '../../../src/learn/cnn-artifacts.ts';
import { personalData, trainPersonalCnn, trainPersonalSvm } from '../../../src/learn/personal.ts';
import { buildArch } from '../../../src/train/cnn/architectures.ts';
import { loadLayersModel, saveLayersModel } from '../../../src/train/cnn/model-io.ts';
import { manifestModelIds } from '../../../src/train/predict/predict.ts';
import { readSvmModel } from '../../../src/train/svm/export.ts';
import { loadLibsvm } from '../../../src/train/svm/libsvm.ts';

/** 3 emotions x 8 frames: crops with a per-emotion brightness pattern, features clustered per emotion. */
function syntheticSamples(): CalibrationSample[] {
  const rand = mulberry32(7);
  const samples: CalibrationSample[] = [];
  for (const label of [0, 3, 5]) {
    for (let f = 0; f < 8; f++) {
      const crop = Uint8Array.from({ length: 2304 }, (_, p) => Math.min(255, ((p % 48) * (label + 1) * 3 + rand() * 40) | 0));
      const features = Float32Array.from({ length: FEATURE_COUNT }, (_, j) => (j % 7 === label ? 1 : 0) + rand() * 0.3);
      samples.push({ t: 1000 * label + 33 * f, label, crop, features });
    }
  }
  return samples;
}

const base = () => buildArch('default', 1, [4, 4, 8, 8]);
const OPTS = { capturedAt: '2026-12-02T00:00:00Z', baseId: 'tiny-test', backend: 'cpu', finetune: { epochs: 2, batchSize: 8 } };

describe('personal models from a calibration set', () => {
  const samples = syntheticSamples();
  const train = personalData(samples, [0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 16, 17, 18, 19, 20, 21]);
  const held = personalData(samples, [6, 7, 14, 15, 22, 23]);
  let dir: string;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    dir = await mkdtemp(join(tmpdir(), 'calibration-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the CNN: same set and seed give the same weights; another seed other weights', async () => {
    const run = async (seed: number) => {
      const model = base();
      const r = await trainPersonalCnn(model, train, held, { ...OPTS, seed });
      model.dispose();
      return r;
    };
    const a = await run(3);
    const b = await run(3);
    const c = await run(4);
    expect(a.folder.entry).toMatchObject({ id: 'my-cnn', name: 'Yours: CNN', kind: 'cnn', path: 'my-cnn/model.json' });
    expect(Buffer.from(a.folder.files['weights.bin']!).equals(Buffer.from(b.folder.files['weights.bin']!))).toBe(true);
    expect(Buffer.from(a.folder.files['weights.bin']!).equals(Buffer.from(c.folder.files['weights.bin']!))).toBe(false);
    expect(a.history.map((h) => h.loss)).toEqual(b.history.map((h) => h.loss));
    // The trainable part moved away from the base model.
    const start = (await layersModelFiles(base()))['weights.bin']!;
    expect(Buffer.from(a.folder.files['weights.bin']!).equals(Buffer.from(start))).toBe(false);
  });

  it('cancels between steps with the signal, rejecting with its reason', async () => {
    const controller = new AbortController();
    const model = base();
    let steps = 0;
    const run = trainPersonalCnn(model, train, held, {
      ...OPTS,
      seed: 1,
      signal: controller.signal,
      onStep: () => {
        if (++steps === 2) controller.abort(new Error('cancelled by the test'));
      },
    });
    await expect(run).rejects.toThrow(/cancelled by the test/);
    expect(steps).toBe(2);
    model.dispose();
  });

  it('writes the bytes saveLayersModel writes, and loads back only with intact weights', async () => {
    const model = base();
    const files = await layersModelFiles(model);
    const out = join(dir, 'saved');
    await mkdir(out);
    await saveLayersModel(model, out);
    expect(Buffer.from(files['weights.bin']!).equals(await readFile(join(out, 'weights.bin')))).toBe(true);
    expect(JSON.parse(new TextDecoder().decode(files['model.json']))).toEqual(JSON.parse(await readFile(join(out, 'model.json'), 'utf8')));
    const back = await layersModelFromFiles(files, 'my-cnn');
    expect(back.layers.length).toBe(model.layers.length);
    back.dispose();
    const damaged = { ...files, 'weights.bin': files['weights.bin']!.slice() };
    damaged['weights.bin'][100] ^= 0xff;
    await expect(layersModelFromFiles(damaged, 'my-cnn')).rejects.toThrow(/sha256/);
    model.dispose();
  });

  it('both folders are Node model folders: model-io, readSvmModel, parseReport and the manifest parser read them', async () => {
    const cnnModel = base();
    const cnn = await trainPersonalCnn(cnnModel, train, held, { ...OPTS, seed: 5 });
    cnnModel.dispose();
    const SVM = await loadLibsvm('asm');
    const svm = trainPersonalSvm(SVM, train, held, { seed: 5, capturedAt: OPTS.capturedAt });
    expect(svm.folder.entry).toMatchObject({ id: 'my-svm-au', name: 'Yours: AU SVM', kind: 'svm', path: 'my-svm-au/model.json' });
    // Clustered features: the SVM separates them.
    expect(svm.heldOutAccuracy).toBe(1);
    const models = join(dir, 'models');
    for (const folder of [cnn.folder, svm.folder]) {
      await mkdir(join(models, folder.entry.id), { recursive: true });
      for (const [name, bytes] of Object.entries(folder.files)) await writeFile(join(models, folder.entry.id, name), bytes);
      const report = parseReport(JSON.parse(await readFile(join(models, folder.entry.id, 'report.json'), 'utf8')), folder.entry.id);
      expect(report.dataset.splits).toEqual({ train: 18, val: 6, test: 6 });
    }
    await writeFile(join(models, 'index.json'), JSON.stringify({ models: [cnn.folder.entry, svm.folder.entry] }));
    expect(await manifestModelIds(models)).toEqual(['my-cnn', 'my-svm-au']);
    const loaded = await loadLayersModel(join(models, 'my-cnn'), () => {});
    expect(loaded.outputs[0]!.shape).toEqual([null, 7]);
    loaded.dispose();
    const svmModel = await readSvmModel(join(models, 'my-svm-au'));
    expect(svmModel.inputDim).toBe(FEATURE_COUNT);
  });

  it('the SVM: same set and seed give the same support vectors and coefficients', async () => {
    const SVM = await loadLibsvm('asm');
    const a = trainPersonalSvm(SVM, train, held, { seed: 2, capturedAt: OPTS.capturedAt });
    const b = trainPersonalSvm(SVM, train, held, { seed: 2, capturedAt: OPTS.capturedAt });
    const svmOf = (f: typeof a) => {
      const json = JSON.parse(new TextDecoder().decode(f.folder.files['model.json']));
      // probA/probB come from libsvm's internal Platt CV, which draws from the C rand() of the
      // libsvm-js instance: equal in a fresh instance (the browser trainer's worker), not across calls here.
      const { probA: _a, probB: _b, ...rest } = json.svm;
      return rest;
    };
    expect(svmOf(a)).toEqual(svmOf(b));
  });

  it('refuses crops and features of the wrong size, naming the sample', () => {
    const bad = [{ ...samples[0]!, crop: new Uint8Array(10) }];
    expect(() => personalData(bad)).toThrow(/sample 0: crop has 10 bytes/);
    const badF = [{ ...samples[0]!, features: new Float32Array(3) }];
    expect(() => personalData(badF)).toThrow(/sample 0: 3 features/);
  });
});
