/**
 * Converts a libsvm text model (libsvm-js `serializeModel()`, i.e. svm_save_model's format) plus
 * the preprocessing (standardisation, PCA projection) into the app's model files (model.json +
 * weights.bin, format in src/core/svm/types.ts). Pure: shared by the Node commands (which write
 * the files, src/train/svm/export.ts) and the in-browser calibration trainer.
 */
import { DTYPE_BYTES, fnv1a32, parseSvmModel } from '../core/svm/model.ts';
import {
  SVM_FORMAT,
  SVM_FORMAT_VERSION,
  SVM_WEIGHTS_FILE,
  type SvmDType,
  type SvmModelJson,
  type SvmTensorEntry,
} from '../core/svm/types.ts';

/** libsvm's model, as parsed from its text format. Support vectors are dense (zeros filled in). */
export interface LibsvmTextModel {
  svmType: string;
  kernelType: string;
  /** As printed by libsvm ("%g": 6 significant digits). */
  gamma: number;
  nrClass: number;
  totalSV: number;
  rho: number[];
  labels: number[];
  probA?: number[];
  probB?: number[];
  nSV: number[];
  /** [nrClass-1][totalSV] */
  svCoef: Float64Array[];
  /** Sparse rows: (1-based index, value) pairs per support vector. */
  svIndices: Int32Array[];
  svValues: Float64Array[];
  /** Largest feature index seen (a lower bound on the dimension: zeros may be omitted). */
  maxIndex: number;
}

const num = (tok: string, what: string, line: number): number => {
  const v = Number(tok);
  if (tok === '' || !Number.isFinite(v)) throw new Error(`libsvm model line ${line}: ${what}: "${tok}" is not a finite number`);
  return v;
};

/** Parses libsvm's text model format (svm_type ... nr_sv, "SV", then one line per support vector). */
export function parseLibsvmText(text: string): LibsvmTextModel {
  const lines = text.split(/\r?\n/);
  const header = new Map<string, string[]>();
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    if (line === 'SV') break;
    const [key, ...rest] = line.split(/\s+/);
    if (header.has(key!)) throw new Error(`libsvm model line ${i + 1}: duplicate "${key}"`);
    header.set(key!, rest);
  }
  if (i >= lines.length) throw new Error('libsvm model: no "SV" line (truncated text?)');
  const need = (key: string): string[] => {
    const v = header.get(key);
    if (!v) throw new Error(`libsvm model: missing "${key}" line`);
    return v;
  };
  const lineOf = (key: string) => lines.findIndex((l) => l.trim().split(/\s+/)[0] === key) + 1;
  const nums = (key: string, n: number): number[] => {
    const v = need(key);
    if (v.length !== n) throw new Error(`libsvm model: "${key}" has ${v.length} values, expected ${n}`);
    return v.map((t) => num(t, key, lineOf(key)));
  };
  const single = (key: string) => {
    const v = need(key);
    if (v.length !== 1) throw new Error(`libsvm model: "${key}" should have one value, has ${v.length}`);
    return v[0]!;
  };

  const svmType = single('svm_type');
  const kernelType = single('kernel_type');
  const known = new Set([
    'svm_type',
    'kernel_type',
    'degree',
    'gamma',
    'coef0',
    'nr_class',
    'total_sv',
    'rho',
    'label',
    'probA',
    'probB',
    'nr_sv',
  ]);
  for (const key of header.keys()) if (!known.has(key)) throw new Error(`libsvm model: unknown header line "${key}"`);
  const gamma = num(single('gamma'), 'gamma', lineOf('gamma'));
  const nrClass = num(single('nr_class'), 'nr_class', lineOf('nr_class'));
  const totalSV = num(single('total_sv'), 'total_sv', lineOf('total_sv'));
  if (!Number.isInteger(nrClass) || nrClass < 1) throw new Error(`libsvm model: bad nr_class ${nrClass}`);
  if (!Number.isInteger(totalSV) || totalSV < 0) throw new Error(`libsvm model: bad total_sv ${totalSV}`);
  const nPairs = (nrClass * (nrClass - 1)) / 2;
  const rho = nums('rho', nPairs);
  const labels = nums('label', nrClass);
  const probA = header.has('probA') ? nums('probA', nPairs) : undefined;
  const probB = header.has('probB') ? nums('probB', nPairs) : undefined;
  const nSV = nums('nr_sv', nrClass);
  if (nSV.reduce((a, b) => a + b, 0) !== totalSV)
    throw new Error(`libsvm model: nr_sv sums to ${nSV.reduce((a, b) => a + b, 0)}, total_sv is ${totalSV}`);

  const svCoef = Array.from({ length: nrClass - 1 }, () => new Float64Array(totalSV));
  const svIndices: Int32Array[] = [];
  const svValues: Float64Array[] = [];
  let maxIndex = 0;
  let s = 0;
  for (i = i + 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    if (s >= totalSV) throw new Error(`libsvm model line ${i + 1}: more support vectors than total_sv ${totalSV}`);
    const toks = line.split(/\s+/);
    if (toks.length < nrClass - 1)
      throw new Error(`libsvm model line ${i + 1}: ${toks.length} fields, expected at least ${nrClass - 1} coefficients`);
    for (let c = 0; c < nrClass - 1; c++) svCoef[c]![s] = num(toks[c]!, `sv_coef ${c + 1}`, i + 1);
    const n = toks.length - (nrClass - 1);
    const idx = new Int32Array(n);
    const val = new Float64Array(n);
    let prev = 0;
    for (let t = 0; t < n; t++) {
      const tok = toks[nrClass - 1 + t]!;
      const colon = tok.indexOf(':');
      if (colon <= 0) throw new Error(`libsvm model line ${i + 1}: "${tok}" is not index:value`);
      const ix = Number(tok.slice(0, colon));
      if (!Number.isInteger(ix) || ix < 1 || ix <= prev)
        throw new Error(`libsvm model line ${i + 1}: bad or unsorted feature index in "${tok}"`);
      prev = ix;
      idx[t] = ix;
      val[t] = num(tok.slice(colon + 1), `feature ${ix}`, i + 1);
      if (ix > maxIndex) maxIndex = ix;
    }
    svIndices.push(idx);
    svValues.push(val);
    s++;
  }
  if (s !== totalSV) throw new Error(`libsvm model: ${s} support vector lines, total_sv says ${totalSV} (truncated text?)`);
  return { svmType, kernelType, gamma, nrClass, totalSV, rho, labels, probA, probB, nSV, svCoef, svIndices, svValues, maxIndex };
}

