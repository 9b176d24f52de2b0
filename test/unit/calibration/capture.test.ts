import { describe, expect, it } from 'vitest';
import {
  CaptureStore,
  cropToBytes,
  dropMessage,
  frameProblem,
  meanAbsDiff,
  MIN_FRAMES_PER_EMOTION,
  type CaptureFace,
} from '../../../src/core/calibration/capture.ts';
import { FEATURE_COUNT } from '../../../src/core/features/index.ts';

const PIXELS = 48 * 48;

/** A face whose crop is uniformly `level` (0..255) with a marker feature value. */
function face(level: number, marker = level): CaptureFace {
  const features = new Float32Array(FEATURE_COUNT);
  features[0] = marker;
  return { crop: new Uint8Array(PIXELS).fill(level), features };
}

describe('calibration capture filter', () => {
  it('keeps a frame only with exactly one face, and counts why the others were dropped', () => {
    const store = new CaptureStore({ minDiff: 5 });
    expect(store.offer(3, 0, [])).toEqual({ kept: false, reason: 'no-face' });
    expect(store.offer(3, 10, [face(10), face(200)])).toEqual({ kept: false, reason: 'several-faces' });
    const kept = store.offer(3, 20, [face(10)]);
    expect(kept.kept).toBe(true);
    expect(store.count(3)).toBe(1);
    expect(store.drops).toEqual({ 'no-face': 1, 'several-faces': 1, 'too-similar': 0, full: 0 });
    store.resetDrops();
    expect(store.drops['no-face']).toBe(0);
  });

  it('keeps distinct frames and drops ones too similar to the last kept crop of that emotion', () => {
    const store = new CaptureStore({ minDiff: 5 });
    expect(store.offer(0, 0, [face(100)]).kept).toBe(true);
    expect(store.offer(0, 1, [face(104)])).toEqual({ kept: false, reason: 'too-similar' }); // mean diff 4 < 5
    expect(store.offer(0, 2, [face(105)]).kept).toBe(true); // 5 from 100: kept, now the reference
    expect(store.offer(0, 3, [face(109)]).kept).toBe(false); // 4 from 105
    // Another emotion has its own reference.
    expect(store.offer(1, 4, [face(105)]).kept).toBe(true);
    expect(store.samples(0).map((s) => s.t)).toEqual([0, 2]);
    expect(store.drops['too-similar']).toBe(2);
  });

  it('measures difference per pixel: a small changed region counts by its share of the crop', () => {
    const a = new Uint8Array(PIXELS).fill(50);
    const b = a.slice();
    for (let i = 0; i < PIXELS / 4; i++) b[i] = 90; // a quarter of the crop, 40 levels brighter
    expect(meanAbsDiff(a, b)).toBeCloseTo(10, 10);
    expect(() => meanAbsDiff(a, new Uint8Array(3))).toThrow(/length/);
  });

  it('caps each emotion, copies what it keeps, and converts [0,1] float crops to bytes', () => {
    const store = new CaptureStore({ minDiff: 1, maxPerEmotion: 3 });
    for (let i = 0; i < 5; i++) store.offer(6, i, [face(i * 10)]);
    expect(store.count(6)).toBe(3);
    expect(store.drops.full).toBe(2);
    const input = face(0);
    const floats = new Float32Array(PIXELS).fill(0.5);
    floats[0] = 1.2; // out of range: clamped
    store.offer(5, 0, [{ crop: floats, features: input.features }]);
    const sample = store.samples(5)[0]!;
    expect(sample.crop[0]).toBe(255);
    expect(sample.crop[1]).toBe(128);
    input.features[0] = 99;
    floats[1] = 0;
    expect(sample.features[0]).toBe(0); // copied, not aliased
    expect(sample.crop[1]).toBe(128);
    expect(() => cropToBytes(new Float32Array(10))).toThrow(/48x48/);
  });

  it('deletes one frame, re-records an emotion from scratch, and needs two usable emotions to train', () => {
    const store = new CaptureStore({ minDiff: 1 });
    for (let i = 0; i < MIN_FRAMES_PER_EMOTION; i++) store.offer(3, 100 + i, [face(i * 10)]);
    expect(store.notReady()).toMatch(/at least 2 emotions.*\(1 so far\)/);
    for (let i = 0; i < MIN_FRAMES_PER_EMOTION + 1; i++) store.offer(0, i, [face(i * 10)]);
    store.offer(2, 50, [face(0)]); // one frame only: not usable
    expect(store.notReady()).toBeUndefined();
    expect(store.usableEmotions()).toEqual([0, 3]);
    const set = store.toSet();
    expect(set.samples).toHaveLength(2 * MIN_FRAMES_PER_EMOTION + 1);
    expect(set.samples.every((s, i) => i === 0 || s.t >= set.samples[i - 1]!.t)).toBe(true); // time order
    expect(new Set(set.samples.map((s) => s.label))).toEqual(new Set([0, 3]));

    expect(store.remove(3, 0)).toBe(true);
    expect(store.remove(3, 99)).toBe(false);
    expect(store.samples(3)[0]!.t).toBe(101);
    expect(store.notReady()).toMatch(/\(1 so far\)/);
    // Deleting keeps the reference (the last kept crop, level 40): a copy of it is still too similar...
    expect(store.offer(3, 200, [face(40)]).kept).toBe(false);
    // ...while re-recording starts over.
    store.clear(3);
    expect(store.count(3)).toBe(0);
    expect(store.offer(3, 201, [face(40)]).kept).toBe(true);
    expect(() => store.offer(7, 0, [face(0)])).toThrow(/outside 0..6/);
  });

  it('names what stops capture now: no face, several, or a lone face without features', () => {
    expect(frameProblem([])).toBe('no-face');
    expect(frameProblem([face(1), face(2)])).toBe('several-faces');
    expect(frameProblem([{}])).toBe('no-features');
    expect(frameProblem([face(1)])).toBeUndefined();
  });

  it('says why frames were dropped when it cost a noticeable share', () => {
    expect(dropMessage({ 'no-face': 30, 'several-faces': 0, 'too-similar': 10, full: 0 }, 20)).toMatch(/No face/);
    expect(dropMessage({ 'no-face': 0, 'several-faces': 40, 'too-similar': 0, full: 0 }, 10)).toMatch(/Several faces/);
    expect(dropMessage({ 'no-face': 0, 'several-faces': 0, 'too-similar': 100, full: 0 }, 2)).toMatch(/move your head/);
    expect(dropMessage({ 'no-face': 1, 'several-faces': 0, 'too-similar': 50, full: 0 }, 30)).toBeUndefined();
    expect(dropMessage({ 'no-face': 0, 'several-faces': 0, 'too-similar': 0, full: 0 }, 0)).toBeUndefined();
  });
});
