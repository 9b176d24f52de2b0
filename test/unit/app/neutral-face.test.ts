/** The live view's neutral-face step: capture through the pipeline's raw tap, storage, applying. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ModelEntry } from '../../../src/core/contracts/index.ts';
import { FEATURE_COUNT } from '../../../src/core/features/index.ts';
import { logProbs, type NeutralBaseline, type NeutralReference } from '../../../src/core/neutral-baseline.ts';
import {
  applyBaseline,
  captureNeutral,
  loadNeutralBaseline,
  NEUTRAL_STORAGE_KEY,
  NeutralFaceStore,
  neutralReferences,
  saveNeutralBaseline,
  type NeutralFaceState,
  type NeutralTarget,
} from '../../../src/app/live/neutral-face.ts';

const ferNeutral: NeutralReference = { logProbs: logProbs([0.05, 0.02, 0.05, 0.03, 0.1, 0.05, 0.7]), faces: 100 };
const refs = new Map([['cnn', ferNeutral]]);
const face = (probs: number[]) => ({ trackId: 1, probs: { cnn: probs, personal: probs } });
const sadLooking = [0.05, 0.02, 0.05, 0.03, 0.5, 0.05, 0.3];

function memoryStorage() {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
    removeItem: (k: string) => void data.delete(k),
  };
}

afterEach(() => vi.useRealTimers());

describe('captureNeutral', () => {
  it('averages frames with exactly one face, then detaches from the pipeline', async () => {
    const target: NeutralTarget = { neutral: undefined, neutralFeatures: undefined, rawTap: undefined };
    const progress: number[] = [];
    const done = captureNeutral(target, refs, { frames: 3, onProgress: (n) => progress.push(n) });
    expect(target.rawTap).toBeDefined();
    target.rawTap!([face(sadLooking)]);
    target.rawTap!([face(sadLooking), face(sadLooking)]); // two faces: not used
    target.rawTap!([]); // none: not used
    target.rawTap!([face(sadLooking)]);
    target.rawTap!([face(sadLooking)]);
    const baseline = await done;
    expect(target.rawTap).toBeUndefined();
    expect(progress).toEqual([1, 1, 1, 2, 3]);
    expect(baseline.frames).toBe(3);
    expect(Object.keys(baseline.models)).toEqual(['cnn']);
    baseline.models.cnn!.captured.forEach((v, k) => expect(v).toBeCloseTo(Math.log(sadLooking[k]!), 12));
    // Applied, the person's neutral face reads as FER2013's neutral does.
    applyBaseline(target, baseline, refs);
    const offsets = target.neutral!.get('cnn')!;
    expect(offsets[4]).toBeCloseTo(Math.log(0.1) - Math.log(0.5), 9);
  });

  it("captures the face's features for a model moved at its input, and applying sets that model's feature shift", async () => {
    const ferFeatures = Array.from({ length: FEATURE_COUNT }, (_, k) => k / 1000);
    const both = new Map<string, NeutralReference>([...refs, ['svm-au', { ...ferNeutral, features: ferFeatures }]]);
    const target: NeutralTarget = { neutral: undefined, neutralFeatures: undefined, rawTap: undefined };
    const done = captureNeutral(target, both, { frames: 2 });
    const features = new Float32Array(FEATURE_COUNT).fill(0.5);
    target.rawTap!([{ trackId: 1, probs: { cnn: sadLooking, 'svm-au': sadLooking }, features }]);
    target.rawTap!([{ trackId: 1, probs: { cnn: sadLooking, 'svm-au': sadLooking }, features }]);
    const baseline = await done;
    expect(baseline.models['svm-au']!.input).toBe('features');
    expect(applyBaseline(target, baseline, both)).toEqual({ moved: ['cnn', 'svm-au'], stale: [] });
    expect([...target.neutral!.keys()]).toEqual(['cnn']);
    target.neutralFeatures!.get('svm-au')!.forEach((v, k) => expect(v).toBeCloseTo(ferFeatures[k]! - 0.5, 9));
    applyBaseline(target, undefined, both);
    expect(target.neutralFeatures).toBeUndefined();
  });

  it('fails with a reason when the frames do not come in time', async () => {
    vi.useFakeTimers();
    const target: NeutralTarget = { neutral: undefined, neutralFeatures: undefined, rawTap: undefined };
    const done = captureNeutral(target, refs, { frames: 3, timeoutMs: 1000 });
    target.rawTap!([face(sadLooking), face(sadLooking)]);
    target.rawTap!([face(sadLooking), face(sadLooking)]);
    vi.advanceTimersByTime(1001);
    await expect(done).rejects.toThrow(/Only 0 of 3 frames .*more than one face/);
    expect(target.rawTap).toBeUndefined();
    const none = captureNeutral(target, refs, { frames: 3, timeoutMs: 1000 });
    target.rawTap!([]);
    vi.advanceTimersByTime(1001);
    await expect(none).rejects.toThrow(/your face was not found/);
  });

  it('refuses when no model has a reference, and can be cancelled', async () => {
    const target: NeutralTarget = { neutral: undefined, neutralFeatures: undefined, rawTap: undefined };
    await expect(captureNeutral(target, new Map())).rejects.toThrow(/neutral-reference/);
    const abort = new AbortController();
    const done = captureNeutral(target, refs, { signal: abort.signal });
    abort.abort();
    await expect(done).rejects.toThrow(/cancelled/);
    expect(target.rawTap).toBeUndefined();
  });
});

describe('stored baselines', () => {
  it('round-trips through storage and ignores what it cannot read', async () => {
    const storage = memoryStorage();
    expect(loadNeutralBaseline(storage)).toBeUndefined();
    const target: NeutralTarget = { neutral: undefined, neutralFeatures: undefined, rawTap: undefined };
    const done = captureNeutral(target, refs, { frames: 1 });
    target.rawTap!([face(sadLooking)]);
    const baseline = await done;
    expect(saveNeutralBaseline(storage, baseline)).toBe(true);
    expect(loadNeutralBaseline(storage)).toEqual(baseline);
    storage.data.set(NEUTRAL_STORAGE_KEY, '{"version": 1, "broken"');
    expect(loadNeutralBaseline(storage)).toBeUndefined();
    expect(storage.data.has(NEUTRAL_STORAGE_KEY)).toBe(true); // left for the user, not deleted
    expect(saveNeutralBaseline(storage, undefined)).toBe(true);
    expect(storage.data.has(NEUTRAL_STORAGE_KEY)).toBe(false);
    expect(saveNeutralBaseline(undefined, baseline)).toBe(false);
    const full = {
      ...memoryStorage(),
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
    };
    expect(saveNeutralBaseline(full, baseline)).toBe(false);
  });

  it('applies only to models whose reference is unchanged, and turns off with none', async () => {
    const target: NeutralTarget = { neutral: undefined, neutralFeatures: undefined, rawTap: undefined };
    const done = captureNeutral(target, refs, { frames: 1 });
    target.rawTap!([face(sadLooking)]);
    const baseline = await done;
    expect(applyBaseline(target, baseline, refs)).toEqual({ moved: ['cnn'], stale: [] });
    const retrained = new Map([['cnn', { ...ferNeutral, logProbs: ferNeutral.logProbs.map((v) => v - 0.5) }]]);
    expect(applyBaseline(target, baseline, retrained)).toEqual({ moved: [], stale: ['cnn'] });
    expect(target.neutral).toBeUndefined();
    applyBaseline(target, baseline, refs);
    expect(applyBaseline(target, undefined, refs)).toEqual({ moved: [], stale: [] });
    expect(target.neutral).toBeUndefined();
  });

  it('takes the references from the manifest entries that have one', () => {
    const entries = [
      { id: 'cnn', kind: 'cnn', neutral: ferNeutral },
      { id: 'personal', kind: 'cnn' },
    ] as unknown as ModelEntry[];
    expect([...neutralReferences(entries).keys()]).toEqual(['cnn']);
  });
});

describe('NeutralFaceStore', () => {
  it('loads what is stored, stores and applies what is set, tells its subscribers, and forgets on undefined', async () => {
    const storage = memoryStorage();
    const target: NeutralTarget = { neutral: undefined, neutralFeatures: undefined, rawTap: undefined };
    const done = captureNeutral(target, refs, { frames: 1 });
    target.rawTap!([face(sadLooking)]);
    const baseline = await done;
    storage.setItem(NEUTRAL_STORAGE_KEY, JSON.stringify(baseline));
    const applied: (NeutralBaseline | undefined)[] = [];
    const store = new NeutralFaceStore(storage, (b) => {
      applied.push(b);
      return applyBaseline(target, b, refs);
    });
    expect(store.current).toEqual({ baseline, moved: ['cnn'], stale: [] });
    expect(target.neutral?.has('cnn')).toBe(true);
    const seen: NeutralFaceState[] = [];
    const stop = store.subscribe((s) => seen.push(s));
    expect(store.set(undefined)).toBe(true);
    expect(storage.data.has(NEUTRAL_STORAGE_KEY)).toBe(false);
    expect(target.neutral).toBeUndefined();
    store.set(baseline);
    expect(loadNeutralBaseline(storage)).toEqual(baseline);
    store.refresh();
    stop();
    store.set(undefined);
    expect(seen.map((s) => s.moved)).toEqual([['cnn'], [], ['cnn'], ['cnn']]);
    expect(applied).toEqual([baseline, undefined, baseline, baseline, undefined]);
  });
});
