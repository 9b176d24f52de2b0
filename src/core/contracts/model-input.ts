/**
 * The `input` block of a model, as models/index.json stores it: what the model reads and how to
 * feed it. One parser per model kind, used by every reader; writers build CNN blocks with
 * cnnInput() rather than writing the literal. Errors start with `where` (e.g.
 * "models/index.json: models[0] (fer-cnn).input") and name the field at fault.
 */
import { parseSvmInput } from '../svm/input.ts';
import { isRecord, rejectUnknownKeys } from './check.ts';

// The SVM's runtime spec (what it computes from a face) has its one parser in src/core/svm/input.ts.
export { parseSvmInput, svmInputLength, svmInputOf, type SvmInputSpec } from '../svm/input.ts';

/** Test-time augmentation the app applies: none, or the mean of the crop's and its mirror's output. */
export type CnnTta = 'none' | 'hflip-mean';
export const CNN_TTAS: readonly CnnTta[] = ['none', 'hflip-mean'];

/** A CNN's input: a batch of square gray crops in [0, 1], NHWC. */
export interface CnnInputSpec {
  /** [batch, size, size, 1]; the batch dimension is null. */
  shape: [null, number, number, 1];
  dtype: 'float32';
  color: 'gray';
  range: [0, 1];
  /** Side of the square crop (FER2013: 48). */
  size: number;
  tta: CnnTta;
}

/** An SVM's input block as stored; parseSvmInput() derives what the app computes from it. */
export type SvmInput =
  | {
      type: 'au-features';
      /** FEATURE_VERSION of src/core/features the model was trained on. */
      featureVersion: number;
      /** Length of the feature vector. */
      dim?: number;
      /** Feature names, in order (model.json only). */
      features?: string[];
    }
  | {
      type: 'pixels';
      size?: number;
      range?: [0, 1];
      descriptor?: 'raw' | 'hog';
      hog?: { cell?: number; bins?: number };
      /** PCA components kept (model.json only). */
      pca?: number;
    };

/**
 * A fusion model's input block: the AU-style features it reads besides its members' probabilities
 * (what the members read is in their own entries).
 */
export interface FusionInput {
  type: 'au-features';
  /** FEATURE_VERSION of src/core/features the model was trained on. */
  featureVersion: number;
  /** Length of the feature vector. */
  dim?: number;
}

export type ModelInput = CnnInputSpec | SvmInput | FusionInput;

const MIN_SIZE = 8;
const MAX_SIZE = 512;

const show = (value: unknown): string => (value === undefined ? 'nothing' : JSON.stringify(value));

const isSize = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= MIN_SIZE && v <= MAX_SIZE;
const isUnitRange = (v: unknown): boolean => Array.isArray(v) && v.length === 2 && v[0] === 0 && v[1] === 1;

/** The input block of a CNN trained on size x size gray crops (what the trainers write). */
export function cnnInput(o: { size: number; tta: CnnTta }): CnnInputSpec {
  // Key order is the order index.json has always had, so rewriting an entry changes no bytes.
  return { shape: [null, o.size, o.size, 1], dtype: 'float32', color: 'gray', range: [0, 1], size: o.size, tta: o.tta };
}

const CNN_KEYS = ['shape', 'dtype', 'color', 'range', 'size', 'tta'] as const;

/**
 * Reads a CNN's input block. Every field may be left out: size defaults to shape[1], else 48; the
 * rest to cnnInput()'s values. Returns the complete block.
 */
export function parseCnnInput(raw: unknown, where: string): CnnInputSpec {
  if (raw === undefined) raw = {};
  if (!isRecord(raw)) throw new Error(`${where} must be an object, got ${show(raw)}`);
  rejectUnknownKeys(raw, CNN_KEYS, where);
  const { shape, dtype, color, range, tta } = raw;
  if (shape !== undefined) {
    const ok =
      Array.isArray(shape) && shape.length === 4 && shape[0] === null && isSize(shape[1]) && shape[2] === shape[1] && shape[3] === 1;
    if (!ok) throw new Error(`${where}.shape must be [null, size, size, 1] with size ${MIN_SIZE}..${MAX_SIZE}, got ${show(shape)}`);
  }
  const size = raw.size ?? (Array.isArray(shape) ? shape[1] : 48);
  if (!isSize(size)) throw new Error(`${where}.size: unsupported input size ${show(size)} (an integer ${MIN_SIZE}..${MAX_SIZE})`);
  if (Array.isArray(shape) && shape[1] !== size) throw new Error(`${where}.shape ${show(shape)} does not match size ${size}`);
  if (dtype !== undefined && dtype !== 'float32') throw new Error(`${where}.dtype must be "float32", got ${show(dtype)}`);
  if (color !== undefined && color !== 'gray') throw new Error(`${where}.color: unsupported input colour ${show(color)} (only "gray")`);
  if (range !== undefined && !isUnitRange(range)) throw new Error(`${where}.range: unsupported input range ${show(range)} (only [0, 1])`);
  if (tta !== undefined && !(CNN_TTAS as readonly unknown[]).includes(tta)) {
    throw new Error(`${where}.tta: unknown tta ${show(tta)} (expected ${CNN_TTAS.map((t) => `"${t}"`).join(' or ')})`);
  }
  return cnnInput({ size, tta: (tta as CnnTta | undefined) ?? 'none' });
}

