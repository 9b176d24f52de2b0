import { describe, it, expect, afterEach } from 'vitest';
import { TrainingPool } from '../../src/train/cnn/parallel/pool.ts';
import { NO_AUGMENTATION, REFERENCE_AUGMENTATION } from '../../src/learn/augment.ts';
import { mulberry32 } from '../../src/core/random.ts';
import { IMAGE_PIXELS, NUM_CLASSES } from '../../src/core/labels.ts';

// The tiny arch has neither dropout nor BatchNorm, so a step is a deterministic function of the
// weights and the batch: 1 vs 2 workers and fast vs reference kernels must agree up to rounding.
const n = 96;
const rand = mulberry32(3);
const pixels = new Uint8Array(n * IMAGE_PIXELS).map(() => Math.floor(rand() * 256));
const labels = new Uint8Array(n).map(() => Math.floor(rand() * NUM_CLASSES));

const pools: TrainingPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

async function run(workers: number, fastKernels: boolean) {
  const pool = await TrainingPool.start({
    workers,
    arch: 'tiny',
    seed: 5,
    backend: 'wasm',
    fastKernels,
    labelSmoothing: 0.1,
    augment: NO_AUGMENTATION,
    pixels,
    labels,
  });
  pools.push(pool);
  const losses: number[] = [];
  for (let s = 0; s < 4; s++) {
    const rows = Int32Array.from({ length: 32 }, (_, i) => (s * 32 + i * 7) % n);
    losses.push((await pool.step(rows, 5e-3, s)).loss);
  }
  const weights = await pool.getWeights();
  return { losses, weights };
}

function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  a.forEach((w, i) =>
    w.forEach((v, j) => {
      m = Math.max(m, Math.abs(v - b[i][j]));
    }),
  );
  return m;
}

/** Augmented steps, telling the workers the next batch ahead ('right'), a wrong one, or nothing. */
async function runAugmented(next: 'none' | 'right' | 'wrong') {
  const pool = await TrainingPool.start({
    workers: 2,
    arch: 'tiny',
    seed: 5,
    backend: 'wasm',
    fastKernels: true,
    labelSmoothing: 0.1,
    augment: REFERENCE_AUGMENTATION,
    pixels,
    labels,
  });
  pools.push(pool);
  const rows = (s: number) => Int32Array.from({ length: 32 }, (_, i) => (s * 32 + i * 7) % n);
  const losses: number[] = [];
  for (let s = 0; s < 4; s++) {
    const ahead =
      next === 'right'
        ? { rows: rows(s + 1), stepSeed: 100 + s + 1 }
        : next === 'wrong'
          ? { rows: rows(s + 2), stepSeed: 100 + s + 1 }
          : undefined;
    losses.push((await pool.step(rows(s), 5e-3, 100 + s, ahead)).loss);
  }
  return { losses, weights: await pool.getWeights() };
}

describe('data-parallel training', () => {
  it('augmenting the next batch ahead (while gradients are averaged) does not change results', async () => {
    const plain = await runAugmented('none');
    const ahead = await runAugmented('right');
    const wrong = await runAugmented('wrong'); // a stale prepared batch must not be used
    expect(ahead.losses).toEqual(plain.losses);
    expect(wrong.losses).toEqual(plain.losses);
    expect(maxDiff(ahead.weights, plain.weights)).toBe(0);
    expect(maxDiff(wrong.weights, plain.weights)).toBe(0);
  });

  it('1 worker and 2 workers give the same losses and weights (fast kernels)', async () => {
    const one = await run(1, true);
    const two = await run(2, true);
    one.losses.forEach((l, i) => expect(two.losses[i]).toBeCloseTo(l, 4));
    expect(maxDiff(one.weights, two.weights)).toBeLessThan(1e-4);
    // and training moved the weights at all
    const start = await TrainingPool.start({
      workers: 1,
      arch: 'tiny',
      seed: 5,
      backend: 'wasm',
      fastKernels: true,
      labelSmoothing: 0.1,
      augment: NO_AUGMENTATION,
      pixels,
      labels,
    });
    pools.push(start);
    expect(maxDiff(one.weights, await start.getWeights())).toBeGreaterThan(1e-3);
  });

  it('fast kernels and reference kernels give the same losses and weights', async () => {
    const fast = await run(1, true);
    const ref = await run(1, false);
    fast.losses.forEach((l, i) => expect(ref.losses[i]).toBeCloseTo(l, 4));
    expect(maxDiff(fast.weights, ref.weights)).toBeLessThan(1e-4);
  });
});
