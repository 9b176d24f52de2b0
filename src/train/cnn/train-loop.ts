/**
 * The epoch loop of CNN training: data-parallel steps on the worker pool, then per epoch a
 * PublicTest validation, the best-epoch bookkeeping, one checkpoint unit and early stopping.
 */
import * as tf from '@tensorflow/tfjs';
import type { HistoryPoint } from '../../core/contracts/index.ts';
import type { Fer2013Data } from '../data/fer2013.ts';
import { formatDuration } from '../util/progress.ts';
import { mulberry32, shuffledIndices } from '../../core/random.ts';
import { clearCheckpoint } from './checkpoint.ts';
import { lossAndAccuracy, predictProbs } from '../../learn/predict.ts';
import type { TrainCnnOptions } from './options.ts';
import type { TrainingPool } from './parallel/pool.ts';
import { saveEpoch, type CheckpointState } from './run-checkpoint.ts';

export function learningRate(o: Pick<TrainCnnOptions, 'lr' | 'schedule' | 'epochs'>, step: number, stepsPerEpoch: number): number {
  if (o.schedule === 'constant') return o.lr;
  const warm = stepsPerEpoch;
  if (step < warm) return (o.lr * (step + 1)) / warm;
  const total = Math.max(1, o.epochs * stepsPerEpoch - warm);
  const t = Math.min(1, (step - warm) / total);
  return 0.5 * o.lr * (1 + Math.cos(Math.PI * t));
}

export interface EpochLoop {
  o: TrainCnnOptions;
  pool: TrainingPool;
  /** Holds each epoch's weights for validation (the pool's workers hold the training copies). */
  model: tf.LayersModel;
  data: Fer2013Data;
  /** Updated in place after every epoch (and saved with it). */
  state: CheckpointState;
  /** Set by Ctrl-C or the abort signal: the loop finishes the step and returns. */
  stop: { requested: boolean };
  /** --fresh over an old checkpoint: deleted just before the first new epoch is saved. */
  clearOld: boolean;
  /** With pipeline crops (o.crops): 1 where training image i has a crop, stored at row i + count. */
  hasCrop?: Uint8Array;
}

/**
 * Replaces, in place, each image i of `order` that has a crop by its crop row (i + n) with
 * probability `mix` (seeded), so an epoch sees every image once, in one of its two framings.
 */
export function pickCropRows(order: Int32Array, hasCrop: Uint8Array, mix: number, seed: number): void {
  const n = hasCrop.length;
  const rand = mulberry32(seed);
  for (let i = 0; i < order.length; i++) {
    const row = order[i]!;
    if (hasCrop[row] && rand() < mix) order[i] = row + n;
  }
}

/**
 * Trains from epoch state.epochsDone + 1 until o.epochs, early stopping, the time budget or a stop
 * request. Every completed epoch is in the checkpoint when this returns; an interrupted one is not.
 */
export async function runEpochs(l: EpochLoop): Promise<void> {
  const { o, pool, model, data, state, stop } = l;
  const log = o.log;
  let clearOld = l.clearOld;
  const nTrain = data.train.count;
  const stepsPerEpoch = Math.ceil(nTrain / o.batchSize);
  const runStart = performance.now();
  for (let epoch = state.epochsDone + 1; epoch <= o.epochs && !stop.requested; epoch++) {
    if (o.timeBudgetSec !== undefined && (performance.now() - runStart) / 1000 > o.timeBudgetSec) {
      log(`time budget of ${o.timeBudgetSec} s reached; stopping before epoch ${epoch}`);
      break;
    }
    const order = shuffledIndices(nTrain, o.seed * 1000 + epoch);
    if (l.hasCrop) pickCropRows(order, l.hasCrop, o.cropMix ?? 0.5, o.seed * 7919 + epoch);
    const epochStart = performance.now();
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    let lastPrint = epochStart;
    for (let s = 0; s < stepsPerEpoch && !stop.requested; s++) {
      const rows = order.subarray(s * o.batchSize, Math.min(nTrain, (s + 1) * o.batchSize));
      const lr = learningRate(o, state.globalStep, stepsPerEpoch);
      const next =
        s + 1 < stepsPerEpoch
          ? {
              rows: order.subarray((s + 1) * o.batchSize, Math.min(nTrain, (s + 2) * o.batchSize)),
              stepSeed: o.seed * 1_000_003 + state.globalStep + 1,
            }
          : undefined;
      const r = await pool.step(rows, lr, o.seed * 1_000_003 + state.globalStep, next);
      state.globalStep++;
      lossSum += r.loss * r.n;
      correct += r.correct;
      seen += r.n;
      const now = performance.now();
      if (now - lastPrint > 30_000) {
        lastPrint = now;
        const ips = seen / ((now - epochStart) / 1000);
        const left = (nTrain - seen) / ips;
        log(
          `  epoch ${epoch} ${((100 * seen) / nTrain).toFixed(0)}%: loss ${(lossSum / seen).toFixed(4)} acc ${(correct / seen).toFixed(4)} ${ips.toFixed(0)} img/s, epoch ETA ${formatDuration(left)}`,
        );
      }
    }
    if (stop.requested) break;
    const trainSec = (performance.now() - epochStart) / 1000;
    state.trainSeconds += trainSec;
    state.imagesSeen += seen;
    const weights = await pool.getWeights();
    model.setWeights(weights.map((w, i) => tf.tensor(w, state.weightShapes[i])));
    const valProbs = predictProbs(model, data.val.pixels, data.val.count, false);
    const val = lossAndAccuracy(valProbs, data.val.labels, data.val.count);
    const point: HistoryPoint = { epoch, loss: lossSum / seen, acc: correct / seen, valLoss: val.loss, valAcc: val.acc };
    state.history.push(point);
    const improved = val.acc > state.bestValAcc;
    if (improved) {
      state.bestValAcc = val.acc;
      state.bestEpoch = epoch;
    }
    const optimizer = await pool.getOptimizerState();
    state.optimizer = optimizer.map((s) => ({ name: s.name, shape: s.shape }));
    state.epochsDone = epoch;
    if (clearOld) {
      // --fresh: the old checkpoint goes only now, so an early Ctrl-C still leaves it.
      await clearCheckpoint(o.checkpointDir);
      clearOld = false;
    }
    await saveEpoch(
      o.checkpointDir,
      epoch,
      weights,
      optimizer.map((s) => s.data),
      state,
    );
    const ips = seen / trainSec;
    const remaining = o.epochs - epoch;
    const perEpoch = (performance.now() - epochStart) / 1000;
    log(
      `epoch ${epoch}/${o.epochs}: loss ${point.loss.toFixed(4)} acc ${point.acc.toFixed(4)} | val loss ${val.loss.toFixed(4)} val acc ${val.acc.toFixed(4)}${improved ? ' (best)' : ''} | ${ips.toFixed(0)} img/s | lr ${learningRate(o, state.globalStep - 1, stepsPerEpoch).toExponential(2)} | ETA ${formatDuration(remaining * perEpoch)}`,
    );
    if (epoch - state.bestEpoch >= o.patience) {
      log(
        `early stopping: no val accuracy gain for ${o.patience} epochs (best ${state.bestValAcc.toFixed(4)} at epoch ${state.bestEpoch})`,
      );
      break;
    }
  }
}
