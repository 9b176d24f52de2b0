import { describe, it, expect } from 'vitest';
import { augmentBatch, NO_AUGMENTATION, REFERENCE_AUGMENTATION } from '../../../src/learn/augment.ts';
import { mulberry32, shuffledIndices } from '../../../src/core/random.ts';
import { IMAGE_PIXELS, IMAGE_SIZE } from '../../../src/core/labels.ts';

function images(n: number, seed: number): Uint8Array {
  const r = mulberry32(seed);
  return new Uint8Array(n * IMAGE_PIXELS).map(() => Math.floor(r() * 256));
}

describe('augmentation', () => {
  it('keeps shape and [0,1] range, and leaves labels alone (it only sees pixels)', () => {
    const px = images(8, 1);
    const labels = Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 0]);
    const before = labels.slice();
    const out = augmentBatch(px, [3, 1, 7, 0], REFERENCE_AUGMENTATION, mulberry32(2));
    expect(out.length).toBe(4 * IMAGE_PIXELS);
    for (const v of out) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    expect(labels).toEqual(before);
  });

  it('without augmentation is an exact copy scaled to [0,1]', () => {
    const px = images(2, 3);
    const out = augmentBatch(px, [1], NO_AUGMENTATION, mulberry32(4));
    for (let i = 0; i < IMAGE_PIXELS; i++) expect(out[i]).toBeCloseTo(px[IMAGE_PIXELS + i] / 255, 6);
  });

  it('flip only mirrors each row exactly', () => {
    const px = images(1, 5);
    // rand() < 0.5 picks the flip; a generator that always returns 0 forces it and zero transforms.
    const out = augmentBatch(px, [0], { rotationDeg: 10, shift: 0.1, zoom: 0.1, flip: true }, () => 0.5);
    const flipped = augmentBatch(px, [0], { rotationDeg: 0, shift: 0, zoom: 0, flip: true }, () => 0);
    // rand()=0.5 => angle 0, scale 1, shift 0, no flip: identity.
    for (let i = 0; i < IMAGE_PIXELS; i++) expect(out[i]).toBeCloseTo(px[i] / 255, 5);
    for (let y = 0; y < IMAGE_SIZE; y++) {
      for (let x = 0; x < IMAGE_SIZE; x++)
        expect(flipped[y * IMAGE_SIZE + x]).toBeCloseTo(px[y * IMAGE_SIZE + IMAGE_SIZE - 1 - x] / 255, 6);
    }
  });

  it('changes the image when transforms are drawn, and is reproducible for a seed', () => {
    const px = images(1, 6);
    const a = augmentBatch(px, [0], REFERENCE_AUGMENTATION, mulberry32(9));
    const b = augmentBatch(px, [0], REFERENCE_AUGMENTATION, mulberry32(9));
    expect(a).toEqual(b);
    let diff = 0;
    for (let i = 0; i < IMAGE_PIXELS; i++) diff += Math.abs(a[i] - px[i] / 255);
    expect(diff / IMAGE_PIXELS).toBeGreaterThan(0.01);
  });

  it('a constant image stays constant under any transform (edge replication, no black borders)', () => {
    const px = new Uint8Array(IMAGE_PIXELS).fill(128);
    const out = augmentBatch(px, [0], REFERENCE_AUGMENTATION, mulberry32(11));
    for (const v of out) expect(v).toBeCloseTo(128 / 255, 5);
  });

  it('shuffledIndices is a seeded permutation', () => {
    const a = shuffledIndices(100, 1);
    expect([...a].sort((x, y) => x - y)).toEqual([...Array(100).keys()]);
    expect(shuffledIndices(100, 1)).toEqual(a);
    expect(shuffledIndices(100, 2)).not.toEqual(a);
  });
});
