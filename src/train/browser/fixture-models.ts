/**
 * Throwaway models for the e2e tests and the live benchmark: untrained CNNs with the real
 * architectures' shapes (so timings are realistic), two small SVMs trained with libsvm-js on
 * random rows (one on AU-style features, one on PCA-projected pixels), an SVM built for another
 * feature version (shown as unsupported, with why) and entries whose files are missing, corrupt,
 * NaN-filled, overflowing or truncated. Node only.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdir, mkdtemp, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildArch } from '../cnn/architectures.ts';
import { saveLayersModel } from '../cnn/model-io.ts';
import { FEATURE_COUNT, FEATURE_VERSION } from '../../core/features/index.ts';
import { mulberry32 } from '../../core/random.ts';
import { libsvmToModelFiles, writeSvmModel, type ExportOptions } from '../svm/export.ts';
import { trainSvm } from '../svm/libsvm.ts';
import { buildComparison } from '../report/comparison.ts';

/** A small RBF SVC on random rows (7 classes), exported in the app's format. */
async function randomSvm(dir: string, dims: number, opts: Omit<ExportOptions, 'gamma'>, seed: number): Promise<void> {
  const rand = mulberry32(seed);
  const rows = Array.from({ length: 140 }, () => Array.from({ length: dims }, () => rand()));
  const labels = rows.map((_, i) => i % 7);
  const trained = await trainSvm(rows, labels, { cost: 1, gamma: 1 / dims, probability: true });
  const files = libsvmToModelFiles(trained.svm.serializeModel(), { ...opts, gamma: trained.params.gamma });
  trained.svm.free();
  await writeSvmModel(dir, files);
}

const INPUT = { shape: [null, 48, 48, 1], dtype: 'float32', color: 'gray', range: [0, 1], size: 48 };

export interface FixtureOptions {
  /** Add the svm, missing and corrupt entries (default true). */
  extras?: boolean;
}

