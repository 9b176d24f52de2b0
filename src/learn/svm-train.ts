/**
 * Training RBF C-SVCs with libsvm-js (libsvm 3.22 compiled with emscripten): training, seeded
 * stratified k-fold cross-validation and a (C, gamma) grid search, given the loaded libsvm-js class
 * (Node loads it in src/train/svm/libsvm.ts, the browser imports its asm.js build). Export the trained
 * model with svm-export.ts; predict with src/core/svm.
 *
 * libsvm-js keeps its models in the emscripten heap: call `svm.free()` when done with one.
 */
import { stratifiedFolds } from './folds.ts';

/** libsvm-js's option object (see node_modules/libsvm-js/src/loadSVM.js). */
export interface LibsvmOptions {
  type?: string;
  kernel?: string;
  gamma?: number;
  cost?: number;
  cacheSize?: number;
  tolerance?: number;
  shrinking?: boolean;
  probabilityEstimates?: boolean;
  weight?: Record<string, number>;
  quiet?: boolean;
}

export interface LibsvmProbability {
  prediction: number;
  estimates: { label: number; probability: number }[];
}

/** A libsvm-js SVM instance (the methods this project uses). */
export interface LibsvmInstance {
  options: LibsvmOptions;
  train(samples: ArrayLike<number>[], labels: ArrayLike<number>): void;
  free(): void;
  predictOne(sample: ArrayLike<number>): number;
  predict(samples: ArrayLike<number>[]): number[];
  predictOneProbability(sample: ArrayLike<number>): LibsvmProbability;
  predictProbability(samples: ArrayLike<number>[]): LibsvmProbability[];
  getLabels(): number[];
  getSVIndices(): number[];
  /** libsvm's text model format (svm_save_model). */
  serializeModel(): string;
}

export interface LibsvmClass {
  new (options?: LibsvmOptions): LibsvmInstance;
  load(serializedModel: string): LibsvmInstance;
  SVM_TYPES: { C_SVC: string };
  KERNEL_TYPES: { RBF: string };
}

export type Rows = readonly ArrayLike<number>[];

export interface SvmTrainOptions {
  /** C. */
  cost: number;
  /** RBF gamma (> 0; required: libsvm-js's default 1/dims would not be recorded exactly). */
  gamma: number;
  /** Train Platt sigmoids for probability estimates (libsvm -b 1; about 5x slower: internal 5-fold CV). */
  probability?: boolean;
  /** Stopping tolerance (libsvm -e); default 0.001. */
  tolerance?: number;
  /** Kernel cache in MB (libsvm -m); default 200. */
  cacheSizeMb?: number;
  /** Shrinking heuristics (libsvm -h); default true. */
  shrinking?: boolean;
  /** Per-class weights on C (libsvm -wi), e.g. { 1: 5 } to up-weight disgust. */
  classWeights?: Record<number, number>;
}

export interface TrainedSvm {
  /** The libsvm-js instance; call `svm.free()` when done. */
  svm: LibsvmInstance;
  trainMs: number;
  /** Exact parameters used (gamma here is exact; libsvm's text format prints it with 6 digits). */
  params: { cost: number; gamma: number; probability: boolean; tolerance: number };
  totalSV: number;
  /** Class labels in libsvm's internal order. */
  labels: number[];
}

function checkData(rows: Rows, labels: ArrayLike<number>): number {
  if (rows.length === 0) throw new Error('SVM training: no rows');
  if (rows.length !== labels.length) throw new Error(`SVM training: ${rows.length} rows but ${labels.length} labels`);
  const d = rows[0]!.length;
  if (d === 0) throw new Error('SVM training: rows have no features');
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (r.length !== d) throw new Error(`SVM training: row ${i} has ${r.length} values, row 0 has ${d}`);
    for (let j = 0; j < d; j++) if (!Number.isFinite(r[j])) throw new Error(`SVM training: row ${i} value ${j} is ${r[j]}`);
    const y = labels[i]!;
    if (!Number.isInteger(y)) throw new Error(`SVM training: label ${i} is ${y} (must be an integer)`);
  }
  return d;
}

function checkParams(opts: SvmTrainOptions): void {
  if (!(Number.isFinite(opts.cost) && opts.cost > 0)) throw new RangeError(`SVM cost must be > 0, got ${opts.cost}`);
  if (!(Number.isFinite(opts.gamma) && opts.gamma > 0)) throw new RangeError(`SVM gamma must be > 0, got ${opts.gamma}`);
}

function libsvmOptions(SVM: LibsvmClass, opts: SvmTrainOptions): LibsvmOptions {
  const o: LibsvmOptions = {
    type: SVM.SVM_TYPES.C_SVC,
    kernel: SVM.KERNEL_TYPES.RBF,
    cost: opts.cost,
    gamma: opts.gamma,
    tolerance: opts.tolerance ?? 0.001,
    cacheSize: opts.cacheSizeMb ?? 200,
    shrinking: opts.shrinking ?? true,
    probabilityEstimates: opts.probability ?? false,
    quiet: true,
  };
  if (opts.classWeights && Object.keys(opts.classWeights).length > 0) {
    o.weight = {};
    for (const [k, v] of Object.entries(opts.classWeights)) {
      if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`SVM class weight for ${k} must be > 0, got ${v}`);
      o.weight[k] = v;
    }
  }
  return o;
}

