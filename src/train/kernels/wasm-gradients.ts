/**
 * Gradient kernels for the tfjs wasm backend, composed at the backend level from the wasm
 * backend's own (XNNPACK-backed) kernel functions and from our WebAssembly SIMD kernels
 * (simd-module.ts, conv-simd.ts), which work on the same heap.
 *
 * Why backend level: calling `tf.*` ops inside a `kernelFunc` re-enters the engine while it is
 * recording a kernel, which broke reference counting in a probe. Here every step calls another
 * wasm kernelFunc on TensorInfos and frees its intermediates with `backend.disposeData`, so the
 * engine only ever sees the one output we return.
 *
 * - Conv2DBackpropFilter: missing from tfjs-backend-wasm 4.x. Stride 1 with output channels in
 *   eights (every layer we train): our SIMD kernel. Otherwise one conv2d in which the batch plays
 *   the role of the channels and the output gradient plays the filter (the reference composition,
 *   shared with the browser in src/learn/training-kernels.ts), or, where faster, an explicit
 *   patch-matrix GEMM.
 * - Conv2DBackpropInput: wasm has it, but as a naive loop that dominated training steps. Stride 1:
 *   our SIMD convolution of dy with the turned filter where it takes the shape, else a conv2d with
 *   the flipped, transposed filter (src/learn again); other strides fall back to the original kernel.
 * - FusedConv2D without bias or activation (our conv layers), and Conv2D: our SIMD convolution
 *   where it takes the shape; everything else goes to the original kernel.
 * - MaxPoolGrad: the wasm kernel is a slow naive loop too (and disagrees with the cpu backend on
 *   overlapping padded windows); 2x2/stride 2 with channels in fours runs our SIMD kernel, the rest
 *   a tight JS loop over the wasm heap.
 * - BatchMatMul (2-D): run as a 1x1 conv2d (XNNPACK GEMM); the wasm kernel is slow for most shapes.
 * - Tile of a per-channel vector (BatchNorm gradients): a repeated memcpy.
 * - Sum over every axis but the last (bias and BatchNorm gradients): one sequential pass.
 * - Identity: the wasm kernel copies; tfjs clones every tensor it saves for a gradient (the inputs
 *   and outputs of each conv and BatchNorm layer), ~5 ms of copies per default-CNN step. Ours
 *   shares the buffer and counts a reference, as the cpu backend's does: no kernel writes into its
 *   inputs, so a shared buffer is never changed behind a tensor's back.
 */
import * as tf from '@tensorflow/tfjs';
import { backend_util } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import {
  callWasmKernel,
  conv2DBackpropFilterConv as filterGradientByConv,
  conv2DBackpropFilterInfo,
  conv2DBackpropInputConv,
  conv2DBackpropInputInfo,
  conv2dPadded,
  convSizes,
  type KernelArgs,
  type Pad,
} from '../../learn/training-kernels.ts';
import { conv2dSimd, filterGradientSimd, inputGradientSimd } from './conv-simd.ts';
import { simdKernelsFor } from './simd-module.ts';
import type { WasmBackendLike } from './wasm-backend.ts';

type Args = KernelArgs;

/**
 * The wasm backend's own kernel `name`, as captured before we replaced it: the fallback for the
 * cases our replacement does not take. Throws when it was never captured.
 */
function original(name: string): KernelFunc {
  const k = REPLACED.get(name)?.original;
  if (!k) throw new Error(`${name} (wasm): original kernel not captured; call registerWasmGradientKernels after the wasm backend is ready`);
  return k;
}

/** Runs the wasm backend's own kernel `name` on `args` (see original()). */
function callOriginal(name: string, args: Args | { inputs: Record<string, TensorInfo>; backend: unknown }): TensorInfo {
  return original(name)(args as Parameters<KernelFunc>[0]) as TensorInfo;
}

function kernel(name: string): KernelFunc {
  // Our compositions need XNNPACK's own kernels (Conv2D), not our replacements of them.
  const captured = REPLACED.get(name)?.original;
  if (captured) return captured;
  const config = tf.getKernel(name, 'wasm');
  if (!config) throw new Error(`wasm backend has no ${name} kernel; is @tensorflow/tfjs-backend-wasm loaded?`);
  return config.kernelFunc;
}

function call(name: string, backend: WasmBackendLike, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap): TensorInfo {
  return callWasmKernel(kernel, name, backend, inputs, attrs);
}

