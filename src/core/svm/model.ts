/**
 * Parsing and validation of serialised SVM models (model.json + weights.bin); pure TypeScript.
 * See types.ts for the format.
 */
import { NUM_CLASSES } from '../labels.ts';
import {
  SVM_FORMAT,
  SVM_FORMAT_VERSION,
  type SvmDType,
  type SvmModel,
  type SvmPreprocess,
  type SvmTensorEntry,
  type SvmWorkspace,
} from './types.ts';

export class SvmModelError extends Error {
  /** Dotted path of the offending field, e.g. `svm.rho` or `weights.bin`. */
  readonly field: string;
  constructor(field: string, message: string) {
    super(`SVM model: ${field}: ${message}`);
    this.name = 'SvmModelError';
    this.field = field;
  }
}

const fail = (field: string, message: string): never => {
  throw new SvmModelError(field, message);
};

export const DTYPE_BYTES: Record<SvmDType, number> = { float32: 4, float64: 8 };

/** FNV-1a 32-bit hash of bytes, as 8 lowercase hex digits. */
export function fnv1a32(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function obj(v: unknown, field: string): Record<string, unknown> {
  if (!isRecord(v)) fail(field, `expected an object, got ${describe(v)}`);
  return v as Record<string, unknown>;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return `"${v.length > 40 ? v.slice(0, 40) + '…' : v}"`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

function int(v: unknown, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(field, `expected an integer in ${min}..${max === Number.MAX_SAFE_INTEGER ? '' : max}, got ${describe(v)}`);
  }
  return v as number;
}

function finite(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(field, `expected a finite number, got ${describe(v)}`);
  return v as number;
}

function str(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length === 0) fail(field, `expected a non-empty string, got ${describe(v)}`);
  return v as string;
}

function numberArray(v: unknown, field: string, length: number): Float64Array {
  if (!Array.isArray(v)) fail(field, `expected an array of ${length} numbers, got ${describe(v)}`);
  const a = v as unknown[];
  if (a.length !== length) fail(field, `expected ${length} numbers, got ${a.length}`);
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = finite(a[i], `${field}[${i}]`);
  return out;
}

function intArray(v: unknown, field: string, length: number, min: number, max?: number): Int32Array {
  if (!Array.isArray(v)) fail(field, `expected an array of ${length} integers, got ${describe(v)}`);
  const a = v as unknown[];
  if (a.length !== length) fail(field, `expected ${length} integers, got ${a.length}`);
  const out = new Int32Array(length);
  for (let i = 0; i < length; i++) out[i] = int(a[i], `${field}[${i}]`, min, max);
  return out;
}

/** Reads the tensor table and gives typed-array access by name with shape checks. */
class TensorTable {
  private readonly entries = new Map<string, { entry: SvmTensorEntry; index: number }>();
  private readonly view: DataView;

  constructor(raw: unknown, byteLength: number, buffer: ArrayBuffer) {
    this.view = new DataView(buffer);
    if (!Array.isArray(raw)) fail('weights.tensors', `expected an array, got ${describe(raw)}`);
    (raw as unknown[]).forEach((t, i) => {
      const f = `weights.tensors[${i}]`;
      const o = obj(t, f);
      const name = str(o.name, `${f}.name`);
      if (this.entries.has(name)) fail(`${f}.name`, `duplicate tensor name "${name}"`);
      const dtype = o.dtype;
      if (dtype !== 'float32' && dtype !== 'float64') fail(`${f}.dtype`, `expected "float32" or "float64", got ${describe(dtype)}`);
      const size = DTYPE_BYTES[dtype as SvmDType];
      if (!Array.isArray(o.shape)) fail(`${f}.shape`, `expected an array, got ${describe(o.shape)}`);
      const shape = (o.shape as unknown[]).map((s, j) => int(s, `${f}.shape[${j}]`, 0));
      const length = int(o.length, `${f}.length`, 0);
      const product = shape.reduce((a, b) => a * b, 1);
      if (product !== length)
        fail(`${f}.length`, `${length} does not match shape [${shape.join(', ')}] (${product} elements) of "${name}"`);
      const offset = int(o.offset, `${f}.offset`, 0);
      if (offset % size !== 0) fail(`${f}.offset`, `${offset} is not a multiple of ${size} (tensor "${name}", ${dtype})`);
      const end = offset + length * size;
      if (end > byteLength) {
        fail(`${f}`, `tensor "${name}" spans bytes ${offset}..${end} but weights.bin has only ${byteLength} bytes`);
      }
      this.entries.set(name, { entry: { name, dtype: dtype as SvmDType, shape, offset, length }, index: i });
    });
  }

  private lookup(name: string, field: string, shape: number[]): SvmTensorEntry {
    const e = this.entries.get(name);
    if (!e) fail(field, `tensor "${name}" is not in weights.tensors`);
    const { entry, index } = e!;
    if (entry.shape.length !== shape.length || entry.shape.some((s, i) => s !== shape[i])) {
      fail(
        `weights.tensors[${index}].shape`,
        `tensor "${name}" (${field}) has shape [${entry.shape.join(', ')}], expected [${shape.join(', ')}]`,
      );
    }
    return entry;
  }

