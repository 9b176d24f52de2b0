/** Expression-intensity augmentation of the fusion rows (src/train/data/intensity.ts) and its option. */
import { describe, expect, it } from 'vitest';
import { EMOTIONS, NUM_CLASSES } from '../../../src/core/labels.ts';
import { mulberry32 } from '../../../src/core/random.ts';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFusionArgs, parseSvmArgs } from '../../../src/train/commands/train-args.ts';
import { svmCommand } from '../../../src/train/svm/train-svm.ts';
import { crossValidate } from '../../../src/train/fusion/command.ts';
import { augmentIntensity, formatIntensity, neutralMean, parseIntensity } from '../../../src/train/data/intensity.ts';
import { fitLogreg, fitStandardizer, predictLogreg, standardize } from '../../../src/train/fusion/logreg.ts';
import { UsageError } from '../../../src/train/util/cli-args.ts';

const NEUTRAL = EMOTIONS.indexOf('neutral');

/**
 * Faces as points: neutral near `base`, each other class along its own direction at `strength`
 * (FER2013-like strong expressions: 1; mild real faces: lower), with noise.
 */
function faces(perClass: number, strength: number, seed: number): { rows: Float64Array[]; labels: Uint8Array } {
  const r = mulberry32(seed);
  const d = NUM_CLASSES;
  const base = Float64Array.from({ length: d }, (_, j) => 0.5 + j / 10);
  const rows: Float64Array[] = [];
  const labels: number[] = [];
  for (let c = 0; c < NUM_CLASSES; c++) {
    for (let i = 0; i < perClass; i++) {
      rows.push(Float64Array.from(base, (b, j) => b + (c !== NEUTRAL && j === c ? 3 * strength : 0) + 0.6 * (r() - 0.5)));
      labels.push(c);
    }
  }
  return { rows, labels: Uint8Array.from(labels) };
}

describe('expression-intensity augmentation', () => {
  const strong = faces(40, 1, 1);

  it('adds copies of the non-neutral rows only, labels kept, originals untouched, seeded', () => {
    const before = strong.rows.map((r) => Array.from(r));
    const spec = { low: 0.3, high: 1, copies: 2 };
    const a = augmentIntensity(strong.rows, strong.labels, spec, 7);
    const n = strong.rows.length;
    const nonNeutral = Array.from(strong.labels).filter((y) => y !== NEUTRAL);
    expect(a.rows).toHaveLength(n + 2 * nonNeutral.length);
    expect(Array.from(a.labels.subarray(0, n))).toEqual(Array.from(strong.labels));
    expect(Array.from(a.labels.subarray(n))).toEqual([...nonNeutral, ...nonNeutral]);
    expect(a.rows.slice(0, n).map((r) => Array.from(r))).toEqual(before);
    expect(strong.rows.map((r) => Array.from(r))).toEqual(before);
    const b = augmentIntensity(strong.rows, strong.labels, spec, 7);
    expect(b.rows.map((r) => Array.from(r))).toEqual(a.rows.map((r) => Array.from(r)));
    const c = augmentIntensity(strong.rows, strong.labels, spec, 8);
    expect(c.rows.slice(n).map((r) => Array.from(r))).not.toEqual(a.rows.slice(n).map((r) => Array.from(r)));
  });

  it('each copy lies on the segment from the neutral mean to its row, at a factor within the range', () => {
    const spec = { low: 0.3, high: 0.8, copies: 1 };
    const a = augmentIntensity(strong.rows, strong.labels, spec, 3);
    const mean = neutralMean(strong.rows, strong.labels);
    const sources = strong.rows.filter((_, i) => strong.labels[i] !== NEUTRAL);
    const factors = sources.map((src, i) => {
      const copy = a.rows[strong.rows.length + i]!;
      const f = (copy[0]! - mean[0]!) / (src[0]! - mean[0]!);
      for (let j = 0; j < src.length; j++) expect(copy[j]).toBeCloseTo(mean[j]! + f * (src[j]! - mean[j]!), 9);
      return f;
    });
    expect(Math.min(...factors)).toBeGreaterThanOrEqual(0.3);
    expect(Math.max(...factors)).toBeLessThanOrEqual(0.8);
    expect(Math.max(...factors) - Math.min(...factors)).toBeGreaterThan(0.3); // spread over the range, not one value
  });

  it('the neutral mean skips missing values; no neutral row is an error', () => {
    const labels = Uint8Array.of(NEUTRAL, NEUTRAL, 0);
    const mean = neutralMean([Float64Array.of(1, NaN), Float64Array.of(3, 4), Float64Array.of(100, 100)], labels);
    expect(Array.from(mean)).toEqual([2, 4]);
    expect(() => neutralMean([Float64Array.of(1)], Uint8Array.of(0))).toThrow(/no neutral row/);
  });

  it('a model fitted with the copies recognises mild expressions that one fitted on strong ones calls neutral', () => {
    const mild = faces(40, 0.35, 99);
    const recallMild = (rows: Float64Array[], labels: Uint8Array) => {
      const st = fitStandardizer(rows);
      const fit = fitLogreg(standardize(rows, st), labels, { l2: 1e-3 });
      const pred = predictLogreg(fit, standardize(mild.rows, st)).map((p) => Array.from(p).indexOf(Math.max(...p)));
      const idx = pred.map((_, i) => i).filter((i) => mild.labels[i] !== NEUTRAL);
      return idx.filter((i) => pred[i] === mild.labels[i]).length / idx.length;
    };
    const plain = recallMild(strong.rows, strong.labels);
    const a = augmentIntensity(strong.rows, strong.labels, { low: 0.2, high: 1, copies: 1 }, 1);
    const augmented = recallMild(a.rows, a.labels);
    expect(plain).toBeLessThan(0.5);
    expect(augmented).toBeGreaterThan(plain + 0.25);
  });

  it('cross-validation with intensity scores the held-out faces and their copies, and the originals alone', () => {
    const o = { l2s: [1e-3], balances: [0], folds: 4, seed: 2 };
    const [plain] = crossValidate(strong.rows, strong.labels, o);
    const [withCopies] = crossValidate(strong.rows, strong.labels, { ...o, intensity: { low: 0.2, high: 1, copies: 2 } });
    expect(plain!.original).toBeUndefined();
    const n = strong.rows.length;
    const scored = n + 2 * (n - 40); // 40 neutral rows get no copies
    const isCount = (acc: number, of: number) => expect(Math.abs(acc * of - Math.round(acc * of))).toBeLessThan(1e-9);
    isCount(withCopies!.original!.accuracy, n);
    isCount(withCopies!.accuracy, scored);
    expect(withCopies!.accuracy).not.toBeCloseTo(withCopies!.original!.accuracy, 6);
    expect(plain!.accuracy).toBeGreaterThan(0.8);
    expect(withCopies!.original!.accuracy).toBeGreaterThan(0.8);
  });
});