function free(backend: WasmBackendLike, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

const transpose = (b: WasmBackendLike, x: TensorInfo, perm: number[]) => call('Transpose', b, { x }, { perm });

const NO_PADDING: Pad = [
  [0, 0],
  [0, 0],
  [0, 0],
  [0, 0],
];

/**
 * a [m, k] . b [k, n] (float32, row-major, read in place) as a 1x1 conv2d, which XNNPACK runs as a
 * packed GEMM: the product as a [1, m, 1, n] tensor.
 */
function matMulByConv(
  backend: WasmBackendLike,
  a: TensorInfo['dataId'],
  b: TensorInfo['dataId'],
  m: number,
  k: number,
  n: number,
): TensorInfo {
  const x: TensorInfo = { dataId: a, shape: [1, m, 1, k], dtype: 'float32' };
  const filter: TensorInfo = { dataId: b, shape: [1, 1, k, n], dtype: 'float32' };
  return conv2dPadded(kernel, backend, x, filter, NO_PADDING, [1, 1]);
}

/** The reference composition (src/learn/training-kernels.ts) on XNNPACK's own kernels, not our replacements. */
export function conv2DBackpropFilterConv(args: Args): TensorInfo {
  return filterGradientByConv(args, kernel);
}

/**
 * The same gradient as an explicit GEMM: dW[(kh,kw,ci), co] = P^T[(kh,kw,ci), (n,oh,ow)] . dy[(n,oh,ow), co],
 * with the patch matrix P^T built by a loop over the wasm heap and the product run as a 1x1 conv2d.
 */
export function conv2DBackpropFilterGemm(args: Args): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const { n, kh, kw, sh, sw, h, w, oh, ow, ci, co, top, left } = convSizes(conv2DBackpropFilterInfo(args));
  const cols = n * oh * ow;
  const rows = kh * kw * ci;
  const pt = backend.makeOutput([1, rows, 1, cols], 'float32');
  const xv = backend.typedArrayFromHeap(x);
  const pv = backend.typedArrayFromHeap(pt);
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      for (let c = 0; c < ci; c++) {
        let o = ((a * kw + b) * ci + c) * cols;
        for (let bn = 0; bn < n; bn++) {
          for (let i = 0; i < oh; i++) {
            const r = i * sh + a - top;
            if (r < 0 || r >= h) {
              pv.fill(0, o, o + ow);
              o += ow;
              continue;
            }
            const rowBase = (bn * h + r) * w * ci + c;
            for (let j = 0; j < ow; j++) {
              const q = j * sw + b - left;
              pv[o++] = q >= 0 && q < w ? xv[rowBase + q * ci] : 0;
            }
          }
        }
      }
    }
  }
  const prod = matMulByConv(backend, pt.dataId, dy.dataId, rows, cols, co);
  free(backend, pt);
  return { dataId: prod.dataId, shape: [kh, kw, ci, co], dtype: 'float32' };
}

export type FilterGradientForm = 'auto' | 'conv' | 'gemm' | 'simd';
let filterGradientForm: FilterGradientForm = 'auto';

/**
 * 'auto': our SIMD kernel wherever it takes the shape. Elsewhere, the faster XNNPACK composition by
 * shape (measured per layer, batch 64): with few input channels the conv
 * form is a few huge-filter GEMMs of 9 rows after a large transpose of dy (first layer: 66 ms vs 11 ms
 * for the GEMM form); on small feature maps the GEMM form also wins slightly; elsewhere they tie.
 */
export function conv2DBackpropFilter(args: Args): TensorInfo {
  let form = filterGradientForm;
  if (form === 'auto' || form === 'simd') {
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const simd = filterGradientSimd(args.backend as WasmBackendLike, x, dy, conv2DBackpropFilterInfo(args));
    if (simd) return simd;
    if (form === 'simd') throw new Error('Conv2DBackpropFilter: the SIMD kernel does not take this shape or is not loaded');
    form = x.shape[3] < 8 || dy.shape[1] * dy.shape[2] <= 100 ? 'gemm' : 'conv';
  }
  return form === 'gemm' ? conv2DBackpropFilterGemm(args) : conv2DBackpropFilterConv(args);
}

/** Whether the forward convolution and the input gradient use the SIMD kernels where they apply. */
let useSimd = true;