  private read<T extends Float32Array | Float64Array>(entry: SvmTensorEntry, field: string, out: T): T {
    const le = true;
    const v = this.view;
    const size = DTYPE_BYTES[entry.dtype];
    for (let i = 0, p = entry.offset; i < entry.length; i++, p += size) {
      const x = entry.dtype === 'float32' ? v.getFloat32(p, le) : v.getFloat64(p, le);
      if (!Number.isFinite(x)) fail(field, `tensor "${entry.name}" element ${i} is ${x}`);
      out[i] = x;
    }
    return out;
  }

  f64(name: string, field: string, shape: number[]): Float64Array {
    const e = this.lookup(name, field, shape);
    return this.read(e, field, new Float64Array(e.length));
  }

  f32(name: string, field: string, shape: number[]): Float32Array {
    const e = this.lookup(name, field, shape);
    if (e.dtype === 'float64') fail(field, `tensor "${name}" must be float32 (it would lose precision)`);
    return this.read(e, field, new Float32Array(e.length));
  }
}

/** Allocates the scratch buffers that prediction reuses. */
export function createSvmWorkspace(inputDim: number, featureDim: number, nClass: number, totalSV: number): SvmWorkspace {
  const nPairs = (nClass * (nClass - 1)) / 2;
  return {
    std: new Float64Array(inputDim),
    feat: new Float64Array(featureDim),
    kvalue: new Float64Array(totalSV),
    dec: new Float64Array(nPairs),
    vote: new Int32Array(nClass),
    pairwise: new Float64Array(nClass * nClass),
    q: new Float64Array(nClass * nClass),
    qp: new Float64Array(nClass),
    p: new Float64Array(nClass),
  };
}

/**
 * Builds a preprocessing step from plain arrays (also used by the Node trainer, so that training
 * rows are transformed by exactly the code the app runs).
 */
export function createPreprocess(parts: {
  inputDim: number;
  standardize?: { mean: ArrayLike<number>; scale: ArrayLike<number> };
  projection?: { mean: ArrayLike<number>; components: ArrayLike<number>; outDim: number };
}): SvmPreprocess {
  const d = int(parts.inputDim, 'inputDim', 1);
  const pre: SvmPreprocess = { inputDim: d, outDim: d };
  if (parts.standardize) {
    const { mean, scale } = parts.standardize;
    if (mean.length !== d) fail('standardize.mean', `expected ${d} values, got ${mean.length}`);
    if (scale.length !== d) fail('standardize.scale', `expected ${d} values, got ${scale.length}`);
    const m = Float64Array.from(mean);
    const s = Float64Array.from(scale);
    for (let i = 0; i < d; i++) {
      if (!Number.isFinite(m[i])) fail('standardize.mean', `element ${i} is ${m[i]}`);
      if (!Number.isFinite(s[i]) || s[i]! <= 0) fail('standardize.scale', `element ${i} is ${s[i]} (must be finite and > 0)`);
    }
    pre.standardize = { mean: m, scale: s };
  }
  if (parts.projection) {
    const { mean, components, outDim } = parts.projection;
    const k = int(outDim, 'projection.outDim', 1);
    if (mean.length !== d) fail('projection.mean', `expected ${d} values, got ${mean.length}`);
    if (components.length !== k * d) fail('projection.components', `expected ${k}x${d} = ${k * d} values, got ${components.length}`);
    const m = Float64Array.from(mean);
    const c = components instanceof Float32Array ? components.slice() : Float32Array.from(components);
    for (let i = 0; i < d; i++) if (!Number.isFinite(m[i])) fail('projection.mean', `element ${i} is ${m[i]}`);
    for (let i = 0; i < c.length; i++) if (!Number.isFinite(c[i])) fail('projection.components', `element ${i} is ${c[i]}`);
    pre.projection = { mean: m, components: c, outDim: k };
    pre.outDim = k;
  }
  return pre;
}

/**
 * Parses and validates a model. `json` is the parsed model.json, `weights` the bytes of
 * weights.bin. Errors are {@link SvmModelError}s naming the offending field.
 */
