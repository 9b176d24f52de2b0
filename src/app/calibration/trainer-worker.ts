/**
 * The calibration trainer's worker: trains the personal models off the page's thread, so the live
 * view keeps its frame rate. One worker per training run (trainer.ts starts it and terminates it
 * when done or cancelled), so every run starts from fresh tfjs and libsvm-js state: the same set
 * and seed give the same models on the same backend.
 */
// First: nothing leaves the browser from this worker either.
import '../egress-guard.ts';
import * as tf from '@tensorflow/tfjs';
import libsvmAsm from 'libsvm-js/asm';
import { splitByTime } from '../../core/calibration/split.ts';
import type { CalibrationProgress, HeldOutScores } from '../../core/calibration/types.ts';
import { EMOTIONS } from '../../core/labels.ts';
import { parseSvmModel } from '../../core/svm/index.ts';
import { layersModelFromFiles, MODEL_JSON } from '../../learn/cnn-artifacts.ts';
import { PERSONAL_CNN, PERSONAL_SVM, personalData, scoreCnn, scoreSvm, trainPersonalCnn, trainPersonalSvm } from '../../learn/personal.ts';
import type { LibsvmClass } from '../../learn/svm-train.ts';
import { ensureTrainingKernels } from '../../learn/training-kernels.ts';
import { chooseBackend } from '../live/backend.ts';
import { fetchModelFile } from '../live/model-load.ts';
import type { FromTrainer, TrainRequest } from './trainer-protocol.ts';

const scope = self as unknown as {
  postMessage(m: FromTrainer, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<TrainRequest>) => void) | null;
};

/** Share of the progress bar per stage: general models, CNN, SVM. */
const SPAN = { evaluate: [0, 0.08], cnn: [0.08, 0.9], svm: [0.9, 1] } as const;

function progress(stage: CalibrationProgress['stage'], within: number, message: string, etaSec?: number): void {
  const [a, b] = SPAN[stage];
  scope.postMessage({
    type: 'progress',
    progress: { stage, fraction: a + (b - a) * Math.min(1, Math.max(0, within)), message, ...(etaSec !== undefined ? { etaSec } : {}) },
  });
}

/** The id of a model from its model.json URL (its folder's name). */
const idOf = (url: string): string => url.split('/').slice(-2, -1)[0] ?? url;

/** model.json and the files it lists, fetched (a missing file is a 'missing' ModelLoadError). */
async function fetchFolder(url: string): Promise<Record<string, Uint8Array>> {
  const jsonBytes = new Uint8Array(await (await fetchModelFile(url)).arrayBuffer());
  const json = JSON.parse(new TextDecoder().decode(jsonBytes)) as { weightsManifest?: { paths?: string[] }[]; weights?: { file?: string } };
  const names = json.weightsManifest ? json.weightsManifest.flatMap((g) => g.paths ?? []) : [json.weights?.file ?? 'weights.bin'];
  const files: Record<string, Uint8Array> = { [MODEL_JSON]: jsonBytes };
  for (const name of names)
    files[name] = new Uint8Array(await (await fetchModelFile(new URL(name, new URL(url, self.location.href)).pathname)).arrayBuffer());
  return files;
}

async function train(m: TrainRequest): Promise<void> {
  const t0 = performance.now();
  const choice = await chooseBackend(m.backend);
  ensureTrainingKernels();
  const split = splitByTime(m.samples);
  const trainLabels = new Map<number, number>();
  for (const i of split.train) trainLabels.set(m.samples[i]!.label, (trainLabels.get(m.samples[i]!.label) ?? 0) + 1);
  if (trainLabels.size < 2)
    throw new Error(`calibration needs at least two emotions with 3 or more frames each (got ${trainLabels.size}); record another emotion`);
  for (const [label, n] of trainLabels)
    if (n < 2)
      throw new Error(
        `${EMOTIONS[label]} has too few frames (${n + split.heldOut.filter((i) => m.samples[i]!.label === label).length}); record it again or delete it (3 or more frames per emotion)`,
      );
  const trainSet = personalData(m.samples, split.train);
  const heldSet = personalData(m.samples, split.heldOut);

  // The general models on the held-out frames: what calibrating adds.
  progress('evaluate', 0, 'Loading the general models');
  const baseId = idOf(m.baseModelUrl);
  const model = await layersModelFromFiles(await fetchFolder(m.baseModelUrl), m.baseModelUrl);
  const general: HeldOutScores['general'] = {};
  general[baseId] = scoreCnn(model, heldSet, true).accuracy;
  progress('evaluate', 0.6, 'Scoring the general models');
  const svmId = idOf(m.svmAuUrl);
  try {
    const files = await fetchFolder(m.svmAuUrl);
    const svmJson: unknown = JSON.parse(new TextDecoder().decode(files[MODEL_JSON]));
    const name = (svmJson as { weights?: { file?: string } }).weights?.file ?? 'weights.bin';
    general[svmId] = scoreSvm(parseSvmModel(svmJson, files[name]!), heldSet.features, heldSet.labels).accuracy;
  } catch (error) {
    console.warn(`calibration: ${m.svmAuUrl} not scored: ${(error as Error).message}`);
  }
  const tGeneral = performance.now();

  // The personal CNN: the general one fine-tuned in place.
  progress('cnn', 0, 'Training your CNN');
  const cnnStart = performance.now();
  let cnn;
  try {
    cnn = await trainPersonalCnn(model, trainSet, heldSet, {
      seed: m.seed,
      capturedAt: m.capturedAt,
      baseId,
      backend: choice.active,
      baseHeldOutAccuracy: general[baseId]!,
      ...(m.finetune ? { finetune: m.finetune } : {}),
      onStep: (done, total) => {
        const perStep = (performance.now() - cnnStart) / 1000 / done;
        progress('cnn', done / total, `Training your CNN (step ${done} of ${total})`, perStep * (total - done) + 1);
      },
    });
  } finally {
    model.dispose();
  }
  const tCnn = performance.now();

  progress('svm', 0, 'Training your AU SVM');
  const svm = trainPersonalSvm(libsvmAsm as LibsvmClass, trainSet, heldSet, {
    seed: m.seed,
    capturedAt: m.capturedAt,
    ...(general[svmId] !== undefined ? { baseHeldOutAccuracy: general[svmId] } : {}),
    onProgress: (done, total) => progress('svm', done / (total + 1), `Training your AU SVM (${done} of ${total} settings tried)`),
  });
  const tSvm = performance.now();
  progress('svm', 1, 'Done');
  const heldOut: HeldOutScores = {
    count: heldSet.count,
    general,
    personal: { [PERSONAL_CNN.id]: cnn.heldOutAccuracy, [PERSONAL_SVM.id]: svm.heldOutAccuracy },
  };
  // Moved, not copied (a buffer listed twice would fail the transfer).
  const transfer = [...new Set([cnn.folder, svm.folder].flatMap((f) => Object.values(f.files).map((b) => b.buffer as ArrayBuffer)))];
  scope.postMessage(
    {
      type: 'done',
      cnn: cnn.folder,
      svm: svm.folder,
      heldOut,
      backend: tf.getBackend(),
      timings: { general: (tGeneral - t0) / 1000, cnn: (tCnn - tGeneral) / 1000, svm: (tSvm - tCnn) / 1000, total: (tSvm - t0) / 1000 },
    },
    transfer,
  );
}

scope.onmessage = (event) => {
  train(event.data).catch((error: unknown) => scope.postMessage({ type: 'error', message: (error as Error).message ?? String(error) }));
};
