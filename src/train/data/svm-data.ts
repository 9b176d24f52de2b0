/**
 * Training rows for the SVMs: AU-style features of FER2013 images (from the extraction cache,
 * recomputed with the current src/core code) and raw FER2013 pixels.
 */
import { IMAGE_PIXELS } from '../../core/labels.ts';
import { currentFeatures, decodeFace, readChunks } from '../extract/cache.ts';
import { runExtraction } from '../extract/extract.ts';
import { openFer2013, type Split } from '../extract/sources.ts';

export interface FeatureSplit {
  rows: Float32Array[];
  labels: number[];
  /** Images of the split, with or without a face. */
  images: number;
}

export interface FerFeatures {
  path: string;
  train: FeatureSplit;
  val: FeatureSplit;
  test: FeatureSplit;
  cacheDir: string;
}

/** Runs (or resumes, or reuses) the FER2013 extraction and returns features per split. */
export async function loadFerFeatures(path: string, log: (line: string) => void): Promise<FerFeatures> {
  const source = await openFer2013(path);
  const summary = await runExtraction(source, { log });
  log(`FER2013 faces found: ${summary.faces} of ${summary.total} (${((100 * summary.faces) / summary.total).toFixed(1)}%)`);
  const out: Record<Split, FeatureSplit> = {
    train: { rows: [], labels: [], images: 0 },
    val: { rows: [], labels: [], images: 0 },
    test: { rows: [], labels: [], images: 0 },
  };
  for (const chunk of await readChunks(summary.dir)) {
    for (const r of chunk.records) {
      const split = out[r.split!];
      split.images++;
      const face = r.status === 'face' ? decodeFace(r, chunk.blendshapeNames) : undefined;
      if (!face) continue;
      split.rows.push(currentFeatures(face));
      split.labels.push(r.label!);
    }
  }
  return { path: source.path, ...out, cacheDir: summary.dir };
}

/** Pixel rows in [0,1], the scale of the app's crops. */
export function pixelRows(pixels: Uint8Array, count: number): Float32Array[] {
  return Array.from({ length: count }, (_, i) => Float32Array.from(pixels.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS), (v) => v / 255));
}

/** A seeded, stratified subsample of at most `n` row indices (all when n >= rows). */
export function stratifiedSubsample(labels: readonly number[], n: number, rand: () => number): number[] {
  if (n >= labels.length) return labels.map((_, i) => i);
  const byClass = new Map<number, number[]>();
  labels.forEach((y, i) => (byClass.get(y) ?? byClass.set(y, []).get(y)!).push(i));
  const out: number[] = [];
  for (const idx of byClass.values()) {
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    out.push(...idx.slice(0, Math.max(1, Math.round((idx.length * n) / labels.length))));
  }
  return out.sort((a, b) => a - b);
}