export interface ModelFiles {
  json: SvmModelJson;
  weights: Uint8Array;
}

export interface ExportOptions {
  /** Free-form description of the raw input (model.json `input`). */
  input: Record<string, unknown>;
  /** Raw input length; required when there is neither a scaler nor a projection. */
  inputDim?: number;
  scaler?: { mean: ArrayLike<number>; scale: ArrayLike<number> };
  /** PCA: `components` is k×d row-major (stored as float32: pass float32 values, e.g. fitPca's). */
  projection?: { mean: ArrayLike<number>; components: ArrayLike<number>; k: number };
  /**
   * The exact gamma used for training. libsvm prints gamma with 6 significant digits; pass the
   * training value (TrainedSvm.params.gamma) so the exported kernel is exact. It must agree with
   * the text's value to that precision.
   */
  gamma?: number;
  meta?: Record<string, unknown>;
}

class WeightsBuilder {
  private readonly parts: { entry: SvmTensorEntry; data: ArrayLike<number> }[] = [];
  private size = 0;

  add(name: string, dtype: SvmDType, shape: number[], data: ArrayLike<number>): string {
    const length = shape.reduce((a, b) => a * b, 1);
    if (data.length !== length) throw new Error(`tensor ${name}: ${data.length} values for shape [${shape.join(', ')}]`);
    const offset = Math.ceil(this.size / 8) * 8;
    this.parts.push({ entry: { name, dtype, shape, offset, length }, data });
    this.size = offset + length * DTYPE_BYTES[dtype];
    return name;
  }

  build(): { bytes: Uint8Array; tensors: SvmTensorEntry[] } {
    const bytes = new Uint8Array(Math.ceil(this.size / 8) * 8);
    const view = new DataView(bytes.buffer);
    for (const { entry, data } of this.parts) {
      const step = DTYPE_BYTES[entry.dtype];
      for (let i = 0, p = entry.offset; i < entry.length; i++, p += step) {
        const v = data[i]!;
        if (!Number.isFinite(v)) throw new Error(`tensor ${entry.name}: element ${i} is ${v}`);
        if (entry.dtype === 'float32') view.setFloat32(p, v, true);
        else view.setFloat64(p, v, true);
      }
    }
    return { bytes, tensors: this.parts.map((p) => p.entry) };
  }
}

