/**
 * What the live view needs to know to feed a manifest model, read from its `input` block, or the
 * reason it cannot run it (pure; tested in Node).
 */
import { FEATURE_COUNT, FEATURE_VERSION } from '../../core/features/index.ts';
import { NUM_CLASSES } from '../../core/labels.ts';
import { parseSvmInput, type SvmInputSpec } from '../../core/svm/input.ts';
import type { ModelEntry } from '../manifest.ts';

export interface InputSpec {
  /** Square gray crop side (FER2013: 48). */
  size: number;
  /** Average the prediction of the crop and its mirror image. */
  hflipMean: boolean;
}

export type InputCheck = { ok: true; spec: InputSpec } | { ok: false; reason: string };

export type SvmInputCheck = { ok: true; input: SvmInputSpec } | { ok: false; reason: string };

/** An SVM entry's input (src/core/svm/input.ts), checked against what this app computes. */
export function checkSvmInput(entry: ModelEntry): SvmInputCheck {
  let input: SvmInputSpec;
  try {
    input = parseSvmInput(entry.input);
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  if (input.type === 'au-features') {
    if (entry.input.featureVersion !== FEATURE_VERSION) {
      return { ok: false, reason: `trained on AU feature version ${String(entry.input.featureVersion)}, the app computes version ${FEATURE_VERSION}: retrain it (npm run train -- ${entry.id})` };
    }
    if (entry.input.dim !== undefined && entry.input.dim !== FEATURE_COUNT) return { ok: false, reason: `expects ${String(entry.input.dim)} features, the app computes ${FEATURE_COUNT}` };
  }
  return { ok: true, input };
}

export function checkModelInput(entry: ModelEntry): InputCheck {
  if (entry.kind !== 'cnn') return { ok: false, reason: `${entry.kind.toUpperCase()} models are not CNNs` };
  const input = entry.input;
  const size = input.size ?? (Array.isArray(input.shape) ? input.shape[1] : 48);
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 8 || size > 512) {
    return { ok: false, reason: `unsupported input size ${JSON.stringify(size)}` };
  }
  if (input.color !== undefined && input.color !== 'gray') return { ok: false, reason: `unsupported input colour "${String(input.color)}" (only gray)` };
  const range = input.range;
  if (range !== undefined && !(Array.isArray(range) && range[0] === 0 && range[1] === 1)) {
    return { ok: false, reason: `unsupported input range ${JSON.stringify(range)} (only [0,1])` };
  }
  if (input.tta !== undefined && input.tta !== 'none' && input.tta !== 'hflip-mean') {
    return { ok: false, reason: `unknown tta "${String(input.tta)}"` };
  }
  return { ok: true, spec: { size, hflipMean: input.tta === 'hflip-mean' } };
}

/** Averages row i and row i + n of an [2n, classes] output (crop and mirrored crop). */
export function meanOfHalves(data: ArrayLike<number>, n: number, classes = NUM_CLASSES): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row = new Array<number>(classes);
    for (let c = 0; c < classes; c++) row[c] = (data[i * classes + c]! + data[(i + n) * classes + c]!) / 2;
    out.push(row);
  }
  return out;
}

export function rowsOf(data: ArrayLike<number>, n: number, classes = NUM_CLASSES): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < n; i++) out.push(Array.from({ length: classes }, (_, c) => data[i * classes + c]!));
  return out;
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
