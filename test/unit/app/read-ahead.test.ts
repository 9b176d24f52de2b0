/**
 * Reading video frames ahead (pipeline.ts): the crop models start on crops at the faces' previous
 * positions while the landmarker runs; the early crops are used only when every face is within
 * AHEAD_TOLERANCE_PX of its exact crop. And the worker engine's two halves (inference-engine.ts).
 */
import { describe, expect, it } from 'vitest';
import { InferenceEngine } from '../../../src/app/live/inference-engine.ts';
import type { FrameMemo, Runner } from '../../../src/app/live/runner.ts';
import { expectStillsReadInFullAndReset, mesh, oneHot, setup } from '../../helpers/pipeline-fixture.ts';

describe('read ahead', () => {
  it('starts the crop models before the landmarks once a face has held still, and uses their answer', async () => {
    const t = setup();
    await t.frame([mesh(0.5, 0.5)]); // new face: nothing to read ahead from
    expect(t.calls).toEqual(['landmarks', 'predict x1']);
    await t.frame([mesh(0.5, 0.5)]); // now known to be still
    expect(t.calls).toEqual(['landmarks', 'predict x1']);
    const third = await t.frame([mesh(0.5, 0.5)]);
    expect(t.calls).toEqual(['ahead 1 x1', 'landmarks']);
    // Only the early crop was read: the exact one is not read again.
    expect(t.reads).toHaveLength(1);
    expect(third.faces[0]!.readings).toEqual([{ modelId: 'cnn', probs: oneHot(0), top: 0 }]);
    expect(third.times.readAhead).toBe(true);
    expect(third.times.models.cnn).toBe(2);
    expect(third.faces[0]!.crop?.pixels[0]).toBeCloseTo(0.01, 6);
    expect(t.pipeline.aheadStats).toEqual({ tried: 1, used: 1 });
  });

  it('uses the early crops after a move within the tolerance, and reads again from exact crops after a larger one', async () => {
    const t = setup();
    for (let i = 0; i < 3; i++) await t.frame([mesh(0.5, 0.5)]);
    // 0.0005 of 640 px = 0.32 source px, about 0.1 crop px: within 1 px.
    const small = await t.frame([mesh(0.5005, 0.5)]);
    expect(small.times.readAhead).toBe(true);
    // 0.02 of 640 px = 12.8 source px, several crop px: the early work is dropped.
    const big = await t.frame([mesh(0.52, 0.5)]);
    expect(t.calls).toEqual(['ahead 3 x1', 'landmarks', 'predict x1']);
    expect(big.times.readAhead).toBeUndefined();
    expect(big.faces[0]!.readings[0]!.probs).toEqual(oneHot(5));
    // It moved in the last frame, so the next one is not read ahead.
    await t.frame([mesh(0.52, 0.5)]);
    expect(t.calls).toEqual(['landmarks', 'predict x1']);
    await t.frame([mesh(0.52, 0.5)]);
    expect(t.calls[0]).toBe('ahead 4 x1');
    expect(t.pipeline.aheadStats).toEqual({ tried: 4, used: 3 });
  });

  it('reads the whole frame again when a face is new, and matches early rows to faces by track', async () => {
    const t = setup();
    const two = [mesh(0.3, 0.5), mesh(0.7, 0.5)];
    for (let i = 0; i < 2; i++) await t.frame(two);
    const same = await t.frame(two);
    // The landmarker lists the same two faces the other way round: each keeps its own row.
    const swapped = await t.frame([two[1]!, two[0]!]);
    expect(swapped.times.readAhead).toBe(true);
    expect(swapped.faces.map((f) => f.trackId)).toEqual([same.faces[1]!.trackId, same.faces[0]!.trackId]);
    expect(swapped.faces.map((f) => f.readings[0]!.top)).toEqual([1, 0]);
    const three = await t.frame([...two, mesh(0.5, 0.2)]);
    expect(t.calls).toEqual(['ahead 3 x2', 'landmarks', 'predict x3']);
    expect(three.times.readAhead).toBeUndefined();
  });

  it('sends the features of this frame, in face order, for the models that read them', async () => {
    const t = setup({ featureModel: true });
    const two = [mesh(0.3, 0.5), mesh(0.7, 0.5)];
    for (let i = 0; i < 3; i++) await t.frame(two);
    const r = await t.frame([two[1]!, two[0]!]);
    expect(t.calls).toEqual(['ahead 2 x2', 'landmarks', 'rest 2 [1,0]']);
    expect(t.rests.at(-1)!.features!.count).toBe(2);
    expect(r.faces[0]!.readings.map((x) => x.modelId)).toEqual(['cnn', 'au']);
    expect(r.faces[0]!.readings[1]!.top).toBe(6);
  });

  it('never reads stills ahead, forgets positions on reset, and is off without a worker that can', async () => {
    await expectStillsReadInFullAndReset(setup());
    const off = setup({ ahead: false });
    for (let i = 0; i < 4; i++) await off.frame([mesh(0.5, 0.5)]);
    expect(off.calls).toEqual(['landmarks', 'predict x1']);
  });
});

