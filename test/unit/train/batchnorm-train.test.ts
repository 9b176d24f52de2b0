import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initWasm } from '../../../src/train/kernels/backend.ts';
import { batchNormTrain, useFusedBatchNorm } from '../../../src/train/kernels/batchnorm-train.ts';
import { values } from '../../helpers/values.ts';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

interface BnResult {
  y: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  dx: Float32Array;
  dgamma: Float32Array;
  dbeta: Float32Array;
}

/** y and the gradients of sum(y·w) for x, gamma, beta: fused (wasm) or tfjs's own ops (any backend). */
function run(backend: string, fused: boolean, shape: number[], seed: number): BnResult {
  tf.setBackend(backend);
  const c = shape[shape.length - 1]!;
  const size = shape.reduce((a, b) => a * b, 1);
  // An offset and scale per channel so the statistics are not trivial.
  const x = tf.tensor(values(size, seed, -3, 5), shape);
  const gamma = tf.tensor1d(values(c, seed + 1, 0.5, 2));
  const beta = tf.tensor1d(values(c, seed + 2));
  const w = tf.tensor(values(size, seed + 3), shape);
  const eps = 1e-3;
  const axes = shape.map((_, i) => i).slice(0, -1);
  const forward = (xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) => {
    if (fused) return batchNormTrain(xi, gi, bi, eps);
    const { mean, variance } = tf.moments(xi, axes);
    return { y: tf.batchNorm(xi, mean, variance, bi, gi, eps), mean, variance };
  };
  const before = tf.memory().numTensors;
  const out = tf.tidy(() => {
    const { y, mean, variance } = forward(x, gamma, beta);
    const [dx, dgamma, dbeta] = tf.grads((xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) => {
      const r = forward(xi, gi, bi);
      tf.dispose([r.mean, r.variance]);
      return tf.sum(tf.mul(r.y, w));
    })([x, gamma, beta]);
    return [y, mean, variance, dx!, dgamma!, dbeta!];
  });
  const [y, mean, variance, dx, dgamma, dbeta] = out.map((t) => t.dataSync() as Float32Array);
  tf.dispose(out);
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([x, gamma, beta, w]);
  return { y: y!, mean: mean!, variance: variance!, dx: dx!, dgamma: dgamma!, dbeta: dbeta! };
}

describe('fused training BatchNormalization (wasm) matches tfjs on the cpu backend', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    await initWasm(true);
  });

  // Channels in fours take the SIMD kernels (the last shape spans several 512-row blocks); others the JS loops.
  for (const shape of [
    [4, 5, 6, 3],
    [8, 7, 7, 16],
    [16, 5],
    [3, 2, 2, 1],
    [8, 24, 24, 8],
    [64, 12],
  ]) {
    it(`shape ${JSON.stringify(shape)}: output, batch statistics and gradients`, () => {
      const ref = run('cpu', false, shape, 11);
      const ours = run('wasm', true, shape, 11);
      expect(maxAbsDiff(ours.y, ref.y)).toBeLessThan(1e-4);
      expect(maxAbsDiff(ours.mean, ref.mean)).toBeLessThan(1e-5);
      expect(maxAbsDiff(ours.variance, ref.variance)).toBeLessThan(1e-4);
      expect(maxAbsDiff(ours.dx, ref.dx)).toBeLessThan(1e-4);
      expect(maxAbsDiff(ours.dgamma, ref.dgamma)).toBeLessThan(1e-3);
      expect(maxAbsDiff(ours.dbeta, ref.dbeta)).toBeLessThan(1e-4);
      // The gradient really depends on the batch statistics (not just gamma·invstd·dy).
      expect(Math.max(...ref.dx.map(Math.abs))).toBeGreaterThan(1e-3);
    });
  }

  it('a model trained a few steps with fused layers (wasm) = tfjs layers (cpu): losses, weights, moving statistics', async () => {
    const build = () => {
      const m = tf.sequential();
      m.add(
        tf.layers.conv2d({
          inputShape: [8, 8, 1],
          filters: 4,
          kernelSize: 3,
          padding: 'same',
          useBias: false,
          kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
        }),
      );
      m.add(tf.layers.batchNormalization());
      m.add(tf.layers.activation({ activation: 'relu' }));
      m.add(tf.layers.flatten());
      m.add(tf.layers.dense({ units: 6, useBias: false, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }));
      m.add(tf.layers.batchNormalization());
      m.add(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }));
      return m;
    };
    const xData = values(10 * 64, 21, 0, 1);
    const yIdx = Int32Array.from({ length: 10 }, (_, i) => i % 3);
    const train = (backend: string, fused: boolean) => {
      tf.setBackend(backend);
      const model = build();
      if (fused) expect(useFusedBatchNorm(model)).toBe(2);
      const optimizer = tf.train.adam(0.01);
      const x = tf.tensor4d(xData, [10, 8, 8, 1]);
      const y = tf.oneHot(tf.tensor1d(yIdx, 'int32'), 3);
      const losses: number[] = [];
      for (let s = 0; s < 4; s++) {
        const loss = optimizer.minimize(
          () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
          true,
        )!;
        losses.push(loss.dataSync()[0]!);
        loss.dispose();
      }
      const before = tf.memory().numTensors;
      const extra = optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
        true,
      )!;
      extra.dispose();
      const leaked = tf.memory().numTensors - before;
      const weights = model.getWeights().map((w) => Float32Array.from(w.dataSync()));
      const inference = (model.predict(x) as tf.Tensor).dataSync().slice();
      tf.dispose([x, y]);
      model.dispose();
      optimizer.dispose();
      return { losses, weights, leaked, inference };
    };
    const ref = train('cpu', false);
    const ours = train('wasm', true);
    expect(ours.leaked).toBe(0);
    expect(maxAbsDiff(ours.losses, ref.losses)).toBeLessThan(1e-4);
    // getWeights includes the moving mean and variance of both BN layers.
    expect(ours.weights.length).toBe(ref.weights.length);
    ours.weights.forEach((w, i) => expect(maxAbsDiff(w, ref.weights[i]!)).toBeLessThan(1e-3));
    expect(maxAbsDiff(ours.inference, ref.inference)).toBeLessThan(1e-4);
    expect(ref.losses[3]).toBeLessThan(ref.losses[0]!);
  });
});
