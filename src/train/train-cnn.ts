/**
 * FER2013 CNN training: data-parallel workers, per-epoch validation on PublicTest, best-weights
 * selection, early stopping, resumable checkpoints, and a final PrivateTest report.
 */
import * as tf from '@tensorflow/tfjs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
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
import { CheckpointError, clearCheckpoint, dataFingerprint, describeCheckpoint, readCheckpoint, readCheckpointEpoch, writeCheckpoint, type DataFingerprint } from './checkpoint.ts';
import { UsageError } from './cli-args.ts';
import { assertPublishableOut, OutFolderRefused, publishModelDir } from './publish-model.ts';
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
  /** Model folder: new, empty, or a model folder (see publish-model.ts); replaced only when a run finishes. */
  out: string;
  checkpointDir: string;
  resume: boolean;
  /** Start over although checkpointDir holds a checkpoint (deleted when the first new epoch is saved). */
  fresh?: boolean;
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

/** Everything that changes what a run computes; --resume refuses a checkpoint made with other values. */
interface CheckpointSettings extends Pick<TrainCnnOptions, 'arch' | 'widths' | 'batchSize' | 'lr' | 'schedule' | 'labelSmoothing' | 'augment' | 'seed'> {
  limit: number | null;
  data: DataFingerprint;
}

/** The CLI option for each setting, for messages. */
const SETTING_FLAGS: Record<keyof CheckpointSettings, string> = {
  arch: '--arch', widths: '--widths', batchSize: '--batch-size', lr: '--lr', schedule: '--schedule',
  labelSmoothing: '--label-smoothing', augment: '--no-augment', seed: '--seed', limit: '--limit', data: '--data',
};