describe('InferenceEngine halves', () => {
  /** A crop model that counts its runs, and a feature model that reads the crop model's output through the memo. */
  function engineWith() {
    let cnnRuns = 0;
    const cnn: Runner = {
      entry: { id: 'cnn' } as never,
      cropSize: 2,
      needsFeatures: false,
      predict: async (crops, _f, memo?: FrameMemo) => {
        const known = memo?.get(cnn);
        if (known && known.length === crops.length) return known;
        cnnRuns++;
        const rows = crops.map((c) => [c[0]!, 0, 0, 0, 0, 0, 0]);
        memo?.set(cnn, rows);
        return rows;
      },
      dispose: () => {},
    };
    const fusion: Runner = {
      entry: { id: 'fusion' } as never,
      cropSize: 2,
      needsFeatures: true,
      predict: async (crops, features, memo) => {
        const member = await cnn.predict(crops, features, memo);
        return member.map((row, i) => [row[0]!, features[i]![0]!, 0, 0, 0, 0, 0]);
      },
      dispose: () => {},
    };
    const engine = new InferenceEngine();
    (engine as unknown as { runners: Runner[] }).runners = [cnn, fusion];
    return { engine, runs: () => cnnRuns };
  }

  it('runs the crop models first, then the feature models on the picked rows without running the member again', async () => {
    const { engine, runs } = engineWith();
    const first = await engine.predictAhead(7, [{ size: 2, count: 2, pixels: new Float32Array([0.1, 0, 0, 0, 0.2, 0, 0, 0]) }]);
    expect(Object.keys(first.probs)).toEqual(['cnn']);
    expect(first.probs.cnn!.map((r) => r[0])).toEqual([expect.closeTo(0.1, 6), expect.closeTo(0.2, 6)]);
    // One face now, the second early row.
    const rest = await engine.predictRest(7, [1], { count: 1, dim: 1, values: new Float32Array([0.9]) });
    expect(Object.keys(rest.probs)).toEqual(['fusion']);
    expect(rest.probs.fusion![0]![0]).toBeCloseTo(0.2, 6);
    expect(rest.probs.fusion![0]![1]).toBeCloseTo(0.9, 6);
    expect(runs()).toBe(1);
    // A frame's second half is taken once.
    await expect(engine.predictRest(7, [0], { count: 1, dim: 1, values: new Float32Array([0]) })).rejects.toThrow(
      /frame 7 was not read ahead/,
    );
  });

  it('keeps only the last few frames read ahead', async () => {
    const { engine } = engineWith();
    const batch = () => [{ size: 2, count: 1, pixels: new Float32Array(4) }];
    for (let f = 1; f <= 6; f++) await engine.predictAhead(f, batch());
    await expect(engine.predictRest(2, [0], { count: 1, dim: 1, values: new Float32Array(1) })).rejects.toThrow(/not read ahead/);
    await expect(engine.predictRest(6, [0], { count: 1, dim: 1, values: new Float32Array(1) })).resolves.toBeDefined();
  });

  it("gives a model with a feature shift its moved features, in both halves and in a whole frame, and the others the face's own", async () => {
    const { engine } = engineWith();
    const crops = () => [{ size: 2, count: 1, pixels: new Float32Array([0.1, 0, 0, 0]) }];
    const values = new Float32Array([0.5, 0.25]);
    const whole = await engine.predict(crops(), { count: 1, dim: 2, values, shifts: { fusion: [0.25, 0] } });
    expect(whole.probs.fusion![0]![1]).toBeCloseTo(0.75, 6);
    // The batch's own values are left as they were (the page keeps them for the results).
    expect([...values]).toEqual([0.5, 0.25]);
    await engine.predictAhead(3, crops());
    const rest = await engine.predictRest(3, [0], { count: 1, dim: 2, values, shifts: { fusion: [-0.5, 0] } });
    expect(rest.probs.fusion![0]![1]).toBeCloseTo(0, 6);
    const other = await engine.predict(crops(), { count: 1, dim: 2, values, shifts: { cnn: [1, 1] } });
    expect(other.probs.fusion![0]![1]).toBeCloseTo(0.5, 6);
  });
});
