/**
 * What an SVM reads, from what the pipeline has per face: the AU-style feature vector as it is,
 * or the 48x48 crop as raw pixels or as its HOG descriptor. Shared by the app (live), the
 * training scripts and the tests, so both sides feed a model the same vector.
 */
import { hog, hogLength, type HogOptions } from '../hog.ts';

export type SvmInputSpec =
  | { type: 'au-features' }
  | { type: 'pixels'; size: number; descriptor: 'raw' }
  | { type: 'pixels'; size: number; descriptor: 'hog'; hog: HogOptions };

/** Reads a model's `input` block (model.json or the manifest); throws naming what is wrong. */
export function parseSvmInput(input: Record<string, unknown>): SvmInputSpec {
  if (input.type === 'au-features') return { type: 'au-features' };
  if (input.type !== 'pixels') throw new Error(`unknown SVM input type ${JSON.stringify(input.type)} (expected "au-features" or "pixels")`);
  const size = input.size ?? 48;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 8 || size > 512)
    throw new Error(`unsupported input size ${JSON.stringify(size)}`);
  const descriptor = input.descriptor ?? 'raw';
  if (descriptor === 'raw') return { type: 'pixels', size, descriptor: 'raw' };
  if (descriptor !== 'hog') throw new Error(`unknown pixel descriptor ${JSON.stringify(descriptor)} (expected "raw" or "hog")`);
  const h = (input.hog ?? {}) as Record<string, unknown>;
  const cell = h.cell ?? 6;
  const bins = h.bins ?? 9;
  if (typeof cell !== 'number' || !Number.isInteger(cell) || cell < 2 || size % cell !== 0)
    throw new Error(`hog.cell must divide the size ${size}, got ${JSON.stringify(cell)}`);
  if (typeof bins !== 'number' || !Number.isInteger(bins) || bins < 2)
    throw new Error(`hog.bins must be an integer >= 2, got ${JSON.stringify(bins)}`);
  return { type: 'pixels', size, descriptor: 'hog', hog: { size, cell, bins } };
}

/** Length of the vector the model reads. */
export function svmInputLength(spec: SvmInputSpec, featureCount: number): number {
  if (spec.type === 'au-features') return featureCount;
  return spec.descriptor === 'hog' ? hogLength(spec.hog) : spec.size * spec.size;
}

/** The model's input vector for one face. `crop` is size x size gray in [0,1]. */
export function svmInputOf(spec: SvmInputSpec, crop: ArrayLike<number>, features: ArrayLike<number>): ArrayLike<number> {
  if (spec.type === 'au-features') return features;
  return spec.descriptor === 'hog' ? hog(crop, spec.hog) : crop;
}
