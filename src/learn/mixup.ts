/**
 * Mixup (Zhang et al., 2018) for CNN training: each image of a batch is blended with another image
 * of the same batch, x = l * x_i + (1 - l) * x_j, and so is its target, y = l * y_i + (1 - l) * y_j,
 * with l ~ Beta(alpha, alpha) drawn per image. The model sees in-between faces with in-between
 * targets instead of only full-strength, one-label ones.
 */
import { betaSample, shuffleIndices } from '../core/random.ts';

/**
 * Mixes a batch in place. x: n images of `size` floats each; y: n targets of k numbers each (one-hot,
 * smoothed or distillation targets). The partner of image i is a seeded random permutation of the
 * batch, read from copies so every blend uses the unmixed images. Returns the weights l.
 */
export function mixupBatch(x: Float32Array, y: Float32Array, n: number, alpha: number, rand: () => number): Float32Array {
  if (n === 0) return new Float32Array(0);
  const size = x.length / n;
  const k = y.length / n;
  if (!Number.isInteger(size) || !Number.isInteger(k))
    throw new Error(`mixupBatch: ${x.length} pixels or ${y.length} targets do not split into ${n} rows`);
  const partner = shuffleIndices(n, rand);
  const x0 = x.slice();
  const y0 = y.slice();
  const weights = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const l = betaSample(alpha, alpha, rand);
    weights[i] = l;
    const j = partner[i]!;
    for (let p = 0; p < size; p++) x[i * size + p] = l * x0[i * size + p]! + (1 - l) * x0[j * size + p]!;
    for (let c = 0; c < k; c++) y[i * k + c] = l * y0[i * k + c]! + (1 - l) * y0[j * k + c]!;
  }
  return weights;
}
