/** A run checkpoint with one saved epoch, for tests of what a --resume accepts and refuses. */
import { saveEpoch, type CheckpointSettings, type CheckpointState } from '../../src/train/cnn/run-checkpoint.ts';

/** Settings of a tiny run; add the option under test. */
export const TINY_SETTINGS: CheckpointSettings = {
  arch: 'tiny',
  batchSize: 16,
  lr: 0.002,
  schedule: 'constant',
  labelSmoothing: 0,
  augment: true,
  seed: 1,
  limit: null,
  data: { path: '/x/fer2013.csv', bytes: 10, headTailSha256: 'ab' },
};

/** Saves epoch 1 of a run with `settings` in `dir`; returns the options that resume it. */
export async function savedCheckpoint(dir: string, settings: CheckpointSettings): Promise<{ checkpointDir: string; resume: true }> {
  const state: CheckpointState = {
    version: 2,
    settings,
    epochs: 2,
    epochsDone: 1,
    globalStep: 1,
    bestEpoch: 1,
    bestValAcc: 0.2,
    history: [],
    trainSeconds: 1,
    imagesSeen: 1,
    weightShapes: [[2]],
    optimizer: [],
  };
  await saveEpoch(dir, 1, [new Float32Array(2)], [], state);
  return { checkpointDir: dir, resume: true };
}
