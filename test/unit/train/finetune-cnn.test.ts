/** Fine-tuning: frozen blocks really stay as they were (weights and BatchNorm statistics). */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildArch } from '../../../src/train/cnn/architectures.ts';
import { initWasm } from '../../../src/train/kernels/backend.ts';
import { mulberry32 } from '../../../src/core/random.ts';
import { finetuneCnn, frozenLayerCount, subset, type ImageSet } from '../../../src/learn/finetune-cnn.ts';

function randomSet(n: number, seed: number): ImageSet {
  const rand = mulberry32(seed);
  return {
    pixels: Uint8Array.from({ length: n * 2304 }, () => Math.floor(rand() * 256)),
    labels: Uint8Array.from({ length: n }, (_, i) => i % 5),
    count: n,
  };
}

const snapshot = (layer: tf.layers.Layer): Float32Array[] => layer.getWeights().map((w) => w.dataSync().slice() as Float32Array);

describe('finetuneCnn', () => {
  beforeAll(async () => {
    await initWasm(true);
  });

  it('finds the end of the N-th conv block and rejects too many blocks', () => {
    const model = buildArch('default', 1, [4, 4, 4, 4]);
    // default: conv, bn, relu, pool | conv, bn, relu, conv, bn, relu, pool | ...
    expect(frozenLayerCount(model, 0)).toBe(0);
    expect(frozenLayerCount(model, 1)).toBe(4);
    expect(frozenLayerCount(model, 2)).toBe(11);
    expect(() => frozenLayerCount(model, 9)).toThrow(/only 4 conv blocks/);
    model.dispose();
  });

  it('leaves frozen layers (kernels and BatchNorm moving statistics) unchanged and trains the rest', async () => {
    const model = buildArch('default', 1, [4, 4, 8, 8]);
    const cut = frozenLayerCount(model, 2);
    const before = model.layers.map(snapshot);
    const history = await finetuneCnn(model, randomSet(24, 1), { freeze: 2, epochs: 2, lr: 0.01, batchSize: 8, seed: 3, augment: true });
    expect(history).toHaveLength(2);
    expect(Number.isFinite(history[1]!.loss)).toBe(true);
    const after = model.layers.map(snapshot);
    let frozenWeights = 0;
    for (let l = 0; l < cut; l++) {
      for (let w = 0; w < before[l]!.length; w++) {
        frozenWeights++;
        expect(Array.from(after[l]![w]!)).toEqual(Array.from(before[l]![w]!));
      }
    }
    expect(frozenWeights).toBeGreaterThan(4); // conv kernels and BN gamma/beta/mean/variance
    // Some trainable layer after the cut moved.
    const changed = model.layers.slice(cut).some((_, i) => before[cut + i]!.some((w, k) => w.some((v, j) => v !== after[cut + i]![k]![j])));
    expect(changed).toBe(true);
    model.dispose();
  });

  it('subset copies the chosen rows and labels', () => {
    const set = randomSet(5, 2);
    const s = subset(set, [4, 1]);
    expect(s.count).toBe(2);
    expect(Array.from(s.labels)).toEqual([set.labels[4], set.labels[1]]);
    expect(Array.from(s.pixels.subarray(0, 10))).toEqual(Array.from(set.pixels.subarray(4 * 2304, 4 * 2304 + 10)));
  });
});
