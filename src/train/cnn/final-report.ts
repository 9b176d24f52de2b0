/**
 * The end of a CNN training run: the best epoch's weights scored on PrivateTest (with and without
 * flip TTA), the report, and the model folder published with its models/index.json entry.
 */
import * as tf from '@tensorflow/tfjs';
import { cnnInput } from '../../core/contracts/index.ts';
import { EMOTIONS, NUM_CLASSES } from '../../core/labels.ts';
import { argmaxRows } from '../../core/metrics.ts';
import type { Fer2013Data } from '../data/fer2013.ts';
import { buildReport, writeReportFiles } from '../report/report.ts';
import { publishModelDir } from '../util/publish-model.ts';
import { lossAndAccuracy, predictProbs } from '../../learn/predict.ts';
import { saveLayersModel } from './model-io.ts';
import type { TrainCnnOptions, TrainCnnResult } from './options.ts';
import { readBestWeights, type CheckpointState } from './run-checkpoint.ts';

export interface FinishedRun {
  o: TrainCnnOptions;
  model: tf.LayersModel;
  data: Fer2013Data;
  state: CheckpointState;
  dataPath: string;
  /** Checked before training (assertPublishableOut). */
  outDir: string;
  /** The training backend's name, e.g. 'wasm'. */
  backend: string;
  params: number;
}

/** Scores the best epoch on PrivateTest and publishes the model folder (model, report, charts). */
export async function publishBestEpoch(r: FinishedRun): Promise<TrainCnnResult> {
  const { o, model, data, state } = r;
  const best = await readBestWeights(o.checkpointDir, state);
  model.setWeights(best.map((w, i) => tf.tensor(w, state.weightShapes[i])));
  const plain = predictProbs(model, data.test.pixels, data.test.count, false);
  const accuracyNoTta = lossAndAccuracy(plain, data.test.labels, data.test.count).acc;
  const probs = o.tta ? predictProbs(model, data.test.pixels, data.test.count, true) : plain;
  const yPred = argmaxRows(probs, NUM_CLASSES);
  const imagesPerSec = state.imagesSeen / Math.max(1e-9, state.trainSeconds);
  const report = buildReport({
    id: o.id,
    name: o.name,
    kind: 'cnn',
    arch: o.arch + (o.widths ? ` (widths ${o.widths.join(',')})` : ''),
    datasetPath: r.dataPath,
    splits: { train: data.train.count, val: data.val.count, test: data.test.count },
    yTrue: data.test.labels,
    yPred,
    labels: EMOTIONS,
    epochs: state.epochsDone,
    bestEpoch: state.bestEpoch,
    wallTimeSec: Math.round(state.trainSeconds),
    imagesPerSec: Math.round(imagesPerSec),
    backend: `${r.backend} x${o.workers} workers`,
    params: r.params,
    tta: o.tta,
    history: state.history,
    notes:
      `accuracy without test-time flip: ${accuracyNoTta.toFixed(4)}; best PublicTest accuracy ${state.bestValAcc.toFixed(4)} at epoch ${state.bestEpoch}; ` +
      `batch ${o.batchSize}, lr ${o.lr} ${o.schedule}, label smoothing ${o.labelSmoothing}, augmentation ${o.augment ? `${o.expressionWarp ? `expression warp toward neutral (kept ${o.expressionWarp.low}-${o.expressionWarp.high}, half the non-neutral images), ` : ''}rotation 10deg, shift 10%, zoom 10%, flip${o.photometric ? ', photometric (light, contrast, gamma, blur, down-up scaling, noise, erasing)' : ''}` : 'off'}` +
      `${o.crops ? `, app pipeline crops with probability ${o.cropMix ?? 0.5}` : ''}${o.balance ? `, class-balanced loss (power ${o.balance})` : ''}${o.distill ? `, distilled from ${o.distill.teachers.join(' + ')} (weight ${o.distill.weight})` : ''}${o.mixup ? `, mixup (alpha ${o.mixup})` : ''}${o.partMask ? `, half the face hidden with probability ${o.partMask}` : ''}${o.init ? `, started from ${o.init}` : ''}, seed ${o.seed}`,
  });
  const extra = {
    accuracyNoTta,
    bestValAcc: state.bestValAcc,
    batchSize: o.batchSize,
    lr: o.lr,
    schedule: o.schedule,
    labelSmoothing: o.labelSmoothing,
    augment: o.augment,
    seed: o.seed,
    photometric: o.photometric ?? false,
    crops: o.crops ?? false,
    cropMix: o.crops ? (o.cropMix ?? 0.5) : 0,
    balance: o.balance ?? 0,
    expressionWarp: o.expressionWarp ? `${o.expressionWarp.low}-${o.expressionWarp.high}` : null,
    distill: o.distill ?? null,
    mixup: o.mixup ?? null,
    partMask: o.partMask ?? null,
    init: o.init ?? null,
  };
  await publishModelDir(
    r.outDir,
    async (tmp) => {
      await saveLayersModel(model, tmp);
      await writeReportFiles(tmp, { ...report, ...extra } as typeof report, state.history);
    },
    {
      log: o.log,
      manifestEntry:
        (o.manifest ?? true)
          ? { id: o.id, name: o.name, kind: 'cnn', input: cnnInput({ size: 48, tta: o.tta ? 'hflip-mean' : 'none' }) }
          : undefined,
    },
  );
  o.log(
    `PrivateTest accuracy ${report.accuracy.toFixed(4)}${o.tta ? ` with flip TTA (${accuracyNoTta.toFixed(4)} without)` : ''}; macro F1 ${report.macroAvg.f1.toFixed(4)}`,
  );
  o.log(`wrote ${r.outDir} (model.json, weights.bin, report.json, confusion.svg, curves.svg)`);
  return { accuracy: report.accuracy, accuracyNoTta, bestEpoch: state.bestEpoch, epochs: state.epochsDone, imagesPerSec, outDir: r.outDir };
}
