import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NUM_CLASSES } from '../../../src/core/labels.ts';
import {
  SvmModelError,
  createPreprocess,
  applyPreprocess,
  decisionValues,
  parseSvmModel,
  predictSvm,
  predictSvmBatch,
  type SvmModel,
  type SvmModelJson,
} from '../../../src/core/svm/index.ts';
import { crossValidate, gridSearch, loadLibsvm, stratifiedFolds, trainSvm, type LibsvmInstance } from '../../../src/train/svm/libsvm.ts';
import { libsvmToModelFiles, parseLibsvmText, readSvmModel, writeSvmModel, type ModelFiles } from '../../../src/train/svm/export.ts';
import { fitStandardScaler } from '../../../src/learn/scaler.ts';
import { fitPca, symmetricEigen } from '../../../src/train/svm/pca.ts';
import { mulberry32 } from '../../../src/core/random.ts';

// ---------------------------------------------------------------------------------------------
// Synthetic data: overlapping Gaussian classes, so that many support vectors sit on margins and the
// probabilities are far from 0/1 (a non-trivial test of the coupling).

function gaussian(rand: () => number): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

interface Data {
  X: Float32Array[];
  y: number[];
}

/** Rows are float32 (like the app's features); classes cycle in the order given. */
function makeData(
  n: number,
  d: number,
  classes: readonly number[],
  seed: number,
  spread = 0.8,
  scales?: number[],
  offsets?: number[],
): Data {
  const rand = mulberry32(seed);
  const centres = classes.map(() => Array.from({ length: d }, () => gaussian(rand) * spread));
  const X: Float32Array[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const ci = i % classes.length;
    const x = new Float32Array(d);
    for (let j = 0; j < d; j++) x[j] = (centres[ci]![j]! + gaussian(rand)) * (scales?.[j] ?? 1) + (offsets?.[j] ?? 0);
    X.push(x);
    y.push(classes[ci]!);
  }
  return { X, y };
}

const tmpDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'svm-test-'));
  tmpDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

/** Writes the files to a temp dir, reads them back as the app would (JSON text + bytes) and parses. */
async function roundTrip(files: ModelFiles): Promise<SvmModel> {
  const dir = tempDir();
  await writeSvmModel(dir, files);
  const json: unknown = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const bytes = readFileSync(join(dir, 'weights.bin'));
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const model = parseSvmModel(json, ab);
  const viaReader = await readSvmModel(dir);
  expect(Array.from(viaReader.sv)).toEqual(Array.from(model.sv));
  return model;
}

/** Label and probability agreement between our predictor and a libsvm-js instance. */
function compare(
  model: SvmModel,
  svm: LibsvmInstance,
  rows: readonly ArrayLike<number>[],
  features: readonly ArrayLike<number>[],
  probability: boolean,
) {
  let labelMismatches = 0;
  let maxProbDiff = 0;
  for (let i = 0; i < rows.length; i++) {
    const ours = predictSvm(model, rows[i]!);
    expect(ours.probs).toHaveLength(NUM_CLASSES);
    if (probability) {
      const ref = svm.predictOneProbability(features[i]!);
      if (ref.prediction !== ours.top) labelMismatches++;
      const present = new Set<number>();
      for (const e of ref.estimates) {
        present.add(e.label);
        maxProbDiff = Math.max(maxProbDiff, Math.abs(e.probability - ours.probs[e.label]!));
      }
      for (let c = 0; c < NUM_CLASSES; c++) if (!present.has(c)) expect(ours.probs[c]).toBe(0);
    } else {
      if (svm.predictOne(features[i]!) !== ours.top) labelMismatches++;
    }
  }
  return { labelMismatches, maxProbDiff };
}

// ---------------------------------------------------------------------------------------------

