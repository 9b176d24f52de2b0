import * as tf from '@tensorflow/tfjs';

/**
 * Categorical cross-entropy on softmax outputs with label smoothing (targets (1-e)*y + e/K),
 * averaged over the batch. e = 0 is the reference study's plain loss.
 */
export function smoothedCrossEntropy(yOneHot: tf.Tensor, probs: tf.Tensor, smoothing: number): tf.Scalar {
  return tf.tidy(() => {
    const k = yOneHot.shape[yOneHot.shape.length - 1] as number;
    const target = smoothing > 0 ? yOneHot.mul(1 - smoothing).add(smoothing / k) : yOneHot;
    const logp = tf.log(tf.clipByValue(probs, 1e-7, 1));
    return tf.neg(tf.mean(tf.sum(tf.mul(target, logp), -1))) as tf.Scalar;
  });
}
