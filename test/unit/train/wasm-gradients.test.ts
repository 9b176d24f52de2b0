import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initWasm } from '../../../src/train/kernels/backend.ts';
import { registerWasmGradientKernels } from '../../../src/train/kernels/wasm-gradients.ts';
import { values } from '../../helpers/values.ts';

function runOn(
  backend: string,
  kernelName: string,
  inputs: Record<string, { shape: number[]; data: Float32Array }>,
  attrs: Record<string, unknown>,
) {
  tf.setBackend(backend);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) tensors[k] = tf.tensor(v.data, v.shape);
  const before = tf.memory().numTensors;
  const out = tf.engine().runKernel(kernelName, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
  const result = { shape: out.shape, data: Float32Array.from(out.dataSync()) };
  out.dispose();
  Object.values(tensors).forEach((t) => t.dispose());
  return { ...result, leaked: tf.memory().numTensors - (before - Object.keys(tensors).length) };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

interface ConvCase {
  x: [number, number, number, number];
  k: number;
  co: number;
  stride: number;
  pad: 'valid' | 'same';
}
const convCases: ConvCase[] = [
  { x: [2, 7, 7, 3], k: 3, co: 4, stride: 1, pad: 'same' },
  { x: [2, 7, 7, 3], k: 3, co: 4, stride: 1, pad: 'valid' },
  { x: [3, 9, 8, 2], k: 3, co: 5, stride: 2, pad: 'same' },
  { x: [3, 9, 8, 2], k: 3, co: 5, stride: 2, pad: 'valid' },
  { x: [1, 10, 10, 1], k: 5, co: 8, stride: 1, pad: 'same' },
  { x: [4, 6, 6, 8], k: 1, co: 3, stride: 1, pad: 'valid' },
  { x: [2, 11, 11, 4], k: 2, co: 3, stride: 2, pad: 'valid' },
  { x: [2, 12, 12, 16], k: 3, co: 32, stride: 1, pad: 'same' },
  // Shapes for the SIMD filter-gradient kernel (ci % 4 == 0, co % 8 == 0): valid padding, even
  // kernel with asymmetric 'same' padding, several reduction blocks across image boundaries.
  { x: [3, 7, 9, 8], k: 3, co: 16, stride: 1, pad: 'valid' },
  { x: [2, 5, 6, 4], k: 2, co: 8, stride: 1, pad: 'same' },
  { x: [5, 30, 30, 4], k: 3, co: 8, stride: 1, pad: 'same' },
];

function outSize(n: number, k: number, s: number, pad: 'valid' | 'same'): number {
  return pad === 'same' ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1;
}

describe('wasm gradient kernels match the cpu backend', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    await initWasm(true);
  });

  for (const c of convCases) {
    const [n, h, w, ci] = c.x;
    const oh = outSize(h, c.k, c.stride, c.pad);
    const ow = outSize(w, c.k, c.stride, c.pad);
    const dyShape = [n, oh, ow, c.co];
    const filterShape = [c.k, c.k, ci, c.co];
    const label = `x ${c.x.join('x')} k${c.k} co${c.co} stride ${c.stride} ${c.pad}`;

    const simd = c.stride === 1 && c.co % 8 === 0;
    for (const form of simd ? (['conv', 'gemm', 'simd'] as const) : (['conv', 'gemm'] as const))
      it(`Conv2DBackpropFilter (${form} form) ${label}`, () => {
        registerWasmGradientKernels({ fast: true, filterGradient: form });
        const inputs = {
          x: { shape: c.x, data: values(n * h * w * ci, 1) },
          dy: {
            shape: dyShape,
            data: values(
              dyShape.reduce((a, b) => a * b),
              2,
            ),
          },
        };
        const attrs = { strides: [c.stride, c.stride], pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape };
        const cpu = runOn('cpu', 'Conv2DBackpropFilter', inputs, attrs);
        const wasm = runOn('wasm', 'Conv2DBackpropFilter', inputs, attrs);
        registerWasmGradientKernels({ fast: true });
        expect(wasm.shape).toEqual(filterShape);
        // Sums of thousands of products: float32 rounding grows with their size.
        const scale = Math.max(1, ...Array.from(cpu.data, Math.abs));
        expect(maxAbsDiff(cpu.data, wasm.data)).toBeLessThan(1e-5 * scale);
        expect(wasm.leaked).toBe(0);
      });

    it(`Conv2DBackpropInput ${label}`, () => {
      const inputs = {
        dy: {
          shape: dyShape,
          data: values(
            dyShape.reduce((a, b) => a * b),
            3,
          ),
        },
        filter: {
          shape: filterShape,
          data: values(
            filterShape.reduce((a, b) => a * b),
            4,
          ),
        },
      };
      const attrs = { strides: [c.stride, c.stride], pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: c.x };
      const cpu = runOn('cpu', 'Conv2DBackpropInput', inputs, attrs);
      const wasm = runOn('wasm', 'Conv2DBackpropInput', inputs, attrs);
      expect(wasm.shape).toEqual(c.x);
      expect(maxAbsDiff(cpu.data, wasm.data)).toBeLessThan(1e-4);
      expect(wasm.leaked).toBe(0);
    });
  }

  for (const p of [
    { x: [2, 8, 8, 3], size: 2, stride: 2, pad: 'valid' as const },
    { x: [2, 9, 7, 4], size: 2, stride: 2, pad: 'valid' as const },
    { x: [1, 9, 9, 2], size: 3, stride: 3, pad: 'valid' as const },
    { x: [2, 7, 7, 3], size: 3, stride: 2, pad: 'same' as const },
    { x: [3, 12, 10, 5], size: 2, stride: 2, pad: 'valid' as const },
    { x: [2, 7, 7, 3], size: 2, stride: 2, pad: 'same' as const },
    // Channels in fours: the SIMD kernel (exact cover, and odd sizes with an uncovered row/column).
    { x: [2, 8, 8, 8], size: 2, stride: 2, pad: 'valid' as const },
    { x: [3, 12, 10, 16], size: 2, stride: 2, pad: 'valid' as const },
  ]) {
    it(`MaxPoolGrad x ${p.x.join('x')} size ${p.size} stride ${p.stride} ${p.pad}`, () => {
      const [n, h, w, c] = p.x;
      const oh = outSize(h, p.size, p.stride, p.pad);
      const ow = outSize(w, p.size, p.stride, p.pad);
      // Quantised input so windows contain ties: the first maximum must win on both backends.
      const xData = values(n * h * w * c, 5).map((v) => Math.round(v * 3));
      const inputs = {
        dy: { shape: [n, oh, ow, c], data: values(n * oh * ow * c, 6) },
        input: { shape: p.x, data: xData },
        output: { shape: [n, oh, ow, c], data: new Float32Array(n * oh * ow * c) },
      };
      tf.setBackend('cpu');
      const pooled = tf.maxPool(tf.tensor4d(xData, p.x as [number, number, number, number]), p.size, p.stride, p.pad);
      inputs.output.data = Float32Array.from(pooled.dataSync());
      pooled.dispose();
      const attrs = { filterSize: [p.size, p.size], strides: [p.stride, p.stride], pad: p.pad, dimRoundingMode: undefined };
      const cpu = runOn('cpu', 'MaxPoolGrad', inputs, attrs);
      const wasm = runOn('wasm', 'MaxPoolGrad', inputs, attrs);
      expect(maxAbsDiff(cpu.data, wasm.data)).toBeLessThan(1e-5);
      expect(wasm.leaked).toBe(0);
    });
  }

  it('Identity shares the buffer: a clone keeps its values after the original is disposed, and nothing leaks', () => {
    tf.setBackend('wasm');
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const before = backend.numDataIds();
    const x = tf.tensor([1, 2, 3, 4], [2, 2]);
    const y = tf.clone(x);
    expect(backend.numDataIds()).toBe(before + 1); // one buffer, two tensors
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4]);
    y.dispose();
    expect(backend.numDataIds()).toBe(before);
    // Gradients through saved (cloned) tensors still come out right: d/dx sum(x*x) = 2x.
    const v = tf.variable(tf.tensor([1, -2, 3]));
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(t, t)))(v);
    expect(Array.from(g.dataSync())).toEqual([2, -4, 6]);
    tf.dispose([v, g]);
  });

  for (const m of [
    { a: [7, 5], b: [5, 3], ta: false, tb: false },
    { a: [5, 7], b: [5, 3], ta: true, tb: false },
    { a: [7, 5], b: [3, 5], ta: false, tb: true },
    { a: [5, 7], b: [3, 5], ta: true, tb: true },
    { a: [64, 300], b: [300, 20], ta: false, tb: false },
    { a: [1, 6, 4], b: [1, 4, 2], ta: false, tb: false },
    { a: [3, 6, 4], b: [3, 4, 2], ta: false, tb: false }, // batched: original kernel
    { a: [3, 4, 6], b: [3, 2, 4], ta: true, tb: true }, // batched, transposed
  ]) {
    it(`BatchMatMul ${m.a.join('x')}${m.ta ? 'ᵀ' : ''} · ${m.b.join('x')}${m.tb ? 'ᵀ' : ''}`, () => {
      const inputs = {
        a: {
          shape: m.a,
          data: values(
            m.a.reduce((x, y) => x * y),
            11,
          ),
        },
        b: {
          shape: m.b,
          data: values(
            m.b.reduce((x, y) => x * y),
            12,
          ),
        },
      };
      const attrs = { transposeA: m.ta, transposeB: m.tb };
      const cpu = runOn('cpu', 'BatchMatMul', inputs, attrs);
      const wasm = runOn('wasm', 'BatchMatMul', inputs, attrs);
      expect(wasm.shape).toEqual(cpu.shape);
      expect(maxAbsDiff(cpu.data, wasm.data)).toBeLessThan(1e-4);
      expect(wasm.leaked).toBe(0);
    });
  }

  for (const t of [
    { x: [1, 1, 1, 5], reps: [2, 3, 4, 1] }, // per-channel vector to full size: fast path
    { x: [1, 3], reps: [4, 1] },
    { x: [2, 3], reps: [2, 2] }, // general: original kernel
    { x: [1, 2, 1, 3], reps: [2, 1, 3, 1] },
  ]) {
    it(`Tile ${t.x.join('x')} by ${t.reps.join('x')}`, () => {
      const inputs = {
        x: {
          shape: t.x,
          data: values(
            t.x.reduce((a, b) => a * b),
            13,
          ),
        },
      };
      const cpu = runOn('cpu', 'Tile', inputs, { reps: t.reps });
      const wasm = runOn('wasm', 'Tile', inputs, { reps: t.reps });
      expect(wasm.shape).toEqual(cpu.shape);
      expect(maxAbsDiff(cpu.data, wasm.data)).toBe(0);
      expect(wasm.leaked).toBe(0);
    });
  }

  for (const r of [
    { x: [4, 5, 6, 7], axis: [0, 1, 2], keepDims: false }, // fast path
    { x: [4, 5, 6, 7], axis: [0, 1, 2], keepDims: true },
    { x: [30, 3], axis: [0], keepDims: false },
    { x: [4, 5, 6, 7], axis: [-4, -3, -2], keepDims: false },
    { x: [4, 5, 6, 7], axis: [3], keepDims: false }, // original kernel
    { x: [4, 5, 6, 7], axis: [1, 2], keepDims: true },
  ]) {
    it(`Sum ${r.x.join('x')} over ${r.axis.join(',')}${r.keepDims ? ' keepDims' : ''}`, () => {
      const inputs = {
        x: {
          shape: r.x,
          data: values(
            r.x.reduce((a, b) => a * b),
            14,
          ),
        },
      };
      const attrs = { axis: r.axis, keepDims: r.keepDims };
      const cpu = runOn('cpu', 'Sum', inputs, attrs);
      const wasm = runOn('wasm', 'Sum', inputs, attrs);
      expect(wasm.shape).toEqual(cpu.shape);
      expect(maxAbsDiff(cpu.data, wasm.data)).toBeLessThan(1e-4);
      expect(wasm.leaked).toBe(0);
    });
  }

  it('BatchNorm training gradients through the fast kernels equal the cpu backend', () => {
    const xData = values(4 * 6 * 6 * 3, 21);
    const grads = (backend: string) => {
      tf.setBackend(backend);
      const x = tf.tensor4d(xData, [4, 6, 6, 3]);
      const scale = tf.tensor1d([1.5, 0.5, 2]);
      const offset = tf.tensor1d([0.1, -0.2, 0.3]);
      const g = tf.grads((a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
        const { mean, variance } = tf.moments(a, [0, 1, 2]);
        return tf.batchNorm(a, mean, variance, o, s, 1e-3).relu().square().sum();
      });
      const out = g([x, scale, offset]).map((t) => Float32Array.from(t.dataSync()));
      tf.dispose([x, scale, offset]);
      return out;
    };
    const cpu = grads('cpu');
    const wasm = grads('wasm');
    cpu.forEach((c, i) => expect(maxAbsDiff(c, wasm[i])).toBeLessThan(1e-3));
  });

  it('gradients of input and filter together through a small conv net equal the cpu backend', () => {
    const xData = values(2 * 10 * 10 * 2, 7);
    const wData = values(3 * 3 * 2 * 4, 8);
    const grads = (backend: string) => {
      tf.setBackend(backend);
      const x = tf.tensor4d(xData, [2, 10, 10, 2]);
      const wt = tf.tensor4d(wData, [3, 3, 2, 4]);
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf
          .maxPool(tf.relu(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')), 2, 2, 'valid')
          .square()
          .sum(),
      );
      const [gx, gw] = g([x, wt]);
      const out = [Float32Array.from(gx.dataSync()), Float32Array.from(gw.dataSync())];
      tf.dispose([x, wt, gx, gw]);
      return out;
    };
    const before = tf.memory().numTensors;
    const cpu = grads('cpu');
    const wasm = grads('wasm');
    expect(maxAbsDiff(cpu[0], wasm[0])).toBeLessThan(1e-4);
    expect(maxAbsDiff(cpu[1], wasm[1])).toBeLessThan(1e-4);
    expect(tf.memory().numTensors).toBe(before);
  });
});
