import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { backend_util } from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { initWasm } from '../../../src/train/kernels/backend.ts';
import { conv2dSimd, filterGradientSimd, inputGradientSimd } from '../../../src/train/kernels/conv-simd.ts';
import { simdKernelsLoaded } from '../../../src/train/kernels/simd-module.ts';
import type { WasmBackendLike } from '../../../src/train/kernels/wasm-backend.ts';
import { values } from '../../helpers/values.ts';

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const infoOf = (t: tf.Tensor): TensorInfo => ({ dataId: t.dataId, shape: t.shape, dtype: t.dtype });

/** The reference on the cpu backend, as plain numbers. */
function onCpu(f: () => tf.Tensor): Float32Array {
  tf.setBackend('cpu');
  const out = tf.tidy(f);
  const data = Float32Array.from(out.dataSync());
  out.dispose();
  return data;
}

/** Runs one SIMD kernel on wasm tensors; undefined where it declines the shape. Checks it leaks nothing. */
function onWasm(
  inputs: { shape: number[]; data: Float32Array }[],
  run: (backend: WasmBackendLike, infos: TensorInfo[]) => TensorInfo | undefined,
): { shape: number[]; data: Float32Array } | undefined {
  tf.setBackend('wasm');
  const tensors = inputs.map((i) => tf.tensor(i.data, i.shape));
  const before = tf.memory().numTensors;
  const backend = tf.backend() as unknown as WasmBackendLike;
  const dataBefore = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
  const out = run(backend, tensors.map(infoOf));
  let result: { shape: number[]; data: Float32Array } | undefined;
  if (out) {
    const t = tf.engine().makeTensorFromTensorInfo(out);
    result = { shape: t.shape, data: Float32Array.from(t.dataSync()) };
    t.dispose();
  }
  // Scratch tensors (padded copies, turned filters) must all be freed.
  expect((tf.backend() as unknown as { numDataIds(): number }).numDataIds()).toBe(dataBefore);
  expect(tf.memory().numTensors).toBe(before);
  tensors.forEach((t) => t.dispose());
  return result;
}

function expectClose(a: Float32Array, b: Float32Array): void {
  expect(b.length).toBe(a.length);
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(a[i]));
  }
  expect(diff).toBeLessThan(1e-5 * scale);
}

interface Case {
  x: [number, number, number, number];
  k: number;
  co: number;
  stride?: number;
  pad: 'same' | 'valid';
}

function convInfo(c: Case): backend_util.Conv2DInfo {
  return backend_util.computeConv2DInfo(c.x, [c.k, c.k, c.x[3], c.co], c.stride ?? 1, 1, c.pad, undefined, false, 'channelsLast');
}

const label = (c: Case) => `x ${c.x.join('x')} k${c.k} co${c.co} stride ${c.stride ?? 1} ${c.pad}`;

