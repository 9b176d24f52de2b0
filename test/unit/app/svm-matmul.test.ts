import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initWasm } from '../../../src/train/kernels/backend.ts';
import { readSvmModel } from '../../../src/train/svm/export.ts';
import { mulberry32 } from '../../../src/core/random.ts';
import { applyPreprocess, predictSvm, predictSvmFromDots, type SvmModel } from '../../../src/core/svm/index.ts';
import { SvmMatmul } from '../../../src/app/live/svm-matmul.ts';
import { ROOT } from '../../helpers/shared-data.ts';

const MODELS = join(ROOT, 'models');

/** Raw rows near the model's training distribution: mean + scale·N(0,1) per input when standardised. */
function rowsFor(model: SvmModel, n: number, seed: number): Float32Array[] {
  const rand = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const std = model.pre.standardize;
  return Array.from({ length: n }, () =>
    Float32Array.from({ length: model.inputDim }, (_, i) => (std ? std.mean[i]! + std.scale[i]! * gauss() : rand())),
  );
}

describe('predictSvmFromDots (core)', () => {
  const dir = join(MODELS, 'svm-au-personal');
  it.skipIf(!existsSync(join(dir, 'model.json')))('equals predictSvm when given the exact dot products', async () => {
    const model = await readSvmModel(dir);
    for (const row of rowsFor(model, 20, 3)) {
      const feature = Float64Array.from(applyPreprocess(model.pre, row));
      const dots = new Float64Array(model.totalSV);
      for (let s = 0; s < model.totalSV; s++) {
        let d = 0;
        for (let j = 0; j < model.featureDim; j++) d += model.sv[s * model.featureDim + j]! * feature[j]!;
        dots[s] = d;
      }
      const probs = new Array<number>(7).fill(0);
      const top = predictSvmFromDots(model, feature, dots, probs);
      const ref = predictSvm(model, row);
      expect(top).toBe(ref.top);
      probs.forEach((p, c) => expect(p).toBeCloseTo(ref.probs[c]!, 9));
    }
  });

  it.skipIf(!existsSync(join(dir, 'model.json')))('rejects dot products of the wrong length and non-finite features', async () => {
    const model = await readSvmModel(dir);
    const feature = new Float64Array(model.featureDim);
    expect(() => predictSvmFromDots(model, feature, new Float64Array(model.totalSV - 1), new Array(7).fill(0))).toThrow(/dot products/);
    feature[0] = NaN;
    expect(() => predictSvmFromDots(model, feature, new Float64Array(model.totalSV), new Array(7).fill(0))).toThrow(/NaN/);
  });
});

describe('SvmMatmul: the app runs the committed SVMs with one tfjs matrix product, same results as src/core/svm', () => {
  beforeAll(async () => {
    await initWasm(true);
  });

  for (const id of ['svm-au', 'svm-pixels', 'svm-au-personal']) {
    const dir = join(MODELS, id);
    it.skipIf(!existsSync(join(dir, 'model.json')))(
      `${id}: same labels, probabilities within 1e-4, batch = single rows, no tensor leak`,
      async () => {
        const model = await readSvmModel(dir);
        const matmul = SvmMatmul.create(model);
        try {
          const rows = rowsFor(model, 24, 7);
          const before = tf.memory().numTensors;
          const batched = await matmul.predict(rows);
          const single = [];
          for (const r of rows.slice(0, 4)) single.push(...(await matmul.predict([r])));
          expect(tf.memory().numTensors).toBe(before);
          let maxDiff = 0;
          rows.forEach((row, i) => {
            const ref = predictSvm(model, row);
            expect(batched[i]!.top).toBe(ref.top);
            ref.probs.forEach((p, c) => (maxDiff = Math.max(maxDiff, Math.abs(p - batched[i]!.probs[c]!))));
          });
          expect(maxDiff).toBeLessThan(1e-4);
          single.forEach((s, i) => s.probs.forEach((p, c) => expect(p).toBeCloseTo(batched[i]!.probs[c]!, 6)));
          expect(await matmul.predict([])).toEqual([]);
          await expect(matmul.predict([new Float32Array(model.inputDim + 1)])).rejects.toThrow(/expected/);
        } finally {
          matmul.dispose();
        }
      },
    );
  }
});