/**
 * Builds model.json + weights.bin from libsvm's text model and the preprocessing. Tensors:
 * support vectors and PCA components float32; sv_coef, scaler and PCA mean float64 (exact).
 * The result is validated by parsing it with the app's parser.
 */
export function libsvmToModelFiles(serialized: string, opts: ExportOptions): ModelFiles {
  const m = parseLibsvmText(serialized);
  if (m.svmType !== 'c_svc') throw new Error(`libsvm model: svm_type ${m.svmType} is not supported (c_svc only)`);
  if (m.kernelType !== 'rbf') throw new Error(`libsvm model: kernel_type ${m.kernelType} is not supported (rbf only)`);

  const inputDim = opts.inputDim ?? opts.scaler?.mean.length ?? opts.projection?.mean.length;
  if (inputDim === undefined) throw new Error('libsvmToModelFiles: inputDim is required without a scaler or projection');
  if (opts.scaler && opts.scaler.mean.length !== inputDim)
    throw new Error(`scaler has ${opts.scaler.mean.length} dims, inputDim is ${inputDim}`);
  if (opts.projection && opts.projection.mean.length !== inputDim)
    throw new Error(`projection has ${opts.projection.mean.length} input dims, inputDim is ${inputDim}`);
  const featureDim = opts.projection ? opts.projection.k : inputDim;
  if (m.maxIndex > featureDim) throw new Error(`libsvm model uses feature index ${m.maxIndex} but the SVM input has ${featureDim} dims`);

  let gamma = m.gamma;
  if (opts.gamma !== undefined) {
    if (!(opts.gamma > 0)) throw new Error(`gamma must be > 0, got ${opts.gamma}`);
    if (Math.abs(opts.gamma - m.gamma) > 1e-5 * Math.abs(opts.gamma))
      throw new Error(`gamma ${opts.gamma} does not match the model's ${m.gamma}`);
    gamma = opts.gamma;
  }

  const w = new WeightsBuilder();
  const json: SvmModelJson = {
    format: SVM_FORMAT,
    version: SVM_FORMAT_VERSION,
    input: opts.input,
    inputDim,
    svm: undefined as unknown as SvmModelJson['svm'],
    weights: undefined as unknown as SvmModelJson['weights'],
  };
  if (opts.scaler) {
    json.standardize = {
      mean: w.add('standardize.mean', 'float64', [inputDim], opts.scaler.mean),
      scale: w.add('standardize.scale', 'float64', [inputDim], opts.scaler.scale),
    };
  }
  if (opts.projection) {
    const { k } = opts.projection;
    json.projection = {
      mean: w.add('projection.mean', 'float64', [inputDim], opts.projection.mean),
      components: w.add('projection.components', 'float32', [k, inputDim], opts.projection.components),
      outDim: k,
    };
  }

  const l = m.totalSV;
  const coef = new Float64Array((m.nrClass - 1) * l);
  m.svCoef.forEach((row, c) => coef.set(row, c * l));
  const sv = new Float32Array(l * featureDim); // zeros where the text omits a feature
  for (let s = 0; s < l; s++) {
    const idx = m.svIndices[s]!;
    const val = m.svValues[s]!;
    for (let t = 0; t < idx.length; t++) sv[s * featureDim + idx[t]! - 1] = val[t]!;
  }
  json.svm = {
    type: 'c_svc',
    kernel: 'rbf',
    gamma,
    featureDim,
    nClass: m.nrClass,
    totalSV: l,
    labels: m.labels,
    nSV: m.nSV,
    rho: m.rho,
    ...(m.probA && m.probB ? { probA: m.probA, probB: m.probB } : {}),
    svCoef: w.add('svm.svCoef', 'float64', [m.nrClass - 1, l], coef),
    supportVectors: w.add('svm.supportVectors', 'float32', [l, featureDim], sv),
  };
  if ((m.probA === undefined) !== (m.probB === undefined)) throw new Error('libsvm model: probA without probB or vice versa');
  const { bytes, tensors } = w.build();
  json.weights = { file: SVM_WEIGHTS_FILE, byteLength: bytes.byteLength, fnv1a32: fnv1a32(bytes), tensors };
  if (opts.meta) json.meta = opts.meta;
  parseSvmModel(json, bytes); // validate with the app's own parser
  return { json, weights: bytes };
}
