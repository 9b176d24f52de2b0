/** LivePipeline's logic with fakes for the landmarker, the crop reader and the models. */
import { describe, expect, it } from 'vitest';
import { LEFT_EYE_RING, MOUTH_CORNERS, RIGHT_EYE_RING } from '../src/core/framing/landmarks.ts';
import type { Point } from '../src/core/framing/types.ts';
import { LivePipeline } from '../src/app/live/pipeline.ts';
import type { CropBatch, FeatureBatch } from '../src/app/live/protocol.ts';
import { BLENDSHAPE_NAMES, FEATURE_COUNT } from '../src/core/features/index.ts';

/** A 478-point mesh (normalised coordinates) with eyes and mouth around (cx, cy). */
function mesh(cx: number, cy: number, degenerate = false): Point[] {
  const lm: Point[] = Array.from({ length: 478 }, (_, i) => ({ x: cx + ((i % 10) - 5) * 0.01, y: cy + (Math.floor(i / 10) % 10 - 5) * 0.01 }));
  for (const i of LEFT_EYE_RING) lm[i] = { x: degenerate ? cx : cx - 0.05, y: cy - 0.03 };
  for (const i of RIGHT_EYE_RING) lm[i] = { x: degenerate ? cx : cx + 0.05, y: cy - 0.03 };
  for (const i of MOUTH_CORNERS) lm[i] = { x: cx, y: cy + 0.05 };
  return lm;
}

const HAPPY = [0, 0, 0, 1, 0, 0, 0];
const SAD = [0, 0, 0, 0, 1, 0, 0];

function setup(faces: () => Point[][], probs: () => number[], smoothing = false, features = false) {
  const batches: CropBatch[][] = [];
  const featureBatches: (FeatureBatch | undefined)[] = [];
  const result = () => {
    const lms = faces().map((f) => f.map((p) => ({ ...p, z: 0 })));
    const categories = BLENDSHAPE_NAMES.map((categoryName, index) => ({ index, categoryName, displayName: '', score: categoryName === 'mouthSmileLeft' ? 0.9 : 0 }));
    return { faceLandmarks: lms, faceBlendshapes: lms.map(() => ({ categories, headIndex: 0, headName: '' })), facialTransformationMatrixes: [] };
  };
  const landmarker = { detectVideo: async () => result(), detectImage: async () => result() };
  const inference = {
    models: [{ id: 'cnn', size: 48, features }],
    predict: async (b: CropBatch[], f?: FeatureBatch) => {
      batches.push(b);
      featureBatches.push(f);
      return { probs: { cnn: Array.from({ length: b[0]!.count }, probs) }, times: { cnn: 1 } };
    },
  };
  const reader = { read: (_s: unknown, _w: number, _h: number, _t: unknown, size: number) => new Float32Array(size * size).fill(0.5) };
  const pipeline = new LivePipeline(landmarker as never, inference, { smoothing, smoothingMs: 1000 }, reader as never);
  return { pipeline, batches, featureBatches };
}

const source = {} as HTMLVideoElement;

describe('LivePipeline', () => {
  it('frames every face, batches them per input size and reads the top label', async () => {
    const { pipeline, batches } = setup(() => [mesh(0.3, 0.5), mesh(0.7, 0.5)], () => HAPPY);
    const frame = await pipeline.process(source, 'video', 640, 480);
    expect(frame.faces).toHaveLength(2);
    expect(batches[0]).toHaveLength(1);
    expect(batches[0]![0]!.count).toBe(2);
    expect(batches[0]![0]!.pixels.length).toBe(2 * 48 * 48);
    expect(frame.faces[0]!.readings).toEqual([{ modelId: 'cnn', probs: HAPPY, top: 3 }]);
    expect(frame.faces[0]!.box.x).toBeGreaterThan(0);
    expect(frame.faces[0]!.crop?.size).toBe(48);
    expect(frame.times.models.cnn).toBe(1);
    expect(frame.width).toBe(640);
  });

  it('computes AU-style features per face only when a loaded model reads them', async () => {
    const without = setup(() => [mesh(0.3, 0.5)], () => HAPPY);
    const plain = await without.pipeline.process(source, 'video', 640, 480);
    expect(without.featureBatches[0]).toBeUndefined();
    expect(plain.times.features).toBe(0);
    const withF = setup(() => [mesh(0.3, 0.5), mesh(0.7, 0.5)], () => HAPPY, false, true);
    await withF.pipeline.process(source, 'video', 640, 480);
    const f = withF.featureBatches[0]!;
    expect(f.count).toBe(2);
    expect(f.dim).toBe(FEATURE_COUNT);
    expect(f.values.length).toBe(2 * FEATURE_COUNT);
    // The first block is the AU estimates: AU12 (smile) = mean of smile left 0.9 and right 0.
    expect(f.values[8]).toBeCloseTo(0.45, 5);
  });

  it('keeps track ids and smooths per face across video frames, not on stills', async () => {
    let probs = HAPPY;
    const { pipeline } = setup(() => [mesh(0.5, 0.5)], () => probs, true);
    const first = await pipeline.process(source, 'video', 640, 480);
    probs = SAD;
    const second = await pipeline.process(source, 'video', 640, 480);
    expect(second.faces[0]!.trackId).toBe(first.faces[0]!.trackId);
    // A 1000 ms time constant over a few ms: still mostly happy.
    expect(second.faces[0]!.readings[0]!.top).toBe(3);
    const still = await pipeline.process(source as unknown as HTMLImageElement, 'image', 640, 480);
    expect(still.faces[0]!.readings[0]!.top).toBe(4);
  });

  it('drops a face that cannot be framed instead of failing the frame, and skips models with no face', async () => {
    const { pipeline, batches } = setup(() => [mesh(0.5, 0.5, true)], () => HAPPY);
    const frame = await pipeline.process(source, 'video', 640, 480);
    expect(frame.faces).toEqual([]);
    expect(batches).toHaveLength(0);
  });
});
