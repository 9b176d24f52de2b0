/**
 * FER2013 CNN training: data-parallel workers, per-epoch validation on PublicTest, best-weights
 * selection, early stopping, resumable checkpoints, and a final PrivateTest report.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { EMOTIONS, NUM_CLASSES } from '../core/labels.ts';
import { buildArch } from '../core/models/architectures.ts';
import { argmaxRows } from '../core/metrics.ts';
import { NO_AUGMENTATION, REFERENCE_AUGMENTATION, shuffledIndices } from './augment.ts';
import { chooseBackend, type TrainBackend } from './backend.ts';
import { describeLoad, loadFer2013, resolveFer2013Path, type Fer2013Data } from './fer2013.ts';
import { lossAndAccuracy, predictProbs } from './evaluate.ts';
import { saveLayersModel } from './model-io.ts';
import { TrainingPool } from './parallel/pool.ts';
import type { NamedArray } from './parallel/protocol.ts';
import { buildReport, writeReportFiles, type HistoryPoint } from './report.ts';
import { replaceDirAtomic, writeFileAtomic } from './atomic.ts';
import { updateManifest } from './manifest.ts';
import { formatDuration } from './progress.ts';

export interface TrainCnnOptions {
  arch: string;
  widths?: number[];
  epochs: number;
  batchSize: number;
  lr: number;
  /** 'cosine': linear warm-up over the first epoch, then cosine decay to 0 at the last epoch. */
  schedule: 'constant' | 'cosine';
  labelSmoothing: number;
  augment: boolean;
  tta: boolean;
  patience: number;
  out: string;
  checkpointDir: string;
  resume: boolean;
  data?: string;
  workers: number;
  seed: number;
  backend: 'auto' | TrainBackend;
  fastKernels: boolean;
  /** Keep at most this many rows per split (quick runs and tests). */
  limit?: number;
  /** Stop starting new epochs after this many seconds (the best model so far is still written). */
  timeBudgetSec?: number;
  id: string;
  name: string;
  log: (line: string) => void;
  /** Write models/index.json next to `out` (default true). */
  manifest?: boolean;
  /** Aborting it acts like Ctrl-C: finish the step, keep the checkpoint, leave `out` untouched. */
  signal?: AbortSignal;
}

interface CheckpointState {
  version: 1;
  options: Pick<TrainCnnOptions, 'arch' | 'widths' | 'epochs' | 'batchSize' | 'lr' | 'schedule' | 'labelSmoothing' | 'augment' | 'seed'>;
  epochsDone: number;
  globalStep: number;
  bestEpoch: number;
  bestValAcc: number;
  history: HistoryPoint[];
  trainSeconds: number;
  imagesSeen: number;
  weightShapes: number[][];
  optimizer: { name: string; shape: number[] }[];
}

/** Thrown when Ctrl-C stopped a run; the checkpoint is kept and the model folder untouched. */
export class TrainingInterrupted extends Error {
  override name = 'TrainingInterrupted';
}

export interface TrainCnnResult {
  accuracy: number;
  accuracyNoTta: number;
  bestEpoch: number;
  epochs: number;
  imagesPerSec: number;
  outDir: string;
}

function concat(arrays: Float32Array[]): Uint8Array {
  const total = arrays.reduce((a, b) => a + b.length, 0);
  const out = new Float32Array(total);
  let off = 0;
  for (const a of arrays) { out.set(a, off); off += a.length; }
  return new Uint8Array(out.buffer);
}

function split(buf: Buffer, shapes: number[][]): Float32Array[] {
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const out: Float32Array[] = [];
  let off = 0;
  for (const s of shapes) {
    const n = s.reduce((a, b) => a * b, 1);
    out.push(all.slice(off, off + n));
    off += n;
  }
  if (off !== all.length) throw new Error(`checkpoint size mismatch: expected ${off} floats, found ${all.length}`);
  return out;
}

export function learningRate(o: Pick<TrainCnnOptions, 'lr' | 'schedule' | 'epochs'>, step: number, stepsPerEpoch: number): number {
  if (o.schedule === 'constant') return o.lr;
  const warm = stepsPerEpoch;
  if (step < warm) return (o.lr * (step + 1)) / warm;
  const total = Math.max(1, o.epochs * stepsPerEpoch - warm);
  const t = Math.min(1, (step - warm) / total);
  return 0.5 * o.lr * (1 + Math.cos(Math.PI * t));
}