/**
 * FusedConv2D without bias or activation (our conv layers: BatchNorm follows) by the SIMD kernel;
 * every other case, and shapes the kernel does not take, by the wasm backend's own kernel.
 */
export function fusedConv2D(args: Args): TensorInfo {
  const { bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
  const activation = (args.attrs as { activation?: string }).activation ?? 'linear';
  if (!bias && !preluActivationWeights && activation === 'linear') {
    const out = forwardConvSimd(args);
    if (out) return out;
  }
  return callOriginal('FusedConv2D', args);
}

/** Our SIMD forward convolution for a Conv2D or FusedConv2D call, or undefined where it does not apply. */
function forwardConvSimd(args: Args): TensorInfo | undefined {
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = args.attrs as unknown as {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | Pad;
    dataFormat: 'NHWC' | 'NCHW';
    dilations: [number, number] | number;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  if (!useSimd || dataFormat === 'NCHW') return undefined;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  return conv2dSimd(args.backend as WasmBackendLike, x, filter, info);
}

/** A new tensor on the same buffer (see the note on Identity above). */
export function identity(args: { inputs: Record<string, TensorInfo>; backend: unknown }): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype === 'string') return callOriginal('Identity', args);
  (args.backend as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Plain Conv2D (tfjs runs conv layers with a nonlinear activation unfused while training) likewise. */
export function conv2D(args: Args): TensorInfo {
  const out = forwardConvSimd(args);
  if (out) return out;
  return callOriginal('Conv2D', args);
}

/** dx = conv2d(dy, rot180(W) with in/out channels swapped), padded to give back the input size. */
export function conv2DBackpropInput(args: Args): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const info = conv2DBackpropInputInfo(args);
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || info.dataFormat !== 'channelsLast') {
    return callOriginal('Conv2DBackpropInput', args);
  }
  if (useSimd) {
    const simd = inputGradientSimd(backend, dy, filter, info);
    if (simd) return simd;
  }
  return conv2DBackpropInputConv(backend, dy, filter, info, kernel);
}

/** Routes dy to the arg-max of each window (first maximum in row-major order wins, like the cpu backend). */
export function maxPoolGrad(args: Args): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as {
    filterSize: [number, number] | number;
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { kh: fh, kw: fw, sh, sw, top, left, n, h, w, ci: c, oh, ow } = convSizes(info);
  const dx = backend.makeOutput(input.shape.slice(), 'float32');
  // Views into the wasm heap: take them after makeOutput, which may grow (and move) the heap.
  const xv = backend.typedArrayFromHeap(input);
  const dyv = backend.typedArrayFromHeap(dy);
  const dxv = backend.typedArrayFromHeap(dx);
  const rowStride = w * c;
  const common = fh === 2 && fw === 2 && sh === 2 && sw === 2 && top === 0 && left === 0 && 2 * oh <= h && 2 * ow <= w;
  const simd = simdKernelsFor(backend);
  if (common && simd && c % 4 === 0 && n * oh * ow * c > 0 && useSimd) {
    // The SIMD kernel writes every element of the windows; rows or columns past them get 0 here.
    if (2 * oh !== h || 2 * ow !== w) dxv.fill(0);
    simd.maxPoolGrad2x2(xv.byteOffset, dyv.byteOffset, dxv.byteOffset, n, oh, ow, c, rowStride * 4, h * rowStride * 4);
    return dx;
  }
  dxv.fill(0);
  if (common) {
    // The common case (2x2 pooling, stride 2, no padding): four loads, no window bounds.
    for (let b = 0; b < n; b++) {
      const xBase = b * h * rowStride;
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          const p00 = xBase + 2 * i * rowStride + 2 * j * c;
          const p10 = p00 + rowStride;
          const dyBase = ((b * oh + i) * ow + j) * c;
          for (let ch = 0; ch < c; ch++) {
            let best = p00 + ch;
            let bestVal = xv[best];
            let v = xv[p00 + c + ch];
            if (v > bestVal) {
              bestVal = v;
              best = p00 + c + ch;
            }
            v = xv[p10 + ch];
            if (v > bestVal) {
              bestVal = v;
              best = p10 + ch;
            }
            v = xv[p10 + c + ch];
            if (v > bestVal) {
              best = p10 + c + ch;
            }
            dxv[best] += dyv[dyBase + ch];
          }
        }
      }
    }
    return dx;
  }
  for (let b = 0; b < n; b++) {
    const xBase = b * h * rowStride;
    for (let i = 0; i < oh; i++) {
      const r0 = Math.max(0, i * sh - top);
      const r1 = Math.min(h, i * sh - top + fh);
      for (let j = 0; j < ow; j++) {
        const c0 = Math.max(0, j * sw - left);
        const c1 = Math.min(w, j * sw - left + fw);
        const dyBase = ((b * oh + i) * ow + j) * c;
        for (let ch = 0; ch < c; ch++) {
          let best = -1;
          let bestVal = -Infinity;
          for (let r = r0; r < r1; r++) {
            const rowBase = xBase + r * rowStride + ch;
            for (let q = c0; q < c1; q++) {
              const idx = rowBase + q * c;
              const v = xv[idx];
              if (v > bestVal) {
                bestVal = v;
                best = idx;
              }
            }
          }
          if (best >= 0) dxv[best] += dyv[dyBase + ch];
        }
      }
    }
  }
  return dx;
}

