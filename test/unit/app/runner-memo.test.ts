/**
 * A CNN that a fusion model reads as its member runs once per frame (the engine's per-frame memo)
 * and is shared, not loaded twice: the model stays until its last holder lets go.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ModelRunner } from '../../../src/app/live/runner.ts';
import type { FrameMemo } from '../../../src/app/live/model-load.ts';
import type { ModelEntry } from '../../../src/core/contracts/index.ts';

const ENTRY = {
  id: 'tiny',
  name: 'tiny',
  kind: 'cnn',
  path: 'tiny/model.json',
  input: { shape: [null, 48, 48, 1], dtype: 'float32', color: 'gray', range: [0, 1], size: 48, tta: 'hflip-mean' },
} as ModelEntry;

function tinyModel(): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.flatten({ inputShape: [48, 48, 1] }));
  model.add(tf.layers.dense({ units: 7, activation: 'softmax', kernelInitializer: tf.initializers.randomNormal({ seed: 1 }) }));
  return model;
}

const crop = (v: number) => Float32Array.from({ length: 48 * 48 }, (_, i) => ((i * v) % 97) / 97);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('ModelRunner memo and sharing', () => {
  it('runs the model once per frame memo and gives every reader the same rows (as copies)', async () => {
    const model = tinyModel();
    const runner = await ModelRunner.fromModel(ENTRY, model, 'tiny/model.json');
    const spy = vi.spyOn(model, 'predict');
    const crops = [crop(3), crop(5)];
    const memo: FrameMemo = new Map();
    const a = await runner.predict(crops, [], memo);
    const b = await runner.predict(crops.slice(), [], memo);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(b).toEqual(a);
    b[0]![0] = 42;
    expect(a[0]![0]).not.toBe(42);
    // A new frame (new memo) runs again; no memo never reuses.
    await runner.predict(crops, [], new Map());
    await runner.predict(crops, []);
    expect(spy).toHaveBeenCalledTimes(3);
    runner.dispose();
  });

  it('keeps the model until the last holder disposes it', async () => {
    const model = tinyModel();
    const runner = await ModelRunner.fromModel(ENTRY, model, 'tiny/model.json');
    const shared = runner.share();
    expect(shared).toBe(runner);
    runner.dispose();
    const rows = await shared.predict([crop(7)], []);
    expect(rows[0]!.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 5);
    shared.dispose();
    await expect(shared.predict([crop(7)], [])).rejects.toThrow(/disposed/i);
  });
});