/** Trains an RBF C-SVC on `rows` (any numeric rows, converted to doubles by libsvm-js) with the libsvm-js class `SVM`. */
export function trainSvmWith(SVM: LibsvmClass, rows: Rows, labels: ArrayLike<number>, opts: SvmTrainOptions): TrainedSvm {
  checkData(rows, labels);
  checkParams(opts);
  const options = libsvmOptions(SVM, opts);
  const svm = new SVM(options);
  const t0 = performance.now();
  try {
    svm.train(rows as ArrayLike<number>[], Array.from(labels));
  } catch (e) {
    svm.free();
    throw e;
  }
  const trainMs = performance.now() - t0;
  return {
    svm,
    trainMs,
    params: { cost: opts.cost, gamma: opts.gamma, probability: options.probabilityEstimates!, tolerance: options.tolerance! },
    totalSV: svm.getSVIndices().length,
    labels: svm.getLabels(),
  };
}

export interface FoldResult {
  fold: number;
  nTrain: number;
  nTest: number;
  accuracy: number;
  trainMs: number;
  totalSV: number;
}

export interface CvResult {
  k: number;
  seed: number;
  folds: FoldResult[];
  /** Mean of the per-fold accuracies. */
  meanAccuracy: number;
  /** Standard deviation (population) of the per-fold accuracies. */
  stdAccuracy: number;
  /** Out-of-fold prediction of every row. */
  predictions: Int32Array;
  ms: number;
}

export interface CvOptions {
  probability?: boolean;
  tolerance?: number;
  cacheSizeMb?: number;
  classWeights?: Record<number, number>;
  /** Checked between trainings: aborting throws the signal's reason. */
  signal?: AbortSignal;
}

/**
 * k-fold cross-validation with {@link stratifiedFolds}(labels, k, seed): trains on k-1 folds,
 * scores label accuracy on the held-out fold. Deterministic for a given seed.
 */
export function crossValidateWith(
  SVM: LibsvmClass,
  rows: Rows,
  labels: ArrayLike<number>,
  params: { cost: number; gamma: number } & CvOptions,
  k = 5,
  seed = 1,
): CvResult {
  checkData(rows, labels);
  checkParams({ ...params });
  const t0 = performance.now();
  const fold = stratifiedFolds(labels, k, seed);
  const predictions = new Int32Array(rows.length);
  const folds: FoldResult[] = [];
  for (let f = 0; f < k; f++) {
    const trainRows: ArrayLike<number>[] = [];
    const trainLabels: number[] = [];
    const testIdx: number[] = [];
    for (let i = 0; i < rows.length; i++) {
      if (fold[i] === f) testIdx.push(i);
      else {
        trainRows.push(rows[i]!);
        trainLabels.push(labels[i]!);
      }
    }
    params.signal?.throwIfAborted();
    const { signal: _signal, ...trainOptions } = params;
    const trained = trainSvmWith(SVM, trainRows, trainLabels, trainOptions);
    let correct = 0;
    try {
      for (const i of testIdx) {
        const p = trained.svm.predictOne(rows[i]!);
        predictions[i] = p;
        if (p === labels[i]) correct++;
      }
    } finally {
      trained.svm.free();
    }
    folds.push({
      fold: f,
      nTrain: trainRows.length,
      nTest: testIdx.length,
      accuracy: correct / testIdx.length,
      trainMs: trained.trainMs,
      totalSV: trained.totalSV,
    });
  }
  const accs = folds.map((r) => r.accuracy);
  const meanAccuracy = accs.reduce((a, b) => a + b, 0) / k;
  const stdAccuracy = Math.sqrt(accs.reduce((a, b) => a + (b - meanAccuracy) ** 2, 0) / k);
  return { k, seed, folds, meanAccuracy, stdAccuracy, predictions, ms: performance.now() - t0 };
}

export interface GridCell {
  cost: number;
  gamma: number;
  meanAccuracy: number;
  stdAccuracy: number;
  foldAccuracies: number[];
  meanTotalSV: number;
  ms: number;
}

export interface GridSearchResult {
  cells: GridCell[];
  /** Highest mean accuracy; ties go to the earlier cell (smaller C, then smaller gamma in grid order). */
  best: GridCell;
}

export interface GridProgress {
  done: number;
  total: number;
  cell: GridCell;
  best: GridCell;
}

/**
 * Cross-validates every (cost, gamma) pair of the grid (same folds for all: same seed).
 * Cells are evaluated cost-major in the order given.
 */
export function gridSearchWith(
  SVM: LibsvmClass,
  rows: Rows,
  labels: ArrayLike<number>,
  grid: { cost: readonly number[]; gamma: readonly number[] },
  k = 5,
  onProgress?: (p: GridProgress) => void,
  options: CvOptions & { seed?: number } = {},
): GridSearchResult {
  if (grid.cost.length === 0 || grid.gamma.length === 0) throw new Error('gridSearch: empty grid');
  const { seed = 1, ...cv } = options;
  const cells: GridCell[] = [];
  let best: GridCell | undefined;
  const total = grid.cost.length * grid.gamma.length;
  for (const cost of grid.cost) {
    for (const gamma of grid.gamma) {
      const r = crossValidateWith(SVM, rows, labels, { ...cv, cost, gamma }, k, seed);
      const cell: GridCell = {
        cost,
        gamma,
        meanAccuracy: r.meanAccuracy,
        stdAccuracy: r.stdAccuracy,
        foldAccuracies: r.folds.map((f) => f.accuracy),
        meanTotalSV: r.folds.reduce((a, f) => a + f.totalSV, 0) / k,
        ms: r.ms,
      };
      cells.push(cell);
      if (!best || cell.meanAccuracy > best.meanAccuracy) best = cell;
      onProgress?.({ done: cells.length, total, cell, best });
    }
  }
  return { cells, best: best! };
}
