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
 * Sums in double precision. Both kernels are backend-level JS loops over the wasm heap (see
 * wasm-gradients.ts for why not tf.* ops inside a kernel); tf.customGrad ties them together, and
 * useFusedBatchNorm swaps them into a model's BatchNormalization layers for training only
 * (inference, e.g. frozen fine-tuning blocks, keeps tfjs's own path). Tested against the cpu
 * backend running tfjs's own layer (values, gradients, moving statistics).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import type { WasmBackendLike } from './wasm-gradients.ts';

export const BN_TRAIN_FORWARD = 'EmotionLensBatchNormTrain';
export const BN_TRAIN_GRAD = 'EmotionLensBatchNormTrainGrad';

type Args = { inputs: Record<string, TensorInfo>; attrs: NamedAttrMap; backend: unknown };

function forward(args: Args): TensorInfo[] {
  const backend = args.backend as WasmBackendLike;
  const { x, gamma, beta } = args.inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
  const epsilon = Number((args.attrs as { epsilon: number }).epsilon);
  const c = x.shape[x.shape.length - 1]!;
  const y = backend.makeOutput(x.shape.slice(), 'float32');
  const meanOut = backend.makeOutput([c], 'float32');
  const varOut = backend.makeOutput([c], 'float32');
  const invstdOut = backend.makeOutput([c], 'float32');
  // Views after every makeOutput: allocation may grow (and move) the heap.
  const xv = backend.typedArrayFromHeap(x);
  const gv = backend.typedArrayFromHeap(gamma);
  const bv = backend.typedArrayFromHeap(beta);
  const yv = backend.typedArrayFromHeap(y);
  const rows = c === 0 ? 0 : xv.length / c;
  // One pass for both sums, shifted by the first row's values so that E[d²] - E[d]² does not
  // cancel catastrophically (double precision; d = x - shift).
  const shiftBy = new Float64Array(c);
  for (let k = 0; k < c && rows > 0; k++) shiftBy[k] = xv[k]!;
  const sum = new Float64Array(c);
  const sq = new Float64Array(c);
  for (let r = 0, o = 0; r < rows; r++) {
    for (let k = 0; k < c; k++, o++) {
      const d = xv[o]! - shiftBy[k]!;
      sum[k] += d;
      sq[k] += d * d;
    }
  }
  const mean = new Float64Array(c);
  for (let k = 0; k < c; k++) {
    const m = sum[k]! / rows;
    mean[k] = shiftBy[k]! + m;
    sq[k] = Math.max(0, sq[k]! / rows - m * m) * rows;
  }
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  const mv = backend.typedArrayFromHeap(meanOut);
  const vv = backend.typedArrayFromHeap(varOut);
  const iv = backend.typedArrayFromHeap(invstdOut);
  for (let k = 0; k < c; k++) {
    const variance = sq[k]! / rows;
    const invstd = 1 / Math.sqrt(variance + epsilon);
    mv[k] = mean[k]!;
    vv[k] = variance;
    iv[k] = invstd;
    scale[k] = gv[k]! * invstd;
    shift[k] = bv[k]! - mean[k]! * scale[k]!;
  }
  for (let r = 0, o = 0; r < rows; r++) for (let k = 0; k < c; k++, o++) yv[o] = xv[o]! * scale[k]! + shift[k]!;
  return [y, meanOut, varOut, invstdOut];
}

function gradient(args: Args): TensorInfo[] {
  const backend = args.backend as WasmBackendLike;
  const { dy, x, gamma, mean, invstd } = args.inputs as Record<'dy' | 'x' | 'gamma' | 'mean' | 'invstd', TensorInfo>;
  const c = x.shape[x.shape.length - 1]!;
  const dx = backend.makeOutput(x.shape.slice(), 'float32');
  const dgammaOut = backend.makeOutput([c], 'float32');
  const dbetaOut = backend.makeOutput([c], 'float32');
  const dyv = backend.typedArrayFromHeap(dy);
  const xv = backend.typedArrayFromHeap(x);
  const gv = backend.typedArrayFromHeap(gamma);
  const mv = backend.typedArrayFromHeap(mean);
  const iv = backend.typedArrayFromHeap(invstd);
  const dxv = backend.typedArrayFromHeap(dx);
  const rows = c === 0 ? 0 : xv.length / c;
  const sdy = new Float64Array(c);
  const sdyxc = new Float64Array(c);
  for (let r = 0, o = 0; r < rows; r++) {
    for (let k = 0; k < c; k++, o++) {
      const g = dyv[o]!;
      sdy[k] += g;
      sdyxc[k] += g * (xv[o]! - mv[k]!);
    }
  }
  const a = new Float64Array(c);
  const b = new Float64Array(c);
  const d = new Float64Array(c);
  const dg = backend.typedArrayFromHeap(dgammaOut);
  const db = backend.typedArrayFromHeap(dbetaOut);
  for (let k = 0; k < c; k++) {
    const s = iv[k]!;
    const gs = gv[k]! * s;
    a[k] = gs;
    b[k] = (-gs * s * s * sdyxc[k]!) / rows;
    // dx = a·dy + b·(x - mean) + e, folded: a·dy + b·x + (e - b·mean)
    d[k] = (-gs * sdy[k]!) / rows - b[k]! * mv[k]!;
    dg[k] = sdyxc[k]! * s;
    db[k] = sdy[k]!;
  }
  for (let r = 0, o = 0; r < rows; r++) for (let k = 0; k < c; k++, o++) dxv[o] = a[k]! * dyv[o]! + b[k]! * xv[o]! + d[k]!;
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
  f: (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] },
) => (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/**
 * Training-mode batch normalisation of x over every axis but the last: y with its gradients for
 * x, gamma and beta, plus the batch mean and (biased) variance for the moving averages. mean and
 * variance are kept (the custom op's forward runs in its own tidy): the caller disposes them.
 */
export function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
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
  registerBatchNormTrainKernels();
  let count = 0;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const bn = layer as unknown as BatchNormLayerInternals;
    if (!bn.center || !bn.scale || (bn.axis !== -1 && bn.axis !== (layer.inputSpec?.[0]?.ndim ?? 0) - 1)) continue;
    const original = bn.call.bind(bn);
    bn.call = (inputs, kwargs) => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      if (!kwargs.training || tf.getBackend() !== 'wasm' || x.dtype !== 'float32' || (bn.axis !== -1 && bn.axis !== x.rank - 1)) return original(inputs, kwargs);
      return tf.tidy(() => {
        const { y, mean, variance } = batchNormTrain(x, bn.gamma.read(), bn.beta.read(), bn.epsilon);
        const decay = 1 - bn.momentum;
        for (const [variable, value] of [[bn.movingMean, mean], [bn.movingVariance, variance]] as const) {
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
