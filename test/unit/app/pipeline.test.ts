/** LivePipeline's logic with fakes for the landmarker, the crop reader and the models. */
import { describe, expect, it } from 'vitest';
import { LEFT_EYE_RING, MOUTH_CORNERS, RIGHT_EYE_RING } from '../../../src/core/framing/landmarks.ts';
import type { Point } from '../../../src/core/framing/types.ts';
import { fitWithin, ImageSizeError, MAX_SIDE } from '../../../src/app/live/image-cap.ts';
import { DetectorError, Landmarker, type FaceTask, type RunningMode } from '../../../src/app/live/landmarker.ts';
import { LivePipeline, type FitSource } from '../../../src/app/live/pipeline.ts';
import type { CropBatch, FeatureBatch } from '../../../src/app/live/protocol.ts';
import { BLENDSHAPE_NAMES, FEATURE_COUNT } from '../../../src/core/features/index.ts';

/** A 478-point mesh (normalised coordinates) with eyes and mouth around (cx, cy). */
function mesh(cx: number, cy: number, degenerate = false): Point[] {
  const lm: Point[] = Array.from({ length: 478 }, (_, i) => ({
    x: cx + ((i % 10) - 5) * 0.01,
    y: cy + ((Math.floor(i / 10) % 10) - 5) * 0.01,
  }));
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
    const categories = BLENDSHAPE_NAMES.map((categoryName, index) => ({
      index,
      categoryName,
      displayName: '',
      score: categoryName === 'mouthSmileLeft' ? 0.9 : 0,
    }));
    return {
      faceLandmarks: lms,
      faceBlendshapes: lms.map(() => ({ categories, headIndex: 0, headName: '' })),
      facialTransformationMatrixes: [],
    };
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
    const { pipeline, batches } = setup(
      () => [mesh(0.3, 0.5), mesh(0.7, 0.5)],
      () => HAPPY,
    );
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
    const without = setup(
      () => [mesh(0.3, 0.5)],
      () => HAPPY,
    );
    const plain = await without.pipeline.process(source, 'video', 640, 480);
    expect(without.featureBatches[0]).toBeUndefined();
    expect(plain.times.features).toBe(0);
    const withF = setup(
      () => [mesh(0.3, 0.5), mesh(0.7, 0.5)],
      () => HAPPY,
      false,
      true,
    );
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
    const { pipeline } = setup(
      () => [mesh(0.5, 0.5)],
      () => probs,
      true,
    );
    const first = await pipeline.process(source, 'video', 640, 480);
    probs = SAD;
    const second = await pipeline.process(source, 'video', 640, 480);
    expect(second.faces[0]!.trackId).toBe(first.faces[0]!.trackId);
    // A 1000 ms time constant over a few ms: still mostly happy.
    expect(second.faces[0]!.readings[0]!.top).toBe(3);
    const still = await pipeline.process(source as unknown as HTMLImageElement, 'image', 640, 480);
    expect(still.faces[0]!.readings[0]!.top).toBe(4);
  });

  it('moves readings by the neutral offsets before smoothing, and taps the raw readings first', async () => {
    const mild = [0.05, 0.05, 0.05, 0.05, 0.3, 0.05, 0.45];
    const { pipeline } = setup(
      () => [mesh(0.5, 0.5)],
      () => mild,
    );
    const tapped: { trackId: number; probs: Readonly<Record<string, number[]>> }[][] = [];
    pipeline.rawTaps.add((faces) => void tapped.push([...faces]));
    const plain = await pipeline.process(source, 'video', 640, 480);
    expect(plain.faces[0]!.readings[0]!.top).toBe(6);
    // This person's neutral face reads as sad-ish: a sad offset of +1 in log space makes this face sad.
    pipeline.neutral = new Map([['cnn', [0, 0, 0, 0, 1, 0, 0]]]);
    const moved = await pipeline.process(source, 'video', 640, 480);
    const p = moved.faces[0]!.readings[0]!.probs;
    expect(moved.faces[0]!.readings[0]!.top).toBe(4);
    expect(moved.faces[0]!.readings[0]!.neutral).toBe(true);
    expect(plain.faces[0]!.readings[0]!.neutral).toBeUndefined();
    expect(p[4]! / p[6]!).toBeCloseTo((0.3 * Math.E) / 0.45, 9);
    expect(tapped).toHaveLength(2);
    expect(tapped[1]![0]!.probs.cnn).toEqual(mild);
    expect(tapped[1]![0]!.trackId).toBe(moved.faces[0]!.trackId);
    // A model without offsets is left as it is.
    pipeline.neutral = new Map([['other', [0, 0, 0, 0, 1, 0, 0]]]);
    expect((await pipeline.process(source, 'video', 640, 480)).faces[0]!.readings[0]!.probs).toEqual(mild);
  });

  it("sends a model moved at its input its feature shift with the frame's features, and taps each face's own features", async () => {
    const { pipeline, featureBatches } = setup(
      () => [mesh(0.5, 0.5)],
      () => HAPPY,
      false,
      true,
    );
    const tapped: { features?: Float32Array }[] = [];
    pipeline.rawTaps.add((faces) => void tapped.push(faces[0]!));
    await pipeline.process(source, 'video', 640, 480);
    expect(featureBatches[0]!.shifts).toBeUndefined();
    const shift = Array<number>(FEATURE_COUNT).fill(0.25);
    pipeline.neutralFeatures = new Map([['cnn', shift]]);
    const moved = await pipeline.process(source, 'video', 640, 480);
    expect(featureBatches[1]!.shifts).toEqual({ cnn: shift });
    // The pipeline leaves the moving to the models' side: the values it sends and taps are the face's own.
    expect([...featureBatches[1]!.values]).toEqual([...featureBatches[0]!.values]);
    expect([...tapped[1]!.features!]).toEqual([...featureBatches[0]!.values]);
    expect(moved.faces[0]!.readings[0]!.neutral).toBe(true);
  });

  it('drops a face that cannot be framed instead of failing the frame, and skips models with no face', async () => {
    const { pipeline, batches } = setup(
      () => [mesh(0.5, 0.5, true)],
      () => HAPPY,
    );
    const frame = await pipeline.process(source, 'video', 640, 480);
    expect(frame.faces).toEqual([]);
    expect(batches).toHaveLength(0);
  });
});

