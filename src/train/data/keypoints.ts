/**
 * Face keypoints of the FER2013 training rows for the expression warp (learn/expression-warp.ts),
 * from the extraction cache's MediaPipe landmarks, in each row's own 48x48 pixel coordinates
 * (pixel centres at integers, as the samplers in learn/ use them): for a FER2013-framing row the
 * original image, for a pipeline-crop row (crop-data.ts withCrops: row i + n) the app's crop.
 * Also the neutral face shape the warp moves expressions toward.
 */
import { EMOTIONS, IMAGE_SIZE } from '../../core/labels.ts';
import { applyAffine, cropTransform, keypointsFromLandmarks, type Affine } from '../../core/framing/index.ts';
import type { Point } from '../../core/framing/types.ts';
import { applySimilarity, EXPRESSION_WARP_LANDMARKS, fitSimilarity } from '../../learn/expression-warp.ts';
import { decodeFace, hasChunk, readMeta, type ExtractChunk, type ExtractMeta } from '../extract/cache.ts';
import { cacheDirFor } from '../extract/extract.ts';
import { openFer2013 } from '../extract/sources.ts';

const NEUTRAL = EMOTIONS.indexOf('neutral');
const K = EXPRESSION_WARP_LANDMARKS.length;

/** Thrown when the extraction cache the expression warp needs is missing or unfinished. */
export class MissingExtractionCache extends Error {
  override name = 'MissingExtractionCache';
}

/**
 * The finished FER2013 extraction cache of the file at `dataPath`. It never runs the extraction
 * (~14 minutes): a missing or unfinished cache is an error that says how to make it.
 */
export async function requireExtractionCache(dataPath: string, option = '--expression-warp'): Promise<{ dir: string; meta: ExtractMeta }> {
  const dir = cacheDirFor(await openFer2013(dataPath));
  const meta = await readMeta(dir);
  const how = `run npm run extract -- ${dataPath} first (about 14 minutes; it resumes if interrupted)`;
  if (!meta) throw new MissingExtractionCache(`${option} needs the FER2013 extraction cache (the app pipeline's landmarks and crops of every face), and ${dir} has none: ${how}`);
  for (let s = 0; s < meta.total; s += meta.chunkSize) {
    if (!hasChunk(dir, s)) throw new MissingExtractionCache(`${option}: the extraction in ${dir} did not finish (records from ${s} are missing): ${how}`);
  }
  if (meta.upscale === undefined || meta.pad === undefined)
    throw new MissingExtractionCache(`${option}: ${dir} is not a FER2013 extraction (no upscale/pad in meta.json): ${how}`);
  return { dir, meta };
}

/** Writes the warp's K keypoints (x, y) of `landmarks` (normalised, of a width x height source) mapped by `map` into out[offset..]. */
function writePoints(landmarks: readonly Point[], width: number, height: number, map: (p: Point) => Point, out: Float32Array, offset: number): void {
  for (let j = 0; j < K; j++) {
    const l = landmarks[EXPRESSION_WARP_LANDMARKS[j]!]!;
    const p = map({ x: l.x * width, y: l.y * height });
    out[offset + 2 * j] = p.x;
    out[offset + 2 * j + 1] = p.y;
  }
}

/**
 * Keypoint tables of the training rows: `count` FER2013-framing rows, then (withCropRows) `count`
 * pipeline-crop rows; 2K floats per row, NaN where the pipeline found no face.
 */
export function trainingKeypoints(chunks: readonly ExtractChunk[], meta: Pick<ExtractMeta, 'upscale' | 'pad'>, count: number, withCropRows: boolean): Float32Array {
  const rows = withCropRows ? 2 * count : count;
  const out = new Float32Array(rows * 2 * K).fill(NaN);
  // The page drew each 48x48 image upscaled by `upscale` with a gray border of `pad` of that size
  // on every side (src/app/batch/main.ts processGray); the landmarks are normalised to that canvas.
  const upscale = meta.upscale ?? 4;
  const border = Math.round(IMAGE_SIZE * upscale * (meta.pad ?? 0.5));
  const toFer = (p: Point): Point => ({ x: (p.x - border) / upscale - 0.5, y: (p.y - border) / upscale - 0.5 });
  for (const chunk of chunks) {
    for (const r of chunk.records) {
      if (r.split !== 'train' || r.status !== 'face') continue;
      const i = Number(r.id.slice(r.id.indexOf('/') + 1));
      if (!Number.isInteger(i) || i < 0 || i >= count) continue;
      const face = decodeFace(r, chunk.blendshapeNames);
      if (!face) continue;
      const { landmarks, width, height } = face.observation;
      if (landmarks.length <= Math.max(...EXPRESSION_WARP_LANDMARKS)) continue;
      writePoints(landmarks, width, height, toFer, out, i * 2 * K);
      if (!withCropRows) continue;
      // The crop as the app cuts it: toCrop maps source pixels to crop pixels (centres at +0.5 on both sides).
      let toCrop: Affine;
      try {
        toCrop = cropTransform(keypointsFromLandmarks(landmarks, width, height)).toCrop;
      } catch {
        continue;
      }
      writePoints(landmarks, width, height, (p) => {
        const q = applyAffine(toCrop, p);
        return { x: q.x - 0.5, y: q.y - 0.5 };
      }, out, (count + i) * 2 * K);
    }
  }
  return out;
}

/** Rows of `keypoints` (2K floats each) that have keypoints. */
export function rowsWithKeypoints(keypoints: Float32Array): number {
  let n = 0;
  for (let o = 0; o < keypoints.length; o += 2 * K) if (!Number.isNaN(keypoints[o]!)) n++;
  return n;
}

/**
 * The neutral face shape: the mean of the neutral rows' keypoints after generalized Procrustes
 * alignment (each row's similarity fit onto the current mean, three rounds), in the pose and scale
 * of the first round's mean (for crop rows, the crop frame). Throws when no neutral row has keypoints.
 */
export function neutralTemplate(keypoints: Float32Array, labels: ArrayLike<number>, k = K): Float64Array {
  const stride = 2 * k;
  const rows: number[] = [];
  for (let r = 0; r < labels.length; r++) if (labels[r] === NEUTRAL && !Number.isNaN(keypoints[r * stride]!)) rows.push(r);
  if (rows.length === 0) throw new Error('expression warp: no neutral training image has face landmarks to build the neutral shape from');
  let mean = new Float64Array(stride);
  for (const r of rows) for (let j = 0; j < stride; j++) mean[j] += keypoints[r * stride + j]! / rows.length;
  const start = mean;
  for (let round = 0; round < 3; round++) {
    const next = new Float64Array(stride);
    const aligned = new Float64Array(stride);
    for (const r of rows) {
      const row = keypoints.subarray(r * stride, (r + 1) * stride);
      applySimilarity(fitSimilarity(row, mean, 0, k), row, k, aligned);
      for (let j = 0; j < stride; j++) next[j] += aligned[j]! / rows.length;
    }
    // Keep the first mean's pose and scale (the alignment alone would let them drift).
    mean = applySimilarity(fitSimilarity(next, start, 0, k), next, k);
  }
  return mean;
}
