import { describe, expect, it } from 'vitest';
import { heldOutCount, splitByTime } from '../../../src/core/calibration/split.ts';

describe('calibration held-out split', () => {
  it('holds out ceil(20 %) of each emotion, keeping at least one sample to train on', () => {
    expect([0, 1, 2, 3, 5, 6, 10, 40, 41].map((n) => heldOutCount(n))).toEqual([0, 0, 1, 1, 1, 2, 2, 8, 9]);
    expect(() => heldOutCount(5, 1)).toThrow(/fraction/);
  });

  it('holds out the LAST samples of each emotion by time, whatever order they come in', () => {
    // Emotion 3: times 50, 10, 40, 20, 30 (shuffled); emotion 0: 5, 1, 3 (shuffled) + interleaved.
    const samples = [
      { t: 50, label: 3 },
      { t: 5, label: 0 },
      { t: 10, label: 3 },
      { t: 40, label: 3 },
      { t: 1, label: 0 },
      { t: 20, label: 3 },
      { t: 3, label: 0 },
      { t: 30, label: 3 },
    ];
    const split = splitByTime(samples);
    // Emotion 0 (3 samples): the one at t=5 held out; emotion 3 (5 samples): the one at t=50.
    expect(split.heldOut.map((i) => samples[i]!.t)).toEqual([5, 50]);
    expect(split.train.map((i) => samples[i]!.t)).toEqual([1, 3, 10, 20, 30, 40]);
    // A partition of all samples.
    expect([...split.train, ...split.heldOut].sort((a, b) => a - b)).toEqual(samples.map((_, i) => i));
  });

  it('keeps a lone sample for training and rejects a sample without a time', () => {
    expect(splitByTime([{ t: 1, label: 2 }])).toEqual({ train: [0], heldOut: [] });
    expect(() => splitByTime([{ t: NaN, label: 2 }])).toThrow(/sample 0: time t is NaN/);
  });
});
