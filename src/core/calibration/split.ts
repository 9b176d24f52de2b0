/**
 * The calibration's held-out split: per emotion, the last 20 % of its samples by capture time.
 * By time, not at random: consecutive webcam frames are near-duplicates, so a random split would
 * score the personal models on frames they have all but seen.
 */
import type { CalibrationSample } from './types.ts';

export const HELD_OUT_FRACTION = 0.2;

export interface CalibrationSplit {
  /** Indices into the samples, each list in time order (ties keep the samples' order). */
  train: number[];
  heldOut: number[];
}

/**
 * How many of an emotion's `n` samples are held out: ceil(fraction * n), so any emotion with 2 or
 * more samples is scored, but always at least one sample stays for training (none held out of 1).
 */
export function heldOutCount(n: number, fraction: number = HELD_OUT_FRACTION): number {
  if (!(fraction >= 0 && fraction < 1)) throw new RangeError(`held-out fraction must be in [0, 1), got ${fraction}`);
  if (n < 2) return 0;
  return Math.min(n - 1, Math.ceil(fraction * n - 1e-9));
}

/** Splits samples per emotion (label) by `t`: the latest heldOutCount(n) of each go to heldOut. */
export function splitByTime(
  samples: readonly Pick<CalibrationSample, 't' | 'label'>[],
  fraction: number = HELD_OUT_FRACTION,
): CalibrationSplit {
  const byLabel = new Map<number, number[]>();
  samples.forEach((s, i) => {
    if (!Number.isFinite(s.t)) throw new RangeError(`calibration sample ${i}: time t is ${s.t}, expected a finite number of ms`);
    const list = byLabel.get(s.label);
    if (list) list.push(i);
    else byLabel.set(s.label, [i]);
  });
  const train: number[] = [];
  const heldOut: number[] = [];
  for (const label of [...byLabel.keys()].sort((a, b) => a - b)) {
    const idx = byLabel.get(label)!.sort((a, b) => samples[a]!.t - samples[b]!.t || a - b);
    const cut = idx.length - heldOutCount(idx.length, fraction);
    train.push(...idx.slice(0, cut));
    heldOut.push(...idx.slice(cut));
  }
  return { train, heldOut };
}
