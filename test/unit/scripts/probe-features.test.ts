import { describe, expect, it } from 'vitest';
import { columnStats, correlation, featureContrasts, NEUTRAL, type ByClass } from '../../../scripts/probe-features.ts';

const rows = (...r: number[][]): Float32Array[] => r.map((x) => Float32Array.from(x));
const byClass = (neutral: Float32Array[], k: number, cls: Float32Array[]): ByClass =>
  Array.from({ length: 7 }, (_, c) => (c === NEUTRAL ? neutral : c === k ? cls : []));

describe('probe:features helpers', () => {
  it('column statistics skip non-finite values', () => {
    expect(columnStats(rows([1], [3], [NaN]), 0)).toEqual({ mean: 2, sd: 1 });
  });

  it("measures each class's departure from neutral in FER2013's neutral standard deviations, in both sets", () => {
    // Feature 0: FER2013 neutral 0 +- 1, angry +2; folder neutral +3, angry +1 (departs -2).
    // Feature 1: constant on FER2013's neutral faces: left out.
    const fer = byClass(rows([-1, 5], [1, 5]), 0, rows([2, 7], [2, 9]));
    const folder = byClass(rows([3, 0]), 0, rows([1, 0]));
    expect(featureContrasts(fer, folder, 0, ['a', 'b'])).toEqual([{ name: 'a', fer: 2, folder: -2, neutralOffset: 3 }]);
  });

  it('correlation is 1 for lists that rise together, -1 for opposite ones', () => {
    expect(correlation([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(correlation([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
  });
});
