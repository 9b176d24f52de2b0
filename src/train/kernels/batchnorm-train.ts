/**
 * BatchNormalization in training mode as two fused kernels on the wasm backend, forward and
 * gradient, instead of the ~25 separate ops tfjs records for it (moments, batchNorm, and their
 * gradients through mean and variance: Sum, Multiply, Sub, Mean, Tile... each a full pass over the
 * activations). Profile of one default-architecture step (batch 64, one thread): those ops took
 * ~165 of ~560 ms.
 *
 * Forward (x: [..., C], statistics over every axis but the last):
 *   mean = Σx/R, var = Σ(x - mean)²/R (biased, as tf.moments), invstd = 1/sqrt(var + eps),
 *   y = gamma·invstd·(x - mean) + beta                              (2 passes over x)
 * Gradient (the full one: mean and var depend on x), with xc = x - mean:
 *   dbeta = Σdy, dgamma = invstd·Σ(dy·xc)
 *   dx = gamma·invstd·dy - gamma·invstd³·Σ(dy·xc)/R · xc - gamma·invstd·Σdy/R    (2 passes)
 * Sums in double precision (the SIMD path: float32 within 512-row blocks, double across). Both
 * kernels work at the backend level on the wasm heap (see wasm-gradients.ts for why not tf.* ops
 * inside a kernel): with channels in fours, the passes over the activations are our SIMD kernels
 * (simd-module.ts), otherwise JS loops; tf.customGrad ties them together, and
 * useFusedBatchNorm swaps them into a model's BatchNormalization layers for training only
 * (inference, e.g. frozen fine-tuning blocks, keeps tfjs's own path). Tested against the cpu
 * backend running tfjs's own layer (values, gradients, moving statistics).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { simdKernelsFor } from './simd-module.ts';
import type { WasmBackendLike } from './wasm-backend.ts';

export const BN_TRAIN_FORWARD = 'EmotionLensBatchNormTrain';
export const BN_TRAIN_GRAD = 'EmotionLensBatchNormTrainGrad';

type Args = { inputs: Record<string, TensorInfo>; attrs: NamedAttrMap; backend: unknown };

/**
 * Rows are swept in blocks that stay in cache, 4 channels at a time with the running sums in local
 * variables: measured 2.8x faster than one loop over every value with per-channel arrays
 * (the stats pass of a [64,48,48,16] batch: 5.3 -> 1.9 ms).
 */
const ROW_BLOCK = 512;

/** Per channel of rows × c values: sum += Σ(x - shift), sq += Σ(x - shift)². */
export function channelSums(xv: Float32Array, c: number, shift: Float64Array, sum: Float64Array, sq: Float64Array): void {
  const rows = c === 0 ? 0 : xv.length / c;
  for (let r0 = 0; r0 < rows; r0 += ROW_BLOCK) {
    const end = Math.min(rows, r0 + ROW_BLOCK) * c;
    let k = 0;
    for (; k + 3 < c; k += 4) {
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0,
        q0 = 0,
        q1 = 0,
        q2 = 0,
        q3 = 0;
      const h0 = shift[k]!,
        h1 = shift[k + 1]!,
        h2 = shift[k + 2]!,
        h3 = shift[k + 3]!;
      for (let o = r0 * c + k; o < end; o += c) {
        const d0 = xv[o]! - h0,
          d1 = xv[o + 1]! - h1,
          d2 = xv[o + 2]! - h2,
          d3 = xv[o + 3]! - h3;
        s0 += d0;
        s1 += d1;
        s2 += d2;
        s3 += d3;
        q0 += d0 * d0;
        q1 += d1 * d1;
        q2 += d2 * d2;
        q3 += d3 * d3;
      }
      sum[k] += s0;
      sum[k + 1] += s1;
      sum[k + 2] += s2;
      sum[k + 3] += s3;
      sq[k] += q0;
      sq[k + 1] += q1;
      sq[k + 2] += q2;
      sq[k + 3] += q3;
    }
    for (; k < c; k++) {
      let s0 = 0,
        q0 = 0;
      const h0 = shift[k]!;
      for (let o = r0 * c + k; o < end; o += c) {
        const d0 = xv[o]! - h0;
        s0 += d0;
        q0 += d0 * d0;
      }
      sum[k] += s0;
      sq[k] += q0;
    }
  }
}

