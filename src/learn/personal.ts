/**
 * Personal models from a calibration set, as model folders (src/core/calibration/types.ts): the CNN
 * fine-tuned with finetuneCnn (the loop of `npm run train -- finetune`) and the AU-feature SVM of
 * fitPersonalSvm (the fit of svm-au-personal), with the same artifacts as the Node fine-tune:
 * model.json + weights.bin (+ weightsIntegrity) + report.json, and the manifest entry. Runs in the
 * browser's calibration worker and in Node (tests, benches) alike.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ModelEntry } from '../core/contracts/manifest.ts';
import { cnnInput } from '../core/contracts/model-input.ts';
import type { HistoryPoint } from '../core/contracts/report.ts';
import type { CalibrationSample, ModelFolder } from '../core/calibration/types.ts';
import { FEATURE_COUNT, FEATURE_VERSION } from '../core/features/index.ts';
import { IMAGE_PIXELS, NUM_CLASSES } from '../core/labels.ts';
import { argmaxRows } from '../core/metrics.ts';
import { parseSvmModel, predictSvm, type SvmModel } from '../core/svm/index.ts';
import { layersModelFiles } from './cnn-artifacts.ts';
import { finetuneCnn, type ImageSet } from './finetune-cnn.ts';
import { fitPersonalSvm } from './personal-svm.ts';
import { predictProbs } from './predict.ts';
import { buildReport, type BuildReportInput } from './report.ts';
import type { LibsvmClass } from './svm-train.ts';

export const PERSONAL_CNN = { id: 'my-cnn', name: 'Yours: CNN' } as const;
export const PERSONAL_SVM = { id: 'my-svm-au', name: 'Yours: AU SVM' } as const;

/**
 * Fine-tuning settings for calibration. The loop of `npm run train -- finetune` (Adam, reference
 * augmentation, label smoothing 0.1) with the first 3 conv blocks frozen instead of 2 and fewer,
 * larger steps: a calibration has a few hundred near-duplicate frames of one person and must train
 * in under 30 s on a 2-core CPU (browser wasm). Measured with `npm run bench:calibrate`
 * (docs/calibration.md): freeze 2 took 60 s for the CNN, freeze 3 23 s, at 93 % held-out accuracy.
 */
export interface CalibrationFinetune {
  freeze: number;
  epochs: number;
  lr: number;
  batchSize: number;
  augment: boolean;
}
export const CALIBRATION_FINETUNE: Readonly<CalibrationFinetune> = { freeze: 3, epochs: 6, lr: 0.001, batchSize: 32, augment: true };

/** Crops, labels and features of some calibration samples, in the layout the trainers read. */
export interface PersonalData extends ImageSet {
  features: Float32Array[];
}

/** The given samples (default all) as PersonalData; checks each crop's and feature vector's length. */
export function personalData(samples: readonly CalibrationSample[], rows: readonly number[] = samples.map((_, i) => i)): PersonalData {
  const pixels = new Uint8Array(rows.length * IMAGE_PIXELS);
  const labels = new Uint8Array(rows.length);
  const features: Float32Array[] = [];
  rows.forEach((r, i) => {
    const s = samples[r]!;
    if (s.crop.length !== IMAGE_PIXELS)
      throw new Error(`calibration sample ${r}: crop has ${s.crop.length} bytes, expected ${IMAGE_PIXELS} (48x48 gray)`);
    if (s.features.length !== FEATURE_COUNT)
      throw new Error(
        `calibration sample ${r}: ${s.features.length} features, expected ${FEATURE_COUNT} (feature version ${FEATURE_VERSION})`,
      );
    if (!(Number.isInteger(s.label) && s.label >= 0 && s.label < NUM_CLASSES))
      throw new Error(`calibration sample ${r}: label ${s.label} is not 0..6`);
    pixels.set(s.crop, i * IMAGE_PIXELS);
    labels[i] = s.label;
    features.push(s.features);
  });
  return { pixels, labels, features, count: rows.length };
}