interface CheckpointState {
  version: 2;
  settings: CheckpointSettings;
  epochs: number;
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

function overlaps(a: string, b: string): boolean {
  const inside = (child: string, parent: string) => {
    const rel = relative(parent, child);
    return rel === '' || (rel.split(sep)[0] !== '..' && !isAbsolute(rel));
  };
  return inside(a, b) || inside(b, a);
}

/** The settings that differ, as "--flag saved -> now" phrases. */
function settingDifferences(saved: CheckpointSettings, now: CheckpointSettings): string[] {
  const diffs: string[] = [];
  for (const key of Object.keys(SETTING_FLAGS) as (keyof CheckpointSettings)[]) {
    if (key === 'data') {
      const a = saved.data;
      const b = now.data;
      if (a?.bytes !== b.bytes || a?.headTailSha256 !== b.headTailSha256) {
        diffs.push(`--data ${a?.path} (${a?.bytes} bytes) -> ${b.path} (${b.bytes} bytes${a?.bytes === b.bytes ? ', other content' : ''})`);
      }
    } else if (JSON.stringify(saved[key] ?? null) !== JSON.stringify(now[key] ?? null)) {
      const show = (v: unknown) => (v === null || v === undefined ? 'unset' : Array.isArray(v) ? v.join(',') : String(v));
      diffs.push(`${SETTING_FLAGS[key]} ${show(saved[key])} -> ${show(now[key])}`);
    }
  }
  return diffs;
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
  // Every refusal comes before loading data and training: nothing is lost and no time is wasted.
  const outDir = resolve(o.out);
  await assertPublishableOut(outDir, { manifest: o.manifest ?? true, log });
  if (overlaps(outDir, resolve(o.checkpointDir))) {
    throw new OutFolderRefused(`--out ${outDir} and --checkpoint ${resolve(o.checkpointDir)} overlap; publishing would replace the checkpoint. Give them separate folders`);
  }
  if (o.resume && o.fresh) throw new UsageError('--resume continues the checkpoint and --fresh deletes it; give one of them');
  const settings: CheckpointSettings = {
    arch: o.arch, widths: o.widths, batchSize: o.batchSize, lr: o.lr, schedule: o.schedule, labelSmoothing: o.labelSmoothing,
    augment: o.augment, seed: o.seed, limit: o.limit ?? null, data: await dataFingerprint(dataPath),
  };
  const existing = await describeCheckpoint(o.checkpointDir);
  if (existing && !o.resume && !o.fresh) {
    throw new UsageError(`${o.checkpointDir} already holds ${existing}; continue it with --resume, ` +
      `start over with --fresh (deletes it), or give another --checkpoint folder`);
  }
  const saved = o.resume ? await readCheckpoint<CheckpointState>(o.checkpointDir) : undefined;
  if (saved) {
    if (saved.state.version !== 2 || typeof saved.state.settings !== 'object') {
      throw new CheckpointError(`${o.checkpointDir}: the checkpoint's state.json is not a CNN training state (version 2); start over with --fresh`);
    }
    const diffs = settingDifferences(saved.state.settings, settings);
    if (diffs.length > 0) {
      throw new UsageError(`--resume: the checkpoint in ${o.checkpointDir} was made with different settings ` +
        `(${diffs.join('; ')}); rerun with the checkpoint's settings, or start over with --fresh`);
    }
    // Fail now, not after the last epoch, if the best epoch's folder is damaged.
    if (saved.state.bestEpoch !== saved.epoch) await readCheckpointEpoch(o.checkpointDir, saved.state.bestEpoch);
  }
  let clearOld = Boolean(existing && o.fresh);

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

  let state: CheckpointState = {
    version: 2, settings, epochs: o.epochs,
    epochsDone: 0, globalStep: 0, bestEpoch: 0, bestValAcc: -1, history: [], trainSeconds: 0, imagesSeen: 0,
    weightShapes: model.getWeights().map((w) => w.shape), optimizer: [],
  };
  let initialWeights = model.getWeights().map((w) => w.dataSync() as Float32Array);
  let initialOptimizer: NamedArray[] | undefined;
  if (saved) {
    // Settings matched above; the data path may have moved (same content), so record the current one.
    state = { ...saved.state, settings, epochs: o.epochs };
    initialWeights = split(saved.files['weights.bin']!, state.weightShapes);
    const optData = split(saved.files['optimizer.bin']!, state.optimizer.map((s) => s.shape));
    initialOptimizer = state.optimizer.map((s, i) => ({ name: s.name, shape: s.shape, data: optData[i] }));
    log(`resuming after epoch ${state.epochsDone} (best val acc ${state.bestValAcc.toFixed(4)} at epoch ${state.bestEpoch})`);
  } else if (o.resume) {
    log(`--resume: no checkpoint in ${o.checkpointDir}; starting from scratch`);
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
      }
      const optimizer = await pool.getOptimizerState();
      state.optimizer = optimizer.map((s) => ({ name: s.name, shape: s.shape }));
      state.epochsDone = epoch;
      if (clearOld) {
        // --fresh: the old checkpoint goes only now, so an early Ctrl-C still leaves it.
        await clearCheckpoint(o.checkpointDir);
        clearOld = false;
      }
      // One unit per epoch: the best weights are that epoch's weights, kept with its folder.
      await writeCheckpoint(o.checkpointDir, epoch, { 'weights.bin': concat(weights), 'optimizer.bin': concat(optimizer.map((s) => s.data)) },
        state, [epoch - 1, state.bestEpoch]);
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
  const best = split((await readCheckpointEpoch<CheckpointState>(o.checkpointDir, state.bestEpoch)).files['weights.bin']!, state.weightShapes);
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
  await publishModelDir(outDir, async (tmp) => {
    await saveLayersModel(model, tmp);
    await writeReportFiles(tmp, { ...report, ...extra } as typeof report, state.history);
  }, {
    log,
    manifestEntry: (o.manifest ?? true)
      ? { id: o.id, name: o.name, kind: 'cnn', input: { shape: [null, 48, 48, 1], dtype: 'float32', color: 'gray', range: [0, 1], size: 48, tta: o.tta ? 'hflip-mean' : 'none' } }
      : undefined,
  });
  log(`PrivateTest accuracy ${report.accuracy.toFixed(4)}${o.tta ? ` with flip TTA (${accuracyNoTta.toFixed(4)} without)` : ''}; macro F1 ${report.macroAvg.f1.toFixed(4)}`);
  log(`wrote ${outDir} (model.json, weights.bin, report.json, confusion.svg, curves.svg)`);
  model.dispose();
  return { accuracy: report.accuracy, accuracyNoTta, bestEpoch: state.bestEpoch, epochs: state.epochsDone, imagesPerSec, outDir };
}

/** Deletes a checkpoint (only our files in `dir`, and `dir` if that empties it). */
export async function removeCheckpoint(dir: string): Promise<void> {
  await clearCheckpoint(dir);
}