/** Per channel: sdy += Σdy, sdyx += Σdy·x. */
export function channelGradSums(dyv: Float32Array, xv: Float32Array, c: number, sdy: Float64Array, sdyx: Float64Array): void {
  const rows = c === 0 ? 0 : xv.length / c;
  for (let r0 = 0; r0 < rows; r0 += ROW_BLOCK) {
    const end = Math.min(rows, r0 + ROW_BLOCK) * c;
    let k = 0;
    for (; k + 3 < c; k += 4) {
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0,
        p0 = 0,
        p1 = 0,
        p2 = 0,
        p3 = 0;
      for (let o = r0 * c + k; o < end; o += c) {
        const g0 = dyv[o]!,
          g1 = dyv[o + 1]!,
          g2 = dyv[o + 2]!,
          g3 = dyv[o + 3]!;
        s0 += g0;
        s1 += g1;
        s2 += g2;
        s3 += g3;
        p0 += g0 * xv[o]!;
        p1 += g1 * xv[o + 1]!;
        p2 += g2 * xv[o + 2]!;
        p3 += g3 * xv[o + 3]!;
      }
      sdy[k] += s0;
      sdy[k + 1] += s1;
      sdy[k + 2] += s2;
      sdy[k + 3] += s3;
      sdyx[k] += p0;
      sdyx[k + 1] += p1;
      sdyx[k + 2] += p2;
      sdyx[k + 3] += p3;
    }
    for (; k < c; k++) {
      let s0 = 0,
        p0 = 0;
      for (let o = r0 * c + k; o < end; o += c) {
        s0 += dyv[o]!;
        p0 += dyv[o]! * xv[o]!;
      }
      sdy[k] += s0;
      sdyx[k] += p0;
    }
  }
}

/** Per channel: out = a·u + b (v omitted) or out = a·u + b·v + d. */
export function channelAffine(
  out: Float32Array,
  c: number,
  u: Float32Array,
  a: Float64Array,
  b: Float64Array,
  v?: Float32Array,
  d?: Float64Array,
): void {
  const rows = c === 0 ? 0 : u.length / c;
  for (let r0 = 0; r0 < rows; r0 += ROW_BLOCK) {
    const end = Math.min(rows, r0 + ROW_BLOCK) * c;
    let k = 0;
    for (; k + 3 < c; k += 4) {
      const a0 = a[k]!,
        a1 = a[k + 1]!,
        a2 = a[k + 2]!,
        a3 = a[k + 3]!;
      const b0 = b[k]!,
        b1 = b[k + 1]!,
        b2 = b[k + 2]!,
        b3 = b[k + 3]!;
      if (v && d) {
        const e0 = d[k]!,
          e1 = d[k + 1]!,
          e2 = d[k + 2]!,
          e3 = d[k + 3]!;
        for (let o = r0 * c + k; o < end; o += c) {
          out[o] = a0 * u[o]! + b0 * v[o]! + e0;
          out[o + 1] = a1 * u[o + 1]! + b1 * v[o + 1]! + e1;
          out[o + 2] = a2 * u[o + 2]! + b2 * v[o + 2]! + e2;
          out[o + 3] = a3 * u[o + 3]! + b3 * v[o + 3]! + e3;
        }
      } else {
        for (let o = r0 * c + k; o < end; o += c) {
          out[o] = a0 * u[o]! + b0;
          out[o + 1] = a1 * u[o + 1]! + b1;
          out[o + 2] = a2 * u[o + 2]! + b2;
          out[o + 3] = a3 * u[o + 3]! + b3;
        }
      }
    }
    for (; k < c; k++) {
      const a0 = a[k]!,
        b0 = b[k]!,
        e0 = d ? d[k]! : 0;
      for (let o = r0 * c + k; o < end; o += c) out[o] = v ? a0 * u[o]! + b0 * v[o]! + e0 : a0 * u[o]! + b0;
    }
  }
}

