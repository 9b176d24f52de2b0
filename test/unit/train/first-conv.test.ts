import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initWasm } from '../../../src/train/kernels/backend.ts';
import { useLazyImageGradient } from '../../../src/train/kernels/first-conv.ts';

function build(useBias = false): tf.Sequential {
  const m = tf.sequential();
  m.add(
    tf.layers.conv2d({
      inputShape: [10, 10, 1],
      filters: 8,
      kernelSize: 3,
      padding: 'same',
      useBias,
      kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
    }),
  );
  m.add(
    tf.layers.conv2d({
      filters: 8,
      kernelSize: 3,
      padding: 'same',
      useBias: false,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }),
    }),
  );
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }));
  return m;
}

/** Gradients of a loss for every trainable weight, and the kernels that ran while computing them. */
async function gradients(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor) {
  const vars = model.trainableWeights.map((w) => (w as unknown as { read(): tf.Variable }).read());
  let grads: Float32Array[] = [];
  const info = await tf.profile(() => {
    const { value, grads: g } = tf.variableGrads(
      () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      vars,
    );
    grads = vars.map((v) => Float32Array.from(g[v.name]!.dataSync()));
    tf.dispose([value, ...Object.values(g)]);
  });
  return { grads, kernels: info.kernels.map((k) => k.name) };
}

describe("first conv layer without the images' gradient", () => {
  beforeAll(async () => {
    await initWasm(true);
  });

  it('gives the same gradients and outputs, and skips the input gradient of the first layer', async () => {
    const x = tf.randomUniform([4, 10, 10, 1], 0, 1, 'float32', 7);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3);
    const plain = build();
    const lazy = build();
    expect(useLazyImageGradient(lazy)).toBe(true);
    const a = await gradients(plain, x, y);
    const b = await gradients(lazy, x, y);
    expect(b.grads.length).toBe(a.grads.length);
    a.grads.forEach((g, i) => {
      let diff = 0;
      for (let j = 0; j < g.length; j++) diff = Math.max(diff, Math.abs(g[j]! - b.grads[i]![j]!));
      expect(diff).toBeLessThan(1e-5);
    });
    const count = (names: string[]) => names.filter((n) => n === 'Conv2DBackpropInput').length;
    // Two conv layers: the plain model computes both input gradients, the lazy one only the second's.
    expect(count(a.kernels)).toBe(2);
    expect(count(b.kernels)).toBe(1);
    const pa = plain.predict(x) as tf.Tensor;
    const pb = lazy.predict(x) as tf.Tensor;
    expect(Math.max(...(tf.sub(pa, pb).abs().dataSync() as Float32Array))).toBeLessThan(1e-6);
    tf.dispose([x, y, pa, pb]);
  });

  it('leaves a first layer with a bias alone', () => {
    expect(useLazyImageGradient(build(true))).toBe(false);
  });
});
