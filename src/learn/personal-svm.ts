/**
 * The personal AU-feature SVM (svm-au-personal in Node, my-svm-au in the browser): features
 * standardised on the training rows, C and gamma chosen by seeded stratified k-fold CV over a small
 * grid, then an RBF C-SVC with Platt probabilities, exported as the app's SVM model files.
 */
import { FEATURE_COUNT, FEATURE_NAMES, FEATURE_VERSION } from '../core/features/index.ts';
import { createPreprocess, transformRows } from '../core/svm/index.ts';
import { fitStandardScaler, type StandardScaler } from './scaler.ts';
import { libsvmToModelFiles, type ModelFiles } from './svm-export.ts';
import { gridSearchWith, trainSvmWith, type GridProgress, type LibsvmClass } from './svm-train.ts';

/** C values and gamma as multiples of 1/FEATURE_COUNT. */
export const PERSONAL_SVM_GRID = { cost: [1, 4, 16, 64], gammaFactors: [0.25, 0.5, 1, 2] } as const;

export interface PersonalSvmFit {
  files: ModelFiles;
  scaler: StandardScaler;
  cost: number;
  gamma: number;
  /** Folds of the grid search and its best mean CV accuracy. */
  k: number;
  cvAccuracy: number;
  totalSV: number;
}

/**
 * Fits the personal SVM on feature rows (FEATURE_COUNT values each) with the libsvm-js class `SVM`.
 * Throws when a class has fewer than 2 rows (cross-validation needs 2 per class).
 */
export function fitPersonalSvm(
  SVM: LibsvmClass,
  rows: readonly ArrayLike<number>[],
  labels: readonly number[],
  o: { seed: number; signal?: AbortSignal; onProgress?: (p: GridProgress) => void; meta?: Record<string, unknown> },
): PersonalSvmFit {
  const scaler = fitStandardScaler(rows);
  const z = transformRows(createPreprocess({ inputDim: FEATURE_COUNT, standardize: scaler }), rows);
  const grid = { cost: PERSONAL_SVM_GRID.cost, gamma: PERSONAL_SVM_GRID.gammaFactors.map((f) => f / FEATURE_COUNT) };
  const counts = [...new Set(labels)].map((c) => labels.filter((y) => y === c).length);
  const k = Math.min(5, Math.min(...counts));
  if (k < 2) throw new Error(`personal SVM: every emotion needs at least 2 training samples for cross-validation (one has ${k})`);
  const search = gridSearchWith(SVM, z, labels, grid, k, o.onProgress, { seed: o.seed, ...(o.signal ? { signal: o.signal } : {}) });
  const best = search.best;
  o.signal?.throwIfAborted();
  const trained = trainSvmWith(SVM, z, labels, { cost: best.cost, gamma: best.gamma, probability: true });
  try {
    const files = libsvmToModelFiles(trained.svm.serializeModel(), {
      input: { type: 'au-features', featureVersion: FEATURE_VERSION, dim: FEATURE_COUNT, features: [...FEATURE_NAMES] },
      scaler,
      gamma: trained.params.gamma,
      meta: { cost: best.cost, gamma: best.gamma, trainRows: z.length, seed: o.seed, ...o.meta },
    });
    return { files, scaler, cost: best.cost, gamma: best.gamma, k, cvAccuracy: best.meanAccuracy, totalSV: trained.totalSV };
  } finally {
    trained.svm.free();
  }
}
