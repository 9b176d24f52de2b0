/** The last-layer refit (src/train/refit/command.ts): head checks, features, weight folding and its command line. */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { IMAGE_PIXELS, IMAGE_SIZE, NUM_CLASSES } from '../../../src/core/labels.ts';
import { mulberry32 } from '../../../src/core/random.ts';
import { parseRefitHeadArgs } from '../../../src/train/commands/train-args.ts';
import { fitLogreg, fitStandardizer, predictLogreg, standardize } from '../../../src/train/fusion/logreg.ts';
import {
  adjustedArgmax,
  classShares,
  denseWeightsOf,
  headFeatures,
  logitAdjustment,
  logregParamsOf,
  REFIT_LOGIT_ADJUST_GRID,
  refitLastLayer,
  softmaxHead,
} from '../../../src/train/refit/command.ts';
import { UsageError } from '../../../src/train/util/cli-args.ts';

function tinyCnn(last: { units: number; activation: 'softmax' | 'relu' } = { units: NUM_CLASSES, activation: 'softmax' }): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.averagePooling2d({ inputShape: [IMAGE_SIZE, IMAGE_SIZE, 1], poolSize: 12 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 5, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
  m.add(tf.layers.dense({ ...last, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
  return m;
}

function images(n: number, seed: number): Uint8Array {
  const r = mulberry32(seed);
  return Uint8Array.from({ length: n * IMAGE_PIXELS }, () => Math.floor(256 * r()));
}

const bodyOf = (m: tf.LayersModel) => tf.model({ inputs: m.inputs, outputs: softmaxHead(m, 'tiny').input as tf.SymbolicTensor });

describe('refit-head', () => {
  it('accepts a CNN ending in a 7-way softmax Dense and names the folder otherwise', () => {
    expect(softmaxHead(tinyCnn(), 'tiny').getClassName()).toBe('Dense');
    expect(() => softmaxHead(tinyCnn({ units: NUM_CLASSES, activation: 'relu' }), 'models/x')).toThrow(
      /models\/x.*softmax Dense layer of 7 units/,
    );
    expect(() => softmaxHead(tinyCnn({ units: 5, activation: 'softmax' }), 'models/y')).toThrow(UsageError);
  });

  it('reads the head input as the mean of the image and its mirror image', () => {
    const m = tinyCnn();
    const body = bodyOf(m);
    const px = images(3, 5);
    const seen: number[] = [];
    const rows = headFeatures(body, px, 3, (done) => seen.push(done), 2);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toHaveLength(5);
    expect(seen).toEqual([2, 3]);
    const x = tf.tensor4d(
      Float32Array.from(px, (v) => v / 255),
      [3, IMAGE_SIZE, IMAGE_SIZE, 1],
    );
    const plain = (body.predict(x) as tf.Tensor).arraySync() as number[][];
    const mirror = (body.predict(tf.reverse(x, 2)) as tf.Tensor).arraySync() as number[][];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 5; j++) expect(rows[i]![j]).toBeCloseTo((plain[i]![j]! + mirror[i]![j]!) / 2, 5);
    // Mirroring changes these features (else the test above could not tell the mean from either).
    expect(plain.flat().some((v, k) => Math.abs(v - mirror.flat()[k]!) > 1e-3)).toBe(true);
  });

  it('folds the standardization into the Dense layer: the published head gives the regression probabilities', () => {
    const r = mulberry32(9);
    const d = 5;
    const labels = Uint8Array.from({ length: 140 }, (_, i) => i % NUM_CLASSES);
    const rows = Array.from(labels, (y) => Float64Array.from({ length: d }, (_, j) => 3 + 2 * j + (j === y % d ? 1.5 : 0) + r()));
    const st = fitStandardizer(rows);
    const fit = fitLogreg(standardize(rows, st), labels, { l2: 0.01 });
    const { kernel, bias } = denseWeightsOf(fit, st);
    const head = tf.sequential({ layers: [tf.layers.dense({ inputShape: [d], units: NUM_CLASSES, activation: 'softmax' })] });
    head.layers[0]!.setWeights([tf.tensor2d(kernel, [d, NUM_CLASSES]), tf.tensor1d(bias)]);
    const got = (head.predict(tf.tensor2d(rows.map((x) => Array.from(x)))) as tf.Tensor).arraySync() as number[][];
    const want = predictLogreg(fit, standardize(rows, st));
    for (let i = 0; i < rows.length; i += 13) for (let k = 0; k < NUM_CLASSES; k++) expect(got[i]![k]).toBeCloseTo(want[i]![k]!, 4);
    // And back: the warm start read from a Dense layer is the regression it came from.
    const theta = logregParamsOf(kernel, bias, st);
    for (let t = 0; t < NUM_CLASSES * d; t++) expect(theta[t]).toBeCloseTo(fit.weights[t]!, 4);
    for (let k = 0; k < NUM_CLASSES; k++) expect(theta[NUM_CLASSES * d + k]).toBeCloseTo(fit.bias[k]!, 3);
  });

  it('logit adjustment: 0 changes nothing, 1 divides the probabilities by the class shares', () => {
    const labels = [3, 3, 3, 3, 6, 6, 0, 5];
    const shares = classShares(labels);
    expect(Array.from(shares)).toEqual([1 / 8, 1 / 8, 1 / 8, 4 / 8, 1 / 8, 1 / 8, 2 / 8]); // absent classes count as 1
    expect(Array.from(logitAdjustment(shares, 0))).toEqual([0, 0, 0, 0, 0, 0, 0]);
    const probs = [
      [0.1, 0, 0, 0.45, 0, 0, 0.45], // happy and neutral tie; happy is the commoner class
      [0.3, 0, 0, 0.45, 0, 0, 0.25], // happy wins as is; angry (1/8) over happy (4/8) after dividing
    ];
    expect(Array.from(adjustedArgmax(probs, logitAdjustment(shares, 0)))).toEqual([3, 3]);
    expect(Array.from(adjustedArgmax(probs, logitAdjustment(shares, 1)))).toEqual([6, 0]);
    // Folded into the biases, the same shift gives the same classes.
    const st = { mean: new Float64Array([0]), scale: new Float64Array([1]) };
    const fit = { weights: new Float64Array(NUM_CLASSES), bias: Float64Array.from(probs[1]!, (p) => Math.log(Math.max(p, 1e-9))) };
    const { bias } = denseWeightsOf(fit, st, logitAdjustment(shares, 1));
    expect(Array.from(bias).indexOf(Math.max(...bias))).toBe(0);
  });

  it('refits the last layer in place: a random layer on informative features becomes a right one', () => {
    // The body is 12x12 average pooling: 16 cell means. Class c brightens cell (c >> 1, c & 1) (left half:
    // no two classes are mirror images, so the flip-averaged features still tell them apart).
    const m = tf.sequential();
    m.add(tf.layers.averagePooling2d({ inputShape: [IMAGE_SIZE, IMAGE_SIZE, 1], poolSize: 12 }));
    m.add(tf.layers.flatten());
    m.add(tf.layers.dense({ units: NUM_CLASSES, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }));
    const make = (n: number, seed: number) => {
      const r = mulberry32(seed);
      const labels = Uint8Array.from({ length: n }, (_, i) => i % NUM_CLASSES);
      const pixels = new Uint8Array(n * IMAGE_PIXELS);
      labels.forEach((y, i) => {
        for (let p = 0; p < IMAGE_PIXELS; p++) {
          const row = Math.floor(p / IMAGE_SIZE / 12);
          const col = Math.floor((p % IMAGE_SIZE) / 12);
          const on = row === y >> 1 && col === (y & 1);
          pixels[i * IMAGE_PIXELS + p] = Math.min(255, Math.floor(60 + 140 * r() + (on ? 50 : 0)));
        }
      });
      return { pixels, labels };
    };
    const train = make(210, 1);
    const val = make(70, 2);
    const lines: string[] = [];
    const { chosen, before } = refitLastLayer(m, train, val, classShares(train.labels), { l2: 0.001, log: (l) => lines.push(l) });
    expect(before.macroF1).toBeLessThan(0.5);
    expect(chosen.scores.macroF1).toBeGreaterThan(0.9);
    expect(REFIT_LOGIT_ADJUST_GRID).toContain(chosen.t);
    expect(lines.some((l) => /^L2 0\.001 .*logit adjustment 0: acc/.test(l))).toBe(true);
    // The model itself now reads the held-out images right (its layer was replaced, not a copy's).
    const probs = (
      m.predict(
        tf.tensor4d(
          Float32Array.from(val.pixels, (v) => v / 255),
          [70, IMAGE_SIZE, IMAGE_SIZE, 1],
        ),
      ) as tf.Tensor
    ).arraySync() as number[][];
    const right = probs.filter((p, i) => p.indexOf(Math.max(...p)) === val.labels[i]).length;
    expect(right / 70).toBeGreaterThan(0.9);
    // A fixed logit adjustment is used as given.
    expect(refitLastLayer(m, train, val, classShares(train.labels), { l2: 0.01, logitAdjust: 0.5, log: () => undefined }).chosen.t).toBe(
      0.5,
    );
  });

  it('parses its command line and says what is missing', () => {
    expect(parseRefitHeadArgs(['--help'])).toBe('help');
    expect(() => parseRefitHeadArgs(['--out', 'models/a'])).toThrow(/--model is required/);
    expect(() => parseRefitHeadArgs(['--model', 'models/fer-cnn'])).toThrow(/--out is required/);
    expect(() => parseRefitHeadArgs(['--model', 'm', '--out', 'o', '--l2', '0'])).toThrow(UsageError);
    expect(() => parseRefitHeadArgs(['--model', 'm', '--out', 'o', '--logit-adjust', '1.5'])).toThrow(/--logit-adjust/);
    expect(parseRefitHeadArgs(['--model', 'm', '--out', 'o', '--logit-adjust', '0'])).toMatchObject({ logitAdjust: 0 });
    const o = parseRefitHeadArgs(['--model', 'models/fer-cnn', '--out', 'models/fer-cnn', '--l2', '0.001']);
    expect(o).toMatchObject({ l2: 0.001 });
    expect(o !== 'help' && o.model.endsWith('models/fer-cnn') && o.out === o.model).toBe(true);
  });
});
