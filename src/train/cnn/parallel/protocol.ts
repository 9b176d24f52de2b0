/** Messages between the training coordinator and its data-parallel workers. */
import type { AugmentOptions } from '../../../learn/augment.ts';
import type { TrainBackend } from '../../kernels/backend.ts';

export interface WorkerInit {
  index: number;
  arch: string;
  widths?: number[];
  seed: number;
  backend: 'auto' | TrainBackend;
  fastKernels: boolean;
  labelSmoothing: number;
  augment: AugmentOptions;
  /** Per-class loss weights (mean 1 over the training set); undefined = plain loss. */
  classWeights?: number[];
  /** Training pixels (count*2304 uint8) and labels, shared by all workers without copies. */
  pixels: SharedArrayBuffer;
  labels: SharedArrayBuffer;
  /**
   * With augment.expressionWarp: each training row's face keypoints (rows * 2K float32, x, y in
   * its 48x48 pixels; NaN where the row has none, never warped), shared like the pixels.
   */
  keypoints?: SharedArrayBuffer;
  /** With augment.expressionWarp: the neutral face shape (2K numbers) the keypoints move toward. */
  template?: number[];
  /** Distillation: every training row's teacher probabilities (rows * 7 float32), shared like the pixels. */
  softTargets?: SharedArrayBuffer;
  /** Share of the teachers in the target (the label has the rest); with softTargets. */
  distillWeight?: number;
  /** Mixup's Beta(alpha, alpha) parameter (learn/mixup.ts); undefined = no mixup. */
  mixup?: number;
  /** numWorkers * paramCount floats: each worker writes its shard's mean gradient in its slot. */
  grads: SharedArrayBuffer;
  /** paramCount floats: the averaged gradient every worker applies. */
  averaged: SharedArrayBuffer;
}

export type ToWorker =
  /**
   * next: the batch of the following step, which the worker augments right after replying, while
   * the coordinator averages gradients, so augmentation stays off the critical path.
   */
  | { type: 'step'; apply: boolean; lr: number; rows: Int32Array; stepSeed: number; next?: { rows: Int32Array; stepSeed: number } }
  | { type: 'apply'; lr: number }
  | { type: 'getWeights' }
  | { type: 'getOptimizer' }
  | { type: 'setWeights'; weights: Float32Array[]; optimizer?: NamedArray[] };

export interface NamedArray {
  name: string;
  shape: number[];
  data: Float32Array;
}

export type FromWorker =
  | { type: 'ready'; paramCount: number; backend: string; variableNames: string[] }
  | { type: 'stepped'; loss: number; correct: number; n: number }
  | { type: 'applied' }
  | { type: 'weights'; weights: Float32Array[] }
  | { type: 'optimizer'; state: NamedArray[] }
  | { type: 'weightsSet' }
  | { type: 'error'; message: string; stack?: string };
