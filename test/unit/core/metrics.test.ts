import { describe, it, expect } from 'vitest';
import { confusionMatrix, classificationReport, argmaxRows } from '../../../src/core/metrics.ts';

describe('confusionMatrix', () => {
  it('puts true classes in rows and predictions in columns', () => {
    const cm = confusionMatrix([0], [2], 3);
    expect(cm).toEqual([
      [0, 0, 1],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(cm[0]![2]).toBe(1);
    expect(confusionMatrix([2], [0], 3)[2]![0]).toBe(1);
  });

  it('accepts typed arrays and validates input', () => {
    expect(confusionMatrix(new Uint8Array([1, 1]), new Int32Array([1, 0]), 2)).toEqual([
      [0, 0],
      [1, 1],
    ]);
    expect(() => confusionMatrix([0, 1], [0], 2)).toThrow(/entries/);
    expect(() => confusionMatrix([3], [0], 3)).toThrow(RangeError);
    expect(() => confusionMatrix([0], [-1], 3)).toThrow(RangeError);
    expect(() => confusionMatrix([0], [0.5], 3)).toThrow(RangeError);
  });
});

describe('classificationReport', () => {
  /*
   * Hand-worked 3-class example.
   *   yTrue = 0 0 0 1 1 2 2 2 2
   *   yPred = 0 1 2 1 1 2 2 0 2
   * Confusion matrix (rows true, cols predicted):
   *            p0 p1 p2 | support
   *   t0        1  1  1 |  3
   *   t1        0  2  0 |  2
   *   t2        1  0  3 |  4
   *   col sums  2  3  4 |  9        accuracy = (1+2+3)/9 = 2/3
   * class 0: P = 1/2, R = 1/3, F1 = 2*(1/6)/(5/6) = 2/5
   * class 1: P = 2/3, R = 2/2 = 1, F1 = 2*(2/3)/(5/3) = 4/5
   * class 2: P = 3/4, R = 3/4, F1 = 3/4
   * macro:    P = (1/2 + 2/3 + 3/4)/3 = 23/36, R = (1/3 + 1 + 3/4)/3 = 25/36, F1 = (0.4+0.8+0.75)/3 = 0.65
   * weighted (3,2,4)/9:
   *           P = (3*1/2 + 2*2/3 + 4*3/4)/9 = (35/6)/9 = 35/54
   *           R = (1 + 2 + 3)/9 = 2/3 (always equals accuracy)
   *           F1 = (3*0.4 + 2*0.8 + 4*0.75)/9 = 5.8/9 = 29/45
   */
  const yTrue = [0, 0, 0, 1, 1, 2, 2, 2, 2];
  const yPred = [0, 1, 2, 1, 1, 2, 2, 0, 2];
  const labels = ['a', 'b', 'c'];

  it('matches hand-computed values', () => {
    const cm = confusionMatrix(yTrue, yPred, 3);
    expect(cm).toEqual([
      [1, 1, 1],
      [0, 2, 0],
      [1, 0, 3],
    ]);
    const rep = classificationReport(cm, labels);
    expect(rep.accuracy).toBeCloseTo(2 / 3, 12);
    const want = [
      { label: 'a', precision: 1 / 2, recall: 1 / 3, f1: 2 / 5, support: 3 },
      { label: 'b', precision: 2 / 3, recall: 1, f1: 4 / 5, support: 2 },
      { label: 'c', precision: 3 / 4, recall: 3 / 4, f1: 3 / 4, support: 4 },
    ];
    rep.perClass.forEach((m, i) => {
      expect(m.label).toBe(want[i]!.label);
      expect(m.support).toBe(want[i]!.support);
      expect(m.precision).toBeCloseTo(want[i]!.precision, 12);
      expect(m.recall).toBeCloseTo(want[i]!.recall, 12);
      expect(m.f1).toBeCloseTo(want[i]!.f1, 12);
    });
    expect(rep.macroAvg.precision).toBeCloseTo(23 / 36, 12);
    expect(rep.macroAvg.recall).toBeCloseTo(25 / 36, 12);
    expect(rep.macroAvg.f1).toBeCloseTo(0.65, 12);
    expect(rep.macroAvg.support).toBe(9);
    expect(rep.weightedAvg.precision).toBeCloseTo(35 / 54, 12);
    expect(rep.weightedAvg.recall).toBeCloseTo(2 / 3, 12);
    expect(rep.weightedAvg.f1).toBeCloseTo(29 / 45, 12);
    expect(rep.weightedAvg.support).toBe(9);
  });

  it('uses 0 for zero divisions', () => {
    // Class 2 never occurs and is never predicted; class 1 occurs but is never predicted.
    const cm = [
      [2, 0, 0],
      [1, 0, 0],
      [0, 0, 0],
    ];
    const rep = classificationReport(cm, labels);
    expect(rep.accuracy).toBeCloseTo(2 / 3, 12);
    expect(rep.perClass[1]).toEqual({ label: 'b', precision: 0, recall: 0, f1: 0, support: 1 });
    expect(rep.perClass[2]).toEqual({ label: 'c', precision: 0, recall: 0, f1: 0, support: 0 });
    expect(rep.perClass[0]!.precision).toBeCloseTo(2 / 3, 12);
    expect(rep.perClass[0]!.recall).toBe(1);
    for (const v of [rep.macroAvg.precision, rep.macroAvg.recall, rep.macroAvg.f1]) expect(Number.isFinite(v)).toBe(true);
    const empty = classificationReport(
      [
        [0, 0],
        [0, 0],
      ],
      ['x', 'y'],
    );
    expect(empty.accuracy).toBe(0);
    expect(empty.weightedAvg).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
  });

  it('macro average leaves out classes that never occur (neither true nor predicted)', () => {
    // 3 classes, the third absent: a personal set without that emotion.
    const r = classificationReport(
      [
        [2, 0, 0],
        [1, 1, 0],
        [0, 0, 0],
      ],
      ['a', 'b', 'c'],
    );
    const fa = (2 * (2 / 3) * 1) / (2 / 3 + 1);
    const fb = (2 * 1 * 0.5) / (1 + 0.5);
    expect(r.macroAvg.f1).toBeCloseTo((fa + fb) / 2, 10);
    // A class only predicted (never true) still counts, with F1 0.
    const p = classificationReport(
      [
        [1, 0, 1],
        [0, 2, 0],
        [0, 0, 0],
      ],
      ['a', 'b', 'c'],
    );
    expect(p.macroAvg.recall).toBeCloseTo((0.5 + 1 + 0) / 3, 10);
  });

  it('rejects mismatched labels or non-square matrices', () => {
    expect(() =>
      classificationReport(
        [
          [1, 0],
          [0, 1],
        ],
        ['a'],
      ),
    ).toThrow();
    expect(() => classificationReport([[1, 0], [0]], ['a', 'b'])).toThrow(/square/);
  });
});

describe('argmaxRows', () => {
  it('returns the per-row argmax (first index on ties)', () => {
    const probs = new Float32Array([0.1, 0.7, 0.2, 0.5, 0.2, 0.3, 0.4, 0.4, 0.2, 0, 0, 1]);
    expect([...argmaxRows(probs, 3)]).toEqual([1, 0, 0, 2]);
    expect([...argmaxRows([-3, -1, -2], 3)]).toEqual([1]);
    expect(argmaxRows([], 3).length).toBe(0);
    expect(() => argmaxRows([1, 2, 3, 4], 3)).toThrow(/multiple/);
  });
});