describe('WebAssembly SIMD convolution kernels match the cpu backend', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    await initWasm(true);
    expect(simdKernelsLoaded(tf.findBackend('wasm'))).toBe(true);
  });

  const forward: Case[] = [
    { x: [2, 12, 12, 16], k: 3, co: 32, pad: 'same' },
    { x: [3, 8, 10, 3], k: 3, co: 8, pad: 'valid' },
    { x: [2, 6, 6, 8], k: 2, co: 8, pad: 'same' },
    { x: [1, 48, 48, 1], k: 3, co: 16, pad: 'same' },
    { x: [2, 23, 23, 32], k: 3, co: 64, pad: 'valid' }, // odd output (21x21): one row and column wider, cropped
    { x: [2, 7, 6, 4], k: 3, co: 8, pad: 'same' },
  ];
  for (const c of forward)
    it(`forward ${label(c)}`, () => {
      const x = { shape: c.x, data: values(size(c.x), 1) };
      const wShape = [c.k, c.k, c.x[3], c.co];
      const w = { shape: wShape, data: values(size(wShape), 2) };
      const cpu = onCpu(() => tf.conv2d(tf.tensor4d(x.data, c.x), tf.tensor4d(w.data, wShape as never), 1, c.pad));
      const out = onWasm([x, w], (b, [xi, wi]) => conv2dSimd(b, xi, wi, convInfo(c)));
      expect(out).toBeDefined();
      expectClose(cpu, out!.data);
    });

  const inputGrad: Case[] = [
    { x: [2, 12, 12, 16], k: 3, co: 32, pad: 'same' },
    { x: [2, 6, 8, 8], k: 3, co: 4, pad: 'valid' },
    { x: [2, 6, 6, 8], k: 2, co: 8, pad: 'same' },
    { x: [2, 23, 21, 32], k: 3, co: 64, pad: 'valid' }, // odd input sizes
  ];
  for (const c of inputGrad)
    it(`input gradient ${label(c)}`, () => {
      const info = convInfo(c);
      const dyShape = [c.x[0], info.outHeight, info.outWidth, c.co];
      const dy = { shape: dyShape, data: values(size(dyShape), 3) };
      const wShape = [c.k, c.k, c.x[3], c.co];
      const w = { shape: wShape, data: values(size(wShape), 4) };
      const cpu = onCpu(() =>
        tf.conv2dTranspose(tf.tensor4d(dy.data, dyShape as never), tf.tensor4d(w.data, wShape as never), c.x, 1, c.pad),
      );
      const out = onWasm([dy, w], (b, [dyi, wi]) => inputGradientSimd(b, dyi, wi, info));
      expect(out).toBeDefined();
      expect(out!.shape).toEqual(c.x);
      expectClose(cpu, out!.data);
    });

  const filterGrad: Case[] = [
    { x: [2, 12, 12, 16], k: 3, co: 32, pad: 'same' },
    { x: [1, 48, 48, 1], k: 3, co: 16, pad: 'same' },
    { x: [3, 7, 9, 3], k: 3, co: 8, pad: 'valid' },
    { x: [5, 30, 30, 4], k: 3, co: 8, pad: 'same' },
  ];
  for (const c of filterGrad)
    it(`filter gradient ${label(c)}`, () => {
      const info = convInfo(c);
      const x = { shape: c.x, data: values(size(c.x), 5) };
      const dyShape = [c.x[0], info.outHeight, info.outWidth, c.co];
      const dy = { shape: dyShape, data: values(size(dyShape), 6) };
      const cpu = onCpu(
        () =>
          tf
            .engine()
            .runKernel(
              'Conv2DBackpropFilter',
              { x: tf.tensor4d(x.data, c.x), dy: tf.tensor(dy.data, dyShape) },
              { strides: 1, pad: c.pad, dataFormat: 'NHWC', filterShape: [c.k, c.k, c.x[3], c.co] },
            ) as tf.Tensor,
      );
      const out = onWasm([x, dy], (b, [xi, dyi]) => filterGradientSimd(b, xi, dyi, info));
      expect(out).toBeDefined();
      expect(out!.shape).toEqual([c.k, c.k, c.x[3], c.co]);
      expectClose(cpu, out!.data);
    });

  it('declines shapes it does not take (the callers fall back to XNNPACK compositions)', () => {
    const decline = (c: Case, which: 'forward' | 'input' | 'filter') => {
      const info = convInfo(c);
      const dyShape = [c.x[0], info.outHeight, info.outWidth, c.co];
      const wShape = [c.k, c.k, c.x[3], c.co];
      const x = { shape: c.x, data: values(size(c.x), 7) };
      const w = { shape: wShape, data: values(size(wShape), 8) };
      const dy = { shape: dyShape, data: values(size(dyShape), 9) };
      return onWasm(which === 'forward' ? [x, w] : which === 'input' ? [dy, w] : [x, dy], (b, [p, q]) =>
        which === 'forward'
          ? conv2dSimd(b, p, q, info)
          : which === 'input'
            ? inputGradientSimd(b, p, q, info)
            : filterGradientSimd(b, p, q, info),
      );
    };
    expect(decline({ x: [2, 8, 8, 8], k: 3, co: 4, pad: 'same' }, 'forward')).toBeUndefined(); // co % 8
    expect(decline({ x: [2, 8, 8, 8], k: 3, co: 8, stride: 2, pad: 'same' }, 'forward')).toBeUndefined();
    expect(decline({ x: [2, 8, 8, 1], k: 3, co: 8, pad: 'same' }, 'input')).toBeUndefined(); // ci % 8
    expect(decline({ x: [2, 8, 8, 8], k: 3, co: 12, pad: 'same' }, 'filter')).toBeUndefined(); // co % 8
    expect(decline({ x: [2, 8, 8, 8], k: 3, co: 8, stride: 2, pad: 'valid' }, 'filter')).toBeUndefined();
    // Empty batches: the kernels' loops run at least once.
    for (const which of ['forward', 'input', 'filter'] as const) {
      expect(decline({ x: [0, 8, 8, 8], k: 3, co: 8, pad: 'same' }, which)).toBeUndefined();
    }
  });

  it('FusedConv2D uses the kernel without bias or activation and the wasm kernel otherwise, Conv2D uses it, all matching cpu', () => {
    const xShape = [2, 8, 8, 4] as [number, number, number, number];
    const wShape = [3, 3, 4, 8] as [number, number, number, number];
    const xd = values(size(xShape), 10);
    const wd = values(size(wShape), 11);
    const bd = values(8, 12);
    for (const withBias of [false, true]) {
      const run = () =>
        tf.fused.conv2d({
          x: tf.tensor4d(xd, xShape),
          filter: tf.tensor4d(wd, wShape),
          strides: 1,
          pad: 'same',
          bias: withBias ? tf.tensor1d(bd) : undefined,
          activation: withBias ? 'relu' : 'linear',
        });
      const cpu = onCpu(run);
      tf.setBackend('wasm');
      const out = tf.tidy(run);
      expectClose(cpu, Float32Array.from(out.dataSync()));
      out.dispose();
    }
    // Plain Conv2D (conv layers with a nonlinear activation run unfused while training) too.
    const plain = () => tf.conv2d(tf.tensor4d(xd, xShape), tf.tensor4d(wd, wShape), 1, 'same');
    const cpu = onCpu(plain);
    tf.setBackend('wasm');
    const out = tf.tidy(plain);
    expectClose(cpu, Float32Array.from(out.dataSync()));
    out.dispose();
  });
});
