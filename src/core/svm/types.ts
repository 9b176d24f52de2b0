/**
 * Serialised SVM model format (pure TypeScript; no DOM, no Node APIs).
 *
 * A model is two files:
 *   - `model.json`: an {@link SvmModelJson} (metadata, small arrays, and a table of tensors);
 *   - `weights.bin`: the tensors' raw little-endian values, concatenated (each one starting at a
 *     multiple of 8 bytes), located by the table in `model.json` (`weights.tensors`).
 *
 * Inference pipeline for a raw input row x (length `inputDim`):
 *   1. standardisation (optional):  x'_i = (x_i - mean_i) / scale_i
 *   2. projection (optional, PCA):  z = components · (x' - projection.mean)   (components: outDim × inputDim)
 *   3. libsvm C-SVC with an RBF kernel on z (length `svm.featureDim`): k(z, sv) = exp(-gamma·|z - sv|²).
 */

export const SVM_FORMAT = 'emotion-svm';
export const SVM_FORMAT_VERSION = 1;
export const SVM_WEIGHTS_FILE = 'weights.bin';
export const SVM_MODEL_FILE = 'model.json';

export type SvmDType = 'float32' | 'float64';

/** One tensor in weights.bin. `offset` is in bytes (a multiple of 8), `length` in elements. */
export interface SvmTensorEntry {
  name: string;
  dtype: SvmDType;
  /** Row-major shape; the product equals `length`. */
  shape: number[];
  offset: number;
  length: number;
}

export interface SvmModelJson {
  format: typeof SVM_FORMAT;
  version: typeof SVM_FORMAT_VERSION;
  /**
   * Free-form description of what the raw input row is, provided by the trainer and read by the
   * app, e.g. `{ type: 'au-features', featureVersion: 1, features: [...names] }` or
   * `{ type: 'pixels', size: 48 }`.
   */
  input: Record<string, unknown>;
  /** Length of the raw input row. */
  inputDim: number;
  /** Tensor names; both of length `inputDim`. */
  standardize?: { mean: string; scale: string };
  /** Tensor names: `mean` of length `inputDim`, `components` of shape [outDim, inputDim]. */
  projection?: { mean: string; components: string; outDim: number };
  svm: {
    type: 'c_svc';
    kernel: 'rbf';
    gamma: number;
    /** Dimension the SVM works in: `projection.outDim` if projected, else `inputDim`. */
    featureDim: number;
    nClass: number;
    /** Total number of support vectors (libsvm's `l`). */
    totalSV: number;
    /** Class labels (EMOTIONS indices) in libsvm's internal class order. */
    labels: number[];
    /** Support vectors per class, same order as `labels`; sums to `totalSV`. */
    nSV: number[];
    /** One per class pair (i<j, libsvm order): nClass·(nClass-1)/2. */
    rho: number[];
    /** Platt sigmoid parameters per class pair; both present or both absent. */
    probA?: number[];
    probB?: number[];
    /** Tensor name, shape [nClass-1, totalSV] (libsvm's sv_coef). */
    svCoef: string;
    /** Tensor name, shape [totalSV, featureDim]. */
    supportVectors: string;
  };
  weights: {
    file: string;
    byteLength: number;
    /** FNV-1a 32-bit hash of weights.bin as 8 lowercase hex digits (detects a mismatched pair). */
    fnv1a32?: string;
    tensors: SvmTensorEntry[];
  };
  /** Free-form training information (dataset, C, gamma, accuracy, ...); not used for inference. */
  meta?: Record<string, unknown>;
}

/** Input transformation before the SVM (standardisation and/or linear projection). */
export interface SvmPreprocess {
  inputDim: number;
  /** Output length: `projection.outDim` when projecting, else `inputDim`. */
  outDim: number;
  standardize?: { mean: Float64Array; scale: Float64Array };
  projection?: { mean: Float64Array; components: Float32Array; outDim: number };
}

/** Per-model scratch buffers so that prediction does not allocate. */
export interface SvmWorkspace {
  /** Standardised input (inputDim), used only when projecting. */
  std: Float64Array;
  /** SVM feature vector (featureDim). */
  feat: Float64Array;
  /** Kernel values (totalSV). */
  kvalue: Float64Array;
  /** Pairwise decision values (nPairs). */
  dec: Float64Array;
  vote: Int32Array;
  /** nClass × nClass pairwise probabilities (row-major). */
  pairwise: Float64Array;
  /** nClass × nClass coupling matrix Q (row-major). */
  q: Float64Array;
  qp: Float64Array;
  /** Class probabilities in libsvm class order (nClass). */
  p: Float64Array;
}

/** A parsed model, ready for {@link predictSvm}. */
export interface SvmModel {
  input: Record<string, unknown>;
  meta?: Record<string, unknown>;
  inputDim: number;
  featureDim: number;
  pre: SvmPreprocess;
  gamma: number;
  nClass: number;
  totalSV: number;
  /** EMOTIONS index of each class, libsvm order. */
  labels: Int32Array;
  nSV: Int32Array;
  /** Index of each class's first support vector. */
  start: Int32Array;
  rho: Float64Array;
  /** Both null when the model has no probability information. */
  probA: Float64Array | null;
  probB: Float64Array | null;
  /** [nClass-1, totalSV] row-major. */
  svCoef: Float64Array;
  /** [totalSV, featureDim] row-major. */
  sv: Float32Array;
  /** |sv|² per support vector. */
  svNorm: Float64Array;
  work: SvmWorkspace;
}

export interface SvmPrediction {
  /** Length 7 (EMOTIONS order); 0 for classes the model lacks. */
  probs: number[];
  /** Predicted EMOTIONS index (what libsvm's svm_predict / svm_predict_probability returns). */
  top: number;
}
