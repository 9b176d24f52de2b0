/** The learning-rate schedule of the training loop (src/train/cnn/train-loop.ts). */
import { describe, expect, it } from 'vitest';
import { learningRate } from '../../../src/train/cnn/train-loop.ts';

describe('learning-rate schedule', () => {
  it('constant stays constant', () => {
    expect(learningRate({ lr: 0.01, schedule: 'constant', epochs: 3 }, 0, 10)).toBe(0.01);
    expect(learningRate({ lr: 0.01, schedule: 'constant', epochs: 3 }, 29, 10)).toBe(0.01);
  });
  it('cosine warms up linearly over the first epoch, peaks, then decays to ~0', () => {
    const o = { lr: 0.01, schedule: 'cosine' as const, epochs: 3 };
    expect(learningRate(o, 0, 10)).toBeCloseTo(0.001, 10);
    expect(learningRate(o, 9, 10)).toBeCloseTo(0.01, 10);
    expect(learningRate(o, 10, 10)).toBeCloseTo(0.01, 10);
    expect(learningRate(o, 20, 10)).toBeCloseTo(0.005, 10);
    expect(learningRate(o, 29, 10)).toBeLessThan(0.0002);
  });
});