const accuracyOf = (yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number => {
  let hits = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hits++;
  return yTrue.length === 0 ? NaN : hits / yTrue.length;
};

/** A CNN's predictions and accuracy on a set, with flip TTA as the app runs the CNNs. */
export function scoreCnn(model: tf.LayersModel, set: ImageSet, tta = true): { yPred: number[]; accuracy: number } {
  const yPred = Array.from(argmaxRows(predictProbs(model, set.pixels, set.count, tta), NUM_CLASSES));
  return { yPred, accuracy: accuracyOf(set.labels, yPred) };
}

/** An SVM's predictions and accuracy on feature rows, by the app's own SVM inference. */
export function scoreSvm(
  model: SvmModel,
  rows: readonly ArrayLike<number>[],
  labels: ArrayLike<number>,
): { yPred: number[]; accuracy: number } {
  const yPred = rows.map((x) => predictSvm(model, x).top);
  return { yPred, accuracy: accuracyOf(labels, yPred) };
}

const json = (value: unknown, indent: number): Uint8Array => new TextEncoder().encode(JSON.stringify(value, null, indent) + '\n');

function reportBase(o: { capturedAt: string; train: number; heldOut: number }) {
  return {
    datasetPath: `calibration captured ${o.capturedAt} (this device only)`,
    datasetName: 'calibration',
    evaluatedOn: 'held-out frames (the last 20 % of each emotion by time)',
    datasetNote: `${o.heldOut} held-out frames; the same person in training and held-out frames`,
    splits: { train: o.train, val: o.heldOut, test: o.heldOut },
  } satisfies Partial<BuildReportInput>;
}

export interface PersonalCnnOptions {
  seed: number;
  capturedAt: string;
  /** The starting model's id (the report names it). */
  baseId: string;
  /** tfjs backend name, for the report. */
  backend: string;
  finetune?: Partial<CalibrationFinetune>;
  signal?: AbortSignal;
  onStep?: (done: number, total: number) => void;
  /** The base model's held-out accuracy (recorded in the report). */
  baseHeldOutAccuracy?: number;
}

/**
 * Fine-tunes `model` (a loaded copy of the general CNN; trained in place, the caller disposes it) on
 * `train` and scores it on `heldOut` with flip TTA. Returns the `my-cnn` folder.
 */
export async function trainPersonalCnn(
  model: tf.LayersModel,
  train: ImageSet,
  heldOut: ImageSet,
  o: PersonalCnnOptions,
): Promise<{ folder: ModelFolder; heldOutAccuracy: number; history: HistoryPoint[]; seconds: number }> {
  const started = performance.now();
  const settings = { ...CALIBRATION_FINETUNE, ...o.finetune };
  const history = await finetuneCnn(model, train, {
    ...settings,
    seed: o.seed,
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onStep ? { onStep: o.onStep } : {}),
  });
  const scored = scoreCnn(model, heldOut, true);
  const seconds = (performance.now() - started) / 1000;
  const id = PERSONAL_CNN.id;
  const report = buildReport({
    ...reportBase({ capturedAt: o.capturedAt, train: train.count, heldOut: heldOut.count }),
    id,
    name: PERSONAL_CNN.name,
    kind: 'cnn',
    arch: `${o.baseId} fine-tuned, first ${settings.freeze} conv blocks frozen`,
    yTrue: heldOut.labels,
    yPred: scored.yPred,
    epochs: settings.epochs,
    history,
    wallTimeSec: Math.round(seconds),
    backend: o.backend,
    tta: true,
    notes:
      (o.baseHeldOutAccuracy !== undefined ? `${o.baseId} scored ${o.baseHeldOutAccuracy.toFixed(4)} on these held-out frames. ` : '') +
      `Adam lr ${settings.lr}, batch ${settings.batchSize}, ${settings.epochs} epochs (fixed), augmentation ${settings.augment ? 'on' : 'off'}, seed ${o.seed}.`,
    extra: {
      baseModel: o.baseId,
      ...(o.baseHeldOutAccuracy !== undefined ? { baseValAccuracy: o.baseHeldOutAccuracy } : {}),
      freeze: settings.freeze,
      seed: o.seed,
      calibration: true,
    },
  });
  const files = { ...(await layersModelFiles(model)), 'report.json': json(report, 2) };
  const entry: ModelEntry = {
    id,
    name: PERSONAL_CNN.name,
    kind: 'cnn',
    path: `${id}/model.json`,
    report: `${id}/report.json`,
    input: cnnInput({ size: 48, tta: 'hflip-mean' }),
  };
  return { folder: { entry, files }, heldOutAccuracy: scored.accuracy, history, seconds };
}

export interface PersonalSvmOptions {
  seed: number;
  capturedAt: string;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** svm-au's held-out accuracy (recorded in the report). */
  baseHeldOutAccuracy?: number;
}

/** Trains the `my-svm-au` folder on `train`'s features with libsvm-js (`SVM`), scored on `heldOut`'s. */
export function trainPersonalSvm(
  SVM: LibsvmClass,
  train: PersonalData,
  heldOut: PersonalData,
  o: PersonalSvmOptions,
): { folder: ModelFolder; heldOutAccuracy: number; seconds: number } {
  const started = performance.now();
  const fit = fitPersonalSvm(SVM, train.features, Array.from(train.labels), {
    seed: o.seed,
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onProgress ? { onProgress: (p: { done: number; total: number }) => o.onProgress!(p.done, p.total) } : {}),
  });
  // Scored on the exported files through the app's parser and inference, as publishSvm does in Node.
  const model = parseSvmModel(fit.files.json, fit.files.weights);
  const scored = scoreSvm(model, heldOut.features, heldOut.labels);
  const seconds = (performance.now() - started) / 1000;
  const id = PERSONAL_SVM.id;
  const report = buildReport({
    ...reportBase({ capturedAt: o.capturedAt, train: train.count, heldOut: heldOut.count }),
    id,
    name: PERSONAL_SVM.name,
    kind: 'svm',
    arch: `RBF SVC on ${FEATURE_COUNT} AU-style features (standardised)`,
    yTrue: heldOut.labels,
    yPred: scored.yPred,
    epochs: 0,
    wallTimeSec: Math.round(seconds),
    backend: 'libsvm-js',
    notes:
      (o.baseHeldOutAccuracy !== undefined ? `svm-au scored ${o.baseHeldOutAccuracy.toFixed(4)} on these held-out frames. ` : '') +
      `C ${fit.cost}, gamma ${fit.gamma.toPrecision(4)} by ${fit.k}-fold CV on the training frames (${fit.cvAccuracy.toFixed(4)}), seed ${o.seed}.`,
    extra: {
      cost: fit.cost,
      gamma: fit.gamma,
      cvFolds: fit.k,
      cvMean: fit.cvAccuracy,
      supportVectors: fit.totalSV,
      seed: o.seed,
      calibration: true,
    },
  });
  const files = {
    'model.json': json(fit.files.json, 1),
    [fit.files.json.weights.file]: fit.files.weights,
    'report.json': json(report, 2),
  };
  const entry: ModelEntry = {
    id,
    name: PERSONAL_SVM.name,
    kind: 'svm',
    path: `${id}/model.json`,
    report: `${id}/report.json`,
    input: { type: 'au-features', featureVersion: FEATURE_VERSION, dim: FEATURE_COUNT },
  };
  return { folder: { entry, files }, heldOutAccuracy: scored.accuracy, seconds };
}