/** Writes a models folder into a new temp dir and returns its path. */
export async function makeFixtureModels(options: FixtureOptions = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'emotion-lens-models-'));
  const models: object[] = [];
  const add = async (id: string, name: string, arch: string, widths: number[] | undefined, tta: string) => {
    await mkdir(join(dir, id));
    const model = buildArch(arch, 1, widths);
    await saveLayersModel(model, join(dir, id));
    model.dispose();
    models.push({ id, name, kind: 'cnn', path: `${id}/model.json`, report: `${id}/report.json`, input: { ...INPUT, tta } });
  };
  // Widths of the trained default CNN (README "Design of the default CNN").
  await add('fixture-cnn', 'Fixture CNN', 'default', [16, 32, 64, 128], 'hflip-mean');
  await add('fixture-seed', 'Fixture seed CNN', 'seed', undefined, 'none');
  await writeFile(
    join(dir, 'fixture-cnn', 'report.json'),
    JSON.stringify({
      id: 'fixture-cnn',
      accuracy: 0.5,
      labels: ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'],
      perClass: ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'].map((label) => ({
        label,
        precision: 0.5,
        recall: 0.5,
        f1: 0.5,
        support: 10,
      })),
      macroAvg: { precision: 0.5, recall: 0.5, f1: 0.5, support: 70 },
      confusionMatrix: Array.from({ length: 7 }, (_, t) => Array.from({ length: 7 }, (_, p) => (t === p ? 5 : 1))),
      history: [1, 2, 3].map((epoch) => ({ epoch, loss: 2 / epoch, acc: 0.2 * epoch, valLoss: 2.2 / epoch, valAcc: 0.18 * epoch })),
    }),
  );
  if (options.extras ?? true) {
    const auInput = { type: 'au-features', featureVersion: FEATURE_VERSION, dim: FEATURE_COUNT };
    await randomSvm(join(dir, 'fixture-svm-au'), FEATURE_COUNT, { input: auInput, inputDim: FEATURE_COUNT }, 1);
    models.push({ id: 'fixture-svm-au', name: 'Fixture SVM (AU)', kind: 'svm', path: 'fixture-svm-au/model.json', input: auInput });
    // Pixels through a 16-component projection (random directions stand in for PCA).
    const rand = mulberry32(2);
    const components = Float32Array.from({ length: 16 * 48 * 48 }, () => (rand() - 0.5) / 48);
    await randomSvm(
      join(dir, 'fixture-svm-pixels'),
      16,
      { input: { type: 'pixels', size: 48 }, projection: { mean: new Float64Array(48 * 48).fill(0.5), components, k: 16 } },
      3,
    );
    models.push({
      id: 'fixture-svm-pixels',
      name: 'Fixture SVM (pixels)',
      kind: 'svm',
      path: 'fixture-svm-pixels/model.json',
      input: { type: 'pixels', size: 48 },
    });
    models.push({
      id: 'fixture-svm-old',
      name: 'Fixture SVM (old features)',
      kind: 'svm',
      path: 'fixture-svm-au/model.json',
      input: { ...auInput, featureVersion: 0 },
    });
    models.push({ id: 'fixture-missing', name: 'Fixture missing', kind: 'cnn', path: 'fixture-missing/model.json', input: INPUT });
    await mkdir(join(dir, 'fixture-corrupt'));
    await writeFile(join(dir, 'fixture-corrupt', 'model.json'), '{"modelTopology": trunc');
    models.push({ id: 'fixture-corrupt', name: 'Fixture corrupt', kind: 'cnn', path: 'fixture-corrupt/model.json', input: INPUT });
    // Damaged weights (src/core/weights-integrity.ts): NaN values with a matching sha256, as a
    // diverged training run would save them; finite weights so large that the warm-up overflows;
    // a weights.bin cut short by 8 bytes.
    const damaged = async (id: string, name: string, value: number | undefined) => {
      await mkdir(join(dir, id));
      const model = buildArch('seed', 1);
      if (value !== undefined) model.setWeights(model.getWeights().map((w) => tf.fill(w.shape, value)));
      const bytes = await saveLayersModel(model, join(dir, id));
      model.dispose();
      if (value === undefined) await truncate(join(dir, id, 'weights.bin'), bytes - 8);
      models.push({ id, name, kind: 'cnn', path: `${id}/model.json`, input: { ...INPUT, tta: 'none' } });
    };
    await damaged('fixture-nan', 'Fixture NaN weights', NaN);
    await damaged('fixture-overflow', 'Fixture overflowing weights', 1e30);
    await damaged('fixture-truncated', 'Fixture truncated weights', undefined);
  }
  // A neutral reference (as npm run train -- neutral-reference writes it) on the first CNN, so the
  // neutral-face step has a model to move: FER2013's neutral faces read as neutral.
  Object.assign(models[0]!, { neutral: { logProbs: [-2.5, -4, -2.5, -3, -2, -3.5, -1], faces: 1 } });
  await writeFile(join(dir, 'index.json'), JSON.stringify({ models }, null, 2));
  // The model comparison (npm run report's models/report.json), from fixture figures.
  const fixtureReport = (accuracy: number) => ({
    accuracy,
    macroAvg: { f1: accuracy - 0.05 },
    perClass: ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'].map((label) => ({ label, f1: accuracy, support: 10 })),
  });
  const { json } = buildComparison({
    models: [
      {
        id: 'fixture-cnn',
        name: 'Fixture CNN',
        kind: 'cnn',
        sizeBytes: 2_400_000,
        latencyMsPerFace: 4,
        reports: { 'FER2013 PrivateTest': fixtureReport(0.5) },
      },
      {
        id: 'fixture-seed',
        name: 'Fixture seed CNN',
        kind: 'cnn',
        sizeBytes: 1_400_000,
        latencyMsPerFace: 1,
        reports: { 'FER2013 PrivateTest': fixtureReport(0.4) },
      },
    ],
    unknown: {
      images: [{ file: 'unknown/a.png', predictions: { 'fixture-cnn': { label: 'happy', prob: 0.9 }, 'fixture-seed': null } }],
      labels: { 'unknown/a.png': 'happy' },
    },
    generatedAt: '2026-01-01T00:00:00.000Z',
  });
  await writeFile(join(dir, 'report.json'), JSON.stringify(json));
  return dir;
}
