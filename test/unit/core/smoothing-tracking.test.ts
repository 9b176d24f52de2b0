import { describe, expect, it } from 'vitest';
import { emaAlpha, emaStep, ProbabilitySmoother } from '../../../src/core/smoothing.ts';
import { FaceTracker, iou } from '../../../src/core/tracking.ts';

describe('smoothing', () => {
  it('weights new samples by elapsed time', () => {
    expect(emaAlpha(100, 0)).toBe(1);
    expect(emaAlpha(0, 100)).toBe(0);
    expect(emaAlpha(100, 100)).toBeCloseTo(1 - Math.exp(-1), 12);
    // Two 50 ms steps equal one 100 ms step.
    const a = emaAlpha(50, 200);
    expect(1 - (1 - a) * (1 - a)).toBeCloseTo(emaAlpha(100, 200), 12);
  });

  it('steps element-wise', () => {
    expect(emaStep([0, 1], [1, 0], 0.25)).toEqual([0.25, 0.75]);
    expect(() => emaStep([0], [0, 1], 0.5)).toThrow(/mismatch/);
  });

  it('passes the first sample through, then converges, per key', () => {
    const s = new ProbabilitySmoother(100);
    expect(s.update('1/m', [1, 0], 0)).toEqual([1, 0]);
    const v = s.update('1/m', [0, 1], 100);
    expect(v[1]).toBeCloseTo(1 - Math.exp(-1), 9);
    expect(v[0]! + v[1]!).toBeCloseTo(1, 9);
    expect(s.update('2/m', [0, 1], 100)).toEqual([0, 1]);
    let last = v;
    for (let t = 200; t <= 2000; t += 100) last = s.update('1/m', [0, 1], t);
    expect(last[1]).toBeGreaterThan(0.999);
    s.prune((k) => k.startsWith('2/'));
    expect(s.size).toBe(1);
    s.tauMs = 0;
    expect(s.update('2/m', [0.3, 0.7], 3000)).toEqual([0.3, 0.7]);
    s.clear();
    expect(s.size).toBe(0);
  });
});

describe('tracking', () => {
  const box = (x: number, y: number, w = 100, h = 100) => ({ x, y, width: w, height: h });

  it('computes IoU', () => {
    expect(iou(box(0, 0), box(0, 0))).toBe(1);
    expect(iou(box(0, 0), box(200, 0))).toBe(0);
    expect(iou(box(0, 0), box(50, 0))).toBeCloseTo(50 / 150, 12);
  });

  it('keeps ids for moving faces, in any detection order', () => {
    const t = new FaceTracker();
    const [a, b] = t.update([box(0, 0), box(300, 0)], 0);
    expect(a).not.toBe(b);
    expect(t.update([box(310, 5), box(10, 5)], 33)).toEqual([b, a]);
    expect(t.update([box(20, 10)], 66)).toEqual([a]);
    // b is gone for longer than maxAgeMs, then a new face there gets a new id.
    const [c] = t.update([box(300, 0)], 1000);
    expect(c).not.toBe(b);
    expect(c).not.toBe(a);
    expect(t.liveIds()).toEqual(new Set([c]));
  });

  it('gives the best-overlapping track to the closest box only', () => {
    const t = new FaceTracker();
    const [a] = t.update([box(0, 0)], 0);
    const ids = t.update([box(60, 0), box(5, 0)], 10);
    expect(ids[1]).toBe(a);
    expect(ids[0]).not.toBe(a);
    t.reset();
    expect(t.liveIds().size).toBe(0);
    expect(t.update([box(0, 0)], 20)).toEqual([1]);
  });
});
