/**
 * Fusion models: a multinomial logistic regression (softmax) over the log-probabilities of one
 * member CNN (as the app computes them, flip TTA included) and the AU-style feature vector
 * (src/core/features), which sees the face's geometry rather than its texture. Pure TS: the app
 * (live, batch page, library) and the training command run this same code, so Node and the
 * browser give the same numbers for the same inputs.
 *
 * A model is two files, like an SVM:
 *   - `model.json`: a {@link FusionModelJson} (metadata and the weights record);
 *   - `weights.bin`: float64 little-endian values, concatenated: mean[D], scale[D], weights[K*D]
 *     (row k = class k, EMOTIONS order), bias[K], where D = K * members + FEATURE_COUNT.
 *
 * For one face: x = [log(max(p_member, eps)) ..., features], z = (x - mean) / scale,
 * probs = softmax(weights · z + bias).
 */
import { EMOTIONS, NUM_CLASSES } from './labels.ts';
import { fnv1a32 } from './svm/model.ts';

export const FUSION_FORMAT = 'emotion-fusion';
export const FUSION_FORMAT_VERSION = 1;
export const FUSION_MODEL_FILE = 'model.json';
export const FUSION_WEIGHTS_FILE = 'weights.bin';
/** Floor of a member probability before its log (a CNN's softmax can round to 0). */
export const FUSION_DEFAULT_EPS = 1e-4;

export interface FusionModelJson {
  format: typeof FUSION_FORMAT;
  version: typeof FUSION_FORMAT_VERSION;
  /** Member CNN ids (models/index.json), in input order. */
  members: string[];
  /** The AU-style features it reads: version and length (FEATURE_VERSION / FEATURE_COUNT at training). */
  features: { type: 'au-features'; featureVersion: number; dim: number; names?: string[] };
  /** Probability floor before the log. */
  eps: number;
  /** Labels of the output, EMOTIONS order. */
  labels: string[];
  /** Length of the input row: NUM_CLASSES * members + features.dim. */
  inputDim: number;
  weights: { file: string; dtype: 'float64'; byteLength: number; fnv1a32: string };
  /** How it was trained (free-form, for people; not read by inference). */
  training?: Record<string, unknown>;
}

export interface FusionModel {
  members: string[];
  featureVersion: number;
  featureCount: number;
  eps: number;
  inputDim: number;
  mean: Float64Array;
  scale: Float64Array;
  /** [NUM_CLASSES * inputDim], row-major by class. */
  weights: Float64Array;
  bias: Float64Array;
}

export class FusionModelError extends Error {
  constructor(message: string) {
    super(`fusion model: ${message}`);
    this.name = 'FusionModelError';
  }
}