const AU_KEYS = ['type', 'featureVersion', 'dim', 'features'] as const;
const PIXEL_KEYS = ['type', 'size', 'range', 'descriptor', 'hog', 'pca'] as const;

const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

/**
 * Reads an SVM's input block as stored (models/index.json or model.json) and checks it with
 * parseSvmInput(). Returns a copy holding only the known fields.
 */
export function parseStoredSvmInput(raw: unknown, where: string): SvmInput {
  if (!isRecord(raw)) throw new Error(`${where} must be an object with a "type" ("au-features" or "pixels"), got ${show(raw)}`);
  try {
    parseSvmInput(raw);
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`, { cause: error });
  }
  if (raw.type === 'au-features') {
    rejectUnknownKeys(raw, AU_KEYS, where);
    const { featureVersion, dim, features } = raw;
    if (typeof featureVersion !== 'number' || !Number.isInteger(featureVersion) || featureVersion < 0) {
      throw new Error(`${where}.featureVersion must be the integer feature version the model was trained on, got ${show(featureVersion)}`);
    }
    if (dim !== undefined && !isPositiveInt(dim)) throw new Error(`${where}.dim must be a positive integer, got ${show(dim)}`);
    if (features !== undefined && !(Array.isArray(features) && features.every((f) => typeof f === 'string'))) {
      throw new Error(`${where}.features must be a list of feature names`);
    }
    return {
      type: 'au-features',
      featureVersion,
      ...(dim !== undefined ? { dim } : {}),
      ...(features !== undefined ? { features: [...(features as string[])] } : {}),
    };
  }
  rejectUnknownKeys(raw, PIXEL_KEYS, where);
  const { size, range, descriptor, hog, pca } = raw;
  if (range !== undefined && !isUnitRange(range)) throw new Error(`${where}.range: unsupported input range ${show(range)} (only [0, 1])`);
  if (hog !== undefined) {
    if (!isRecord(hog)) throw new Error(`${where}.hog must be an object {cell, bins}, got ${show(hog)}`);
    rejectUnknownKeys(hog, ['cell', 'bins'], `${where}.hog`);
  }
  if (pca !== undefined && !isPositiveInt(pca))
    throw new Error(`${where}.pca must be a positive integer (components kept), got ${show(pca)}`);
  // size, descriptor and hog were checked by parseSvmInput above.
  return {
    type: 'pixels',
    ...(size !== undefined ? { size: size as number } : {}),
    ...(range !== undefined ? { range: [0, 1] as [0, 1] } : {}),
    ...(descriptor !== undefined ? { descriptor: descriptor as 'raw' | 'hog' } : {}),
    ...(isRecord(hog)
      ? {
          hog: {
            ...(hog.cell !== undefined ? { cell: hog.cell as number } : {}),
            ...(hog.bins !== undefined ? { bins: hog.bins as number } : {}),
          },
        }
      : {}),
    ...(pca !== undefined ? { pca } : {}),
  };
}

const FUSION_KEYS = ['type', 'featureVersion', 'dim'] as const;

/** Reads a fusion model's input block ({"type": "au-features", "featureVersion", "dim"}). */
export function parseFusionInput(raw: unknown, where: string): FusionInput {
  if (!isRecord(raw) || raw.type !== 'au-features') {
    throw new Error(
      `${where} must be {"type": "au-features", "featureVersion": N, "dim": N} (the features the model reads), got ${show(raw)}`,
    );
  }
  rejectUnknownKeys(raw, FUSION_KEYS, where);
  const { featureVersion, dim } = raw;
  if (typeof featureVersion !== 'number' || !Number.isInteger(featureVersion) || featureVersion < 0) {
    throw new Error(`${where}.featureVersion must be the integer feature version the model was trained on, got ${show(featureVersion)}`);
  }
  if (dim !== undefined && !isPositiveInt(dim)) throw new Error(`${where}.dim must be a positive integer, got ${show(dim)}`);
  return { type: 'au-features', featureVersion, ...(dim !== undefined ? { dim } : {}) };
}
