/**
 * Fine-tuning a trained FER2013 CNN on a small personal set: the first conv blocks frozen (run in
 * inference mode, so their BatchNorm statistics stay as trained), the rest trained with Adam at a
 * low learning rate on augmented crops. One implementation for `npm run train -- finetune` (Node)
 * and the in-browser calibration trainer (src/app/calibration): no Node or DOM API here.
 */
import * as tf from '@tensorflow/tfjs';
import type { HistoryPoint } from '../core/contracts/index.ts';
import { IMAGE_PIXELS, IMAGE_SIZE, NUM_CLASSES } from '../core/labels.ts';
import { mulberry32, shuffledIndices } from '../core/random.ts';
import { augmentBatch, REFERENCE_AUGMENTATION, NO_AUGMENTATION } from './augment.ts';
import { smoothedCrossEntropy } from './loss.ts';
import { lossAndAccuracy, predictProbs } from './predict.ts';

export interface ImageSet {
  /** count * 2304 gray bytes. */
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface FinetuneOptions {
  /** Conv blocks (each ends with a max-pooling layer) kept frozen. */
  freeze: number;
  epochs: number;
  lr: number;
  batchSize: number;
  seed: number;
  augment: boolean;
  labelSmoothing?: number;
  /** Scored after every epoch for the training curves only (never used to pick an epoch). */
  validation?: ImageSet;
  /** valLoss and valAcc are NaN without a validation set. */
  onEpoch?: (epoch: number, point: HistoryPoint) => void;
  /** After every gradient step: steps done and the total over all epochs (progress bars). */
  onStep?: (done: number, total: number) => void;
  /** Checked between steps: aborting rejects with the signal's reason and leaves `model` half-trained (discard it). */
  signal?: AbortSignal;
}

/** Hands control back to the event loop (Ctrl-C in Node, an abort message in a worker). */
const yieldToEventLoop = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/**
 * Inverted dropout with a mask drawn from `seed` (tf.randomUniform with a seed is deterministic).
 * Not the layer's own dropout: that draws from an unseeded generator, and a layer given a seed
 * re-uses one mask for every step (docs/training.md, "seeded dropout"). A fresh seed per step
 * from the run's seed makes fine-tuning repeatable.
 */
function seededDropout(x: tf.Tensor, rate: number, seed: number): tf.Tensor {
  if (rate <= 0) return x;
  const keep = tf.cast(tf.greaterEqual(tf.randomUniform(x.shape, 0, 1, 'float32', seed), rate), 'float32');
  return tf.div(tf.mul(x, keep), 1 - rate);
}

/** The layer's dropout rate when it is a plain Dropout layer (no noiseShape), else undefined. */
function dropoutRate(layer: tf.layers.Layer): number | undefined {
  if (layer.getClassName() !== 'Dropout') return undefined;
  const config = layer.getConfig() as { rate?: number; noiseShape?: unknown };
  return config.noiseShape == null && typeof config.rate === 'number' ? config.rate : undefined;
}

/** Index of the first trainable layer: just after the `blocks`-th max-pooling layer. */
export function frozenLayerCount(model: tf.LayersModel, blocks: number): number {
  if (blocks <= 0) return 0;
  let seen = 0;
  for (let i = 0; i < model.layers.length; i++) {
    if (model.layers[i]!.getClassName() === 'MaxPooling2D' && ++seen === blocks) return i + 1;
  }
  throw new Error(`--freeze ${blocks}: the model has only ${seen} conv blocks (max-pooling layers)`);
}

/** Subset of an image set by row indices. */
export function subset(set: ImageSet, rows: readonly number[]): ImageSet {
  const pixels = new Uint8Array(rows.length * IMAGE_PIXELS);
  const labels = new Uint8Array(rows.length);
  rows.forEach((r, i) => {
    pixels.set(set.pixels.subarray(r * IMAGE_PIXELS, (r + 1) * IMAGE_PIXELS), i * IMAGE_PIXELS);
    labels[i] = set.labels[r]!;
  });
  return { pixels, labels, count: rows.length };
}

/**
 * Trains `model` in place. Frozen layers are applied with training=false and excluded from the
 * optimizer; the others with training=true. Returns per-epoch loss/accuracy on the training set.
 */
export async function finetuneCnn(model: tf.LayersModel, data: ImageSet, options: FinetuneOptions): Promise<HistoryPoint[]> {
  const cut = frozenLayerCount(model, options.freeze);
  const vars = model.layers.slice(cut).flatMap((l) => l.trainableWeights.map((w) => (w as unknown as { read(): tf.Variable }).read()));
  const rates = model.layers.map(dropoutRate);
  const optimizer = tf.train.adam(options.lr);
  const rand = mulberry32(options.seed);
  // Its own stream, so the augmentation draws stay what they were before dropout was seeded.
  const dropRand = mulberry32((options.seed ^ 0x5eed1e55) >>> 0);
  const aug = options.augment ? REFERENCE_AUGMENTATION : NO_AUGMENTATION;
  const history: HistoryPoint[] = [];
  const batch = new Float32Array(options.batchSize * IMAGE_PIXELS);
  const stepsPerEpoch = Math.ceil(data.count / options.batchSize);
  let steps = 0;
  try {
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const order = shuffledIndices(data.count, options.seed * 1000 + epoch);
      let lossSum = 0;
      let correct = 0;
      for (let start = 0; start < data.count; start += options.batchSize) {
        options.signal?.throwIfAborted();
        const rows = Array.from(order.subarray(start, Math.min(data.count, start + options.batchSize)));
        const n = rows.length;
        const x = augmentBatch(data.pixels, rows, aug, rand, batch.subarray(0, n * IMAGE_PIXELS));
        const y = Int32Array.from(rows, (r) => data.labels[r]!);
        const dropSeeds = rates.map((r) => (r === undefined ? 0 : Math.floor(dropRand() * 2 ** 31)));
        let predicted: tf.Tensor | undefined;
        const { loss, hits } = tf.tidy(() => {
          const xs = tf.tensor4d(x, [n, IMAGE_SIZE, IMAGE_SIZE, 1]);
          const ys = tf.oneHot(tf.tensor1d(y, 'int32'), NUM_CLASSES);
          const cost = optimizer.minimize(
            () => {
              let h: tf.Tensor = xs;
              model.layers.forEach((layer, i) => {
                const rate = rates[i];
                if (i >= cut && rate !== undefined) h = seededDropout(h, rate, dropSeeds[i]!);
                else h = layer.apply(h, { training: i >= cut }) as tf.Tensor;
              });
              // Kept: the gradient scope disposes everything else it created.
              predicted = tf.keep(tf.argMax(h, -1));
              return smoothedCrossEntropy(ys, h, options.labelSmoothing ?? 0.1);
            },
            true,
            vars,
          )!;
          const hits = tf.sum(tf.cast(tf.equal(predicted!, tf.argMax(ys, -1)), 'float32'));
          return { loss: cost.dataSync()[0]!, hits: hits.dataSync()[0]! };
        });
        predicted?.dispose();
        lossSum += loss * n;
        correct += hits;
        options.onStep?.(++steps, stepsPerEpoch * options.epochs);
        await yieldToEventLoop();
      }
      const v = options.validation;
      const val = v && v.count > 0 ? lossAndAccuracy(predictProbs(model, v.pixels, v.count), v.labels, v.count) : { loss: NaN, acc: NaN };
      const point = { epoch, loss: lossSum / data.count, acc: correct / data.count, valLoss: val.loss, valAcc: val.acc };
      history.push(point);
      options.onEpoch?.(epoch, point);
    }
  } finally {
    optimizer.dispose();
  }
  return history;
}
