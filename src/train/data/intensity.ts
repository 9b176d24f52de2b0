/**
 * Expression-intensity augmentation for feature-row models (the fusion model, svm-au). FER2013's
 * expressions are mostly strong (web photos picked because they show an emotion); real faces in
 * front of a camera, and posed sets such as JAFFE, are often mild, and a model fitted on strong ones
 * calls a mild one neutral. Each non-neutral row gets copies moved toward the mean neutral row by a
 * random factor: x' = n + a (x - n), a ~ U(low, high), label kept. a = 1 is the row itself; a = 0
 * would be the average neutral face. Rows are raw inputs (a fusion row: member log-probabilities,
 * then the AU-style features), before standardization, so the copies stay on the line between the
 * face and neutral in every input.
 */
import { EMOTIONS } from '../../core/labels.ts';
import { mulberry32 } from '../../core/random.ts';
import { parseUnitRange } from '../util/cli-args.ts';

const NEUTRAL = EMOTIONS.indexOf('neutral');

export interface IntensitySpec {
  /** Range of the factor a (0 < low <= high <= 1). */
  low: number;
  high: number;
  /** Copies of each non-neutral row. */
  copies: number;
}

/** "LOW-HIGH" or "LOW-HIGHxN" (e.g. 0.3-1, 0.3-1x2); UsageError naming the option otherwise. */
export function parseIntensity(text: string, option = 'intensity'): IntensitySpec {
  return parseUnitRange(option, text, { copies: true });
}

export const formatIntensity = (s: IntensitySpec): string => `${s.low}-${s.high}${s.copies === 1 ? '' : `x${s.copies}`}`;

/**
 * Mean of the neutral rows, column by column over their finite values (a missing feature is not
 * a zero); an Error when there is no neutral row (nothing to move toward).
 */
export function neutralMean(rows: readonly Float64Array[], labels: ArrayLike<number>): Float64Array {
  const d = rows[0]?.length ?? 0;
  const mean = new Float64Array(d);
  const count = new Float64Array(d);
  rows.forEach((r, i) => {
    if (labels[i] !== NEUTRAL) return;
    for (let j = 0; j < d; j++) {
      if (!Number.isFinite(r[j]!)) continue;
      mean[j] += r[j]!;
      count[j]++;
    }
  });
  if (!rows.some((_, i) => labels[i] === NEUTRAL)) throw new Error('intensity augmentation: no neutral row to move toward');
  for (let j = 0; j < d; j++) mean[j] = count[j]! > 0 ? mean[j]! / count[j]! : 0;
  return mean;
}

/**
 * The rows and their labels, followed by `copies` attenuated copies of every non-neutral row
 * (seeded: same rows, spec and seed, same output). The originals are not modified. `toward`: the
 * neutral row to move toward (default: the mean of these rows' neutral ones), e.g. a training
 * fold's, when held-out rows get copies too.
 */
export function augmentIntensity(
  rows: readonly Float64Array[],
  labels: ArrayLike<number>,
  spec: IntensitySpec,
  seed: number,
  toward?: Float64Array,
): { rows: Float64Array[]; labels: Uint8Array } {
  const n = toward ?? neutralMean(rows, labels);
  const rand = mulberry32(seed);
  const outRows: Float64Array[] = [...rows];
  const outLabels: number[] = Array.from(labels);
  for (let c = 0; c < spec.copies; c++) {
    rows.forEach((r, i) => {
      const y = labels[i]!;
      if (y === NEUTRAL) return;
      const a = spec.low + (spec.high - spec.low) * rand();
      outRows.push(Float64Array.from(r, (x, j) => n[j]! + a * (x - n[j]!)));
      outLabels.push(y);
    });
  }
  return { rows: outRows, labels: Uint8Array.from(outLabels) };
}