describe('SVM export + TypeScript inference vs libsvm-js', () => {
  beforeAll(async () => {
    await loadLibsvm();
  });

  const cases: { name: string; classes: number[]; probability: boolean }[] = [
    { name: '7 classes with probabilities', classes: [0, 1, 2, 3, 4, 5, 6], probability: true },
    { name: '7 classes, voting only', classes: [0, 1, 2, 3, 4, 5, 6], probability: false },
    // A personal set: 5 of the 7 labels, first seen out of order (libsvm keeps first-seen order).
    { name: '5-class subset with probabilities', classes: [6, 3, 0, 4, 5], probability: true },
    { name: '5-class subset, voting only', classes: [6, 3, 0, 4, 5], probability: false },
    // Two classes: libsvm-js returns the pairwise sigmoid directly (no coupling iteration).
    { name: '2 classes with probabilities', classes: [4, 1], probability: true },
  ];

  for (const c of cases) {
    it(`${c.name}: same labels and probabilities after the file round trip`, async () => {
      const d = 16;
      const { X, y } = makeData(700, d, c.classes, 11);
      const train = { X: X.slice(0, 500), y: y.slice(0, 500) };
      const test = X.slice(500);
      const gamma = 1 / 24; // not exactly representable with 6 digits: exercises the gamma override
      const trained = await trainSvm(train.X, train.y, { cost: 2, gamma, probability: c.probability });
      try {
        expect(trained.labels).toEqual(c.classes); // first-seen order
        const text = trained.svm.serializeModel();
        const files = libsvmToModelFiles(text, {
          input: { type: 'test', features: Array.from({ length: d }, (_, i) => `f${i}`) },
          inputDim: d,
          gamma: trained.params.gamma,
          meta: { cost: 2 },
        });
        expect(files.json.svm.labels).toEqual(c.classes);
        expect(files.json.svm.probA !== undefined).toBe(c.probability);
        const model = await roundTrip(files);
        expect(model.input).toEqual(files.json.input);
        expect(model.totalSV).toBe(trained.totalSV);
        expect(model.totalSV).toBeGreaterThan(20); // non-trivial

        // Against the trained instance (libsvm prints rho/probA/probB with 6 digits: small drift).
        const vsTrained = compare(model, trained.svm, test, test, c.probability);
        expect(vsTrained.labelMismatches).toBe(0);
        expect(vsTrained.maxProbDiff).toBeLessThan(1e-4);

        // Against libsvm-js running the very same text model: only float32 storage of the SVs differs.
        const SVM = await loadLibsvm();
        const loaded = SVM.load(text);
        try {
          const vsLoaded = compare(model, loaded, test, test, c.probability);
          expect(vsLoaded.labelMismatches).toBe(0);
          expect(vsLoaded.maxProbDiff).toBeLessThan(1e-6);
        } finally {
          loaded.free();
        }

        // Probabilities are a distribution; voting gives vote fractions (multiples of 1/nPairs).
        const nPairs = (c.classes.length * (c.classes.length - 1)) / 2;
        const batch = predictSvmBatch(model, test.slice(0, 40));
        const labelsSeen = new Set<number>();
        for (const p of batch) {
          const sum = p.probs.reduce((a, b) => a + b, 0);
          expect(sum).toBeCloseTo(1, 6);
          labelsSeen.add(p.top);
          if (!c.probability) {
            for (const v of p.probs) expect(Math.abs(v * nPairs - Math.round(v * nPairs))).toBeLessThan(1e-9);
            expect(p.probs[p.top]).toBe(Math.max(...p.probs));
          }
        }
        expect(labelsSeen.size).toBeGreaterThan(1);
        // Flat batch gives the same as row-by-row.
        const flat = new Float32Array(3 * d);
        test.slice(0, 3).forEach((r, i) => flat.set(r, i * d));
        expect(predictSvmBatch(model, flat)).toEqual(batch.slice(0, 3));
        // Decision values: one per pair, sign matches the vote.
        expect(decisionValues(model, test[0]!)).toHaveLength(nPairs);
      } finally {
        trained.svm.free();
      }
    });
  }

  it('with standardisation + PCA projection equals libsvm-js on the manually transformed rows', async () => {
    const d = 24;
    const k = 6;
    const rand = mulberry32(5);
    const scales = Array.from({ length: d }, () => 0.1 + 20 * rand());
    const offsets = Array.from({ length: d }, () => 100 * gaussian(rand));
    const { X, y } = makeData(600, d, [0, 1, 2, 3, 4, 5, 6], 21, 1.0, scales, offsets);
    const trainX = X.slice(0, 450);
    const trainY = y.slice(0, 450);
    const test = X.slice(450);

    const scaler = fitStandardScaler(trainX);
    // Manual, independent transform (double precision, straightforward loops).
    const standardise = (x: ArrayLike<number>) => Array.from({ length: d }, (_, i) => (x[i]! - scaler.mean[i]!) / scaler.scale[i]!);
    const stdRows = trainX.map(standardise);
    for (let i = 0; i < d; i++) {
      const col = stdRows.map((r) => r[i]!);
      const mean = col.reduce((a, b) => a + b, 0) / col.length;
      const v = col.reduce((a, b) => a + (b - mean) ** 2, 0) / col.length;
      expect(Math.abs(mean)).toBeLessThan(1e-9);
      expect(v).toBeCloseTo(1, 9);
    }
    const pca = await fitPca(stdRows, k);
    const project = (x: ArrayLike<number>) => {
      const s = standardise(x);
      return Array.from({ length: k }, (_, c) => {
        let acc = 0;
        for (let i = 0; i < d; i++) acc += pca.components[c * d + i]! * (s[i]! - pca.mean[i]!);
        return acc;
      });
    };
    const trainZ = trainX.map((x) => Float32Array.from(project(x)));
    const testZ = test.map(project);

    const gamma = 0.15;
    const trained = await trainSvm(trainZ, trainY, { cost: 4, gamma, probability: true });
    try {
      const files = libsvmToModelFiles(trained.svm.serializeModel(), {
        input: { type: 'test-raw' },
        scaler,
        projection: { mean: pca.mean, components: pca.components, k },
        gamma,
      });
      expect(files.json.inputDim).toBe(d);
      expect(files.json.svm.featureDim).toBe(k);
      const model = await roundTrip(files);

      // The core preprocessing equals the manual transform.
      for (let i = 0; i < 20; i++) {
        const z = applyPreprocess(model.pre, test[i]!);
        testZ[i]!.forEach((v, c) => expect(z[c]).toBeCloseTo(v, 9));
      }
      const r = compare(model, trained.svm, test, testZ, true);
      expect(r.labelMismatches).toBe(0);
      expect(r.maxProbDiff).toBeLessThan(1e-4);

      // The same preprocessing built in memory (what a trainer would use) gives the same features.
      const pre = createPreprocess({
        inputDim: d,
        standardize: scaler,
        projection: { mean: pca.mean, components: pca.components, outDim: k },
      });
      expect(Array.from(applyPreprocess(pre, test[0]!))).toEqual(Array.from(applyPreprocess(model.pre, test[0]!)));
    } finally {
      trained.svm.free();
    }
  });

  it('parses libsvm text with omitted zero features (sparse format)', async () => {
    const d = 6;
    const { X, y } = makeData(120, d, [0, 3, 6], 3);
    for (let i = 0; i < X.length; i += 2) {
      X[i]![1] = 0;
      X[i]![4] = 0;
    }
    const trained = await trainSvm(X, y, { cost: 1, gamma: 0.5 });
    try {
      const text = trained.svm.serializeModel();
      expect(text).toMatch(/ 2:0 /); // libsvm-js writes zeros...
      const sparse = text.replace(/ \d+:0(?= |$)/gm, ''); // ...but libsvm itself omits them
      expect(sparse).not.toMatch(/ \d+:0 /);
      const dense = libsvmToModelFiles(text, { input: {}, inputDim: d });
      const fromSparse = libsvmToModelFiles(sparse, { input: {}, inputDim: d });
      expect(Buffer.from(fromSparse.weights).equals(Buffer.from(dense.weights))).toBe(true);
      const parsed = parseLibsvmText(sparse);
      expect(parsed.totalSV).toBe(trained.totalSV);
      expect(parsed.labels).toEqual([0, 3, 6]);
      // Header problems are reported.
      expect(() => parseLibsvmText(text.replace(/^rho .*$/m, 'rho 1'))).toThrow(/rho/);
      expect(() => parseLibsvmText(text.split('\n').slice(0, -3).join('\n'))).toThrow(/total_sv/);
      expect(() => libsvmToModelFiles(text.replace('kernel_type rbf', 'kernel_type linear'), { input: {}, inputDim: d })).toThrow(
        /kernel_type/,
      );
      expect(() => libsvmToModelFiles(text, { input: {}, inputDim: d, gamma: 0.7 })).toThrow(/gamma/);
    } finally {
      trained.svm.free();
    }
  });
});

