/**
 * npm run train -- refit-head: refits a CNN's last layer (the softmax Dense) on its own penultimate
 * features of FER2013 Training, seen in both framings: FER2013's own and the app pipeline's aligned
 * crop (extraction cache). The body is kept; the head then reads both the photos it was trained on
 * and the crops the live app feeds it. Convex (softmax regression, L-BFGS); the L2 strength is chosen
 * on PublicTest macro F1, both framings pooled; PrivateTest is scored once, by the published model.
 */
import * as tf from '@tensorflow/tfjs';
import { readFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { cnnInput, parseReport, REPORT_FILE, type ModelReport } from '../../core/contracts/index.ts';
import { EMOTIONS, IMAGE_PIXELS, IMAGE_SIZE, NUM_CLASSES } from '../../core/labels.ts';
import { argmaxRows } from '../../core/metrics.ts';
import { predictProbs } from '../../learn/predict.ts';
import { loadLayersModel, saveLayersModel } from '../cnn/model-io.ts';
import { cropTablesFrom } from '../data/crop-data.ts';
import { loadFer2013, resolveFer2013Path } from '../data/fer2013.ts';
import { requireExtractionCache } from '../data/keypoints.ts';
import { readChunks } from '../extract/cache.ts';
import { scoresOf, type Scores } from '../fusion/command.ts';
import { fitLogreg, fitStandardizer, predictLogreg, standardize, type LogregFit, type Standardizer } from '../fusion/logreg.ts';
import { initWasm } from '../kernels/backend.ts';
import { buildReport, writeReportFiles } from '../report/report.ts';
import { UsageError } from '../util/cli-args.ts';
import { assertPublishableOut, publishModelDir } from '../util/publish-model.ts';

/** Strongest first: each fit starts from the one before. */
export const REFIT_L2_GRID: readonly number[] = [0.1, 0.01, 0.001];
/**
 * Logit adjustment (Menon et al., 2021): T x log(class share in Training) subtracted from the biases.
 * 0 keeps FER2013's class mix (25.9 % happy, 1.5 % disgust) as the prior; 1 treats every class as
 * equally likely, as in posed photo sets.
 */
export const REFIT_LOGIT_ADJUST_GRID: readonly number[] = [0, 0.25, 0.5, 0.75, 1];

export interface RefitHeadOptions {
  /** The CNN model folder whose last layer is refitted (read only). */
  model: string;
  /** Fixed L2 strength (default: chosen on PublicTest from REFIT_L2_GRID). */
  l2?: number;
  /** Fixed logit adjustment T (default: chosen on PublicTest from REFIT_LOGIT_ADJUST_GRID). */
  logitAdjust?: number;
  /** Display name (default: the model's). */
  name?: string;
  /** Model folder to publish (a new folder, or a model folder to replace, e.g. the model's own). */
  out: string;
  data?: string;
  log: (line: string) => void;
}

/** Images of one split in both framings: FER2013's rows, then the crops of the faces the pipeline found. */
export interface TwoFramings extends LabelledImages {
  /** Rows from this index on are pipeline crops. */
  firstCrop: number;
}

export function bothFramings(
  raw: { pixels: Uint8Array; labels: Uint8Array; count: number },
  crops: { pixels: Uint8Array; has: Uint8Array },
): TwoFramings {
  const found: number[] = [];
  for (let i = 0; i < raw.count; i++) if (crops.has[i]) found.push(i);
  const n = raw.count + found.length;
  const pixels = new Uint8Array(n * IMAGE_PIXELS);
  const labels = new Uint8Array(n);
  pixels.set(raw.pixels.subarray(0, raw.count * IMAGE_PIXELS));
  labels.set(raw.labels.subarray(0, raw.count));
  found.forEach((i, j) => {
    pixels.set(crops.pixels.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS), (raw.count + j) * IMAGE_PIXELS);
    labels[raw.count + j] = raw.labels[i]!;
  });
  return { pixels, labels, firstCrop: raw.count };
}

/** The model's last layer, checked to be a softmax Dense over NUM_CLASSES. */
export function softmaxHead(model: tf.LayersModel, dir: string): tf.layers.Layer {
  const head = model.layers[model.layers.length - 1];
  const config = head?.getConfig() as { units?: number; activation?: string } | undefined;
  if (!head || head.getClassName() !== 'Dense' || config?.units !== NUM_CLASSES || config.activation !== 'softmax') {
    throw new UsageError(
      `--model ${dir}: its last layer is ${head ? `${head.getClassName()} ${JSON.stringify(config?.units)} units, ${config?.activation}` : 'missing'}; ` +
        `refit-head needs a CNN ending in a softmax Dense layer of ${NUM_CLASSES} units (models trained by npm run train -- cnn)`,
    );
  }
  return head;
}

