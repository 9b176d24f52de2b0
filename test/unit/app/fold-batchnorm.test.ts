import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initWasm } from '../../../src/train/kernels/backend.ts';
import { loadLayersModel } from '../../../src/train/cnn/model-io.ts';
import { foldBatchNorm } from '../../../src/app/live/fold-batchnorm.ts';
import { buildArch } from '../../../src/train/cnn/architectures.ts';
import { ROOT } from '../../helpers/shared-data.ts';

/** Random BN statistics and affine parameters, so folding is really exercised (fresh BN is identity-ish). */
function randomiseBatchNorm(model: tf.LayersModel, seed: number): void {
  let k = seed;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    layer.setWeights(
      layer.getWeights().map((w, i) => {
        const r = tf.randomUniform(w.shape, 0, 1, 'float32', k++);
        // gamma, beta, mean: any sign; variance: positive.
        return i === 3 ? tf.add(r, 0.2) : tf.sub(tf.mul(r, 2), 1);
      }),
    );
  }
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

describe('foldBatchNorm', () => {
  beforeAll(async () => {
    await initWasm(true);
  });

  it('a conv/dense + BatchNorm (+ ReLU) model: same outputs, fewer layers, original untouched, no tensor leak', () => {
    const m = tf.sequential();
    m.add(tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 4, kernelSize: 3, padding: 'same', useBias: false }));
    m.add(tf.layers.batchNormalization());
    m.add(tf.layers.activation({ activation: 'relu' }));
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    // With a bias and no activation after the BN.
    m.add(tf.layers.conv2d({ filters: 6, kernelSize: 3, useBias: true }));
    m.add(tf.layers.batchNormalization({ center: false }));
    m.add(tf.layers.flatten());
    m.add(tf.layers.dropout({ rate: 0.5 }));
    m.add(tf.layers.dense({ units: 8, useBias: false }));
    m.add(tf.layers.batchNormalization({ scale: false }));
    m.add(tf.layers.activation({ activation: 'relu' }));
    m.add(tf.layers.dense({ units: 7, activation: 'softmax' }));
    randomiseBatchNorm(m, 3);
    const x = tf.randomUniform([3, 12, 12, 1], 0, 1, 'float32', 9);
    const before = tf.memory().numTensors;
    const folded = foldBatchNorm(m)!;
    expect(folded).toBeDefined();
    expect(folded.layers.map((l) => l.getClassName())).toEqual([
      'InputLayer',
      'Conv2D',
      'MaxPooling2D',
      'Conv2D',
      'Flatten',
      'Dense',
      'Dense',
    ]);
    const a = m.predict(x) as tf.Tensor;
    const b = folded.predict(x) as tf.Tensor;
    expect(b.shape).toEqual(a.shape);
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
    // The original still computes what it did (BN layers intact).
    expect(m.layers.filter((l) => l.getClassName() === 'BatchNormalization')).toHaveLength(3);
    tf.dispose([a, b]);
    folded.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    m.dispose();
  });

  it('returns undefined when there is nothing to fold', () => {
    const m = tf.sequential();
    m.add(tf.layers.dense({ inputShape: [4], units: 3, activation: 'relu' }));
    m.add(tf.layers.batchNormalization()); // after an activation: not foldable
    expect(foldBatchNorm(m)).toBeUndefined();
    m.dispose();
  });

  it('the default architecture folds to the same function', () => {
    const m = buildArch('default', 1);
    randomiseBatchNorm(m, 5);
    const folded = foldBatchNorm(m)!;
    const x = tf.randomUniform([2, 48, 48, 1], 0, 1, 'float32', 2);
    const a = m.predict(x) as tf.Tensor;
    const b = folded.predict(x) as tf.Tensor;
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
    expect(folded.layers.some((l) => l.getClassName() === 'BatchNormalization')).toBe(false);
    tf.dispose([a, b, x]);
    folded.dispose();
    m.dispose();
  });

  const committed = join(ROOT, 'models/fer-cnn');
  it.skipIf(!existsSync(join(committed, 'model.json')))('the committed fer-cnn folds to the same probabilities', async () => {
    const m = await loadLayersModel(committed);
    const folded = foldBatchNorm(m)!;
    const x = tf.randomUniform([4, 48, 48, 1], 0, 1, 'float32', 4);
    const a = m.predict(x) as tf.Tensor;
    const b = folded.predict(x) as tf.Tensor;
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
    tf.dispose([a, b, x]);
    folded.dispose();
    m.dispose();
  });
});