describe('the detector size cap', () => {
  it('scales the long side down to MAX_SIDE, keeps the aspect, never scales up', () => {
    expect(MAX_SIDE).toBe(4096);
    expect(fitWithin(20000, 20000)).toEqual({ width: 4096, height: 4096, scale: 4096 / 20000 });
    expect(fitWithin(20000, 10000)).toMatchObject({ width: 4096, height: 2048 });
    expect(fitWithin(3000, 9000)).toMatchObject({ width: 1365, height: 4096 });
    expect(fitWithin(100000, 1)).toMatchObject({ width: 4096, height: 1 });
    expect(fitWithin(4096, 4096)).toEqual({ width: 4096, height: 4096, scale: 1 });
    expect(fitWithin(640, 480)).toEqual({ width: 640, height: 480, scale: 1 });
    expect(() => fitWithin(0, 480)).toThrow(ImageSizeError);
    expect(() => fitWithin(Number.NaN, 480)).toThrow(/invalid size/);
  });

  it('the pipeline detects on the fitted source, reports its size, and frees it even when detection fails', async () => {
    const big = { big: true } as unknown as HTMLImageElement;
    const scaled = { scaled: true } as unknown as ImageBitmap;
    const fits: [number, number, ResizeQuality][] = [];
    let released = 0;
    const fit: FitSource = async (src, w, h, quality) => {
      fits.push([w, h, quality]);
      const f = fitWithin(w, h);
      return f.scale === 1
        ? { source: src, width: w, height: h, release: () => undefined }
        : { source: scaled, width: f.width, height: f.height, release: () => released++ };
    };
    const seen: unknown[] = [];
    let fail = false;
    const result = { faceLandmarks: [mesh(0.5, 0.5).map((p) => ({ ...p, z: 0 }))], faceBlendshapes: [], facialTransformationMatrixes: [] };
    const detect = async (s: unknown) => {
      seen.push(s);
      if (fail) throw new DetectorError('The face detector failed (RuntimeError: Aborted())');
      return result;
    };
    const reads: [unknown, number, number][] = [];
    const reader = {
      read: (s: unknown, w: number, h: number, _t: unknown, size: number) => (reads.push([s, w, h]), new Float32Array(size * size)),
    };
    const pipeline = new LivePipeline(
      { detectVideo: detect, detectImage: detect } as never,
      undefined,
      { smoothing: false, smoothingMs: 0 },
      reader as never,
      fit,
    );
    const frame = await pipeline.process(big, 'image', 20000, 10000);
    expect(fits).toEqual([[20000, 10000, 'high']]);
    expect(seen).toEqual([scaled]);
    expect(reads[0]).toEqual([scaled, 4096, 2048]);
    expect([frame.width, frame.height]).toEqual([4096, 2048]);
    expect(frame.faces[0]!.box.x + frame.faces[0]!.box.width).toBeLessThanOrEqual(4096);
    expect(released).toBe(1);
    // A failed detection gives no result at all, and the scaled copy is still freed.
    fail = true;
    await expect(pipeline.process(big, 'image', 20000, 10000)).rejects.toThrow(DetectorError);
    expect(released).toBe(2);
    // Video frames are scaled with a faster filter; small ones are not touched.
    fail = false;
    await pipeline.process(source, 'video', 640, 480);
    expect(fits.at(-1)).toEqual([640, 480, 'medium']);
    expect(seen.at(-1)).toBe(source);
  });
});

