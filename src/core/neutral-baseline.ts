/**
 * A person's neutral face as a baseline for the general models. FER2013's faces show strong
 * expressions; a real person's resting face often reads as mildly sad or angry, and their mild
 * expressions as neutral. Capturing the person's neutral face once moves every model's output so
 * that this face reads as FER2013's average neutral face does:
 *
 *   p'(k) = softmax(log p(k) + reference(k) - captured(k))
 *
 * where reference is the model's mean log-probability over FER2013 Training neutral faces (stored
 * in its models/index.json entry, `npm run train -- neutral-reference`) and captured the mean over
 * the person's neutral frames. For a CNN whose last layer is linear this is exactly the same as
 * moving its penultimate features by (FER2013 neutral mean - the person's neutral mean), which
 * `npm run probe:embeddings` measured; here it needs only the probabilities, so it works for every
 * model kind.
 *
 * A model that reads the AU-style features through a non-linear kernel (an RBF SVM) is moved at
 * its input instead, where the person's resting geometry is:
 *
 *   features' = features + reference features - captured features
 *
 * (its reference then also holds FER2013's mean neutral features). On JAFFE, leave-one-out,
 * `svm-au` reads 0.635 this way and 0.427 with its output moved (docs/models.md). Pure TypeScript:
 * the app, the library and the Node evaluation share it.
 */
import { isRecord } from './contracts/check.ts';
import { FEATURE_COUNT } from './features/index.ts';
import { NUM_CLASSES } from './labels.ts';

/** Floor of a probability before its log (a softmax can round to 0; an SVM's pairwise estimate too). */
export const NEUTRAL_EPS = 1e-4;

/** What a model's manifest entry stores: its output on FER2013's neutral faces. */
export interface NeutralReference {
  /** Mean log-probability per class (EMOTIONS order, floored at NEUTRAL_EPS). */
  logProbs: number[];
  /** How many faces the mean is over. */
  faces: number;
  /**
   * Mean AU-style feature vector (FEATURE_NAMES order) over the same faces: present for a model
   * that reads the features and is moved at its input rather than its output.
   */
  features?: number[];
}

/** One model's part of a captured baseline. */
export interface NeutralModelBaseline {
  /** Mean log-probability over the person's neutral frames (with input 'features': mean feature vector). */
  captured: number[];
  /** The reference it was captured against: a model whose reference has changed since is not moved. */
  reference: number[];
  /** 'features': the model's input features are moved (captured and reference are feature vectors). */
  input?: 'features';
}

/** How a baseline moves one model: its log-probabilities (offsets) or its input features (shift). */
export interface NeutralMoves {
  /** Per model id: reference - captured, added to its log-probabilities. */
  offsets: Map<string, number[]>;
  /** Per model id: reference features - captured features, added to its input features. */
  featureShifts: Map<string, number[]>;
}

/** A person's captured neutral face, as the app stores it. */
export interface NeutralBaseline {
  version: 1;
  /** ISO time of the capture. */
  capturedAt: string;
  /** Frames (or photos) the means are over. */
  frames: number;
  models: Record<string, NeutralModelBaseline>;
}

