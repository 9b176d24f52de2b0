/** A live pipeline over scripted faces, with a fake landmarker, worker and crop reader (read-ahead and reuse tests). */
import { expect } from 'vitest';
import { LEFT_EYE_RING, MOUTH_CORNERS, RIGHT_EYE_RING } from '../../src/core/framing/landmarks.ts';
import type { Affine, Point } from '../../src/core/framing/types.ts';
import { LivePipeline } from '../../src/app/live/pipeline.ts';
import type { CropBatch, FeatureBatch } from '../../src/app/live/protocol.ts';
import { BLENDSHAPE_NAMES } from '../../src/core/features/index.ts';

const categories = BLENDSHAPE_NAMES.map((categoryName, index) => ({ index, categoryName, displayName: '', score: 0 }));

/** A 478-point mesh (normalised) with eyes 0.1 apart around (cx, cy): 64 px apart at 640 wide. */
export function mesh(cx: number, cy: number): Point[] {
  const lm: Point[] = Array.from({ length: 478 }, () => ({ x: cx, y: cy }));
  for (const i of LEFT_EYE_RING) lm[i] = { x: cx - 0.05, y: cy - 0.03 };
  for (const i of RIGHT_EYE_RING) lm[i] = { x: cx + 0.05, y: cy - 0.03 };
  for (const i of MOUTH_CORNERS) lm[i] = { x: cx, y: cy + 0.05 };
  return lm;
}

export const oneHot = (k: number) => Array.from({ length: 7 }, (_, i) => (i === k ? 1 : 0));

/**
 * A pipeline over scripted faces, with a fake worker that records every call in order. Each crop
 * read is filled with pixel(n) (n: reads so far this frame), by default n / 100.
 */
export function setup(options: { ahead?: boolean; featureModel?: boolean; pixel?: (readIndex: number) => number } = {}) {
  let faces: Point[][] = [];
  const calls: string[] = [];
  const reads: Affine[] = [];
  const result = () => ({
    faceLandmarks: faces.map((f) => f.map((p) => ({ ...p, z: 0 }))),
    faceBlendshapes: faces.map(() => ({ categories, headIndex: 0, headName: '' })),
    facialTransformationMatrixes: [],
  });
  const landmarker = {
    detectVideo: async () => {
      calls.push('landmarks');
      return result();
    },
    detectImage: async () => result(),
  };
  // Every early row i reads "class i" so the test can see which row each face got.
  const rowsOf = (count: number) => Array.from({ length: count }, (_, i) => oneHot(i));
  const rests: { frame: number; rows: number[]; features?: FeatureBatch }[] = [];
  const models = [{ id: 'cnn', size: 48, features: false }, ...(options.featureModel ? [{ id: 'au', size: 48, features: true }] : [])];
  const ahead = {
    predictAhead: async (frame: number, batches: CropBatch[]) => {
      calls.push(`ahead ${frame} x${batches[0]!.count}`);
      return { probs: { cnn: rowsOf(batches[0]!.count) }, times: { cnn: 2 } };
    },
    predictRest: async (frame: number, rows: number[], features?: FeatureBatch) => {
      calls.push(`rest ${frame} [${rows.join(',')}]`);
      rests.push({ frame, rows, ...(features ? { features } : {}) });
      return { probs: { au: rows.map(() => oneHot(6)) }, times: { au: 1 } };
    },
  };
  const inference = {
    models,
    predict: async (batches: CropBatch[], f?: FeatureBatch) => {
      calls.push(`predict x${batches[0]!.count}`);
      const probs: Record<string, number[][]> = { cnn: rowsOf(batches[0]!.count).map(() => oneHot(5)) };
      if (f) probs.au = rowsOf(f.count).map(() => oneHot(6));
      return { probs, times: { cnn: 3 } };
    },
    ...(options.ahead === false ? {} : { ahead }),
  };
  const reader = {
    read: (_s: unknown, _w: number, _h: number, t: Affine, size: number) => {
      reads.push(t);
      return new Float32Array(size * size).fill(options.pixel ? options.pixel(reads.length) : reads.length / 100);
    },
  };
  const pipeline = new LivePipeline(landmarker as never, inference, { smoothing: false, smoothingMs: 0 }, reader as never);
  const frame = async (f: Point[][], mode: 'video' | 'image' = 'video') => {
    faces = f;
    calls.length = 0;
    reads.length = 0;
    return pipeline.process({} as HTMLVideoElement, mode, 640, 480);
  };
  return { pipeline, calls, reads, rests, frame };
}

/** After two video frames of a still face, a still image is neither read ahead nor reused, and reset() forgets the face. */
export async function expectStillsReadInFullAndReset(t: ReturnType<typeof setup>): Promise<void> {
  for (let i = 0; i < 2; i++) await t.frame([mesh(0.5, 0.5)]);
  await t.frame([mesh(0.5, 0.5)], 'image');
  expect(t.calls).toEqual(['predict x1']);
  t.pipeline.reset();
  await t.frame([mesh(0.5, 0.5)]);
  expect(t.calls).toEqual(['landmarks', 'predict x1']);
}