/**
 * The wasm BatchMatMul is fast only in narrow cases: in a probe [64,2048]x[2048,128] took 4 ms but
 * [2048,64]x[64,128] (same FLOPs) 80 ms and any transposed operand (every Dense gradient) was slower
 * still. A 2-D product is a 1x1 convolution, which XNNPACK runs as a packed GEMM: use that.
 * Batched products (rank > 2 with a batch > 1) keep the original kernel.
 */
export function batchMatMul(args: Args): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
  const batchA = a.shape.slice(0, -2).reduce((x, y) => x * y, 1);
  const batchB = b.shape.slice(0, -2).reduce((x, y) => x * y, 1);
  if (batchA !== 1 || batchB !== 1 || a.dtype !== 'float32' || b.dtype !== 'float32') return callOriginal('BatchMatMul', args);
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const m = transposeA ? ac : ar;
  const k = transposeA ? ar : ac;
  const n = transposeB ? br : bc;
  if ((transposeB ? bc : br) !== k)
    throw new Error(`matMul: inner dimensions ${k} and ${transposeB ? bc : br} of shapes ${a.shape} and ${b.shape} differ`);
  // Views with new shapes over the same data (no copy, not disposed: the engine owns a and b).
  const a2 = transposeA ? transpose(backend, { dataId: a.dataId, shape: [ar, ac], dtype: a.dtype }, [1, 0]) : a;
  const b2 = transposeB ? transpose(backend, { dataId: b.dataId, shape: [br, bc], dtype: b.dtype }, [1, 0]) : b;
  const conv = matMulByConv(backend, a2.dataId, b2.dataId, m, k, n);
  if (transposeA) free(backend, a2);
  if (transposeB) free(backend, b2);
  const outShape = [...a.shape.slice(0, -2), m, n];
  return { dataId: conv.dataId, shape: outShape, dtype: 'float32' };
}

/**
 * BatchNorm's gradient (tfjs-core) tiles per-channel vectors up to the full [N,H,W,C] shape; the wasm
 * Tile kernel does that element by element (it was the costliest kernel of a BN training step).
 * When the tiled dims are all leading and x is 1 there, the output is x's buffer repeated: memcpy.
 */
export function tile(args: Args): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x } = args.inputs as { x: TensorInfo };
  const { reps } = args.attrs as unknown as { reps: number[] };
  const rank = x.shape.length;
  let k = rank; // first dim from which all reps are 1
  while (k > 0 && reps[k - 1] === 1) k--;
  const leadingOnes = x.shape.slice(0, k).every((d) => d === 1);
  if (x.dtype !== 'float32' || !leadingOnes || rank === 0) return callOriginal('Tile', args);
  const outShape = x.shape.map((d, i) => d * reps[i]);
  const out = backend.makeOutput(outShape, 'float32');
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const block = src.length;
  if (block > 0) {
    dst.set(src, 0);
    let filled = block;
    while (filled < dst.length) {
      const n = Math.min(filled, dst.length - filled);
      dst.copyWithin(filled, 0, n);
      filled += n;
    }
  }
  return out;
}

/**
 * Bias gradients sum dy over every axis but the channels; the wasm Sum transposes the reduced
 * axes innermost first. Summing rows of channels in place is one sequential pass.
 */
