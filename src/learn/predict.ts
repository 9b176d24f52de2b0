/**
 * CNN predictions on uint8 48x48 crops and their loss/accuracy: shared by the Node commands
 * (evaluate, fine-tune) and the in-browser calibration trainer.
 */
import * as tf from '@tensorflow/tfjs';
import { IMAGE_PIXELS, IMAGE_SIZE, NUM_CLASSES } from '../core/labels.ts';

/**
 * Class probabilities for `count` uint8 48x48 images. With `tta`, the mean of the image's and its
 * mirror image's predictions (horizontal-flip test-time augmentation).
 */
export function predictProbs(model: tf.LayersModel, pixels: Uint8Array, count: number, tta = false, batchSize = 256): Float32Array {
  const out = new Float32Array(count * NUM_CLASSES);
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const probs = tf.tidy(() => {
      const raw = pixels.subarray(start * IMAGE_PIXELS, (start + n) * IMAGE_PIXELS);
      const x = tf.tensor4d(
        Float32Array.from(raw, (v) => v / 255),
        [n, IMAGE_SIZE, IMAGE_SIZE, 1],
      );
      const p = model.predict(x) as tf.Tensor;
      if (!tta) return p;
      const pf = model.predict(tf.reverse(x, 2)) as tf.Tensor;
      return p.add(pf).div(2);
    });
    out.set(probs.dataSync() as Float32Array, start * NUM_CLASSES);
    probs.dispose();
  }
  return out;
}

/** Mean cross-entropy (no smoothing) and accuracy of probabilities against labels. */
export function lossAndAccuracy(probs: Float32Array, labels: Uint8Array, count: number): { loss: number; acc: number } {
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < count; i++) {
    const row = probs.subarray(i * NUM_CLASSES, (i + 1) * NUM_CLASSES);
    let best = 0;
    for (let k = 1; k < NUM_CLASSES; k++) if (row[k] > row[best]) best = k;
    if (best === labels[i]) correct++;
    loss -= Math.log(Math.max(row[labels[i]], 1e-7));
  }
  return { loss: loss / count, acc: correct / count };
}