function forward(args: Args): TensorInfo[] {
  const backend = args.backend as WasmBackendLike;
  const { x, gamma, beta } = args.inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
  const epsilon = Number((args.attrs as { epsilon: number }).epsilon);
  const c = x.shape[x.shape.length - 1]!;
  const rows = c === 0 ? 0 : x.shape.reduce((p, d) => p * d, 1) / c;
  const simd = c % 4 === 0 && rows > 0 ? simdKernelsFor(backend) : undefined;
  const y = backend.makeOutput(x.shape.slice(), 'float32');
  const meanOut = backend.makeOutput([c], 'float32');
  const varOut = backend.makeOutput([c], 'float32');
  const invstdOut = backend.makeOutput([c], 'float32');
  // SIMD path scratch: shift f32[c] | sum f64[c] | sq f64[c] | scale f32[c] | offset f32[c].
  const scratch = simd ? backend.makeOutput([7 * c], 'float32') : undefined;
  // Views after every makeOutput: allocation may grow (and move) the heap.
  const xv = backend.typedArrayFromHeap(x);
  const gv = backend.typedArrayFromHeap(gamma);
  const bv = backend.typedArrayFromHeap(beta);
  const yv = backend.typedArrayFromHeap(y);
  // One pass for both sums, shifted by the first row's values so that E[d²] - E[d]² does not
  // cancel catastrophically (d = x - shift; float64 sums, see simd-module.ts for the SIMD kernel's).
  let shiftBy: Float32Array | Float64Array, sum: Float64Array, sq: Float64Array;
  let scale: Float32Array | Float64Array, shift: Float32Array | Float64Array;
  const sv = scratch ? backend.typedArrayFromHeap(scratch) : undefined;
  if (simd && sv) {
    shiftBy = sv.subarray(0, c);
    sum = new Float64Array(sv.buffer, sv.byteOffset + 4 * c, c);
    sq = new Float64Array(sv.buffer, sv.byteOffset + 12 * c, c);
    scale = sv.subarray(5 * c, 6 * c);
    shift = sv.subarray(6 * c, 7 * c);
    shiftBy.set(xv.subarray(0, c));
    sum.fill(0);
    sq.fill(0);
    simd.bnSums(xv.byteOffset, rows, c, shiftBy.byteOffset, sum.byteOffset, sq.byteOffset);
  } else {
    shiftBy = new Float64Array(c);
    for (let k = 0; k < c && rows > 0; k++) shiftBy[k] = xv[k]!;
    sum = new Float64Array(c);
    sq = new Float64Array(c);
    channelSums(xv, c, shiftBy as Float64Array, sum, sq);
    scale = new Float64Array(c);
    shift = new Float64Array(c);
  }
  const mv = backend.typedArrayFromHeap(meanOut);
  const vv = backend.typedArrayFromHeap(varOut);
  const iv = backend.typedArrayFromHeap(invstdOut);
  for (let k = 0; k < c; k++) {
    const m = sum[k]! / rows;
    const mean = shiftBy[k]! + m;
    const variance = Math.max(0, sq[k]! / rows - m * m);
    const invstd = 1 / Math.sqrt(variance + epsilon);
    mv[k] = mean;
    vv[k] = variance;
    iv[k] = invstd;
    scale[k] = gv[k]! * invstd;
    shift[k] = bv[k]! - mean * gv[k]! * invstd;
  }
  if (simd && scratch) {
    simd.bnAffine(yv.byteOffset, xv.byteOffset, 0, rows, c, scale.byteOffset, shift.byteOffset, 0);
    backend.disposeData(scratch.dataId);
  } else {
    channelAffine(yv, c, xv, scale as Float64Array, shift as Float64Array);
  }
  return [y, meanOut, varOut, invstdOut];
}

