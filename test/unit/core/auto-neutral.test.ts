/** The automatic neutral face (src/core/auto-neutral.ts): which frames count as relaxed, and the live window. */
import { describe, expect, it } from 'vitest';
import { AutoNeutral, mostRelaxed, relaxedCount, relaxedScore, relaxedShare } from '../../../src/core/auto-neutral.ts';
import { FEATURE_COUNT } from '../../../src/core/features/index.ts';
import { logProbs, type NeutralReference } from '../../../src/core/neutral-baseline.ts';

const ref: NeutralReference = { logProbs: logProbs([0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.7]), faces: 10 };
const refs = new Map([
  ['a', ref],
  ['b', ref],
]);
/** Probabilities with `neutral` on neutral and the rest on happy. */
const p = (neutral: number) => [0, 0, 0, 1 - neutral, 0, 0, neutral];

describe('relaxed frames', () => {
  it('scores a frame by the mean p(neutral) of the models with a reference', () => {
    expect(relaxedScore({ a: p(0.8), b: p(0.4), personal: p(0) }, refs)).toBeCloseTo(0.6, 12);
    expect(relaxedScore({ personal: p(1) }, refs)).toBeUndefined();
    expect(relaxedScore({ a: [1, 0] }, refs)).toBeUndefined();
  });

  it('leaves out the models moved at their input (their readings are of moved features once a baseline applies) unless no other model read the face', () => {
    const withSvm = new Map([...refs, ['svm', { ...ref, features: new Array<number>(FEATURE_COUNT).fill(0) }]]);
    expect(relaxedScore({ a: p(0.8), b: p(0.4), svm: p(0) }, withSvm)).toBeCloseTo(0.6, 12);
    expect(relaxedScore({ svm: p(0.3) }, withSvm)).toBeCloseTo(0.3, 12);
  });

  it('takes a share of the frames, at least one, the highest scores first', () => {
    expect([0, 1, 9, 10, 19, 25].map((n) => relaxedCount(n))).toEqual([0, 1, 1, 1, 2, 3]);
    expect(relaxedCount(10, 0.5)).toBe(5);
    expect(mostRelaxed([0.2, 0.9, 0.5, 0.9], 3)).toEqual([1, 3, 2]);
    expect(relaxedShare([0.2, 0.9, 0.5, 0.9])).toEqual([1]);
    expect(relaxedShare([0.2, 0.9, 0.5, 0.9], 0.5)).toEqual([1, 3]);
    expect(relaxedShare([])).toEqual([]);
  });
});

describe('AutoNeutral', () => {
  it('gives no baseline before minFrames, then one from the most relaxed share of its window', () => {
    const auto = new AutoNeutral(refs, { window: 20, minFrames: 10, share: 0.1 });
    const features = (v: number) => new Float32Array(FEATURE_COUNT).fill(v);
    for (let i = 0; i < 9; i++) auto.addFrame({ a: p(0.1), b: p(0.1) }, features(1));
    expect(auto.baseline(new Date())).toBeUndefined();
    // Two relaxed frames among 20: they make the baseline.
    auto.addFrame({ a: p(0.9), b: p(0.7) }, features(5));
    auto.addFrame({ a: p(0.8), b: p(0.8) }, features(7));
    for (let i = 0; i < 9; i++) auto.addFrame({ a: p(0.1), b: p(0.1) }, features(1));
    expect(auto.size).toBe(20);
    const b = auto.baseline(new Date('2026-12-02T12:00:00Z'))!;
    expect(b.frames).toBe(2);
    b.models.a!.captured.forEach((v, k) => expect(v).toBeCloseTo((logProbs(p(0.9))[k]! + logProbs(p(0.8))[k]!) / 2, 9));
    // Frames without a reference model are not kept; the oldest frames leave the window.
    auto.addFrame({ personal: p(1) });
    expect(auto.size).toBe(20);
    for (let i = 0; i < 11; i++) auto.addFrame({ a: p(0.2), b: p(0.2) }, features(2));
    expect(auto.baseline(new Date())!.models.a!.captured[6]).toBeCloseTo(Math.log(0.2), 9);
    auto.clear();
    expect(auto.size).toBe(0);
  });

  it('moves a model with reference features at its input, from the same frames', () => {
    const withFeatures = new Map([['svm-au', { ...ref, features: Array<number>(FEATURE_COUNT).fill(0) }]]);
    const auto = new AutoNeutral(withFeatures, { window: 10, minFrames: 10 });
    for (let i = 0; i < 10; i++) auto.addFrame({ 'svm-au': p(i / 10) }, new Float32Array(FEATURE_COUNT).fill(i));
    const b = auto.baseline(new Date())!;
    expect(b.models['svm-au']!.input).toBe('features');
    expect(b.models['svm-au']!.captured[0]).toBe(9);
  });
});