/** Penultimate features (the head's input) of `count` images, the mean of the image's and its mirror image's. */
export function headFeatures(
  body: tf.LayersModel,
  pixels: Uint8Array,
  count: number,
  onProgress: (done: number) => void = () => undefined,
  batchSize = 256,
): Float64Array[] {
  const rows: Float64Array[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const t = tf.tidy(() => {
      const x = tf.tensor4d(
        Float32Array.from(pixels.subarray(start * IMAGE_PIXELS, (start + n) * IMAGE_PIXELS), (v) => v / 255),
        [n, IMAGE_SIZE, IMAGE_SIZE, 1],
      );
      return (body.predict(x) as tf.Tensor).add(body.predict(tf.reverse(x, 2)) as tf.Tensor).div(2);
    });
    const d = t.shape[1]!;
    const data = t.dataSync() as Float32Array;
    t.dispose();
    for (let i = 0; i < n; i++) rows.push(Float64Array.from(data.subarray(i * d, (i + 1) * d)));
    onProgress(start + n);
  }
  return rows;
}

/** Class shares of `labels` (each at least 1 / (n + 1), so that a log stays finite). */
export function classShares(labels: ArrayLike<number>): Float64Array {
  const shares = new Float64Array(NUM_CLASSES);
  for (let i = 0; i < labels.length; i++) shares[labels[i]!] += 1;
  return shares.map((c) => Math.max(c, 1) / Math.max(labels.length, 1));
}

/** Bias shifts of logit adjustment T: -T x log(share) per class. */
export function logitAdjustment(shares: ArrayLike<number>, t: number): Float64Array {
  return Float64Array.from(shares, (p) => (t === 0 ? 0 : -t * Math.log(p)));
}

/** Class of each row of probabilities after adding `shift` to the log-probabilities. */
export function adjustedArgmax(probs: readonly ArrayLike<number>[], shift: ArrayLike<number>): Uint8Array {
  return Uint8Array.from(probs, (p) => {
    let best = 0;
    let top = -Infinity;
    for (let k = 0; k < NUM_CLASSES; k++) {
      const z = Math.log(Math.max(p[k]!, 1e-30)) + shift[k]!;
      if (z > top) [top, best] = [z, k];
    }
    return best;
  });
}

/**
 * The fitted regression on standardized features as a Dense layer's [kernel d x K, bias K] on raw
 * features, `shift` (default none) added to the biases.
 */
export function denseWeightsOf(
  fit: Pick<LogregFit, 'weights' | 'bias'>,
  st: Standardizer,
  shift?: ArrayLike<number>,
): { kernel: Float32Array; bias: Float32Array } {
  const d = st.mean.length;
  const kernel = new Float32Array(d * NUM_CLASSES);
  const bias = new Float32Array(NUM_CLASSES);
  for (let k = 0; k < NUM_CLASSES; k++) {
    let b = fit.bias[k]! + (shift ? shift[k]! : 0);
    for (let j = 0; j < d; j++) {
      const w = fit.weights[k * d + j]! / st.scale[j]!;
      kernel[j * NUM_CLASSES + k] = w;
      b -= w * st.mean[j]!;
    }
    bias[k] = b;
  }
  return { kernel, bias };
}

/** A Dense layer's kernel and bias as regression parameters on standardized features (the warm start). */
export function logregParamsOf(kernel: ArrayLike<number>, bias: ArrayLike<number>, st: Standardizer): Float64Array {
  const d = st.mean.length;
  const theta = new Float64Array(NUM_CLASSES * d + NUM_CLASSES);
  for (let k = 0; k < NUM_CLASSES; k++) {
    let b = bias[k]!;
    for (let j = 0; j < d; j++) {
      const w = kernel[j * NUM_CLASSES + k]!;
      theta[k * d + j] = w * st.scale[j]!;
      b += w * st.mean[j]!;
    }
    theta[NUM_CLASSES * d + k] = b;
  }
  return theta;
}

function timeLeft(done: number, total: number, t0: number): string {
  if (done === 0) return '';
  const s = (((performance.now() - t0) / 1000) * (total - done)) / done;
  return s < 90 ? `${Math.round(s)} s left` : `${(s / 60).toFixed(1)} min left`;
}

const fmt = (s: Scores): string => `acc ${s.accuracy.toFixed(4)}  macro F1 ${s.macroF1.toFixed(4)}`;

export interface LabelledImages {
  /** count * 2304 gray values. */
  pixels: Uint8Array;
  labels: Uint8Array;
}

export interface RefitChoice {
  l2: number;
  /** The logit adjustment T. */
  t: number;
  fit: LogregFit;
  scores: Scores;
}