function gradient(args: Args): TensorInfo[] {
  const backend = args.backend as WasmBackendLike;
  const { dy, x, gamma, mean, invstd } = args.inputs as Record<'dy' | 'x' | 'gamma' | 'mean' | 'invstd', TensorInfo>;
  const c = x.shape[x.shape.length - 1]!;
  const rows = c === 0 ? 0 : x.shape.reduce((p, d) => p * d, 1) / c;
  const simd = c % 4 === 0 && rows > 0 ? simdKernelsFor(backend) : undefined;
  const dx = backend.makeOutput(x.shape.slice(), 'float32');
  const dgammaOut = backend.makeOutput([c], 'float32');
  const dbetaOut = backend.makeOutput([c], 'float32');
  // SIMD path scratch: sdy f64[c] | sdyx f64[c] | a f32[c] | b f32[c] | d f32[c].
  const scratch = simd ? backend.makeOutput([7 * c], 'float32') : undefined;
  const dyv = backend.typedArrayFromHeap(dy);
  const xv = backend.typedArrayFromHeap(x);
  const gv = backend.typedArrayFromHeap(gamma);
  const mv = backend.typedArrayFromHeap(mean);
  const iv = backend.typedArrayFromHeap(invstd);
  const dxv = backend.typedArrayFromHeap(dx);
  // Σdy·(x - mean) = Σdy·x - mean·Σdy (double precision).
  let sdy: Float64Array, sdyxc: Float64Array;
  let a: Float32Array | Float64Array, b: Float32Array | Float64Array, d: Float32Array | Float64Array;
  const sv = scratch ? backend.typedArrayFromHeap(scratch) : undefined;
  if (simd && sv) {
    sdy = new Float64Array(sv.buffer, sv.byteOffset, c);
    sdyxc = new Float64Array(sv.buffer, sv.byteOffset + 8 * c, c);
    a = sv.subarray(4 * c, 5 * c);
    b = sv.subarray(5 * c, 6 * c);
    d = sv.subarray(6 * c, 7 * c);
    sdy.fill(0);
    sdyxc.fill(0);
    simd.bnGradSums(dyv.byteOffset, xv.byteOffset, rows, c, sdy.byteOffset, sdyxc.byteOffset);
  } else {
    sdy = new Float64Array(c);
    sdyxc = new Float64Array(c);
    channelGradSums(dyv, xv, c, sdy, sdyxc);
    a = new Float64Array(c);
    b = new Float64Array(c);
    d = new Float64Array(c);
  }
  for (let k = 0; k < c; k++) sdyxc[k] -= mv[k]! * sdy[k]!;
  const dg = backend.typedArrayFromHeap(dgammaOut);
  const db = backend.typedArrayFromHeap(dbetaOut);
  for (let k = 0; k < c; k++) {
    const s = iv[k]!;
    const gs = gv[k]! * s;
    const bk = (-gs * s * s * sdyxc[k]!) / rows;
    a[k] = gs;
    b[k] = bk;
    // dx = a·dy + b·(x - mean) + e, folded: a·dy + b·x + (e - b·mean)
    d[k] = (-gs * sdy[k]!) / rows - bk * mv[k]!;
    dg[k] = sdyxc[k]! * s;
    db[k] = sdy[k]!;
  }
  if (simd && scratch) {
    simd.bnAffine(dxv.byteOffset, dyv.byteOffset, xv.byteOffset, rows, c, a.byteOffset, b.byteOffset, d.byteOffset);
    backend.disposeData(scratch.dataId);
  } else {
    channelAffine(dxv, c, dyv, a as Float64Array, b as Float64Array, xv, d as Float64Array);
  }
  return [dx, dgammaOut, dbetaOut];
}