export async function trainCnn(o: TrainCnnOptions): Promise<TrainCnnResult> {
  const log = o.log;
  const backend = await chooseBackend(o.backend, o.fastKernels);
  log(`${backend.description}; ${o.workers} data-parallel worker(s)`);

  const dataPath = resolveFer2013Path(o.data);
  log(`loading FER2013 from ${dataPath} ...`);
  const t0 = performance.now();
  const data: Fer2013Data = await loadFer2013(dataPath, { limitPerSplit: o.limit });
  log(`${describeLoad(data)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  if (data.train.count === 0 || data.val.count === 0 || data.test.count === 0) {
    throw new Error(`${dataPath}: each of Training, PublicTest and PrivateTest needs at least one row`);
  }

  const model = buildArch(o.arch, o.seed, o.widths);
  const params = model.countParams();
  log(`arch ${o.arch}${o.widths ? ` widths ${o.widths.join(',')}` : ''}: ${params.toLocaleString('en')} parameters`);

  await mkdir(o.checkpointDir, { recursive: true });
  const statePath = join(o.checkpointDir, 'state.json');
  let state: CheckpointState = {
    version: 1,
    options: { arch: o.arch, widths: o.widths, epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, schedule: o.schedule, labelSmoothing: o.labelSmoothing, augment: o.augment, seed: o.seed },
    epochsDone: 0, globalStep: 0, bestEpoch: 0, bestValAcc: -1, history: [], trainSeconds: 0, imagesSeen: 0,
    weightShapes: model.getWeights().map((w) => w.shape), optimizer: [],
  };
  let initialWeights = model.getWeights().map((w) => w.dataSync() as Float32Array);
  let initialOptimizer: NamedArray[] | undefined;
  if (o.resume) {
    if (!existsSync(statePath)) {
      log(`--resume: no checkpoint in ${o.checkpointDir}; starting from scratch`);
    } else {
      const saved = JSON.parse(await readFile(statePath, 'utf8')) as CheckpointState;
      const same = JSON.stringify({ ...saved.options, epochs: 0 }) === JSON.stringify({ ...state.options, epochs: 0 });
      if (!same) {
        throw new Error(`--resume: the checkpoint in ${o.checkpointDir} was made with different settings ` +
          `(${JSON.stringify(saved.options)}); rerun with those settings or delete the folder to start again`);
      }
      state = { ...saved, options: { ...saved.options, epochs: o.epochs } };
      initialWeights = split(await readFile(join(o.checkpointDir, 'last.weights.bin')), saved.weightShapes);
      const optData = split(await readFile(join(o.checkpointDir, 'last.optimizer.bin')), saved.optimizer.map((s) => s.shape));
      initialOptimizer = saved.optimizer.map((s, i) => ({ name: s.name, shape: s.shape, data: optData[i] }));
      log(`resuming after epoch ${state.epochsDone} (best val acc ${state.bestValAcc.toFixed(4)} at epoch ${state.bestEpoch})`);
    }
  }

  const pool = await TrainingPool.start({
    workers: o.workers, arch: o.arch, widths: o.widths, seed: o.seed, backend: o.backend, fastKernels: o.fastKernels,
    labelSmoothing: o.labelSmoothing, augment: o.augment ? REFERENCE_AUGMENTATION : NO_AUGMENTATION,
    pixels: data.train.pixels, labels: data.train.labels,
  });
  const stop = { requested: false };
  const onSigint = () => {
    if (stop.requested) process.exit(130);
    stop.requested = true;
    log('\nCtrl-C: finishing this step, keeping the last completed epoch\'s checkpoint (press again to quit at once)');
  };
  process.on('SIGINT', onSigint);
  const onAbort = () => { stop.requested = true; };
  o.signal?.addEventListener('abort', onAbort);
  if (o.signal?.aborted) stop.requested = true;

  try {
    await pool.setWeights(initialWeights, initialOptimizer);
    const nTrain = data.train.count;
    const stepsPerEpoch = Math.ceil(nTrain / o.batchSize);
    const runStart = performance.now();
    for (let epoch = state.epochsDone + 1; epoch <= o.epochs && !stop.requested; epoch++) {
      if (o.timeBudgetSec !== undefined && (performance.now() - runStart) / 1000 > o.timeBudgetSec) {
        log(`time budget of ${o.timeBudgetSec} s reached; stopping before epoch ${epoch}`);
        break;
      }
      const order = shuffledIndices(nTrain, o.seed * 1000 + epoch);
      const epochStart = performance.now();
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      let lastPrint = epochStart;
      for (let s = 0; s < stepsPerEpoch && !stop.requested; s++) {
        const rows = order.subarray(s * o.batchSize, Math.min(nTrain, (s + 1) * o.batchSize));
        const lr = learningRate(o, state.globalStep, stepsPerEpoch);
        const next = s + 1 < stepsPerEpoch
          ? { rows: order.subarray((s + 1) * o.batchSize, Math.min(nTrain, (s + 2) * o.batchSize)), stepSeed: o.seed * 1_000_003 + state.globalStep + 1 }
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
          log(`  epoch ${epoch} ${((100 * seen) / nTrain).toFixed(0)}%: loss ${(lossSum / seen).toFixed(4)} acc ${(correct / seen).toFixed(4)} ${ips.toFixed(0)} img/s, epoch ETA ${formatDuration(left)}`);
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
        await writeFileAtomic(join(o.checkpointDir, 'best.weights.bin'), concat(weights));
      }
      const optimizer = await pool.getOptimizerState();
      state.optimizer = optimizer.map((s) => ({ name: s.name, shape: s.shape }));
      await writeFileAtomic(join(o.checkpointDir, 'last.weights.bin'), concat(weights));
      await writeFileAtomic(join(o.checkpointDir, 'last.optimizer.bin'), concat(optimizer.map((s) => s.data)));
      state.epochsDone = epoch;
      await writeFileAtomic(statePath, JSON.stringify(state, null, 1));
      const ips = seen / trainSec;
      const remaining = o.epochs - epoch;
      const perEpoch = (performance.now() - epochStart) / 1000;
      log(`epoch ${epoch}/${o.epochs}: loss ${point.loss.toFixed(4)} acc ${point.acc.toFixed(4)} | val loss ${val.loss.toFixed(4)} val acc ${val.acc.toFixed(4)}${improved ? ' (best)' : ''} | ${ips.toFixed(0)} img/s | lr ${learningRate(o, state.globalStep - 1, stepsPerEpoch).toExponential(2)} | ETA ${formatDuration(remaining * perEpoch)}`);
      if (epoch - state.bestEpoch >= o.patience) {
        log(`early stopping: no val accuracy gain for ${o.patience} epochs (best ${state.bestValAcc.toFixed(4)} at epoch ${state.bestEpoch})`);
        break;
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
    o.signal?.removeEventListener('abort', onAbort);
    await pool.close();
  }
  if (stop.requested) {
    // The model folder is left exactly as it was: an interrupted run never replaces a finished model.
    throw new TrainingInterrupted(state.epochsDone === 0
      ? `interrupted before the first epoch completed; ${o.out} untouched`
      : `interrupted; checkpoint after epoch ${state.epochsDone} kept in ${o.checkpointDir} (continue with --resume); ${o.out} untouched`);
  }
  if (state.epochsDone === 0) throw new Error('no epoch completed; nothing to write');

  // Final evaluation of the best epoch's weights on PrivateTest.
  const best = split(await readFile(join(o.checkpointDir, 'best.weights.bin')), state.weightShapes);
  model.setWeights(best.map((w, i) => tf.tensor(w, state.weightShapes[i])));
  const plain = predictProbs(model, data.test.pixels, data.test.count, false);
  const accuracyNoTta = lossAndAccuracy(plain, data.test.labels, data.test.count).acc;
  const probs = o.tta ? predictProbs(model, data.test.pixels, data.test.count, true) : plain;
  const yPred = argmaxRows(probs, NUM_CLASSES);
  const imagesPerSec = state.imagesSeen / Math.max(1e-9, state.trainSeconds);
  const report = buildReport({
    id: o.id, name: o.name, kind: 'cnn', arch: o.arch + (o.widths ? ` (widths ${o.widths.join(',')})` : ''),
    datasetPath: dataPath, splits: { train: data.train.count, val: data.val.count, test: data.test.count },
    yTrue: data.test.labels, yPred, labels: EMOTIONS, epochs: state.epochsDone, bestEpoch: state.bestEpoch,
    wallTimeSec: Math.round(state.trainSeconds), imagesPerSec: Math.round(imagesPerSec), backend: `${backend.name} x${o.workers} workers`,
    params, tta: o.tta, history: state.history,
    notes: `accuracy without test-time flip: ${accuracyNoTta.toFixed(4)}; best PublicTest accuracy ${state.bestValAcc.toFixed(4)} at epoch ${state.bestEpoch}; ` +
      `batch ${o.batchSize}, lr ${o.lr} ${o.schedule}, label smoothing ${o.labelSmoothing}, augmentation ${o.augment ? 'rotation 10deg, shift 10%, zoom 10%, flip' : 'off'}, seed ${o.seed}`,
  });
  const extra = { accuracyNoTta, bestValAcc: state.bestValAcc, batchSize: o.batchSize, lr: o.lr, schedule: o.schedule, labelSmoothing: o.labelSmoothing, augment: o.augment, seed: o.seed };
  const outDir = resolve(o.out);
  await mkdir(resolve(outDir, '..'), { recursive: true });
  await replaceDirAtomic(outDir, async (tmp) => {
    await saveLayersModel(model, tmp);
    await writeReportFiles(tmp, { ...report, ...extra } as typeof report, state.history);
  });
  if (o.manifest ?? true) {
    await updateManifest(resolve(outDir, '..'), {
      id: o.id, name: o.name, kind: 'cnn', path: `${basename(outDir)}/model.json`, report: `${basename(outDir)}/report.json`,
      input: { shape: [null, 48, 48, 1], dtype: 'float32', color: 'gray', range: [0, 1], size: 48, tta: o.tta ? 'hflip-mean' : 'none' },
    });
  }
  log(`PrivateTest accuracy ${report.accuracy.toFixed(4)}${o.tta ? ` with flip TTA (${accuracyNoTta.toFixed(4)} without)` : ''}; macro F1 ${report.macroAvg.f1.toFixed(4)}`);
  log(`wrote ${outDir} (model.json, weights.bin, report.json, confusion.svg, curves.svg)`);
  model.dispose();
  return { accuracy: report.accuracy, accuracyNoTta, bestEpoch: state.bestEpoch, epochs: state.epochsDone, imagesPerSec, outDir };
}

/** Deletes a checkpoint folder (after a successful run, when asked). */
export async function removeCheckpoint(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
