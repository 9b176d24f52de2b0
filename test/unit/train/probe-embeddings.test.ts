import { describe, expect, it } from 'vitest';
import { NEUTRAL, neutralBaseline, subjectsOf } from '../../../scripts/probe-embeddings.ts';

describe('probe:embeddings helpers', () => {
  it('reads the person from the file name (default: up to the first dot), undefined where the pattern fails', () => {
    expect(subjectsOf(['angry/KA.AN1.39.png', 'neutral/YM.NE2.50.png', 'odd/noperson'], /^([^.]+)\./)).toEqual(['KA', 'YM', undefined]);
  });

  it("moves each row by target minus the mean of the same person's other neutral rows", () => {
    const rows = [Float32Array.of(1, 1), Float32Array.of(3, 5), Float32Array.of(10, 0), Float32Array.of(2, 2), Float32Array.of(7, 7)];
    const labels = [NEUTRAL, NEUTRAL, 0, 3, 3];
    const subjects = ['a', 'a', 'a', 'b', undefined];
    const { rows: out, moved } = neutralBaseline(rows, labels, subjects, Float32Array.of(0, 0));
    // Row 0's other neutral row is row 1 (3, 5); row 1's is row 0 (1, 1); row 2 uses both (mean 2, 3).
    expect(out.map((r) => [...r])).toEqual([
      [-2, -4],
      [2, 4],
      [8, -3],
      // b has no neutral row, the last row no person: unchanged.
      [2, 2],
      [7, 7],
    ]);
    expect(moved).toBe(3);
    // The input rows are not changed.
    expect([...rows[2]!]).toEqual([10, 0]);
  });
});