function isVector(v: unknown, length: number): v is number[] {
  return Array.isArray(v) && v.length === length && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

const isClassVector = (v: unknown): v is number[] => isVector(v, NUM_CLASSES);

/** Validates a manifest entry's `neutral` field; `at` names it in the error. */
export function parseNeutralReference(raw: unknown, at: string): NeutralReference {
  const how = `{"logProbs": [${NUM_CLASSES} finite numbers], "faces": a positive integer, optionally "features": [${FEATURE_COUNT} finite numbers]}, as npm run train -- neutral-reference writes it`;
  if (!isRecord(raw)) throw new Error(`${at} must be ${how}`);
  const keys = Object.keys(raw).filter((k) => k !== 'logProbs' && k !== 'faces' && k !== 'features');
  if (keys.length > 0) throw new Error(`${at} has an unknown field "${keys[0]}"; expected ${how}`);
  if (!isClassVector(raw.logProbs) || raw.logProbs.some((x) => x > 0))
    throw new Error(`${at}.logProbs must be ${NUM_CLASSES} log-probabilities (finite, <= 0)`);
  if (!Number.isInteger(raw.faces) || (raw.faces as number) < 1) throw new Error(`${at}.faces must be a positive integer`);
  if (raw.features !== undefined && !isVector(raw.features, FEATURE_COUNT))
    throw new Error(
      `${at}.features must be ${FEATURE_COUNT} finite numbers (the mean AU-style feature vector); remake it with npm run train -- neutral-reference`,
    );
  return {
    logProbs: [...raw.logProbs],
    faces: raw.faces as number,
    ...(raw.features !== undefined ? { features: [...raw.features] } : {}),
  };
}

/** log(max(p, NEUTRAL_EPS)) per class. */
export function logProbs(probs: ArrayLike<number>): number[] {
  if (probs.length !== NUM_CLASSES) throw new RangeError(`expected ${NUM_CLASSES} probabilities, got ${probs.length}`);
  return Array.from(probs, (p) => Math.log(Math.max(p, NEUTRAL_EPS)));
}

/** Sums log-probabilities row by row; `mean` gives their average. */
export class LogProbMean {
  private readonly sum = new Float64Array(NUM_CLASSES);
  count = 0;

  add(probs: ArrayLike<number>): void {
    logProbs(probs).forEach((v, k) => (this.sum[k] = this.sum[k]! + v));
    this.count++;
  }

  mean(): number[] {
    if (this.count === 0) throw new Error('no rows to average');
    return Array.from(this.sum, (s) => s / this.count);
  }
}

/** reference - captured: what the baseline adds to a model's log-probabilities. */
export function neutralOffsets(reference: ArrayLike<number>, captured: ArrayLike<number>): number[] {
  if (reference.length !== NUM_CLASSES || captured.length !== NUM_CLASSES)
    throw new RangeError(`expected ${NUM_CLASSES} values each, got ${reference.length} and ${captured.length}`);
  return Array.from(reference, (r, k) => r - captured[k]!);
}

/** softmax(log p + offsets): the probabilities with the baseline applied. */
export function applyNeutralOffsets(probs: ArrayLike<number>, offsets: ArrayLike<number>): number[] {
  const z = logProbs(probs).map((v, k) => v + offsets[k]!);
  const max = Math.max(...z);
  const e = z.map((v) => Math.exp(v - max));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
}

/** reference features - captured features: what the baseline adds to a model's input features. */
export function featureShift(reference: ArrayLike<number>, captured: ArrayLike<number>): number[] {
  if (reference.length !== captured.length)
    throw new RangeError(`expected two feature vectors of one length, got ${reference.length} and ${captured.length}`);
  return Array.from(reference, (r, k) => r - captured[k]!);
}

/** `features` moved by `shift` (a new array). */
export function shiftFeatures(features: ArrayLike<number>, shift: ArrayLike<number>): Float32Array {
  if (features.length !== shift.length) throw new RangeError(`${features.length} features, a shift of ${shift.length}`);
  return Float32Array.from(features, (v, k) => v + shift[k]!);
}

const sameVector = (a: readonly number[] | undefined, b: readonly number[]) =>
  a !== undefined && a.length === b.length && a.every((v, k) => Math.abs(v - b[k]!) <= 1e-9);

/**
 * How a baseline moves each model under the current references: models without a reference, or
 * whose reference differs from the one the capture used (the model was retrained), are left out
 * and listed in `stale`. A model captured at its output keeps being moved there even when its
 * reference has since gained features (a capture made before): recapturing moves its input.
 */
export function baselineOffsets(
  baseline: NeutralBaseline,
  references: ReadonlyMap<string, NeutralReference>,
): NeutralMoves & { stale: string[] } {
  const offsets = new Map<string, number[]>();
  const featureShifts = new Map<string, number[]>();
  const stale: string[] = [];
  for (const [id, m] of Object.entries(baseline.models)) {
    const ref = references.get(id);
    if (!ref) continue;
    if (m.input === 'features') {
      if (sameVector(ref.features, m.reference)) featureShifts.set(id, featureShift(ref.features!, m.captured));
      else stale.push(id);
    } else if (sameVector(ref.logProbs, m.reference)) offsets.set(id, neutralOffsets(ref.logProbs, m.captured));
    else stale.push(id);
  }
  return { offsets, featureShifts, stale };
}

/** Sums feature vectors; `mean` gives their average. */
export class FeatureMean {
  private sum: Float64Array | undefined;
  count = 0;

  add(features: ArrayLike<number>): void {
    const sum = (this.sum ??= new Float64Array(features.length));
    if (features.length !== sum.length) throw new RangeError(`expected ${sum.length} features, got ${features.length}`);
    for (let k = 0; k < sum.length; k++) sum[k] = sum[k]! + features[k]!;
    this.count++;
  }

  mean(): number[] {
    if (!this.sum || this.count === 0) throw new Error('no rows to average');
    return Array.from(this.sum, (s) => s / this.count);
  }
}

/**
 * Collects each model's raw probabilities over a person's neutral frames (and the face's features,
 * for the models moved at their input) and makes the baseline. Only models with a reference take
 * part; a model whose reference has features but whose frames came without them is moved at its
 * output.
 */
export class NeutralCapture {
  private readonly means = new Map<string, LogProbMean>();
  private readonly features = new FeatureMean();
  frames = 0;

  constructor(private readonly references: ReadonlyMap<string, NeutralReference>) {}

  /** One frame (or photo) of the face: every model's probabilities by id, and the face's AU-style features. */
  addFrame(readings: Readonly<Record<string, ArrayLike<number>>>, features?: ArrayLike<number>): void {
    let used = false;
    for (const [id, probs] of Object.entries(readings)) {
      if (!this.references.has(id)) continue;
      let mean = this.means.get(id);
      if (!mean) this.means.set(id, (mean = new LogProbMean()));
      mean.add(probs);
      used = true;
    }
    if (!used) return;
    this.frames++;
    if (features && features.length === FEATURE_COUNT && this.features.count === this.frames - 1) this.features.add(features);
  }

  finish(capturedAt: Date): NeutralBaseline {
    const models: Record<string, NeutralModelBaseline> = {};
    // Features count only when every frame gave them: the mean is then over the same frames.
    const features = this.features.count > 0 && this.features.count === this.frames ? this.features.mean() : undefined;
    for (const [id, mean] of this.means) {
      const ref = this.references.get(id)!;
      models[id] =
        ref.features && features
          ? { captured: features, reference: [...ref.features], input: 'features' }
          : { captured: mean.mean(), reference: [...ref.logProbs] };
    }
    return { version: 1, capturedAt: capturedAt.toISOString(), frames: this.frames, models };
  }
}

/** Validates a stored baseline (e.g. from localStorage); throws an Error saying what is wrong. */
export function parseNeutralBaseline(json: unknown): NeutralBaseline {
  if (!isRecord(json) || json.version !== 1) throw new Error('not a neutral baseline of version 1');
  if (typeof json.capturedAt !== 'string' || Number.isNaN(Date.parse(json.capturedAt))) throw new Error('capturedAt must be an ISO time');
  if (!Number.isInteger(json.frames) || (json.frames as number) < 1) throw new Error('frames must be a positive integer');
  if (!isRecord(json.models)) throw new Error('models must be an object');
  const models: Record<string, NeutralModelBaseline> = {};
  for (const [id, m] of Object.entries(json.models)) {
    if (!isRecord(m) || (m.input !== undefined && m.input !== 'features'))
      throw new Error(`models["${id}"].input must be "features" or absent`);
    const length = m.input === 'features' ? FEATURE_COUNT : NUM_CLASSES;
    if (!isVector(m.captured, length) || !isVector(m.reference, length))
      throw new Error(`models["${id}"] must hold "captured" and "reference", ${length} numbers each`);
    models[id] = {
      captured: [...m.captured],
      reference: [...m.reference],
      ...(m.input === 'features' ? { input: 'features' as const } : {}),
    };
  }
  return { version: 1, capturedAt: json.capturedAt, frames: json.frames as number, models };
}

/** Above this mean share of happy or surprise, a capture does not look like a relaxed face. */
export const EXPRESSIVE_CAPTURE_SHARE = 0.5;

/**
 * A capture that shows a smile or a surprised face rather than a relaxed one (the mean over its
 * models of each model's normalised geometric-mean probability, happy or surprise, at least
 * EXPRESSIVE_CAPTURE_SHARE); undefined otherwise. A resting face that reads as sad or angry is what
 * the baseline is for, so only these two count.
 */
/** A baseline that looks like a smile or surprise, and how much (expressiveCapture). */
export interface ExpressiveCapture {
  emotion: 'happy' | 'surprise';
  share: number;
}

export function expressiveCapture(baseline: NeutralBaseline): ExpressiveCapture | undefined {
  // Models moved at their input captured features, not probabilities.
  const models = Object.values(baseline.models).filter((m) => m.input !== 'features');
  if (models.length === 0) return undefined;
  const share = (k: number) =>
    models.reduce((sum, m) => {
      const e = m.captured.map(Math.exp);
      return sum + e[k]! / e.reduce((a, b) => a + b, 0);
    }, 0) / models.length;
  const happy = share(3);
  const surprise = share(5);
  if (Math.max(happy, surprise) < EXPRESSIVE_CAPTURE_SHARE) return undefined;
  return happy >= surprise ? { emotion: 'happy', share: happy } : { emotion: 'surprise', share: surprise };
}
