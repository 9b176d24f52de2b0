/**
 * The gradient kernels the browser's calibration registers on the stock wasm backend
 * (src/learn/training-kernels.ts) give the cpu backend's convolution gradients.
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/core/random.ts';
import { ensureTrainingKernels } from '../../../src/learn/training-kernels.ts';

const require = createRequire(import.meta.url);

/** d(sum(conv2d(x, w) * r))/dx and /dw on the active backend. */
function grads(
  x: number[],
  xs: [number, number, number, number],
  w: number[],
  ws: [number, number, number, number],
  stride: number,
  pad: 'same' | 'valid',
) {
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, xs);
    const wt = tf.tensor4d(w, ws);
    const f = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.sum(tf.mul(tf.conv2d(a, b, stride, pad), tf.sin(tf.conv2d(xt, wt, stride, pad))));
    const [dx, dw] = tf.grads(f as (...a: tf.Tensor[]) => tf.Tensor)([xt, wt]);
    return [Array.from(dx!.dataSync()), Array.from(dw!.dataSync())];
  });
}

describe('training kernels for the stock wasm backend', () => {
  beforeAll(async () => {
    // The stock backend, as the browser has it: Node's own kernel set (src/train/kernels) is not loaded here.
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep);
    await tf.setBackend('wasm');
    await tf.ready();
  });

  it('registers the missing filter gradient and a conv-based input gradient, once', () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    expect(ensureTrainingKernels()).toEqual(['Conv2DBackpropFilter', 'Conv2DBackpropInput']);
    expect(ensureTrainingKernels()).toEqual([]);
  });

  for (const [stride, pad, size] of [
    [1, 'same', 7],
    [1, 'valid', 6],
    [2, 'same', 8],
  ] as const) {
    it(`gives the cpu backend's gradients (stride ${stride}, ${pad})`, async () => {
      const rand = mulberry32(stride * 10 + size);
      const xs: [number, number, number, number] = [3, size, size, 4];
      const ws: [number, number, number, number] = [3, 3, 4, 8];
      const x = Array.from({ length: xs.reduce((a, b) => a * b) }, () => rand() * 2 - 1);
      const w = Array.from({ length: ws.reduce((a, b) => a * b) }, () => rand() * 2 - 1);
      ensureTrainingKernels();
      const [dxWasm, dwWasm] = grads(x, xs, w, ws, stride, pad);
      await tf.setBackend('cpu');
      const [dxCpu, dwCpu] = grads(x, xs, w, ws, stride, pad);
      await tf.setBackend('wasm');
      expect(dxWasm!.length).toBe(dxCpu!.length);
      dxWasm!.forEach((v, i) => expect(v).toBeCloseTo(dxCpu![i]!, 3));
      dwWasm!.forEach((v, i) => expect(v).toBeCloseTo(dwCpu![i]!, 3));
    });
  }
});
