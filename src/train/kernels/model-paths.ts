/**
 * The model-level half of the fast training path on the wasm backend (the kernel half is
 * registered by backend.ts): the parts that need a model's layers rather than a kernel name.
 */
import type * as tf from '@tensorflow/tfjs';
import { useFusedBatchNorm } from './batchnorm-train.ts';
import { useLazyImageGradient } from './first-conv.ts';

/** Training-mode BatchNorm as two fused kernels; the first conv without the images' gradient. */
export function useFastTrainingPaths(model: tf.LayersModel): void {
  useFusedBatchNorm(model);
  useLazyImageGradient(model);
}
