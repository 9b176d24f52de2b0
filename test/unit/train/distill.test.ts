/** Knowledge distillation for CNN training: the targets, the --distill options and the checkpoint refusal. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { distillTargets, smoothedCrossEntropy } from '../../../src/learn/loss.ts';
import { openRunCheckpoint, type CheckpointSettings } from '../../../src/train/cnn/run-checkpoint.ts';
import { savedCheckpoint, TINY_SETTINGS } from '../../helpers/checkpoint-fixture.ts';
import { parseCnnArgs } from '../../../src/train/commands/train-args.ts';
import { usageMessage } from '../../helpers/usage-error.ts';
import { initWasm } from '../../../src/train/kernels/backend.ts';

const K = 7;

describe('distillation targets', () => {
  beforeAll(async () => {
    await initWasm(true);
  });
  // Three training rows' teacher probabilities (each row sums to 1) and labels.
  const soft = Float32Array.from([0.1, 0, 0, 0.6, 0, 0, 0.3, 0, 0, 0, 0, 0, 1, 0, 0.2, 0.2, 0.2, 0.2, 0.2, 0, 0]);
  const labels = Uint8Array.of(3, 5, 0);

  it('mix each row of the batch: (1 - w) one-hot label + w teacher, rows summing to 1', () => {
    const y = distillTargets(labels, [2, 0], soft, 0.25, K);
    expect(Array.from(y.subarray(0, K)).map((v) => +v.toFixed(6))).toEqual([0.8, 0.05, 0.05, 0.05, 0.05, 0, 0]);
    expect(Array.from(y.subarray(K)).map((v) => +v.toFixed(6))).toEqual([0.025, 0, 0, 0.9, 0, 0, 0.075]);
    for (let i = 0; i < 2; i++) expect(y.subarray(i * K, (i + 1) * K).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });

  it('weight 1 is the teacher alone; a tiny weight is nearly the label', () => {
    expect(Array.from(distillTargets(labels, [1], soft, 1, K))).toEqual(Array.from(soft.subarray(K, 2 * K)));
    const y = distillTargets(labels, [1], soft, 1e-6, K);
    expect(y[5]).toBeCloseTo(1, 5);
  });

  it('the loss on soft targets is the cross-entropy with the teacher mixture (minimal at the target)', () => {
    const target = distillTargets(labels, [0], soft, 0.5, K);
    const loss = (p: number[]) => smoothedCrossEntropy(tf.tensor2d(target, [1, K]), tf.tensor2d([p]), 0).dataSync()[0]!;
    const atTarget = loss(Array.from(target));
    expect(loss([0, 0, 0, 1, 0, 0, 0].map((v) => v * 0.94 + 0.01))).toBeGreaterThan(atTarget);
    expect(atTarget).toBeCloseTo(-Array.from(target).reduce((s, t) => s + (t > 0 ? t * Math.log(t) : 0), 0), 4);
  });
});

describe('--distill', () => {
  const usage = (args: string[]): string => usageMessage(() => parseCnnArgs(args));

  it('takes teacher folders and a weight (default 0.5)', () => {
    const o = parseCnnArgs(['--distill', 'models/fer-cnn,models/fer-cnn-robust']);
    expect(o !== 'help' && o.distill).toEqual({ teachers: [resolve('models/fer-cnn'), resolve('models/fer-cnn-robust')], weight: 0.5 });
    const w = parseCnnArgs(['--distill', 'models/fer-cnn', '--distill-weight', '0.8']);
    expect(w !== 'help' && w.distill && w.distill.weight).toBe(0.8);
    const none = parseCnnArgs([]);
    expect(none !== 'help' && none.distill).toBeUndefined();
    expect(usage(['--distill-weight', '0.5'])).toMatch(/--distill-weight needs --distill/);
    for (const bad of ['0', '1.5', 'x']) expect(usage(['--distill', 'm', '--distill-weight', bad]), bad).toMatch(/--distill-weight/);
  });

  it('a resume with other teachers or another weight is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kd-ck-'));
    try {
      const settings: CheckpointSettings = { ...TINY_SETTINGS, distill: { teachers: ['/m/a', '/m/b'], weight: 0.5 } };
      const o = await savedCheckpoint(dir, settings);
      await expect(openRunCheckpoint(o, settings)).resolves.toMatchObject({ clearOld: false });
      await expect(openRunCheckpoint(o, { ...settings, distill: { teachers: ['/m/a'], weight: 0.5 } })).rejects.toThrow(
        /--distill \/m\/a,\/m\/b \(--distill-weight 0\.5\) -> \/m\/a \(--distill-weight 0\.5\)/,
      );
      await expect(openRunCheckpoint(o, { ...settings, distill: { teachers: ['/m/a', '/m/b'], weight: 0.7 } })).rejects.toThrow(
        /--distill-weight 0\.7/,
      );
      const { distill: _, ...without } = settings;
      await expect(openRunCheckpoint(o, without)).rejects.toThrow(/--distill .* -> unset/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
