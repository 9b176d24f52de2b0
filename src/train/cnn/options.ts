/** The options and result of a CNN training run (trainCnn, cnn/train-cnn.ts), shared by its parts. */
import type { TrainBackend } from '../kernels/backend.ts';

export interface TrainCnnOptions {
  arch: string;
  widths?: number[];
  epochs: number;
  batchSize: number;
  lr: number;
  /** 'cosine': linear warm-up over the first epoch, then cosine decay to 0 at the last epoch. */
  schedule: 'constant' | 'cosine';
  labelSmoothing: number;
  augment: boolean;
  tta: boolean;
  patience: number;
  /** Model folder: new, empty, or a model folder (see util/publish-model.ts); replaced only when a run finishes. */
  out: string;
  checkpointDir: string;
  resume: boolean;
  /** Start over although checkpointDir holds a checkpoint (deleted when the first new epoch is saved). */
  fresh?: boolean;
  data?: string;
  workers: number;
  seed: number;
  backend: 'auto' | TrainBackend;
  fastKernels: boolean;
  /** Keep at most this many rows per split (quick runs and tests). */
  limit?: number;
  /** Stop starting new epochs after this many seconds (the best model so far is still written). */
  timeBudgetSec?: number;
  id: string;
  name: string;
  log: (line: string) => void;
  /** Start from this model folder's weights (same architecture) instead of random ones. */
  init?: string;
  /**
   * Train on the app pipeline's own 48x48 crops of FER2013 (from the extraction cache, made when
   * missing) as well as FER2013's framing: each image's crop is used with probability cropMix.
   */
  crops?: boolean;
  cropMix?: number;
  /** Light, contrast, gamma, blur, down-up scaling, noise and erasing on top of the geometric augmentation. */
  photometric?: boolean;
  /** Class-balanced loss: class weight (mean count / class count)^balance; 0 or undefined = plain loss. */
  balance?: number;
  /**
   * Expression warp (learn/expression-warp.ts): each non-neutral training image with landmarks in
   * the extraction cache is, with probability 0.5, moved toward a neutral face shape by a factor
   * a ~ U(low, high) before the other augmentations. The cache must exist (it is not made here).
   */
  expressionWarp?: { low: number; high: number };
  /**
   * Knowledge distillation: the training target is (1 - weight) * the label + weight * the mean
   * probabilities of these teacher model folders (flip TTA) on the same training image, computed
   * once before training on the unaugmented images.
   */
  distill?: { teachers: string[]; weight: number };
  /** Mixup (learn/mixup.ts) with this Beta(alpha, alpha) parameter; undefined = none. */
  mixup?: number;
  /** Hide the upper or lower half of the face with this probability (learn/augment.ts partMask); undefined = never. */
  partMask?: number;
  /** Write models/index.json next to `out` (default true). */
  manifest?: boolean;
  /** Aborting it acts like Ctrl-C: finish the step, keep the checkpoint, leave `out` untouched. */
  signal?: AbortSignal;
}

export interface TrainCnnResult {
  accuracy: number;
  accuracyNoTta: number;
  bestEpoch: number;
  epochs: number;
  imagesPerSec: number;
  outDir: string;
}