describe('parseSvmModel validation', () => {
  let files: ModelFiles;
  beforeAll(async () => {
    const { X, y } = makeData(90, 5, [0, 1, 2], 8);
    const trained = await trainSvm(X, y, { cost: 1, gamma: 0.3, probability: true });
    files = libsvmToModelFiles(trained.svm.serializeModel(), { input: { type: 't' }, inputDim: 5, gamma: 0.3 });
    trained.svm.free();
  });

  const clone = (): SvmModelJson => JSON.parse(JSON.stringify(files.json)) as SvmModelJson;
  const fieldOf = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(SvmModelError);
      return `${(e as SvmModelError).field} | ${(e as Error).message}`;
    }
    throw new Error('expected an error');
  };

  it('accepts the exported files', () => {
    expect(parseSvmModel(files.json, files.weights).nClass).toBe(3);
  });

  it('names the field of each problem', () => {
    const w = files.weights;
    expect(fieldOf(() => parseSvmModel(files.json, w.slice(0, w.length - 8)))).toMatch(/^weights\.bin \| .*truncated/);
    const corrupt = w.slice();
    corrupt[17] = corrupt[17]! ^ 0xff;
    expect(fieldOf(() => parseSvmModel(files.json, corrupt))).toMatch(/^weights\.bin \| .*FNV/);

    const cases: [string, (j: SvmModelJson) => void, RegExp][] = [
      ['format', (j) => ((j as { format: string }).format = 'other'), /^format \|/],
      ['version', (j) => ((j as { version: number }).version = 2), /^version \|/],
      ['rho', (j) => j.svm.rho.pop(), /^svm\.rho \| .*expected 3/],
      ['label', (j) => (j.svm.labels[1] = 9), /^svm\.labels\[1\] \|/],
      ['dup label', (j) => (j.svm.labels[1] = j.svm.labels[0]!), /^svm\.labels \| .*duplicates/],
      ['nSV', (j) => (j.svm.nSV[0] = j.svm.nSV[0]! + 1), /^svm\.nSV \| .*sums/],
      ['probB', (j) => delete j.svm.probB, /^svm\.probB \|/],
      ['gamma', (j) => (j.svm.gamma = -1), /^svm\.gamma \|/],
      ['kernel', (j) => ((j.svm as { kernel: string }).kernel = 'linear'), /^svm\.kernel \|/],
      ['featureDim', (j) => (j.svm.featureDim = 4), /^svm\.featureDim \|/],
      ['inputDim', (j) => ((j as { inputDim: unknown }).inputDim = 'x'), /^inputDim \|/],
      ['tensor name', (j) => (j.svm.supportVectors = 'nope'), /^svm\.supportVectors \| .*"nope"/],
      [
        'tensor shape',
        (j) => (j.weights.tensors.find((t) => t.name === 'svm.svCoef')!.shape = [1, 2]),
        /^weights\.tensors\[\d\]\.length \|/,
      ],
      ['tensor range', (j) => (j.weights.tensors[1]!.offset += 8 * 1000), /^weights\.tensors\[1\] \| .*spans bytes/],
      ['tensor dtype', (j) => ((j.weights.tensors[0] as { dtype: string }).dtype = 'int8'), /^weights\.tensors\[0\]\.dtype \|/],
      ['input', (j) => ((j as { input: unknown }).input = null), /^input \|/],
    ];
    for (const [name, mutate, re] of cases) {
      const j = clone();
      mutate(j);
      expect(
        fieldOf(() => parseSvmModel(j, files.weights)),
        name,
      ).toMatch(re);
    }
    expect(fieldOf(() => parseSvmModel('nope', files.weights))).toMatch(/^model\.json \|/);
  });

  it('rejects bad inputs at prediction time', () => {
    const m = parseSvmModel(files.json, files.weights);
    expect(() => predictSvm(m, [1, 2, 3])).toThrow(RangeError);
    expect(() => predictSvm(m, [1, 2, NaN, 4, 5])).toThrow(/input\[2\]/);
  });
});

