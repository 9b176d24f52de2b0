/**
 * What the live view needs to know to feed a manifest model, read from its `input` block with the
 * contract parsers (src/core/contracts/model-input.ts), or the reason it cannot run it (pure;
 * tested in Node). Entries from parseManifest() are already valid; this also guards entries that
 * reach the worker by other routes, and checks what only the app knows (its feature version).
 */
import { parseCnnInput, parseStoredSvmInput, parseSvmInput, type SvmInputSpec } from '../../core/contracts/model-input.ts';
import { FEATURE_COUNT, FEATURE_VERSION } from '../../core/features/index.ts';
import { NUM_CLASSES } from '../../core/labels.ts';
import type { ModelEntry } from '../manifest.ts';

export interface InputSpec {
  /** Square gray crop side (FER2013: 48). */
  size: number;
  /** Average the prediction of the crop and its mirror image. */
  hflipMean: boolean;
}

export type InputCheck = { ok: true; spec: InputSpec } | { ok: false; reason: string };

export type SvmInputCheck = { ok: true; input: SvmInputSpec } | { ok: false; reason: string };

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** An SVM entry's input, checked against what this app computes. */
export function checkSvmInput(entry: ModelEntry): SvmInputCheck {
  let input: SvmInputSpec;
  try {
    const stored = parseStoredSvmInput(entry.input, 'input');
    if (stored.type === 'au-features') {
      if (stored.featureVersion !== FEATURE_VERSION) {
        return {
          ok: false,
          reason: `trained on AU feature version ${stored.featureVersion}, the app computes version ${FEATURE_VERSION}: retrain it (npm run train -- ${entry.id})`,
        };
      }
      if (stored.dim !== undefined && stored.dim !== FEATURE_COUNT)
        return { ok: false, reason: `expects ${stored.dim} features, the app computes ${FEATURE_COUNT}` };
    }
    input = parseSvmInput(stored);
  } catch (error) {
    return { ok: false, reason: reasonOf(error) };
  }
  return { ok: true, input };
}

export function checkModelInput(entry: ModelEntry): InputCheck {
  if (entry.kind !== 'cnn') return { ok: false, reason: `${entry.kind.toUpperCase()} models are not CNNs` };
  try {
    const input = parseCnnInput(entry.input, 'input');
    return { ok: true, spec: { size: input.size, hflipMean: input.tta === 'hflip-mean' } };
  } catch (error) {
    return { ok: false, reason: reasonOf(error) };
  }
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

export { argmax } from '../../core/metrics.ts';
