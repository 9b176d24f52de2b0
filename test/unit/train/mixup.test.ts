/** Mixup for CNN training: the Beta draws, the batch blend, the --mixup option and the checkpoint refusal. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { betaSample, gammaSample, mulberry32 } from '../../../src/core/random.ts';
import { mixupBatch } from '../../../src/learn/mixup.ts';
import { oneHotTargets } from '../../../src/learn/loss.ts';
import { openRunCheckpoint, type CheckpointSettings } from '../../../src/train/cnn/run-checkpoint.ts';
import { parseCnnArgs } from '../../../src/train/commands/train-args.ts';
import { savedCheckpoint, TINY_SETTINGS } from '../../helpers/checkpoint-fixture.ts';
import { usageMessage } from '../../helpers/usage-error.ts';

const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;

describe('Gamma and Beta draws', () => {
  it('have the right means, stay in range and repeat for a seed', () => {
    const rand = mulberry32(3);
    expect(mean(Array.from({ length: 20000 }, () => gammaSample(3, rand)))).toBeCloseTo(3, 1);
    expect(mean(Array.from({ length: 20000 }, () => gammaSample(0.3, rand)))).toBeCloseTo(0.3, 1);
    const b = Array.from({ length: 20000 }, () => betaSample(2, 5, rand));
    expect(Math.abs(mean(b) - 2 / 7)).toBeLessThan(0.01);
    const u = Array.from({ length: 20000 }, () => betaSample(0.2, 0.2, rand));
    expect(u.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(Math.abs(mean(u) - 0.5)).toBeLessThan(0.02);
    // Beta(0.2, 0.2) is U-shaped: most draws lie near 0 or 1, few in the middle.
    const ends = u.filter((v) => v < 0.1 || v > 0.9).length / u.length;
    expect(ends).toBeGreaterThan(0.6);
    const again = mulberry32(9);
    const first = Array.from({ length: 5 }, () => betaSample(0.4, 0.4, again));
    const replay = mulberry32(9);
    expect(Array.from({ length: 5 }, () => betaSample(0.4, 0.4, replay))).toEqual(first);
  });
});

describe('mixupBatch', () => {
  // Four 3-pixel images whose pixels are all their label, and one-hot targets.
  const labels = [0, 3, 6, 3];
  const images = () => new Float32Array(labels.flatMap((l) => [l, l, l]));

  it('blends every image and target with one partner of the batch by the same weight', () => {
    const x = images();
    const y = oneHotTargets(labels, [0, 1, 2, 3], 7);
    const w = mixupBatch(x, y, 4, 0.4, mulberry32(5));
    expect(w).toHaveLength(4);
    // Some image really was blended with another class (this seed), so the check below has teeth.
    expect(Array.from(w).some((l, i) => l > 0.05 && l < 0.95 && Math.abs(x[i * 3]! - labels[i]!) > 0.05)).toBe(true);
    for (let i = 0; i < 4; i++) {
      const l = w[i]!;
      const row = Array.from(y.subarray(i * 7, i * 7 + 7));
      expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
      expect(row[labels[i]!]).toBeGreaterThanOrEqual(l - 1e-6);
      // The partner read from the image: its label carries the rest of the target, by the same weight.
      const partners = [0, 1, 2, 3].filter((j) => Math.abs(l * labels[i]! + (1 - l) * labels[j]! - x[i * 3]!) < 1e-5);
      expect(partners.length).toBeGreaterThan(0);
      const fits = partners.some((j) => {
        const want = Array.from({ length: 7 }, (_, c) => l * (c === labels[i] ? 1 : 0) + (1 - l) * (c === labels[j] ? 1 : 0));
        return want.every((v, c) => Math.abs(v - row[c]!) < 1e-5);
      });
      expect(fits).toBe(true);
      expect(x[i * 3 + 1]).toBeCloseTo(x[i * 3]!, 6);
    }
    // Seeded: the same seed gives the same batch.
    const x2 = images();
    const y2 = oneHotTargets(labels, [0, 1, 2, 3], 7);
    mixupBatch(x2, y2, 4, 0.4, mulberry32(5));
    expect(Array.from(x2)).toEqual(Array.from(x));
    expect(Array.from(y2)).toEqual(Array.from(y));
  });

  it('a tiny alpha leaves images nearly whole; a batch of one mixes with itself', () => {
    const x = images();
    const y = oneHotTargets(labels, [0, 1, 2, 3], 7);
    const w = mixupBatch(x, y, 4, 0.01, mulberry32(2));
    // With alpha 0.01 the weight is almost always within 1e-3 of 0 or 1: each image is one of the originals.
    for (let i = 0; i < 4; i++) expect(Math.min(w[i]!, 1 - w[i]!)).toBeLessThan(1e-3);
    const one = new Float32Array([1, 2, 3]);
    const t = oneHotTargets([4], [0], 7);
    mixupBatch(one, t, 1, 1, mulberry32(1));
    expect(Array.from(one)).toEqual([1, 2, 3]);
    expect(Array.from(t)).toEqual([0, 0, 0, 0, 1, 0, 0]);
    expect(() => mixupBatch(new Float32Array(5), new Float32Array(14), 2, 1, mulberry32(1))).toThrow(/do not split into 2 rows/);
  });
});

describe('--mixup', () => {
  const usage = (args: string[]) => usageMessage(() => parseCnnArgs(args));

  it('takes alpha in (0, 10] and refuses it with --no-augment', () => {
    const o = parseCnnArgs(['--mixup', '0.2']);
    expect(o !== 'help' && o.mixup).toBe(0.2);
    const none = parseCnnArgs([]);
    expect(none !== 'help' && none.mixup).toBeUndefined();
    for (const bad of ['0', '-1', '11', 'x']) expect(usage(['--mixup', bad]), bad).toMatch(/--mixup/);
    expect(usage(['--mixup', '0.2', '--no-augment'])).toMatch(/--mixup and --no-augment contradict/);
  });

  it('a resume with another alpha, or without mixup, is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mixup-ck-'));
    try {
      const settings: CheckpointSettings = { ...TINY_SETTINGS, mixup: 0.2 };
      const o = await savedCheckpoint(dir, settings);
      await expect(openRunCheckpoint(o, settings)).resolves.toMatchObject({ clearOld: false });
      await expect(openRunCheckpoint(o, { ...settings, mixup: 0.4 })).rejects.toThrow(/--mixup 0\.2 -> 0\.4/);
      const { mixup: _, ...without } = settings;
      await expect(openRunCheckpoint(o, without)).rejects.toThrow(/--mixup 0\.2 -> unset/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