describe('fitPca', () => {
  it('finds the exact axes of a tiny hand-made dataset', async () => {
    // Points ±3·a and ±1·b (a ⟂ b, unit), n = 4: covariance = (18 a aᵀ + 2 b bᵀ)/3.
    const a = [1 / Math.sqrt(2), 1 / Math.sqrt(2), 0];
    const b = [-1 / Math.sqrt(6), 1 / Math.sqrt(6), 2 / Math.sqrt(6)];
    const rows = [3, -3].map((s) => a.map((v) => s * v + 5)).concat([1, -1].map((s) => b.map((v) => s * v + 5)));
    for (const method of ['jacobi', 'subspace'] as const) {
      const p = await fitPca(rows, 2, { method, oversample: 0, tol: 1e-12 });
      expect(Array.from(p.mean)).toEqual([5, 5, 5].map((v) => expect.closeTo(v, 12)));
      expect(p.explainedVariance[0]).toBeCloseTo(6, 10);
      expect(p.explainedVariance[1]).toBeCloseTo(2 / 3, 10);
      expect(p.totalVariance).toBeCloseTo(6 + 2 / 3, 10);
      const c0 = Array.from(p.components.subarray(0, 3));
      const c1 = Array.from(p.components.subarray(3, 6));
      const dot = (u: number[], v: number[]) => u.reduce((s, x, i) => s + x * v[i]!, 0);
      expect(Math.abs(dot(c0, a))).toBeCloseTo(1, 6);
      expect(Math.abs(dot(c1, b))).toBeCloseTo(1, 6);
      // sign convention: largest-magnitude entry positive
      for (const c of [c0, c1]) expect(c.reduce((m, v) => (Math.abs(v) > Math.abs(m) ? v : m), 0)).toBeGreaterThan(0);
    }
  });

  it('recovers the principal axes of a low-rank dataset (subspace iteration = Jacobi; tfjs engine too)', async () => {
    const d = 60;
    const rand = mulberry32(17);
    // Random orthonormal axes by Gram-Schmidt.
    const axes: number[][] = [];
    while (axes.length < 4) {
      const v = Array.from({ length: d }, () => gaussian(rand));
      for (const u of axes) {
        const dot = u.reduce((s, x, i) => s + x * v[i]!, 0);
        u.forEach((x, i) => (v[i]! -= dot * x));
      }
      const norm = Math.hypot(...v);
      axes.push(v.map((x) => x / norm));
    }
    const sd = [6, 4, 2.5, 1.5];
    const n = 3000;
    const data = new Float32Array(n * d);
    for (let r = 0; r < n; r++) {
      const coef = sd.map((s) => s * gaussian(rand));
      for (let i = 0; i < d; i++) {
        let v = 10 + 0.05 * gaussian(rand);
        axes.forEach((u, c) => (v += coef[c]! * u[i]!));
        data[r * d + i] = v;
      }
    }
    const exact = await fitPca({ data, rows: n, cols: d }, 4, { method: 'jacobi' });
    const sub = await fitPca({ data, rows: n, cols: d }, 4, { method: 'subspace', tol: 1e-10 });
    expect(sub.method).toBe('subspace');
    expect(sub.maxResidual).toBeLessThan(1e-10);
    for (let c = 0; c < 4; c++) {
      const comp = Array.from(sub.components.subarray(c * d, (c + 1) * d));
      const dot = comp.reduce((s, x, i) => s + x * axes[c]![i]!, 0);
      expect(Math.abs(dot)).toBeGreaterThan(0.995);
      expect(sub.explainedVariance[c]! / sd[c]! ** 2).toBeGreaterThan(0.9);
      expect(sub.explainedVariance[c]! / sd[c]! ** 2).toBeLessThan(1.1);
      expect(sub.explainedVariance[c]).toBeCloseTo(exact.explainedVariance[c]!, 8);
      for (let i = 0; i < d; i++) expect(sub.components[c * d + i]).toBeCloseTo(exact.components[c * d + i]!, 6);
      // orthonormal
      for (let c2 = 0; c2 <= c; c2++) {
        let dot2 = 0;
        for (let i = 0; i < d; i++) dot2 += sub.components[c * d + i]! * sub.components[c2 * d + i]!;
        expect(dot2).toBeCloseTo(c === c2 ? 1 : 0, 6);
      }
    }
    expect(sub.explainedVarianceRatio.reduce((a, b) => a + b, 0)).toBeGreaterThan(0.98);

    const viaTf = await fitPca({ data, rows: n, cols: d }, 4, { engine: 'tfjs', method: 'subspace', tol: 1e-5 });
    for (let c = 0; c < 4; c++) {
      expect(viaTf.explainedVariance[c]! / exact.explainedVariance[c]!).toBeCloseTo(1, 4);
      let dot = 0;
      for (let i = 0; i < d; i++) dot += viaTf.components[c * d + i]! * exact.components[c * d + i]!;
      expect(dot).toBeGreaterThan(0.9999);
    }
  });

  it('symmetricEigen diagonalises a symmetric matrix', () => {
    const A = new Float64Array([4, 1, 2, 1, 3, 0.5, 2, 0.5, 5]);
    const { values, vectors } = symmetricEigen(A, 3);
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < 3; i++) {
        let av = 0;
        for (let j = 0; j < 3; j++) av += A[i * 3 + j]! * vectors[j * 3 + c]!;
        expect(av).toBeCloseTo(values[c]! * vectors[i * 3 + c]!, 12);
      }
    }
    expect(values[0]).toBeGreaterThan(values[1]!);
    expect(values[0]! + values[1]! + values[2]!).toBeCloseTo(12, 12);
  });
});