/**
 * Refits `model`'s last layer in place on `train` (its features, flip-averaged), choosing L2 and the
 * logit adjustment on `val` macro F1 (grids unless fixed in `o`). Returns the choice and `val`'s
 * scores with the model's own layer (before).
 */
export function refitLastLayer(
  model: tf.LayersModel,
  train: LabelledImages,
  val: LabelledImages,
  shares: ArrayLike<number>,
  o: Pick<RefitHeadOptions, 'l2' | 'logitAdjust' | 'log'>,
): { chosen: RefitChoice; before: Scores } {
  const log = o.log;
  const head = softmaxHead(model, model.name);
  const body = tf.model({ inputs: model.inputs, outputs: head.input as tf.SymbolicTensor });
  const total = train.labels.length + val.labels.length;
  const t0 = performance.now();
  let lastLog = t0;
  const progress = (offset: number) => (done: number) => {
    const now = performance.now();
    if (now - lastLog < 15000) return;
    lastLog = now;
    log(`  features: ${offset + done} of ${total} images, ${timeLeft(offset + done, total, t0)}`);
  };
  const xTrain = headFeatures(body, train.pixels, train.labels.length, progress(0));
  const xVal = headFeatures(body, val.pixels, val.labels.length, progress(train.labels.length));
  log(`  features: ${total} images (${xTrain[0]!.length} per image) in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

  const st = fitStandardizer(xTrain);
  const sTrain = standardize(xTrain, st);
  const sVal = standardize(xVal, st);
  const [kernel, bias] = head.getWeights().map((w) => w.dataSync() as Float32Array);
  let init = logregParamsOf(kernel!, bias!, st);
  const ts = o.logitAdjust !== undefined ? [o.logitAdjust] : REFIT_LOGIT_ADJUST_GRID;
  const scoreVal = (fit: Pick<LogregFit, 'weights' | 'bias'>, t: number): Scores =>
    scoresOf(val.labels, adjustedArgmax(predictLogreg(fit as LogregFit, sVal), logitAdjustment(shares, t)));
  const d = st.mean.length;
  const own = { weights: init.subarray(0, NUM_CLASSES * d), bias: init.subarray(NUM_CLASSES * d) };
  const before = scoreVal(own, 0);
  log(`PublicTest with its own last layer: ${ts.map((t) => `logit adjustment ${t}: ${fmt(scoreVal(own, t))}`).join('; ')}`);

  let best: { l2: number; t: number; fit: LogregFit; scores: Scores } | undefined;
  for (const l2 of o.l2 !== undefined ? [o.l2] : REFIT_L2_GRID) {
    const t1 = performance.now();
    const fit = fitLogreg(sTrain, train.labels, { l2, init });
    init = Float64Array.from([...fit.weights, ...fit.bias]);
    const cells = ts.map((t) => ({ t, scores: scoreVal(fit, t) }));
    log(
      `L2 ${l2} (${fit.iterations} iterations${fit.converged ? '' : ', not converged'}, ${((performance.now() - t1) / 1000).toFixed(0)} s): PublicTest ` +
        cells.map((c) => `logit adjustment ${c.t}: ${fmt(c.scores)}`).join('; '),
    );
    for (const c of cells) if (!best || c.scores.macroF1 > best.scores.macroF1) best = { l2, t: c.t, fit, scores: c.scores };
  }
  const chosen = best!;
  log(`chosen: L2 ${chosen.l2}, logit adjustment ${chosen.t} (PublicTest macro F1, both framings)`);

  const weights = denseWeightsOf(chosen.fit, st, logitAdjustment(shares, chosen.t));
  head.setWeights([tf.tensor2d(weights.kernel, [d, NUM_CLASSES]), tf.tensor1d(weights.bias)]);
  return { chosen, before };
}

export interface RefitHeadResult {
  l2: number;
  logitAdjust: number;
  /** PublicTest, both framings pooled, before (the model's own head) and after. */
  before: Scores;
  after: Scores;
  privateTest: number;
  outDir: string;
}

export async function runRefitHead(o: RefitHeadOptions): Promise<RefitHeadResult> {
  const log = o.log;
  const outDir = await assertPublishableOut(o.out, { log });
  const reportFile = join(o.model, REPORT_FILE);
  let source: ModelReport;
  let sourceJson: Record<string, unknown>;
  try {
    sourceJson = JSON.parse(await readFile(reportFile, 'utf8')) as Record<string, unknown>;
    source = parseReport(sourceJson, reportFile);
  } catch (e) {
    throw new UsageError(
      `--model ${o.model}: ${reportFile} is missing or not a model report (${(e as Error).message}); give a CNN model folder written by npm run train -- cnn`,
    );
  }
  if (source.kind !== 'cnn') {
    throw new UsageError(
      `--model ${o.model}: its report says a ${source.kind} model; refit-head refits the last layer of a CNN (e.g. --model models/fer-cnn)`,
    );
  }
  const dataPath = resolveFer2013Path(o.data);
  const cache = await requireExtractionCache(dataPath, 'refit-head');
  await initWasm(true);
  const model = await loadLayersModel(o.model, log);
  softmaxHead(model, o.model);

  const data = await loadFer2013(dataPath);
  const tables = cropTablesFrom(await readChunks(cache.dir), { train: data.train.count, val: data.val.count, test: data.test.count });
  const train = bothFramings(data.train, tables.train);
  const val = bothFramings(data.val, tables.val);
  log(
    `${basename(o.model)}: refitting its last layer on FER2013 Training, ${data.train.count} images + ${train.labels.length - train.firstCrop} app pipeline crops ` +
      `(${cache.dir}); L2 chosen on PublicTest, ${data.val.count} images + ${val.labels.length - val.firstCrop} crops`,
  );
  const t0 = performance.now();
  const shares = classShares(data.train.labels);
  const { chosen, before } = refitLastLayer(model, train, val, shares, o);
  const tta = source.tta ?? false;
  const probs = predictProbs(model, data.test.pixels, data.test.count, tta);
  const accuracyNoTta = tta
    ? scoresOf(data.test.labels, argmaxRows(predictProbs(model, data.test.pixels, data.test.count, false), NUM_CLASSES)).accuracy
    : undefined;
  const name = o.name ?? source.name;
  const note =
    `last layer refitted (npm run train -- refit-head) on FER2013 Training in FER2013's framing and the app's crops, L2 ${chosen.l2} and logit adjustment ${chosen.t} ` +
    `chosen on PublicTest macro F1 (both framings: ${before.macroF1.toFixed(4)} -> ${chosen.scores.macroF1.toFixed(4)}, accuracy ${before.accuracy.toFixed(4)} -> ${chosen.scores.accuracy.toFixed(4)}); ` +
    `${accuracyNoTta !== undefined ? `accuracy without test-time flip: ${accuracyNoTta.toFixed(4)}; ` : ''}before: ${source.notes ?? ''}`;
  const report = buildReport({
    id: basename(outDir),
    name,
    kind: 'cnn',
    arch: source.arch,
    datasetPath: dataPath,
    splits: { train: data.train.count, val: data.val.count, test: data.test.count },
    yTrue: data.test.labels,
    yPred: argmaxRows(probs, NUM_CLASSES),
    labels: EMOTIONS,
    epochs: source.epochs,
    ...(source.bestEpoch !== undefined ? { bestEpoch: source.bestEpoch } : {}),
    ...(source.params !== undefined ? { params: source.params } : {}),
    // The training record stays the model's own; the refit's time is in refitHead.
    ...(source.wallTimeSec !== undefined ? { wallTimeSec: source.wallTimeSec } : {}),
    ...(source.imagesPerSec !== undefined ? { imagesPerSec: source.imagesPerSec } : {}),
    backend: source.backend ?? 'wasm',
    tta,
    history: source.history,
    notes: note,
  });
  const extra = {
    // The training run's own fields (batch, lr, seed...), which buildReport does not know.
    ...Object.fromEntries(Object.entries(sourceJson).filter(([k]) => !(k in report) && k !== 'refitHead')),
    ...(accuracyNoTta !== undefined ? { accuracyNoTta } : {}),
    refitHead: {
      from: relative(process.cwd(), o.model) || o.model,
      l2: chosen.l2,
      logitAdjust: chosen.t,
      trainClassShares: Array.from(shares, (p) => Number(p.toFixed(5))),
      publicTestBefore: before,
      publicTestAfter: chosen.scores,
      seconds: Math.round((performance.now() - t0) / 1000),
      trainRows: train.labels.length,
      publicTestRows: val.labels.length,
    },
  };
  await publishModelDir(
    outDir,
    async (tmp) => {
      await saveLayersModel(model, tmp);
      await writeReportFiles(tmp, { ...report, ...extra } as typeof report, source.history);
    },
    { log, manifestEntry: { id: basename(outDir), name, kind: 'cnn', input: cnnInput({ size: 48, tta: tta ? 'hflip-mean' : 'none' }) } },
  );
  log(
    `PrivateTest accuracy ${report.accuracy.toFixed(4)}${tta ? ` with flip TTA (${accuracyNoTta!.toFixed(4)} without)` : ''}; macro F1 ${report.macroAvg.f1.toFixed(4)}`,
  );
  log(`wrote ${outDir} (model.json, weights.bin, report.json, confusion.svg, curves.svg)`);
  model.dispose();
  return { l2: chosen.l2, logitAdjust: chosen.t, before, after: chosen.scores, privateTest: report.accuracy, outDir };
}
