/** HOG descriptor (src/core/hog.ts) and the SVM input adapter (src/core/svm/input.ts). */
import { describe, expect, it } from 'vitest';
import { FER_HOG, hog, hogLength } from '../../../src/core/hog.ts';
import { parseSvmInput, svmInputLength, svmInputOf } from '../../../src/core/svm/input.ts';

const image = (f: (x: number, y: number) => number) => Float32Array.from({ length: 48 * 48 }, (_, i) => f(i % 48, Math.floor(i / 48)));

describe('hog', () => {
  it('has (cells-1)^2 blocks of 4 cells x bins values, each block unit length', () => {
    expect(hogLength(FER_HOG)).toBe(7 * 7 * 36);
    const h = hog(image((x, y) => Math.sin(x / 3) + Math.cos(y / 5)));
    expect(h.length).toBe(1764);
    for (let b = 0; b < 49; b++) {
      const norm = Math.hypot(...h.subarray(b * 36, (b + 1) * 36));
      expect(norm).toBeCloseTo(1, 3);
    }
  });

  it('is unchanged by brightness and contrast changes', () => {
    const base = image((x, y) => ((x * 7 + y * 13) % 17) / 17);
    const a = hog(base);
    const b = hog(base.map((v) => 0.3 + 0.5 * v));
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i]!, 5);
  });

  it('puts a vertical edge in the horizontal-gradient bins and a horizontal edge elsewhere', () => {
    const vertical = hog(image((x) => (x < 24 ? 0 : 1)));
    const horizontal = hog(image((_, y) => (y < 24 ? 0 : 1)));
    // Bin centres are at (b + 0.5) * 20 degrees: 0 degrees splits between bins 8 and 0, 90 degrees is bin 4.
    const block = 3 * 7 + 3; // a block on the edge
    const v = vertical.subarray(block * 36, block * 36 + 9);
    const h = horizontal.subarray(block * 36, block * 36 + 9);
    expect(v[0]! + v[8]!).toBeGreaterThan(0.4);
    expect(v[4]!).toBeLessThan(1e-6);
    expect(h[4]!).toBeGreaterThan(0.4);
    expect(h[0]! + h[8]!).toBeLessThan(1e-6);
    expect(vertical).not.toEqual(horizontal);
  });

  it('rejects sizes that cells do not divide and wrong image lengths', () => {
    expect(() => hog(new Float32Array(48 * 48), { size: 48, cell: 7, bins: 9 })).toThrow(/multiple of cell 7/);
    expect(() => hog(new Float32Array(10))).toThrow(/expected 2304 pixels/);
  });
});

describe('SVM input adapter', () => {
  it('feeds features, raw pixels or HOG as the model input says', () => {
    const crop = image((x) => x / 47);
    const features = [1, 2, 3];
    expect(svmInputOf(parseSvmInput({ type: 'au-features' }), crop, features)).toBe(features);
    expect(svmInputOf(parseSvmInput({ type: 'pixels', size: 48 }), crop, features)).toBe(crop);
    const spec = parseSvmInput({ type: 'pixels', size: 48, descriptor: 'hog', hog: { cell: 6, bins: 9 } });
    expect(Array.from(svmInputOf(spec, crop, features))).toEqual(Array.from(hog(crop)));
    expect(svmInputLength(spec, 168)).toBe(1764);
    expect(svmInputLength(parseSvmInput({ type: 'au-features' }), 168)).toBe(168);
    expect(() => parseSvmInput({ type: 'pixels', descriptor: 'lbp' })).toThrow(/unknown pixel descriptor "lbp"/);
  });
});