let registered = false;

/** Registers the two kernels on the wasm backend (idempotent). */
export function registerBatchNormTrainKernels(): void {
  if (registered) return;
  tf.registerKernel({ kernelName: BN_TRAIN_FORWARD, backendName: 'wasm', kernelFunc: forward as unknown as KernelFunc });
  tf.registerKernel({ kernelName: BN_TRAIN_GRAD, backendName: 'wasm', kernelFunc: gradient as unknown as KernelFunc });
  registered = true;
}

/** tf.customGrad for a function of three tensors (its published typing is variadic). */
type CustomGrad3 = (
  f: (
    x: tf.Tensor,
    g: tf.Tensor,
    b: tf.Tensor,
    save: tf.GradSaveFunc,
  ) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] },
) => (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/**
 * Training-mode batch normalisation of x over every axis but the last: y with its gradients for
 * x, gamma and beta, plus the batch mean and (biased) variance for the moving averages. mean and
 * variance are kept (the custom op's forward runs in its own tidy): the caller disposes them.
 */
export function batchNormTrain(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon: number,
): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  registerBatchNormTrainKernels();
  let mean: tf.Tensor | undefined;
  let variance: tf.Tensor | undefined;
  const op = (tf.customGrad as unknown as CustomGrad3)((xi, gi, bi, save) => {
    const [y, m, v, invstd] = tf.engine().runKernel(BN_TRAIN_FORWARD, { x: xi, gamma: gi, beta: bi }, { epsilon }) as tf.Tensor[];
    mean = tf.keep(m!);
    variance = tf.keep(v!);
    save([xi, gi, m!, invstd!]);
    return {
      value: y!,
      gradFunc: (dy, saved) => {
        const [sx, sg, sm, si] = saved;
        return tf.engine().runKernel(BN_TRAIN_GRAD, { dy: dy as tf.Tensor, x: sx!, gamma: sg!, mean: sm!, invstd: si! }, {}) as tf.Tensor[];
      },
    };
  });
  const y = op(x, gamma, beta);
  return { y, mean: mean!, variance: variance! };
}

interface BatchNormLayerInternals {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: { read(): tf.Tensor };
  beta: { read(): tf.Tensor };
  movingMean: { read(): tf.Tensor; write(v: tf.Tensor): void };
  movingVariance: { read(): tf.Tensor; write(v: tf.Tensor): void };
  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[];
}

/**
 * Makes `model`'s BatchNormalization layers (last axis, with gamma and beta) use the fused kernels
 * in training calls; calls with training false keep tfjs's own code. Moving averages are updated
 * exactly as tfjs-layers does (moving -= (moving - batch)·(1 - momentum)). Returns how many layers
 * were switched. Needs the wasm backend active.
 */
export function useFusedBatchNorm(model: tf.LayersModel): number {
  let count = 0;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const bn = layer as unknown as BatchNormLayerInternals;
    if (!bn.center || !bn.scale) continue;
    const original = bn.call.bind(bn);
    bn.call = (inputs, kwargs) => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      if (!kwargs.training || tf.getBackend() !== 'wasm' || x.dtype !== 'float32' || (bn.axis !== -1 && bn.axis !== x.rank - 1))
        return original(inputs, kwargs);
      return tf.tidy(() => {
        const { y, mean, variance } = batchNormTrain(x, bn.gamma.read(), bn.beta.read(), bn.epsilon);
        const decay = 1 - bn.momentum;
        for (const [variable, value] of [
          [bn.movingMean, mean],
          [bn.movingVariance, variance],
        ] as const) {
          tf.tidy(() => {
            const orig = variable.read();
            variable.write(tf.sub(orig, tf.mul(tf.sub(orig, value), decay)));
          });
        }
        tf.dispose([mean, variance]);
        return y;
      });
    };
    count++;
  }
  return count;
}