describe('--intensity', () => {
  it('parses LOW-HIGH and LOW-HIGHxN, and the fusion command takes it', () => {
    expect(parseIntensity('0.3-1')).toEqual({ low: 0.3, high: 1, copies: 1 });
    expect(parseIntensity('.5-0.9x3')).toEqual({ low: 0.5, high: 0.9, copies: 3 });
    expect(formatIntensity({ low: 0.3, high: 1, copies: 1 })).toBe('0.3-1');
    expect(formatIntensity({ low: 0.3, high: 1, copies: 2 })).toBe('0.3-1x2');
    expect(parseFusionArgs(['--intensity', '0.3-1'])).toMatchObject({ intensity: { low: 0.3, high: 1, copies: 1 } });
    expect(parseFusionArgs([])).not.toHaveProperty('intensity');
    expect(parseFusionArgs(['--name', ' Fusion: 2 CNNs + AU '])).toMatchObject({ name: 'Fusion: 2 CNNs + AU' });
    for (const bad of ['', '   ', 'x'.repeat(61), 'a\nb']) expect(() => parseFusionArgs(['--name', bad]), bad).toThrow(/--name/);
  });

  it('refuses what is not a range within (0, 1] with a message naming the option', () => {
    for (const bad of ['1', '0-1', '0.8-0.3', '0.3-1.5', '0.3-1x0', '0.3-1x11', 'a-b', '0.3-1x']) {
      expect(() => parseIntensity(bad), bad).toThrow(UsageError);
      expect(() => parseFusionArgs(['--intensity', bad]), bad).toThrow(/--intensity/);
    }
  });
});

describe('svm-au --intensity', () => {
  it('parses like the fusion option; svm-pixels and personal folders refuse it before any work', async () => {
    expect(parseSvmArgs(['--intensity', '0.3-1x2'])).toMatchObject({ intensity: { low: 0.3, high: 1, copies: 2 } });
    expect(parseSvmArgs([])).not.toHaveProperty('intensity');
    expect(() => parseSvmArgs(['--intensity', '0-1'])).toThrow(/--intensity/);
    const dir = mkdtempSync(join(tmpdir(), 'svm-intensity-'));
    try {
      const args = parseSvmArgs(['--intensity', '0.3-1', '--out', join(dir, 'svm-pixels')]);
      if (args === 'help') throw new Error('unexpected help');
      await expect(svmCommand('svm-pixels', args)).rejects.toThrow(UsageError);
      await expect(svmCommand('svm-pixels', args)).rejects.toThrow(/--intensity is for svm-au/);
      const personal = parseSvmArgs(['--intensity', '0.3-1', '--data', dir, '--out', join(dir, 'svm-au-personal')]);
      if (personal === 'help') throw new Error('unexpected help');
      await expect(svmCommand('svm-au', personal)).rejects.toThrow(/not for svm-pixels or a personal folder/);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
