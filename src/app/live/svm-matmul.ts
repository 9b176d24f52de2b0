/**
 * An SVM's heavy step, the dot product of the input with every support vector, as one matrix
 * product on the active tfjs backend; the rest (preprocessing, RBF kernel, one-vs-one decisions,
 * probabilities) is src/core/svm, the code tested against libsvm.
 *
 * Why: svm-au has 21,306 support vectors of 168 values. The scalar JS loop takes ~3 ms per face;
 * tfjs wasm (XNNPACK, SIMD) takes ~0.3 ms with the support vectors stored transposed, [dim, count]
 * (measured in Node: the same product with transposeB=true took 2.4 ms).
 */
import * as tf from '@tensorflow/tfjs';
import { NUM_CLASSES } from '../../core/labels.ts';
import { applyPreprocess, predictSvmFromDots, type SvmModel, type SvmPrediction } from '../../core/svm/index.ts';

export class SvmMatmul {
  private constructor(
    readonly model: SvmModel,
    /** Support vectors, transposed: [featureDim, totalSV]. */
    private readonly svT: tf.Tensor2D,
  ) {}

  /** Uploads the support vectors to the active backend. */
  static create(model: SvmModel): SvmMatmul {
    const { totalSV: l, featureDim: k, sv } = model;
    const t = new Float32Array(k * l);
    for (let s = 0; s < l; s++) for (let j = 0; j < k; j++) t[j * l + s] = sv[s * k + j]!;
    return new SvmMatmul(model, tf.tensor2d(t, [k, l]));
  }

  /** One prediction per raw input row (length model.inputDim). */
  async predict(rows: readonly ArrayLike<number>[]): Promise<SvmPrediction[]> {
    const n = rows.length;
    if (n === 0) return [];
    const { model } = this;
    const k = model.featureDim;
    const l = model.totalSV;
    const scratch = new Float64Array(model.inputDim);
    const features = rows.map((row) => {
      if (row.length !== model.inputDim) throw new RangeError(`SVM input has ${row.length} values, expected ${model.inputDim}`);
      return applyPreprocess(model.pre, row, new Float64Array(k), scratch);
    });
    const packed = new Float32Array(n * k);
    features.forEach((f, i) => packed.set(f, i * k));
    const dots = tf.tidy(() => tf.matMul(tf.tensor2d(packed, [n, k]), this.svT));
    let data: Float32Array;
    try {
      data = (await dots.data()) as Float32Array;
    } finally {
      dots.dispose();
    }
    return features.map((f, i) => {
      const probs = new Array<number>(NUM_CLASSES).fill(0);
      const top = predictSvmFromDots(model, f, data.subarray(i * l, (i + 1) * l), probs);
      return { probs, top };
    });
  }

  dispose(): void {
    this.svT.dispose();
  }
}
