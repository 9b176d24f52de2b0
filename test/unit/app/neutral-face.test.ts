/** The live view's neutral-face step: capture through the pipeline's raw tap, storage, applying. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ModelEntry } from '../../../src/core/contracts/index.ts';
import { FEATURE_COUNT } from '../../../src/core/features/index.ts';
import { logProbs, type NeutralBaseline, type NeutralReference } from '../../../src/core/neutral-baseline.ts';
import {
  applyBaseline,
  AUTO_NEUTRAL_STORAGE_KEY,
  autoNeutralTap,
  captureNeutral,
  loadNeutralBaseline,
  NEUTRAL_STORAGE_KEY,
  NeutralFaceStore,
  neutralReferences,
  saveNeutralBaseline,
  type NeutralFaceState,
  type NeutralTarget,
} from '../../../src/app/live/neutral-face.ts';
import type { RawTap } from '../../../src/app/live/pipeline.ts';

const ferNeutral: NeutralReference = { logProbs: logProbs([0.05, 0.02, 0.05, 0.03, 0.1, 0.05, 0.7]), faces: 100 };
const refs = new Map([['cnn', ferNeutral]]);
const face = (probs: number[]) => ({ trackId: 1, probs: { cnn: probs, personal: probs } });
const sadLooking = [0.05, 0.02, 0.05, 0.03, 0.5, 0.05, 0.3];
/** More neutral than sadLooking. */
const uniformish = [0.05, 0.05, 0.05, 0.05, 0.1, 0.1, 0.6];
/** A baseline captured from one frame of `probs`. */
const captured = (probs: number[]): NeutralBaseline => ({
  version: 1,
  capturedAt: '2026-12-02T10:00:00.000Z',
  frames: 1,
  models: { cnn: { captured: logProbs(probs), reference: [...ferNeutral.logProbs] } },
});

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

/** The one tap attached to the target. */
const tapOf = (target: NeutralTarget): RawTap => {
  expect(target.rawTaps.size).toBe(1);
  return [...target.rawTaps][0]!;
};

describe('captureNeutral', () => {
  it('averages frames with exactly one face, then detaches from the pipeline', async () => {
    const target: NeutralTarget = { neutral: undefined, neutralFeatures: undefined, rawTaps: new Set<RawTap>() };
    const progress: number[] = [];
    const done = captureNeutral(target, refs, { frames: 3, onProgress: (n) => progress.push(n) });
    expect(target.rawTaps.size).toBe(1);
    tapOf(target)([face(sadLooking)]);
    tapOf(target)([face(sadLooking), face(sadLooking)]); // two faces: not used
    tapOf(target)([]); // none: not used
    tapOf(target)([face(sadLooking)]);
    tapOf(target)([face(sadLooking)]);
    const baseline = await done;
    expect(target.rawTaps.size).toBe(0);
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
    const target: NeutralTarget = { neutral: undefined, neutralFeatures: undefined, rawTaps: new Set<RawTap>() };
    const done = captureNeutral(target, both, { frames: 2 });
    const features = new Float32Array(FEATURE_COUNT).fill(0.5);
    tapOf(target)([{ trackId: 1, probs: { cnn: sadLooking, 'svm-au': sadLooking }, features }]);
    tapOf(target)([{ trackId: 1, probs: { cnn: sadLooking, 'svm-au': sadLooking }, features }]);
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
    const target: NeutralTarget = { neutral: undefined, neutralFeatures: undefined, rawTaps: new Set<RawTap>() };
    const done = captureNeutral(target, refs, { frames: 3, timeoutMs: 1000 });
    tapOf(target)([face(sadLooking), face(sadLooking)]);
    tapOf(target)([face(sadLooking), face(sadLooking)]);
    vi.advanceTimersByTime(1001);
    await expect(done).rejects.toThrow(/Only 0 of 3 frames .*more than one face/);
    expect(target.rawTaps.size).toBe(0);
    const none = captureNeutral(target, refs, { frames: 3, timeoutMs: 1000 });
    tapOf(target)([]);
    vi.advanceTimersByTime(1001);
    await expect(none).rejects.toThrow(/your face was not found/);
  });

  it('refuses when no model has a reference, and can be cancelled', async () => {
    const target: NeutralTarget = { neutral: undefined, neutralFeatures: undefined, rawTaps: new Set<RawTap>() };
    await expect(captureNeutral(target, new Map())).rejects.toThrow(/neutral-reference/);
    const abort = new AbortController();
    const done = captureNeutral(target, refs, { signal: abort.signal });
    abort.abort();
    await expect(done).rejects.toThrow(/cancelled/);
    expect(target.rawTaps.size).toBe(0);
  });
});

