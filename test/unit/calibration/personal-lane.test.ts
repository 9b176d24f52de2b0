import { describe, expect, it } from 'vitest';
import { PersonalLane, personalName } from '../../../src/app/calibration/personal-lane.ts';
import type { Runner } from '../../../src/app/live/model-load.ts';
import type { FaceResult, FrameResult } from '../../../src/app/live/types.ts';
import type { ModelEntry } from '../../../src/core/contracts/manifest.ts';

const CNN_ENTRY = { id: 'my-cnn', name: 'Yours: CNN', kind: 'cnn', path: 'my-cnn/model.json' } as ModelEntry;
const SVM_ENTRY = { id: 'my-svm-au', name: 'my-svm-au', kind: 'svm', path: 'my-svm-au/model.json' } as ModelEntry;

/** A runner answering a one-hot reading at `label`, recording what it was given. */
function fakeRunner(entry: ModelEntry, needsFeatures: boolean, label: () => number, seen: number[] = []): Runner {
  return {
    entry,
    cropSize: 48,
    needsFeatures,
    async predict(crops, features) {
      seen.push(needsFeatures ? features.length : crops.length);
      return (needsFeatures ? features : crops).map(() => Array.from({ length: 7 }, (_, c) => (c === label() ? 1 : 0)));
    },
    dispose() {},
  };
}

function face(trackId: number, withFeatures = true): FaceResult {
  return {
    trackId,
    box: { x: 0, y: 0, width: 10, height: 10 },
    readings: [{ modelId: 'fer-cnn', probs: [1, 0, 0, 0, 0, 0, 0], top: 0 }],
    crop: { size: 48, pixels: new Float32Array(48 * 48) },
    ...(withFeatures ? { features: new Float32Array(168) } : {}),
  };
}

function frame(faces: FaceResult[]): FrameResult {
  return { faces, width: 640, height: 480, times: { landmarker: 1, crop: 1, features: 1, models: { 'fer-cnn': 2 }, total: 5 } };
}

describe('personal models in the live view', () => {
  it('names them "Yours" whatever they were stored as', () => {
    expect(personalName(CNN_ENTRY)).toBe('Yours: CNN');
    expect(personalName(SVM_ENTRY)).toBe('Yours: AU SVM');
    expect(personalName({ id: 'x', name: 'Anna', kind: 'cnn' })).toBe('Yours: CNN (Anna)');
  });

  it("appends each face's personal readings after the general ones, with their times", async () => {
    const seen: number[] = [];
    const lane = new PersonalLane([fakeRunner(CNN_ENTRY, false, () => 3), fakeRunner(SVM_ENTRY, true, () => 5, seen)], {
      smoothing: false,
      smoothingMs: 250,
    });
    expect(lane.entries.map((e) => e.name)).toEqual(['Yours: CNN', 'Yours: AU SVM']);
    // The second face has no features: the SVM skips it, the CNN reads it.
    const out = await lane.augment(frame([face(1), face(2, false)]), 0, 'video');
    expect(out.faces[0]!.readings.map((r) => [r.modelId, r.top])).toEqual([
      ['fer-cnn', 0],
      ['my-cnn', 3],
      ['my-svm-au', 5],
    ]);
    expect(out.faces[1]!.readings.map((r) => r.modelId)).toEqual(['fer-cnn', 'my-cnn']);
    expect(seen).toEqual([1]);
    expect(Object.keys(out.times.models).sort()).toEqual(['fer-cnn', 'my-cnn', 'my-svm-au']);
    const empty = frame([]);
    expect(await lane.augment(empty, 0, 'video')).toBe(empty);
  });

  it('smooths per face over time like the general models (not stills), and survives a failing model', async () => {
    let label = 3;
    const failing: Runner = { ...fakeRunner(SVM_ENTRY, true, () => 0), predict: () => Promise.reject(new Error('boom')) };
    const errors: string[] = [];
    const lane = new PersonalLane([fakeRunner(CNN_ENTRY, false, () => label), failing], { smoothing: true, smoothingMs: 250 }, (id, e) =>
      errors.push(`${id}: ${e.message}`),
    );
    await lane.augment(frame([face(1)]), 0, 'video');
    label = 6;
    const later = await lane.augment(frame([face(1)]), 33, 'video');
    const p = later.faces[0]!.readings.find((r) => r.modelId === 'my-cnn')!.probs;
    // 33 ms after a happy reading, with tau 250 ms, the new neutral reading moves it only part way.
    expect(p[3]).toBeGreaterThan(0.7);
    expect(p[6]).toBeGreaterThan(0.05);
    expect(p[6]).toBeLessThan(0.3);
    expect(errors).toEqual(['my-svm-au: boom', 'my-svm-au: boom']);
    const still = await lane.augment(frame([face(1)]), 66, 'image');
    expect(still.faces[0]!.readings.find((r) => r.modelId === 'my-cnn')!.probs[6]).toBe(1);
  });
});
