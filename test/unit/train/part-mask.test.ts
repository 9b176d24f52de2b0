/** Hiding half the face in CNN training (--part-mask): the mask, its odds, the option and the checkpoint refusal. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IMAGE_PIXELS, IMAGE_SIZE } from '../../../src/core/labels.ts';
import { mulberry32 } from '../../../src/core/random.ts';
import { augmentBatch, maskHalfInto, NO_AUGMENTATION, PART_MASK_SPLIT, REFERENCE_AUGMENTATION } from '../../../src/learn/augment.ts';
import { openRunCheckpoint, type CheckpointSettings } from '../../../src/train/cnn/run-checkpoint.ts';
import { parseCnnArgs } from '../../../src/train/commands/train-args.ts';
import { savedCheckpoint, TINY_SETTINGS } from '../../helpers/checkpoint-fixture.ts';
import { usageMessage } from '../../helpers/usage-error.ts';

const SPLIT = PART_MASK_SPLIT * IMAGE_SIZE;

function images(n: number, seed: number): Uint8Array {
  const r = mulberry32(seed);
  return new Uint8Array(n * IMAGE_PIXELS).map(() => Math.floor(r() * 256));
}

/** Which half of image i is one flat value (the mask), or 'none'. */
function maskedHalf(out: Float32Array, i: number): 'upper' | 'lower' | 'none' {
  const img = out.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS);
  const flat = (a: Float32Array) => a.every((v) => v === a[0]);
  if (flat(img.subarray(0, SPLIT))) return 'upper';
  if (flat(img.subarray(SPLIT))) return 'lower';
  return 'none';
}

describe('maskHalfInto', () => {
  it("fills one half with the image's mean and leaves the other half as it was", () => {
    const img = Float32Array.from(images(1, 1), (v) => v / 255);
    const mean = img.reduce((s, v) => s + v, 0) / IMAGE_PIXELS;
    for (const half of ['upper', 'lower'] as const) {
      const out = new Float32Array(IMAGE_PIXELS + 10);
      out.set(img, 10);
      maskHalfInto(out, 10, half);
      const [hidden, kept] =
        half === 'upper'
          ? [out.subarray(10, 10 + SPLIT), out.subarray(10 + SPLIT)]
          : [out.subarray(10 + SPLIT), out.subarray(10, 10 + SPLIT)];
      for (const v of hidden) expect(v).toBeCloseTo(mean, 6);
      expect(Array.from(kept)).toEqual(Array.from(half === 'upper' ? img.subarray(SPLIT) : img.subarray(0, SPLIT)));
      expect(Array.from(out.subarray(0, 10))).toEqual(new Array(10).fill(0));
    }
  });
});

describe('partMask in augmentBatch', () => {
  it('hides the upper or the lower half of about that share of images, at even odds, repeatably for a seed', () => {
    const px = images(400, 2);
    const rows = Array.from({ length: 400 }, (_, i) => i);
    const out = augmentBatch(px, rows, { ...REFERENCE_AUGMENTATION, partMask: 0.3 }, mulberry32(3));
    const halves = rows.map((i) => maskedHalf(out, i));
    const upper = halves.filter((h) => h === 'upper').length;
    const lower = halves.filter((h) => h === 'lower').length;
    expect((upper + lower) / 400).toBeGreaterThan(0.22);
    expect((upper + lower) / 400).toBeLessThan(0.38);
    expect(Math.abs(upper - lower)).toBeLessThan(0.4 * (upper + lower));
    expect(augmentBatch(px, rows, { ...REFERENCE_AUGMENTATION, partMask: 0.3 }, mulberry32(3))).toEqual(out);
  });

  it('off (undefined or 0) draws nothing more: the same images as before the option existed', () => {
    const px = images(20, 4);
    const rows = Array.from({ length: 20 }, (_, i) => i);
    const plain = augmentBatch(px, rows, REFERENCE_AUGMENTATION, mulberry32(5));
    expect(augmentBatch(px, rows, { ...REFERENCE_AUGMENTATION, partMask: 0 }, mulberry32(5))).toEqual(plain);
    expect(rows.every((i) => maskedHalf(plain, i) === 'none')).toBe(true);
    // Every image masked with probability 1, and the rest of each image untouched by it.
    const all = augmentBatch(px, rows, { ...NO_AUGMENTATION, partMask: 1 }, mulberry32(5));
    for (const i of rows) {
      const half = maskedHalf(all, i);
      expect(half).not.toBe('none');
      const keep = half === 'upper' ? [SPLIT, IMAGE_PIXELS] : [0, SPLIT];
      for (let k = keep[0]!; k < keep[1]!; k++) expect(all[i * IMAGE_PIXELS + k]).toBeCloseTo(px[i * IMAGE_PIXELS + k]! / 255, 6);
    }
  });
});

describe('--part-mask', () => {
  const usage = (args: string[]) => usageMessage(() => parseCnnArgs(args));

  it('takes a probability in (0, 1] and refuses it with --no-augment', () => {
    const o = parseCnnArgs(['--part-mask', '0.3']);
    expect(o !== 'help' && o.partMask).toBe(0.3);
    const none = parseCnnArgs([]);
    expect(none !== 'help' && none.partMask).toBeUndefined();
    for (const bad of ['0', '-0.1', '1.5', 'x']) expect(usage(['--part-mask', bad]), bad).toMatch(/--part-mask/);
    expect(usage(['--part-mask', '0.3', '--no-augment'])).toMatch(/--part-mask and --no-augment contradict/);
  });

  it('a resume with another probability, or without it, is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'part-mask-ck-'));
    try {
      const settings: CheckpointSettings = { ...TINY_SETTINGS, partMask: 0.3 };
      const o = await savedCheckpoint(dir, settings);
      await expect(openRunCheckpoint(o, settings)).resolves.toMatchObject({ clearOld: false });
      await expect(openRunCheckpoint(o, { ...settings, partMask: 0.5 })).rejects.toThrow(/--part-mask 0\.3 -> 0\.5/);
      const { partMask: _, ...without } = settings;
      await expect(openRunCheckpoint(o, without)).rejects.toThrow(/--part-mask 0\.3 -> unset/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
