import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initWasm } from '../../../src/train/kernels/backend.ts';
import { buildArch } from '../../../src/train/cnn/architectures.ts';
import { loadLayersModel, saveLayersModel } from '../../../src/train/cnn/model-io.ts';

describe('model save/load', () => {
  beforeAll(async () => {
    await initWasm(true);
  });

  for (const arch of ['seed', 'default'] as const) {
    it(`${arch}: save -> load round trip gives identical predictions`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'model-io-'));
      const model = buildArch(arch, 3, arch === 'default' ? [16, 32, 64, 128] : undefined);
      // Move BatchNorm moving statistics away from their initial values so they are tested too.
      model.setWeights(model.getWeights().map((w, i) => w.add(tf.scalar(0.01 * (i + 1)))));
      const x = tf.randomUniform([5, 48, 48, 1], 0, 1, 'float32', 1);
      const before = (model.predict(x) as tf.Tensor).dataSync();
      await saveLayersModel(model, dir);
      const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
      expect(json.format).toBe('layers-model');
      expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
      expect(json.weightsIntegrity).toEqual([
        { path: 'weights.bin', byteLength: expect.any(Number), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
      ]);
      const loaded = await loadLayersModel(dir);
      expect(loaded.inputs[0].shape).toEqual([null, 48, 48, 1]);
      expect(loaded.outputs[0].shape).toEqual([null, 7]);
      const after = (loaded.predict(x) as tf.Tensor).dataSync();
      expect(Array.from(after)).toEqual(Array.from(before));
    });
  }

  it('a missing model folder gives an error that names the file and what to do', async () => {
    await expect(loadLayersModel('/nonexistent/dir')).rejects.toThrow(/\/nonexistent\/dir\/model\.json.*npm run train/);
  });
});
