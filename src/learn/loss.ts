import * as tf from '@tensorflow/tfjs';

/** One-hot targets for a batch: row i is one-hot(labels[rows[i]]). */
export function oneHotTargets(labels: ArrayLike<number>, rows: ArrayLike<number>, k: number): Float32Array {
  const out = new Float32Array(rows.length * k);
  for (let i = 0; i < rows.length; i++) out[i * k + labels[rows[i]!]!] = 1;
  return out;
}

/**
 * Distillation targets for a batch: row i is (1 - weight) * one-hot(labels[rows[i]]) + weight *
 * soft[rows[i]] (soft: count * k probabilities of the teachers), so each row sums to 1.
 */
export function distillTargets(
  labels: ArrayLike<number>,
  rows: ArrayLike<number>,
  soft: Float32Array,
  weight: number,
  k: number,
): Float32Array {
  const out = new Float32Array(rows.length * k);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    for (let c = 0; c < k; c++) out[i * k + c] = weight * soft[r * k + c]!;
    out[i * k + labels[r]!] += 1 - weight;
  }
  return out;
}

/**
 * Categorical cross-entropy on softmax outputs with label smoothing (targets (1-e)*y + e/K),
 * averaged over the batch. e = 0 is the reference study's plain loss. With `classWeights`, each
 * sample's loss is scaled by its class's weight (class-balanced loss; weights average 1 over the
 * training set, so the learning rate keeps its meaning).
 */
export function smoothedCrossEntropy(yOneHot: tf.Tensor, probs: tf.Tensor, smoothing: number, classWeights?: readonly number[]): tf.Scalar {
  return tf.tidy(() => {
    const k = yOneHot.shape[yOneHot.shape.length - 1] as number;
    const target = smoothing > 0 ? yOneHot.mul(1 - smoothing).add(smoothing / k) : yOneHot;
    const logp = tf.log(tf.clipByValue(probs, 1e-7, 1));
    const perSample = tf.neg(tf.sum(tf.mul(target, logp), -1));
    if (!classWeights) return tf.mean(perSample) as tf.Scalar;
    const w = tf.sum(tf.mul(yOneHot, tf.tensor1d(classWeights as number[])), -1);
    return tf.mean(tf.mul(perSample, w)) as tf.Scalar;
  });
}
