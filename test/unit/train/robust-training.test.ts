/**
 * Training for real faces (issue 13): photometric augmentation, class-balanced loss, the app
 * pipeline's crops as a second framing of each FER2013 image, and starting from a trained model.
 * A tiny training run with them: test/integration/robust-training.test.ts.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { IMAGE_PIXELS, NUM_CLASSES } from '../../../src/core/labels.ts';
import { bytesToBase64 } from '../../../src/core/batch.ts';
import { augmentBatch, PHOTOMETRIC_AUGMENTATION, photometricInto, REFERENCE_AUGMENTATION } from '../../../src/learn/augment.ts';
import { smoothedCrossEntropy } from '../../../src/learn/loss.ts';
import { pickCropRows } from '../../../src/train/cnn/train-loop.ts';
import { parseCnnArgs } from '../../../src/train/commands/train-args.ts';
import { classWeightsOf, cropTablesFrom, withCrops } from '../../../src/train/data/crop-data.ts';
import type { ExtractChunk } from '../../../src/train/extract/cache.ts';
import { mulberry32 } from '../../../src/core/random.ts';

const face = (seed: number): Float32Array => {
  const r = mulberry32(seed);
  return Float32Array.from({ length: IMAGE_PIXELS }, () => 0.2 + 0.6 * r());
};

describe('photometric augmentation', () => {
  it('keeps the shape and the [0,1] range, changes the pixels, and is seeded', () => {
    const a = face(1);
    const b = face(1);
    const c = face(1);
    photometricInto(a, 0, PHOTOMETRIC_AUGMENTATION, mulberry32(7));
    photometricInto(b, 0, PHOTOMETRIC_AUGMENTATION, mulberry32(7));
    photometricInto(c, 0, PHOTOMETRIC_AUGMENTATION, mulberry32(8));
    expect(a.length).toBe(IMAGE_PIXELS);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(Array.from(a)).not.toEqual(Array.from(face(1)));
    for (const v of [...a, ...c]) expect(v >= 0 && v <= 1).toBe(true);
  });

  it('touches only its own image in a batch; with all ranges zero it changes nothing', () => {
    const two = new Float32Array(2 * IMAGE_PIXELS);
    two.set(face(2), 0);
    two.set(face(3), IMAGE_PIXELS);
    const before = Float32Array.from(two);
    photometricInto(two, IMAGE_PIXELS, PHOTOMETRIC_AUGMENTATION, mulberry32(1));
    expect(Array.from(two.subarray(0, IMAGE_PIXELS))).toEqual(Array.from(before.subarray(0, IMAGE_PIXELS)));
    const none = { brightness: 0, contrast: 0, gamma: 0, blurProb: 0, downscaleProb: 0, noiseStd: 0, eraseProb: 0 };
    const img = face(4);
    photometricInto(img, 0, none, mulberry32(1));
    for (let i = 0; i < IMAGE_PIXELS; i++) expect(img[i]).toBeCloseTo(face(4)[i]!, 5);
  });

  it('augmentBatch applies it after the warp only when asked', () => {
    const pixels = Uint8Array.from({ length: 3 * IMAGE_PIXELS }, (_, i) => (i * 37) % 256);
    const rows = Int32Array.from([2, 0]);
    const plain = augmentBatch(pixels, rows, REFERENCE_AUGMENTATION, mulberry32(5));
    const again = augmentBatch(pixels, rows, REFERENCE_AUGMENTATION, mulberry32(5));
    const photo = augmentBatch(pixels, rows, { ...REFERENCE_AUGMENTATION, photometric: PHOTOMETRIC_AUGMENTATION }, mulberry32(5));
    expect(Array.from(plain)).toEqual(Array.from(again));
    expect(photo.length).toBe(2 * IMAGE_PIXELS);
    expect(Array.from(photo)).not.toEqual(Array.from(plain));
  });
});

describe('class-balanced loss', () => {
  it('weights average 1 over the rows and favour rare classes; power 0.5 is the square root', () => {
    const labels = [...Array(60).fill(3), ...Array(20).fill(0), ...Array(4).fill(1), 2, 4, 5, 6];
    const w1 = classWeightsOf(labels, 1);
    const wh = classWeightsOf(labels, 0.5);
    const mean = (w: number[]) => labels.reduce((a, y) => a + w[y]!, 0) / labels.length;
    expect(mean(w1)).toBeCloseTo(1, 10);
    expect(mean(wh)).toBeCloseTo(1, 10);
    expect(w1[1]! / w1[3]!).toBeCloseTo(15, 8); // 60 / 4
    expect(wh[1]! / wh[3]!).toBeCloseTo(Math.sqrt(15), 8);
  });

  it('scales each sample by its class weight', () => {
    const y = tf.oneHot(tf.tensor1d([0, 1], 'int32'), NUM_CLASSES).toFloat();
    const p = tf.tensor2d([
      [0.5, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05],
      [0.2, 0.4, 0.1, 0.1, 0.1, 0.05, 0.05],
    ]);
    const w = [2, 0.5, 1, 1, 1, 1, 1];
    const got = smoothedCrossEntropy(y, p, 0, w).dataSync()[0]!;
    expect(got).toBeCloseTo((2 * -Math.log(0.5) + 0.5 * -Math.log(0.4)) / 2, 5);
    expect(smoothedCrossEntropy(y, p, 0).dataSync()[0]!).toBeCloseTo((-Math.log(0.5) - Math.log(0.4)) / 2, 5);
    tf.dispose([y, p]);
  });
});

describe('pipeline crops as a second framing', () => {
  const crop = (v: number) => bytesToBase64(new Uint8Array(IMAGE_PIXELS).fill(v));
  const record = (id: string, split: 'train' | 'val' | 'test', v?: number) => ({
    id,
    split,
    label: 0,
    status: v === undefined ? ('no-face' as const) : ('face' as const),
    faces: v === undefined ? 0 : 1,
    ...(v === undefined
      ? {}
      : {
          face: {
            box: [0, 0, 1, 1] as [number, number, number, number],
            crop: crop(v),
            landmarks: '',
            blendshapes: '',
            transform: null,
            features: '',
          },
        }),
  });

  it('puts each found crop at its image index, per split, and skips no-face and out-of-range records', () => {
    const chunks: ExtractChunk[] = [
      {
        start: 0,
        blendshapeNames: [],
        records: [
          record('train/0', 'train', 10),
          record('train/1', 'train'),
          record('train/2', 'train', 30),
          record('val/0', 'val', 40),
          record('train/9', 'train', 90),
        ],
      },
    ];
    const t = cropTablesFrom(chunks, { train: 3, val: 1, test: 0 });
    expect(Array.from(t.train.has)).toEqual([1, 0, 1]);
    expect(t.train.found).toBe(2);
    expect(t.train.pixels[0]).toBe(10);
    expect(t.train.pixels[IMAGE_PIXELS]).toBe(0);
    expect(t.train.pixels[2 * IMAGE_PIXELS]).toBe(30);
    expect(t.val.pixels[0]).toBe(40);
    const both = withCrops({ pixels: new Uint8Array(3 * IMAGE_PIXELS).fill(200), labels: Uint8Array.from([4, 5, 6]), count: 3 }, t.train);
    expect(Array.from(both.labels)).toEqual([4, 5, 6, 4, 5, 6]);
    expect(both.pixels[0]).toBe(200);
    expect(both.pixels[3 * IMAGE_PIXELS]).toBe(10);
  });

  it('pickCropRows swaps only images with a crop, as often as the mix says, reproducibly', () => {
    const n = 1000;
    const has = Uint8Array.from({ length: n }, (_, i) => (i % 4 === 0 ? 0 : 1));
    const order = () => Int32Array.from({ length: n }, (_, i) => i);
    const none = order();
    pickCropRows(none, has, 0, 1);
    expect(Array.from(none)).toEqual(Array.from(order()));
    const all = order();
    pickCropRows(all, has, 1, 1);
    all.forEach((r, i) => expect(r).toBe(has[i] ? i + n : i));
    const half = order();
    const again = order();
    pickCropRows(half, has, 0.5, 3);
    pickCropRows(again, has, 0.5, 3);
    expect(Array.from(half)).toEqual(Array.from(again));
    const swapped = half.filter((r) => r >= n).length;
    expect(swapped).toBeGreaterThan(0.4 * 750);
    expect(swapped).toBeLessThan(0.6 * 750);
  });
});

describe('the cnn command options', () => {
  it('parses the robustness options and refuses inconsistent ones', () => {
    const o = parseCnnArgs(['--init', 'models/fer-cnn', '--crops', '--crop-mix', '0.3', '--photometric', '--balance', '0.5']);
    expect(o).toMatchObject({ crops: true, cropMix: 0.3, photometric: true, balance: 0.5 });
    expect(() => parseCnnArgs(['--crop-mix', '0.3'])).toThrow(/--crop-mix needs --crops/);
    expect(() => parseCnnArgs(['--balance', '0'])).toThrow(/--balance/);
    expect(() => parseCnnArgs(['--balance', '2'])).toThrow(/--balance/);
    expect(() => parseCnnArgs(['--photometric', '--no-augment'])).toThrow(/contradict/);
  });
});