export function sum(args: Args): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x } = args.inputs as { x: TensorInfo };
  const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
  const rank = x.shape.length;
  const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
  const leading = rank >= 2 && axes.length === rank - 1 && axes.every((a, i) => a === i);
  if (!leading || x.dtype !== 'float32') return callOriginal('Sum', args);
  const c = x.shape[rank - 1];
  const outShape = keepDims ? x.shape.map((d, i) => (i === rank - 1 ? d : 1)) : [c];
  const out = backend.makeOutput(outShape, 'float32');
  const xv = backend.typedArrayFromHeap(x);
  const ov = backend.typedArrayFromHeap(out);
  const acc = new Float64Array(c); // double accumulation: long sums stay as accurate as the cpu backend's
  const rows = c === 0 ? 0 : xv.length / c;
  for (let r = 0; r < rows; r++) {
    const base = r * c;
    for (let k = 0; k < c; k++) acc[k] += xv[base + k];
  }
  for (let k = 0; k < c; k++) ov[k] = acc[k];
  return out;
}

export interface GradientKernelOptions {
  /** Replace the wasm backend's slow Conv2DBackpropInput, MaxPoolGrad and transposed BatchMatMul (default true). */
  fast?: boolean;
  /** Force one form of Conv2DBackpropFilter (tests); default 'auto' picks by shape. */
  filterGradient?: FilterGradientForm;
  /** With `fast`: forward convolutions and input gradients by the SIMD kernels where they apply (default true). */
  simd?: boolean;
}

/** A wasm kernel we replace: its name, the backend's own function (captured once) and ours. */
interface ReplacedKernel {
  name: string;
  /** The wasm backend's kernel, captured before the first replacement; undefined where wasm has none. */
  original?: KernelFunc;
  replacement: KernelFunc;
  /** Replaced in the reference setup too (`fast: false`); the others go back to `original` there. */
  always?: boolean;
}

const ours = (f: (args: Args) => TensorInfo): KernelFunc => f as unknown as KernelFunc;

/** Every kernel we replace on the wasm backend (see the notes at the top of this file). */
const KERNELS: ReplacedKernel[] = [
  // Missing from tfjs-backend-wasm 4.x: always ours.
  { name: 'Conv2DBackpropFilter', replacement: ours(conv2DBackpropFilter), always: true },
  { name: 'Conv2DBackpropInput', replacement: ours(conv2DBackpropInput) },
  { name: 'MaxPoolGrad', replacement: ours(maxPoolGrad) },
  { name: 'BatchMatMul', replacement: ours(batchMatMul) },
  { name: 'Tile', replacement: ours(tile) },
  { name: 'Sum', replacement: ours(sum) },
  { name: 'FusedConv2D', replacement: ours(fusedConv2D) },
  { name: 'Conv2D', replacement: ours(conv2D) },
  { name: 'Identity', replacement: identity as unknown as KernelFunc },
];
const REPLACED = new Map(KERNELS.map((k) => [k.name, k]));

const registered = new Set<string>();

function replaceKernel(config: KernelConfig): void {
  if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
  tf.registerKernel(config);
  registered.add(config.kernelName);
}

/**
 * Registers our gradient kernels on the wasm backend. Always adds the missing
 * Conv2DBackpropFilter; with `fast` also replaces the other kernels of KERNELS.
 * Calling it again with another `fast` value switches back and forth (used by tests and bench):
 * without `fast`, those kernels go back to the wasm backend's own.
 */
export function registerWasmGradientKernels(options: GradientKernelOptions = {}): string[] {
  const fast = options.fast ?? true;
  // The reference keeps the plain conv composition only.
  filterGradientForm = fast ? (options.filterGradient ?? 'auto') : 'conv';
  useSimd = options.simd ?? true;
  for (const k of KERNELS) {
    // The backend's own kernel, never ours (a later call finds ours registered).
    const current = tf.getKernel(k.name, 'wasm')?.kernelFunc;
    if (!k.original && current !== k.replacement) k.original = current;
  }
  for (const k of KERNELS) {
    if (fast || k.always) replaceKernel({ kernelName: k.name, backendName: 'wasm', kernelFunc: k.replacement });
    else if (k.original) replaceKernel({ kernelName: k.name, backendName: 'wasm', kernelFunc: k.original });
  }
  return [...registered].sort();
}