const fail = (message: string): never => {
  throw new FusionModelError(message);
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

/** Number of float64 values weights.bin holds for a model of input length `d`. */
export function fusionWeightCount(d: number): number {
  return 2 * d + NUM_CLASSES * d + NUM_CLASSES;
}

/** The raw input row x of one face: each member's log-probabilities, then the features. */
export function fusionRow(
  memberProbs: readonly ArrayLike<number>[],
  features: ArrayLike<number>,
  eps: number,
  out: Float64Array = new Float64Array(memberProbs.length * NUM_CLASSES + features.length),
): Float64Array {
  let o = 0;
  for (const probs of memberProbs) {
    if (probs.length !== NUM_CLASSES) fail(`a member gave ${probs.length} probabilities, expected ${NUM_CLASSES}`);
    for (let k = 0; k < NUM_CLASSES; k++) out[o++] = Math.log(Math.max(probs[k]!, eps));
  }
  for (let i = 0; i < features.length; i++) out[o++] = features[i]!;
  return out;
}

/** Softmax of `logits` in place (max subtracted first, so large logits do not overflow). */
export function softmaxInPlace(logits: Float64Array | number[]): void {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  let sum = 0;
  for (let k = 0; k < logits.length; k++) {
    logits[k] = Math.exp(logits[k]! - max);
    sum += logits[k]!;
  }
  for (let k = 0; k < logits.length; k++) logits[k] = logits[k]! / sum;
}

/**
 * Class probabilities (EMOTIONS order) of one face from its members' probabilities (the order of
 * `model.members`) and its AU-style feature vector. A non-finite feature (a degenerate face) is
 * read as its training mean, i.e. as carrying no information.
 */
export function predictFusion(model: FusionModel, memberProbs: readonly ArrayLike<number>[], features: ArrayLike<number>): number[] {
  if (memberProbs.length !== model.members.length) fail(`got ${memberProbs.length} member outputs, expected ${model.members.length}`);
  if (features.length !== model.featureCount) fail(`got ${features.length} features, the model reads ${model.featureCount}`);
  const x = fusionRow(memberProbs, features, model.eps);
  const d = model.inputDim;
  for (let i = 0; i < d; i++) x[i] = Number.isFinite(x[i]!) ? (x[i]! - model.mean[i]!) / model.scale[i]! : 0;
  const logits = new Array<number>(NUM_CLASSES);
  for (let k = 0; k < NUM_CLASSES; k++) {
    let s = model.bias[k]!;
    const row = k * d;
    for (let i = 0; i < d; i++) s += model.weights[row + i]! * x[i]!;
    logits[k] = s;
  }
  softmaxInPlace(logits);
  return logits;
}

/** Checks model.json (as parsed JSON) and weights.bin; throws a FusionModelError naming the field at fault. */
export function parseFusionModel(json: unknown, weights: ArrayBuffer): FusionModel {
  if (!isRecord(json)) return fail('model.json must be an object');
  if (json.format !== FUSION_FORMAT) fail(`format must be "${FUSION_FORMAT}", got ${JSON.stringify(json.format)}`);
  if (json.version !== FUSION_FORMAT_VERSION)
    fail(`version ${JSON.stringify(json.version)} is not supported (this app reads version ${FUSION_FORMAT_VERSION}); retrain it`);
  const members = json.members;
  if (!Array.isArray(members) || members.length === 0 || !members.every((m) => typeof m === 'string' && m !== ''))
    fail('members must be a non-empty list of model ids');
  const f = json.features;
  if (!isRecord(f) || f.type !== 'au-features') return fail('features must be {"type": "au-features", "featureVersion", "dim"}');
  if (typeof f.featureVersion !== 'number' || !Number.isInteger(f.featureVersion) || f.featureVersion < 0)
    fail(`features.featureVersion must be an integer >= 0, got ${JSON.stringify(f.featureVersion)}`);
  if (!isCount(f.dim)) fail(`features.dim must be a positive integer, got ${JSON.stringify(f.dim)}`);
  const eps = json.eps;
  if (typeof eps !== 'number' || !(eps > 0 && eps < 1)) fail(`eps must be a number in (0, 1), got ${JSON.stringify(eps)}`);
  if (!Array.isArray(json.labels) || json.labels.join(',') !== EMOTIONS.join(','))
    fail(`labels must be ${JSON.stringify(EMOTIONS)} (the app's order), got ${JSON.stringify(json.labels)}`);
  const d = (members as string[]).length * NUM_CLASSES + (f.dim as number);
  if (json.inputDim !== d)
    fail(
      `inputDim ${JSON.stringify(json.inputDim)} does not match ${(members as string[]).length} member(s) x ${NUM_CLASSES} + ${String(f.dim)} features = ${d}`,
    );
  const w = json.weights;
  if (!isRecord(w) || w.dtype !== 'float64') return fail('weights must be {"file", "dtype": "float64", "byteLength", "fnv1a32"}');
  const expected = fusionWeightCount(d) * 8;
  if (weights.byteLength !== expected)
    fail(`${String(w.file)} has ${weights.byteLength} bytes, a model of input length ${d} needs ${expected}`);
  if (w.byteLength !== weights.byteLength)
    fail(`${String(w.file)} has ${weights.byteLength} bytes, model.json records ${String(w.byteLength)}`);
  const hash = fnv1a32(new Uint8Array(weights));
  if (w.fnv1a32 !== hash)
    fail(
      `${String(w.file)} does not match the hash model.json records (${String(w.fnv1a32)}, file ${hash}): the file is damaged or from another model`,
    );
  const view = new DataView(weights);
  const values = new Float64Array(fusionWeightCount(d));
  for (let i = 0; i < values.length; i++) {
    values[i] = view.getFloat64(i * 8, true);
    if (!Number.isFinite(values[i]!)) fail(`${String(w.file)}: value ${i} is ${values[i]}`);
  }
  const scale = values.subarray(d, 2 * d);
  const zero = scale.findIndex((s) => !(s > 0));
  if (zero >= 0) fail(`scale[${zero}] is ${scale[zero]}, must be > 0`);
  return {
    members: [...(members as string[])],
    featureVersion: f.featureVersion as number,
    featureCount: f.dim as number,
    eps: eps as number,
    inputDim: d,
    mean: values.slice(0, d),
    scale: values.slice(d, 2 * d),
    weights: values.slice(2 * d, 2 * d + NUM_CLASSES * d),
    bias: values.slice(2 * d + NUM_CLASSES * d),
  };
}

/** The two files of a model (what the trainer writes; parseFusionModel reads them back). */
export function serializeFusionModel(
  model: FusionModel,
  extra: { featureNames?: readonly string[]; training?: Record<string, unknown> } = {},
): { json: FusionModelJson; weights: Uint8Array } {
  const d = model.inputDim;
  if (model.mean.length !== d || model.scale.length !== d || model.weights.length !== NUM_CLASSES * d || model.bias.length !== NUM_CLASSES)
    throw new FusionModelError(`array lengths do not match input length ${d}`);
  const values = new Float64Array(fusionWeightCount(d));
  values.set(model.mean, 0);
  values.set(model.scale, d);
  values.set(model.weights, 2 * d);
  values.set(model.bias, 2 * d + NUM_CLASSES * d);
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat64(i * 8, v, true));
  const json: FusionModelJson = {
    format: FUSION_FORMAT,
    version: FUSION_FORMAT_VERSION,
    members: [...model.members],
    features: {
      type: 'au-features',
      featureVersion: model.featureVersion,
      dim: model.featureCount,
      ...(extra.featureNames ? { names: [...extra.featureNames] } : {}),
    },
    eps: model.eps,
    labels: [...EMOTIONS],
    inputDim: d,
    weights: { file: FUSION_WEIGHTS_FILE, dtype: 'float64', byteLength: bytes.byteLength, fnv1a32: fnv1a32(bytes) },
    ...(extra.training ? { training: extra.training } : {}),
  };
  return { json, weights: bytes };
}
