/** A tiny FER2013-format CSV (random pixels) for fast training tests that need no real data. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IMAGE_PIXELS } from '../../src/core/labels.ts';
import type { TrainCnnOptions } from '../../src/train/cnn/train-cnn.ts';

export async function writeSyntheticFer(dir: string, perSplit = { Training: 40, PublicTest: 14, PrivateTest: 14 }): Promise<string> {
  let seed = 1;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % 256;
  const lines = ['emotion,pixels,Usage'];
  for (const [usage, n] of Object.entries(perSplit)) {
    for (let i = 0; i < n; i++) lines.push(`${i % 7},${Array.from({ length: IMAGE_PIXELS }, rnd).join(' ')},${usage}`);
  }
  const file = join(dir, 'fer2013.csv');
  await writeFile(file, lines.join('\n') + '\n');
  return file;
}

/** Options for a one-worker tiny-arch run on `data`, writing under `dir`. */
export function tinyRun(dir: string, data: string, extra: Partial<TrainCnnOptions> = {}): TrainCnnOptions {
  return {
    arch: 'tiny',
    epochs: 1,
    batchSize: 16,
    lr: 0.002,
    schedule: 'constant',
    labelSmoothing: 0,
    augment: false,
    tta: false,
    patience: 10,
    out: join(dir, 'models', 'fer-cnn-test'),
    checkpointDir: join(dir, 'ckpt'),
    resume: false,
    data,
    workers: 1,
    seed: 1,
    backend: 'wasm',
    fastKernels: true,
    id: 'fer-cnn-test',
    name: 'test',
    log: () => {},
    ...extra,
  };
}