export function parseSvmModel(json: unknown, weights: ArrayBuffer | ArrayBufferView): SvmModel {
  const root = obj(json, 'model.json');
  if (root.format !== SVM_FORMAT) fail('format', `expected "${SVM_FORMAT}", got ${describe(root.format)}`);
  if (root.version !== SVM_FORMAT_VERSION) fail('version', `expected ${SVM_FORMAT_VERSION}, got ${describe(root.version)}`);
  const input = obj(root.input, 'input');
  const inputDim = int(root.inputDim, 'inputDim', 1);
  const meta = root.meta === undefined ? undefined : obj(root.meta, 'meta');

  let buffer: ArrayBuffer;
  let bytes: Uint8Array;
  if (weights instanceof ArrayBuffer) {
    buffer = weights;
    bytes = new Uint8Array(weights);
  } else if (ArrayBuffer.isView(weights)) {
    bytes = new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength);
    buffer = bytes.slice().buffer;
  } else {
    return fail('weights.bin', `expected an ArrayBuffer, got ${describe(weights)}`);
  }

  const w = obj(root.weights, 'weights');
  const byteLength = int(w.byteLength, 'weights.byteLength', 0);
  if (bytes.byteLength !== byteLength) {
    fail(
      'weights.bin',
      `has ${bytes.byteLength} bytes but model.json weights.byteLength says ${byteLength} (truncated or mismatched file)`,
    );
  }
  if (w.fnv1a32 !== undefined) {
    const want = str(w.fnv1a32, 'weights.fnv1a32');
    const got = fnv1a32(bytes);
    if (got !== want.toLowerCase())
      fail('weights.bin', `FNV-1a hash is ${got} but model.json weights.fnv1a32 says ${want} (corrupt or mismatched file)`);
  }
  const table = new TensorTable(w.tensors, byteLength, buffer);

  let pre: SvmPreprocess = { inputDim, outDim: inputDim };
  if (root.standardize !== undefined) {
    const s = obj(root.standardize, 'standardize');
    const mean = table.f64(str(s.mean, 'standardize.mean'), 'standardize.mean', [inputDim]);
    const scale = table.f64(str(s.scale, 'standardize.scale'), 'standardize.scale', [inputDim]);
    pre = createPreprocess({ inputDim, standardize: { mean, scale } });
  }
  if (root.projection !== undefined) {
    const p = obj(root.projection, 'projection');
    const outDim = int(p.outDim, 'projection.outDim', 1);
    const mean = table.f64(str(p.mean, 'projection.mean'), 'projection.mean', [inputDim]);
    const components = table.f32(str(p.components, 'projection.components'), 'projection.components', [outDim, inputDim]);
    pre = createPreprocess({ inputDim, standardize: pre.standardize, projection: { mean, components, outDim } });
  }

  const s = obj(root.svm, 'svm');
  if (s.type !== 'c_svc') fail('svm.type', `only "c_svc" is supported, got ${describe(s.type)}`);
  if (s.kernel !== 'rbf') fail('svm.kernel', `only "rbf" is supported, got ${describe(s.kernel)}`);
  const gamma = finite(s.gamma, 'svm.gamma');
  if (!(gamma > 0)) fail('svm.gamma', `must be > 0, got ${gamma}`);
  const featureDim = int(s.featureDim, 'svm.featureDim', 1);
  if (featureDim !== pre.outDim) {
    fail('svm.featureDim', `is ${featureDim} but the ${pre.projection ? 'projection outputs' : 'input has'} ${pre.outDim} values`);
  }
  const nClass = int(s.nClass, 'svm.nClass', 1, NUM_CLASSES);
  const totalSV = int(s.totalSV, 'svm.totalSV', 0);
  const labels = intArray(s.labels, 'svm.labels', nClass, 0, NUM_CLASSES - 1);
  if (new Set(labels).size !== nClass) fail('svm.labels', `contains duplicates: [${Array.from(labels).join(', ')}]`);
  const nSV = intArray(s.nSV, 'svm.nSV', nClass, 0);
  const start = new Int32Array(nClass);
  let sum = 0;
  for (let i = 0; i < nClass; i++) {
    start[i] = sum;
    sum += nSV[i]!;
  }
  if (sum !== totalSV) fail('svm.nSV', `sums to ${sum} but svm.totalSV is ${totalSV}`);
  const nPairs = (nClass * (nClass - 1)) / 2;
  const rho = numberArray(s.rho, 'svm.rho', nPairs);
  if ((s.probA === undefined) !== (s.probB === undefined))
    fail(s.probA === undefined ? 'svm.probA' : 'svm.probB', 'probA and probB must be both present or both absent');
  const probA = s.probA === undefined ? null : numberArray(s.probA, 'svm.probA', nPairs);
  const probB = s.probB === undefined ? null : numberArray(s.probB, 'svm.probB', nPairs);
  const svCoef = table.f64(str(s.svCoef, 'svm.svCoef'), 'svm.svCoef', [nClass - 1, totalSV]);
  const sv = table.f32(str(s.supportVectors, 'svm.supportVectors'), 'svm.supportVectors', [totalSV, featureDim]);

  const svNorm = new Float64Array(totalSV);
  for (let i = 0, o = 0; i < totalSV; i++, o += featureDim) {
    let acc = 0;
    for (let t = 0; t < featureDim; t++) acc += sv[o + t]! * sv[o + t]!;
    svNorm[i] = acc;
  }

  return {
    input,
    ...(meta ? { meta } : {}),
    inputDim,
    featureDim,
    pre,
    gamma,
    nClass,
    totalSV,
    labels,
    nSV,
    start,
    rho,
    probA,
    probB,
    svCoef,
    sv,
    svNorm,
    work: createSvmWorkspace(inputDim, featureDim, nClass, totalSV),
  };
}
