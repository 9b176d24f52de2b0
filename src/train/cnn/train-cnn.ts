/**
 * FER2013 CNN training: data-parallel workers, per-epoch validation on PublicTest, best-weights
 * selection, early stopping, resumable checkpoints, and a final PrivateTest report. This module
 * checks and sets up a run; the epoch loop is train-loop.ts, what the checkpoint holds
 * run-checkpoint.ts (on disk: checkpoint.ts), the scoring and publishing final-report.ts.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { describeLoad, loadFer2013, resolveFer2013Path, type Fer2013Data } from '../data/fer2013.ts';
import { chooseBackend } from '../kernels/backend.ts';
import { UsageError } from '../util/cli-args.ts';
import { assertPublishableOut, OutFolderRefused } from '../util/publish-model.ts';
import { buildArch } from './architectures.ts';
import { NO_AUGMENTATION, PHOTOMETRIC_AUGMENTATION, REFERENCE_AUGMENTATION, type AugmentOptions } from '../../learn/augment.ts';
import { classWeightsOf, loadPipelineCrops, withCrops } from '../data/crop-data.ts';
import { neutralTemplate, requireExtractionCache, rowsWithKeypoints, trainingKeypoints } from '../data/keypoints.ts';
import { readChunks } from '../extract/cache.ts';
import { loadLayersModel } from './model-io.ts';
import { predictProbs } from '../../learn/predict.ts';
import { NUM_CLASSES } from '../../core/labels.ts';
import { dataFingerprint } from './checkpoint.ts';
import { publishBestEpoch } from './final-report.ts';
import type { TrainCnnOptions, TrainCnnResult } from './options.ts';
import { TrainingPool } from './parallel/pool.ts';
import type { NamedArray } from './parallel/protocol.ts';
import { openRunCheckpoint, unpackFloats, type CheckpointSettings, type CheckpointState } from './run-checkpoint.ts';
import { runEpochs } from './train-loop.ts';

export type { TrainCnnOptions, TrainCnnResult } from './options.ts';

/** Share of eligible images the expression warp softens: the rest keep their full expression. */
export const EXPRESSION_WARP_PROB = 0.5;

/** Thrown when Ctrl-C stopped a run; the checkpoint is kept and the model folder untouched. */
export class TrainingInterrupted extends Error {
  override name = 'TrainingInterrupted';
}