describe('fitStandardScaler', () => {
  it('uses the population std and maps constant features to scale 1', () => {
    const s = fitStandardScaler([
      [1, 5, 1e6],
      [3, 5, 1e6],
      [5, 5, 1e6],
    ]);
    expect(Array.from(s.mean)).toEqual([3, 5, 1e6]);
    expect(s.scale[0]).toBeCloseTo(Math.sqrt(8 / 3), 12);
    expect(s.scale[1]).toBe(1);
    expect(s.scale[2]).toBe(1);
  });
});

describe('cross-validation', () => {
  const { X, y } = makeData(147, 5, [0, 1, 2, 3, 4, 5, 6], 4, 1.2);

  it('stratifiedFolds: deterministic, stratified, balanced', () => {
    const a = stratifiedFolds(y, 5, 123);
    expect(Array.from(stratifiedFolds(y, 5, 123))).toEqual(Array.from(a));
    expect(Array.from(stratifiedFolds(y, 5, 124))).not.toEqual(Array.from(a));
    for (let c = 0; c < 7; c++) {
      const counts = new Array(5).fill(0);
      y.forEach((label, i) => label === c && counts[a[i]!]++);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1); // 21 per class: 5,4,4,4,4
    }
    const sizes = new Array(5).fill(0);
    a.forEach((f) => sizes[f]++);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(() => stratifiedFolds(y, 1, 1)).toThrow(RangeError);
  });

  it('crossValidate is deterministic for a seed and reports per-fold accuracy', async () => {
    const r1 = await crossValidate(X, y, { cost: 1, gamma: 0.2 }, 5, 9);
    const r2 = await crossValidate(X, y, { cost: 1, gamma: 0.2 }, 5, 9);
    expect(r1.folds).toHaveLength(5);
    expect(r1.folds.map((f) => f.accuracy)).toEqual(r2.folds.map((f) => f.accuracy));
    expect(Array.from(r1.predictions)).toEqual(Array.from(r2.predictions));
    expect(r1.meanAccuracy).toBeCloseTo(r1.folds.reduce((a, f) => a + f.accuracy, 0) / 5, 12);
    expect(r1.folds.reduce((a, f) => a + f.nTest, 0)).toBe(147);
    // Out-of-fold predictions agree with the per-fold accuracies.
    const folds = stratifiedFolds(y, 5, 9);
    for (const f of r1.folds) {
      let ok = 0;
      y.forEach((label, i) => folds[i] === f.fold && r1.predictions[i] === label && ok++);
      expect(ok / f.nTest).toBeCloseTo(f.accuracy, 12);
    }
    expect(r1.meanAccuracy).toBeGreaterThan(1 / 7 + 0.1); // learns something
  });

  it('gridSearch evaluates every cell and returns the best', async () => {
    const progress: number[] = [];
    const g = await gridSearch(X, y, { cost: [0.5, 4], gamma: [0.05, 1] }, 3, (p) => progress.push(p.done), { seed: 2 });
    expect(g.cells).toHaveLength(4);
    expect(progress).toEqual([1, 2, 3, 4]);
    expect(g.cells.map((c) => [c.cost, c.gamma])).toEqual([
      [0.5, 0.05],
      [0.5, 1],
      [4, 0.05],
      [4, 1],
    ]);
    expect(g.best.meanAccuracy).toBe(Math.max(...g.cells.map((c) => c.meanAccuracy)));
    const again = await crossValidate(X, y, { cost: g.best.cost, gamma: g.best.gamma }, 3, 2);
    expect(again.meanAccuracy).toBe(g.best.meanAccuracy);
  });
});