/** A fake MediaPipe task; `abort` makes its next detection throw like an aborted wasm module. */
function fakeTask(log: string[], id: number, mode: RunningMode) {
  const state = { abort: false, closed: false, mode: mode as RunningMode, numFaces: 0 };
  const result = { faceLandmarks: [], faceBlendshapes: [], facialTransformationMatrixes: [] };
  const check = (what: string) => {
    log.push(`${what}@${id}`);
    if (state.closed) throw new RuntimeErrorLike('memory access out of bounds');
    if (state.abort) {
      state.abort = false;
      state.closed = true; // every later call fails, as after Aborted()
      throw new RuntimeErrorLike('Aborted()');
    }
  };
  const task: FaceTask = {
    detect: (() => (check('detect'), result)) as never,
    detectForVideo: (() => (check('video'), result)) as never,
    setOptions: async (o: { runningMode?: RunningMode; numFaces?: number }) => {
      check('setOptions');
      if (o.runningMode) state.mode = o.runningMode;
      if (o.numFaces) state.numFaces = o.numFaces;
    },
    close: () => void log.push(`close@${id}`),
  };
  return { task, state };
}

class RuntimeErrorLike extends Error {
  override name = 'RuntimeError';
}

describe('Landmarker recovery', () => {
  it('after a MediaPipe abort: that image fails with DetectorError, the task is replaced in the same mode, later images work', async () => {
    const log: string[] = [];
    const made: ReturnType<typeof fakeTask>[] = [];
    const factory = async (numFaces: number, mode: RunningMode) => {
      log.push(`create(${numFaces},${mode})`);
      const t = fakeTask(log, made.length, mode);
      made.push(t);
      return t.task;
    };
    const landmarker = await Landmarker.create(2, factory);
    await landmarker.detectImage({} as ImageBitmap);
    made[0]!.state.abort = true;
    const failure = await landmarker.detectImage({} as ImageBitmap).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DetectorError);
    expect((failure as Error).message).toMatch(/face detector failed \(RuntimeError: Aborted\(\)\); it has been restarted/);
    expect(log).toContain('close@0');
    expect(log.at(-1)).toBe('create(2,IMAGE)');
    await landmarker.detectImage({} as ImageBitmap);
    await landmarker.detectImage({} as ImageBitmap);
    expect(log.slice(-2)).toEqual(['detect@1', 'detect@1']);
    expect(landmarker.restarts).toBe(1);
    // Video after the restart switches the new task's mode.
    await landmarker.detectVideo({} as ImageBitmap, 5);
    expect(made[1]!.state.mode).toBe('VIDEO');
    landmarker.close();
    expect(log.at(-1)).toBe('close@1');
    await expect(landmarker.detectImage({} as ImageBitmap)).rejects.toThrow(/closed/);
  });

  it('says so when the replacement cannot be created, and tries again at the next call', async () => {
    let creations = 0;
    let broken = false;
    const log: string[] = [];
    const first = fakeTask(log, 0, 'VIDEO');
    const factory = async (_n: number, mode: RunningMode) => {
      creations++;
      if (broken) throw new Error('wasm failed to load');
      return fakeTask(log, creations, mode).task;
    };
    const landmarker = await Landmarker.create(1, async () => first.task);
    (landmarker as unknown as { factory: typeof factory }).factory = factory;
    broken = true;
    first.state.abort = true;
    await expect(landmarker.detectVideo({} as ImageBitmap, 1)).rejects.toThrow(/face detector failed/);
    await expect(landmarker.detectVideo({} as ImageBitmap, 2)).rejects.toThrow(
      /could not be restarted \(Error: wasm failed to load\)\. Reload the page/,
    );
    broken = false;
    await landmarker.detectVideo({} as ImageBitmap, 3);
    expect(landmarker.restarts).toBe(1);
  });
});
