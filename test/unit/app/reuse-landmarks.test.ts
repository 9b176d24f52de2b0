/**
 * Reusing the landmarks on still frames (pipeline.ts StillReuse): the landmarker is skipped only on
 * a frame read ahead whose early crops match the last landmarked frame's within the threshold, at
 * most maxFrames in a row; every model still runs. And cropChange (src/core/crop-change.ts).
 */
import { describe, expect, it } from 'vitest';
import { cropChange } from '../../../src/core/crop-change.ts';
import { STILL_REUSE } from '../../../src/app/live/pipeline.ts';
import { mulberry32, gaussian } from '../../../src/core/random.ts';
import { expectStillsReadInFullAndReset, mesh, oneHot, setup } from '../../helpers/pipeline-fixture.ts';

describe('cropChange', () => {
  const size = 8;
  // A left-to-right ramp with some texture.
  const base = Float32Array.from({ length: size * size }, (_, i) => (i % size) / size + 0.05 * Math.sin(i));

  it('is 0 for the same crop, the mean absolute change of 2x2 block means otherwise', () => {
    expect(cropChange(base, base, size)).toBe(0);
    const brighter = base.map((v) => v + 0.1);
    expect(cropChange(base, brighter, size)).toBeCloseTo(0.1, 6);
    // One pixel changed by 0.4: its block mean by 0.1, over 16 blocks.
    const one = base.slice();
    one[0]! += 0.4;
    expect(cropChange(base, one, size)).toBeCloseTo(0.1 / 16, 6);
    expect(() => cropChange(base, new Float32Array(10), size)).toThrow(/not 8x8/);
  });

  it('camera noise on both crops stays under the threshold, a shift does not', () => {
    const rand = mulberry32(4);
    const noisy = (c: Float32Array, sigma: number) => c.map((v) => v + gaussian(rand) * (sigma / 255));
    const shifted = base.map((_, i) => base[Math.max(i - 1, Math.floor(i / size) * size)]!);
    // Averaged over many crops, as the threshold's figures are.
    const mean = (f: () => number) => Array.from({ length: 200 }, f).reduce((a, b) => a + b, 0) / 200;
    expect(mean(() => cropChange(noisy(base, 5), noisy(base, 5), size))).toBeLessThan(STILL_REUSE.threshold);
    expect(mean(() => cropChange(noisy(base, 3), noisy(shifted, 3), size))).toBeGreaterThan(STILL_REUSE.threshold);
  });
});

describe('reusing the landmarks on still frames', () => {
  /** A pipeline whose every crop read is filled with `level` (set per frame by the test). */
  function still(featureModel = false) {
    const state = { level: 0.5 };
    const t = setup({ featureModel, pixel: () => state.level });
    t.pipeline.reuse = { ...STILL_REUSE };
    return { ...t, state };
  }

  it('skips the landmarker on every other still frame; every model still runs, on the early crops', async () => {
    const t = still();
    const face = [mesh(0.5, 0.5)];
    await t.frame(face);
    await t.frame(face); // still now: its crop here is the reference
    expect(t.calls).toEqual(['landmarks', 'predict x1']);
    const third = await t.frame(face);
    expect(t.calls).toEqual(['ahead 1 x1']);
    expect(third.times).toMatchObject({ reused: true, readAhead: true, landmarker: 0 });
    expect(third.faces[0]!.readings).toEqual([{ modelId: 'cnn', probs: oneHot(0), top: 0 }]);
    // At most one frame in a row: the next is read by the landmarker (its reference crop read at the exact position).
    const fourth = await t.frame(face);
    expect(t.calls).toEqual(['ahead 2 x1', 'landmarks']);
    expect(fourth.times.reused).toBeUndefined();
    expect(t.reads).toHaveLength(2);
    await t.frame(face);
    expect(t.calls).toEqual(['ahead 3 x1']);
    // The track and its box continue through reused frames.
    expect(third.faces[0]!.trackId).toBe(fourth.faces[0]!.trackId);
    expect(third.faces[0]!.box).toEqual(fourth.faces[0]!.box);
  });

  it('runs the landmarker when the crop changed beyond the threshold, not for noise below it', async () => {
    const t = still();
    const face = [mesh(0.5, 0.5)];
    await t.frame(face);
    await t.frame(face);
    t.state.level = 0.5 + 2 * STILL_REUSE.threshold;
    await t.frame(face);
    expect(t.calls).toEqual(['ahead 1 x1', 'landmarks']);
    t.state.level += STILL_REUSE.threshold / 2;
    const r = await t.frame(face);
    expect(t.calls).toEqual(['ahead 2 x1']);
    expect(r.times.reused).toBe(true);
  });

  it('gives the feature models the last landmarked features, in face order', async () => {
    const t = still(true);
    const two = [mesh(0.3, 0.5), mesh(0.7, 0.5)];
    await t.frame(two);
    const landmarked = await t.frame(two);
    const reused = await t.frame(two);
    expect(t.calls).toEqual(['ahead 1 x2', 'rest 1 [0,1]']);
    expect(t.rests.at(-1)!.features!.count).toBe(2);
    expect(reused.faces.map((f) => f.trackId)).toEqual(landmarked.faces.map((f) => f.trackId));
    expect(reused.faces.map((f) => Array.from(f.features!))).toEqual(landmarked.faces.map((f) => Array.from(f.features!)));
    expect(reused.faces[1]!.readings.map((x) => x.modelId)).toEqual(['cnn', 'au']);
  });

  it('is off by default, never applies to stills, and starts over after reset', async () => {
    const off = setup({ pixel: () => 0.5 });
    for (let i = 0; i < 3; i++) await off.frame([mesh(0.5, 0.5)]);
    expect(off.calls).toEqual(['ahead 1 x1', 'landmarks']);
    await expectStillsReadInFullAndReset(still());
  });
});
