import * as tf from '@tensorflow/tfjs';

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
