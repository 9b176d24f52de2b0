/**
 * FER2013 faces as the app's own pipeline frames them (MediaPipe landmarks -> aligned 48x48 crop,
 * from the extraction cache): training on the crops that the live app feeds its models puts
 * training and live inputs in one distribution. Images where no face was found keep only
 * FER2013's own framing.
 */
import { IMAGE_PIXELS, NUM_CLASSES } from '../../core/labels.ts';
import { base64ToBytes } from '../../core/batch.ts';
import { readChunks, type ExtractChunk } from '../extract/cache.ts';
import { runExtraction } from '../extract/extract.ts';
import { openFer2013, type Split } from '../extract/sources.ts';
import type { Fer2013Data, Fer2013Split } from './fer2013.ts';

export interface CropTable {
  /** count * 2304 bytes, zeros where no face was found. */
  pixels: Uint8Array;
  /** 1 where the pipeline found a face (so a crop exists). */
  has: Uint8Array;
  found: number;
}

/** Crops by split from extraction chunks (ids "<split>/<index>", index within the split as loaded). */
export function cropTablesFrom(chunks: readonly ExtractChunk[], counts: Record<Split, number>): Record<Split, CropTable> {
  const tables = {} as Record<Split, CropTable>;
  for (const s of Object.keys(counts) as Split[]) {
    tables[s] = { pixels: new Uint8Array(counts[s] * IMAGE_PIXELS), has: new Uint8Array(counts[s]), found: 0 };
  }
  for (const chunk of chunks) {
    for (const r of chunk.records) {
      if (r.status !== 'face' || !r.face || !r.split) continue;
      const i = Number(r.id.slice(r.id.indexOf('/') + 1));
      const t = tables[r.split];
      if (!t || !Number.isInteger(i) || i < 0 || i >= counts[r.split]) continue;
      const crop = base64ToBytes(r.face.crop);
      if (crop.length !== IMAGE_PIXELS) throw new Error(`extraction record ${r.id}: crop of ${crop.length} bytes, expected ${IMAGE_PIXELS}`);
      t.pixels.set(crop, i * IMAGE_PIXELS);
      t.has[i] = 1;
      t.found++;
    }
  }
  return tables;
}

/**
 * The pipeline crops of the FER2013 file at `path` (the extraction runs, or resumes, when its cache
 * is missing: ~14 minutes for all of FER2013). `data` must be that file loaded without --limit
 * or with the same limit: rows beyond a split's count are ignored. `cache`: that file's finished
 * cache, already read (then nothing is run or read again).
 */
export async function loadPipelineCrops(
  path: string,
  data: Fer2013Data,
  log: (line: string) => void,
  cache?: { dir: string; chunks: readonly ExtractChunk[] },
): Promise<CropTable> {
  const dir = cache?.dir ?? (await runExtraction(await openFer2013(path), { log })).dir;
  const chunks = cache?.chunks ?? (await readChunks(dir));
  const tables = cropTablesFrom(chunks, { train: data.train.count, val: data.val.count, test: data.test.count });
  log(`app pipeline crops (${dir}): ${tables.train.found} of ${data.train.count} training images`);
  return tables.train;
}

/** Training rows followed by their crops (row i + count is image i's crop), labels repeated. */
export function withCrops(train: Fer2013Split, crops: CropTable): { pixels: Uint8Array; labels: Uint8Array; has: Uint8Array } {
  const n = train.count;
  const pixels = new Uint8Array(2 * n * IMAGE_PIXELS);
  pixels.set(train.pixels.subarray(0, n * IMAGE_PIXELS), 0);
  pixels.set(crops.pixels, n * IMAGE_PIXELS);
  const labels = new Uint8Array(2 * n);
  labels.set(train.labels.subarray(0, n), 0);
  labels.set(train.labels.subarray(0, n), n);
  return { pixels, labels, has: crops.has };
}

/**
 * Class-balanced loss weights: (mean count / class count)^power, scaled so that they average 1
 * over the training rows. power 1 = inverse frequency, 0.5 = its square root (gentler).
 */
export function classWeightsOf(labels: ArrayLike<number>, power: number): number[] {
  const counts = new Array<number>(NUM_CLASSES).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]!]!++;
  const mean = labels.length / NUM_CLASSES;
  const raw = counts.map((c) => Math.pow(mean / Math.max(1, c), power));
  const avg = raw.reduce((a, w, k) => a + w * counts[k]!, 0) / Math.max(1, labels.length);
  return raw.map((w) => w / avg);
}