function overlaps(a: string, b: string): boolean {
  const inside = (child: string, parent: string) => {
    const rel = relative(parent, child);
    return rel === '' || (rel.split(sep)[0] !== '..' && !isAbsolute(rel));
  };
  return inside(a, b) || inside(b, a);
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
    throw new OutFolderRefused(
      `--out ${outDir} and --checkpoint ${resolve(o.checkpointDir)} overlap; publishing would replace the checkpoint. Give them separate folders`,
    );
  }
  const settings: CheckpointSettings = {
    arch: o.arch,
    widths: o.widths,
    batchSize: o.batchSize,
    lr: o.lr,
    schedule: o.schedule,
    labelSmoothing: o.labelSmoothing,
    augment: o.augment,
    seed: o.seed,
    limit: o.limit ?? null,
    data: await dataFingerprint(dataPath),
    init: o.init,
    crops: o.crops,
    cropMix: o.crops ? (o.cropMix ?? 0.5) : undefined,
    photometric: o.photometric,
    balance: o.balance,
    expressionWarp: o.expressionWarp,
    distill: o.distill,
    mixup: o.mixup,
    partMask: o.partMask,
  };
  if (o.init && !existsSync(join(o.init, 'model.json'))) {
    throw new UsageError(`--init ${o.init}: no model.json there; give a model folder of the same architecture, e.g. models/fer-cnn`);
  }
  if (o.expressionWarp && !o.augment) throw new UsageError('--expression-warp and --no-augment contradict each other');
  if (o.mixup && !o.augment) throw new UsageError('--mixup and --no-augment contradict each other');
  if (o.partMask && !o.augment) throw new UsageError('--part-mask and --no-augment contradict each other');
  for (const t of o.distill?.teachers ?? []) {
    if (!existsSync(join(t, 'model.json')))
      throw new UsageError(`--distill ${t}: no model.json there; give CNN model folders, e.g. models/fer-cnn`);
  }
  const { saved, clearOld } = await openRunCheckpoint(o, settings);
  // The warp's landmarks come from the extraction cache, which this run does not make.
  const landmarkCache = o.expressionWarp ? await requireExtractionCache(dataPath) : undefined;

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
    version: 2,
    settings,
    epochs: o.epochs,
    epochsDone: 0,
    globalStep: 0,
    bestEpoch: 0,
    bestValAcc: -1,
    history: [],
    trainSeconds: 0,
    imagesSeen: 0,
    weightShapes: model.getWeights().map((w) => w.shape),
    optimizer: [],
  };
  let initialWeights = model.getWeights().map((w) => w.dataSync() as Float32Array);
  let initialOptimizer: NamedArray[] | undefined;
  if (saved) {
    // Settings matched (openRunCheckpoint); the data path may have moved (same content), so record the current one.
    state = { ...saved.state, settings, epochs: o.epochs };
    initialWeights = unpackFloats(saved.files['weights.bin']!, state.weightShapes);
    const optData = unpackFloats(
      saved.files['optimizer.bin']!,
      state.optimizer.map((s) => s.shape),
    );
    initialOptimizer = state.optimizer.map((s, i) => ({ name: s.name, shape: s.shape, data: optData[i] }));
    log(`resuming after epoch ${state.epochsDone} (best val acc ${state.bestValAcc.toFixed(4)} at epoch ${state.bestEpoch})`);
  } else if (o.resume) {
    log(`--resume: no checkpoint in ${o.checkpointDir}; starting from scratch`);
  }
  if (o.init && !saved) {
    const from = await loadLayersModel(o.init);
    const weights = from.getWeights();
    const shapes = weights.map((w) => w.shape.join('x')).join(',');
    if (shapes !== state.weightShapes.map((s) => s.join('x')).join(',')) {
      from.dispose();
      throw new Error(
        `--init ${o.init}: its weights do not fit --arch ${o.arch}${o.widths ? ` --widths ${o.widths.join(',')}` : ''}; give the architecture it was trained with`,
      );
    }
    initialWeights = weights.map((w) => w.dataSync() as Float32Array);
    from.dispose();
    log(`starting from the weights of ${o.init}`);
  }
  const chunks = landmarkCache ? await readChunks(landmarkCache.dir) : undefined;
  // Pipeline crops: a second copy of the training rows (row i + n is image i's crop); train-loop picks one per image.
  const crops = o.crops
    ? withCrops(
        data.train,
        await loadPipelineCrops(dataPath, data, log, landmarkCache && chunks ? { dir: landmarkCache.dir, chunks } : undefined),
      )
    : undefined;
  const labels = crops?.labels ?? data.train.labels;
  let keypoints: Float32Array | undefined;
  let template: number[] | undefined;
  if (o.expressionWarp && landmarkCache && chunks) {
    keypoints = trainingKeypoints(chunks, landmarkCache.meta, data.train.count, Boolean(crops));
    template = Array.from(neutralTemplate(keypoints, labels));
    log(
      `expression warp ${o.expressionWarp.low}-${o.expressionWarp.high}: face landmarks for ${rowsWithKeypoints(keypoints)} of ${labels.length} training rows (${landmarkCache.dir})`,
    );
  }
  const softTargets = o.distill
    ? await teacherProbabilities(o.distill.teachers, crops?.pixels ?? data.train.pixels, labels.length, log)
    : undefined;
  const classWeights = o.balance ? classWeightsOf(data.train.labels, o.balance) : undefined;
  if (classWeights) log(`class-balanced loss: weights ${classWeights.map((w) => w.toFixed(2)).join(', ')}`);
  const augment: AugmentOptions = !o.augment
    ? NO_AUGMENTATION
    : {
        ...REFERENCE_AUGMENTATION,
        ...(o.photometric ? { photometric: PHOTOMETRIC_AUGMENTATION } : {}),
        ...(o.expressionWarp ? { expressionWarp: { ...o.expressionWarp, prob: EXPRESSION_WARP_PROB } } : {}),
        ...(o.partMask ? { partMask: o.partMask } : {}),
      };

  const pool = await TrainingPool.start({
    workers: o.workers,
    arch: o.arch,
    widths: o.widths,
    seed: o.seed,
    backend: o.backend,
    fastKernels: o.fastKernels,
    labelSmoothing: o.labelSmoothing,
    augment,
    ...(classWeights ? { classWeights } : {}),
    pixels: crops?.pixels ?? data.train.pixels,
    labels,
    ...(keypoints && template ? { keypoints, template } : {}),
    ...(softTargets && o.distill ? { softTargets, distillWeight: o.distill.weight } : {}),
    ...(o.mixup ? { mixup: o.mixup } : {}),
  });
  const stop = { requested: false };
  const onSigint = () => {
    if (stop.requested) process.exit(130);
    stop.requested = true;
    log("\nCtrl-C: finishing this step, keeping the last completed epoch's checkpoint (press again to quit at once)");
  };
  process.on('SIGINT', onSigint);
  const onAbort = () => {
    stop.requested = true;
  };
  o.signal?.addEventListener('abort', onAbort);
  if (o.signal?.aborted) stop.requested = true;

  try {
    await pool.setWeights(initialWeights, initialOptimizer);
    await runEpochs({ o, pool, model, data, state, stop, clearOld, ...(crops ? { hasCrop: crops.has } : {}) });
  } finally {
    process.off('SIGINT', onSigint);
    o.signal?.removeEventListener('abort', onAbort);
    await pool.close();
  }
  if (stop.requested) {
    // The model folder is left exactly as it was: an interrupted run never replaces a finished model.
    throw new TrainingInterrupted(
      state.epochsDone === 0
        ? `interrupted before the first epoch completed; ${o.out} untouched`
        : `interrupted; checkpoint after epoch ${state.epochsDone} kept in ${o.checkpointDir} (continue with --resume); ${o.out} untouched`,
    );
  }
  if (state.epochsDone === 0) throw new Error('no epoch completed; nothing to write');

  const result = await publishBestEpoch({ o, model, data, state, dataPath, outDir, backend: backend.name, params });
  model.dispose();
  return result;
}

/**
 * The distillation targets: the mean of the teachers' probabilities (flip TTA, as the app runs
 * them) on each unaugmented training row, computed once; count * 7 floats.
 */
async function teacherProbabilities(
  teachers: readonly string[],
  pixels: Uint8Array,
  count: number,
  log: (line: string) => void,
): Promise<Float32Array> {
  const t0 = performance.now();
  const mean = new Float32Array(count * NUM_CLASSES);
  for (const dir of teachers) {
    const teacher = await loadLayersModel(dir);
    try {
      const p = predictProbs(teacher, pixels, count, true);
      for (let i = 0; i < mean.length; i++) mean[i] += p[i]! / teachers.length;
    } finally {
      teacher.dispose();
    }
  }
  log(
    `distillation: teacher probabilities of ${count} training rows from ${teachers.join(', ')} (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
  );
  return mean;
}