describe('stored baselines', () => {
  it('round-trips through storage and ignores what it cannot read', async () => {
    const storage = memoryStorage();
    expect(loadNeutralBaseline(storage)).toBeUndefined();
    const target: NeutralTarget = { neutral: undefined, neutralFeatures: undefined, rawTaps: new Set<RawTap>() };
    const done = captureNeutral(target, refs, { frames: 1 });
    tapOf(target)([face(sadLooking)]);
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
    const target: NeutralTarget = { neutral: undefined, neutralFeatures: undefined, rawTaps: new Set<RawTap>() };
    const done = captureNeutral(target, refs, { frames: 1 });
    tapOf(target)([face(sadLooking)]);
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
    const target: NeutralTarget = { neutral: undefined, neutralFeatures: undefined, rawTaps: new Set<RawTap>() };
    const done = captureNeutral(target, refs, { frames: 1 });
    tapOf(target)([face(sadLooking)]);
    const baseline = await done;
    storage.setItem(NEUTRAL_STORAGE_KEY, JSON.stringify(baseline));
    const applied: (NeutralBaseline | undefined)[] = [];
    const store = new NeutralFaceStore(storage, (b) => {
      applied.push(b);
      return applyBaseline(target, b, refs);
    });
    expect(store.current).toEqual({ baseline, moved: ['cnn'], stale: [], auto: false, learnt: false });
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

  it('with Auto, applies the learnt baseline while none is captured, stores only the choice, and stops learning when turned off', () => {
    const storage = memoryStorage();
    const target: NeutralTarget = { neutral: undefined, neutralFeatures: undefined, rawTaps: new Set<RawTap>() };
    let listener: ((b: NeutralBaseline) => void) | undefined;
    const store = new NeutralFaceStore(
      storage,
      (b) => applyBaseline(target, b, refs),
      (l) => (listener = l),
    );
    expect(listener).toBeUndefined();
    store.setAuto(true);
    expect(storage.data.get(AUTO_NEUTRAL_STORAGE_KEY)).toBe('1');
    expect(store.current).toMatchObject({ auto: true, learnt: false, baseline: undefined });
    // The session reports a learnt baseline: applied, never stored.
    const learnt = captured(sadLooking);
    listener!(learnt);
    expect(store.current).toMatchObject({ auto: true, learnt: true, baseline: learnt, moved: ['cnn'] });
    expect(storage.data.has(NEUTRAL_STORAGE_KEY)).toBe(false);
    // A captured baseline wins over the learnt one; clearing it falls back to the learnt one.
    const mine = captured(uniformish);
    store.set(mine);
    listener!(learnt);
    expect(store.current).toMatchObject({ learnt: false, baseline: mine });
    store.set(undefined);
    expect(store.current).toMatchObject({ learnt: true, baseline: learnt });
    store.setAuto(false);
    expect(listener).toBeUndefined();
    expect(storage.data.has(AUTO_NEUTRAL_STORAGE_KEY)).toBe(false);
    expect(store.current).toMatchObject({ auto: false, learnt: false, baseline: undefined });
    expect(target.neutral).toBeUndefined();
    // The stored choice is taken up by the next page.
    storage.setItem(AUTO_NEUTRAL_STORAGE_KEY, '1');
    let started = false;
    const next = new NeutralFaceStore(
      storage,
      (b) => applyBaseline(target, b, refs),
      (l) => (started = l !== undefined),
    );
    expect(started).toBe(true);
    expect(next.current.auto).toBe(true);
  });
});

describe('autoNeutralTap', () => {
  it('learns from frames with exactly one face and reports a baseline every `every` frames once it has enough', () => {
    const reported: NeutralBaseline[] = [];
    const tap = autoNeutralTap(refs, (b) => reported.push(b), { every: 5, minFrames: 10, window: 100 });
    for (let i = 0; i < 9; i++) tap([face(sadLooking)]);
    tap([face(sadLooking), face(sadLooking)]); // two faces: not learnt from
    tap([]);
    expect(reported).toHaveLength(0);
    tap([face(uniformish)]); // the 10th frame learnt from: the most relaxed one
    expect(reported).toHaveLength(1);
    // 10 % of 10 frames: the single most neutral frame.
    expect(reported[0]!.frames).toBe(1);
    reported[0]!.models.cnn!.captured.forEach((v, k) => expect(v).toBeCloseTo(Math.log(uniformish[k]!), 9));
  });
});
