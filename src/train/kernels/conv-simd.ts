/**
 * Stride-1 convolution for training on the tfjs wasm backend by our SIMD kernels (simd-module.ts):
 * the forward convolution, the input gradient (the same kernel on dy with the filter turned) and
 * the filter gradient.
 *
 * Why not XNNPACK: tfjs's wasm backend has no filter-gradient kernel, and the compositions we can
 * build from its kernels are GEMMs whose reduction runs over the whole batch (K = n * oh * ow, tens
 * of thousands). XNNPACK's GEMM does not block K, so every 4-row tile of the output re-streams the
 * whole packed operand from L3: those products ran at 7-15 GMAC/s here. The input gradient paid for a
 * new XNNPACK operator (weight packing) on every call because its turned filter is a new tensor.
 * Our kernels keep a tile of the result in eight SIMD registers (8 output channels x 2x2 positions
 * for the convolution, 4 input x 8 output channels for the filter gradient) and ran at 25-28 GMAC/s
 * on the 2-core dev machine (per-kernel times from `npm run bench:train -- --profile`).
 */
import { backend_util } from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { convSizes } from '../../learn/training-kernels.ts';
import { simdKernelsFor, type SimdKernels } from './simd-module.ts';
import type { WasmBackendLike } from './wasm-backend.ts';

/** Rows of dy per reduction block: about 32 KiB of dy, so the block and its input rows stay in L1/L2. */
function filterGradRowBlock(ow: number, co: number): number {
  return Math.max(1, Math.floor(32768 / (ow * co * 4)));
}

/**
 * Copies x [n, h, w, c] into dst [n, hp, wp, cp] at (top, left), zeros elsewhere (and in channels
 * c..cp-1). Padding here is what lets the kernels run every tap without bounds checks.
 */
function padInto(
  dst: Float32Array,
  x: Float32Array,
  n: number,
  h: number,
  w: number,
  c: number,
  hp: number,
  wp: number,
  top: number,
  left: number,
  cp: number,
): void {
  dst.fill(0);
  const rowFloats = w * c;
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < h; r++) {
      const src = (b * h + r) * rowFloats;
      const dstRow = ((b * hp + r + top) * wp + left) * cp;
      if (cp === c) {
        dst.set(x.subarray(src, src + rowFloats), dstRow);
      } else {
        for (let j = 0; j < w; j++) for (let ch = 0; ch < c; ch++) dst[dstRow + j * cp + ch] = x[src + j * c + ch];
      }
    }
  }
}

const stride1 = (info: backend_util.Conv2DInfo) =>
  info.strideHeight === 1 &&
  info.strideWidth === 1 &&
  info.dilationHeight === 1 &&
  info.dilationWidth === 1 &&
  info.dataFormat === 'channelsLast';

/** A zero-padded copy of x [n, h, w, c] as a scratch tensor [n, hp, wp, cp] (cp >= c); the caller frees it. */
function padded(backend: WasmBackendLike, x: TensorInfo, hp: number, wp: number, top: number, left: number, cp = x.shape[3]): TensorInfo {
  const [n, h, w, c] = x.shape;
  const xp = backend.makeOutput([n, hp, wp, cp], 'float32');
  // Views after makeOutput, which may grow (and move) the heap.
  padInto(backend.typedArrayFromHeap(xp), backend.typedArrayFromHeap(x), n, h, w, c, hp, wp, top, left, cp);
  return xp;
}

/**
 * dW [kh, kw, ci, co] of a stride-1 convolution, or undefined where the kernel does not apply.
 * Input channels that are not a multiple of 4 (the first layer's one gray channel) are padded with
 * zero channels in the padded copy, and the extra rows of dW dropped.
 */
export function filterGradientSimd(
  backend: WasmBackendLike,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo | undefined {
  const k = simdKernelsFor(backend);
  const { n, kh, kw, h, w, oh, ow, ci, co, top, left } = convSizes(info);
  if (!k || !stride1(info) || co % 8 !== 0 || n * oh * ow * ci === 0) return undefined;
  const hp = Math.max(oh + kh - 1, h + top);
  const wp = Math.max(ow + kw - 1, w + left);
  const cp = Math.ceil(ci / 4) * 4;
  const xp = padded(backend, x, hp, wp, top, left, cp);
  const dw = backend.makeOutput([kh, kw, ci, co], 'float32');
  const dwp = cp === ci ? dw : backend.makeOutput([kh, kw, cp, co], 'float32');
  const dwpv = backend.typedArrayFromHeap(dwp);
  dwpv.fill(0);
  const xRowStep = wp * cp * 4;
  k.filterGrad(
    backend.typedArrayFromHeap(xp).byteOffset,
    backend.typedArrayFromHeap(dy).byteOffset,
    dwpv.byteOffset,
    n * oh,
    filterGradRowBlock(ow, co),
    oh,
    ow,
    cp,
    co,
    kh,
    kw,
    xRowStep,
    (hp - oh + 1) * xRowStep,
  );
  backend.disposeData(xp.dataId);
  if (dwp !== dw) {
    const dwv = backend.typedArrayFromHeap(dw);
    for (let t = 0; t < kh * kw; t++) {
      for (let c = 0; c < ci; c++) dwv.set(dwpv.subarray((t * cp + c) * co, (t * cp + c + 1) * co), (t * ci + c) * co);
    }
    backend.disposeData(dwp.dataId);
  }
  return dw;
}

/** Rounded up to even: the conv kernel computes 2x2 blocks of output positions. */
const even = (v: number) => v + (v & 1);

/**
 * out [n, oh, ow, co] = conv2d(x, filter) with x padded by `top` rows and `left` columns before
 * (zeros after, as far as the output needs): the shared part of the forward pass and dx. The
 * padded copy is sized for even output sizes; odd sizes are computed one row or column wider into
 * a scratch tensor and copied out.
 */
function convPadded(
  k: SimdKernels,
  backend: WasmBackendLike,
  x: TensorInfo,
  filter: TensorInfo,
  oh: number,
  ow: number,
  top: number,
  left: number,
): TensorInfo {
  const [kh, kw, , co] = filter.shape;
  const xp = padded(backend, x, even(oh) + kh - 1, even(ow) + kw - 1, top, left);
  const [n, hp, wp, ci] = xp.shape;
  const out = backend.makeOutput([n, oh, ow, co], 'float32');
  const exact = even(oh) === oh && even(ow) === ow;
  const full = exact ? out : backend.makeOutput([n, even(oh), even(ow), co], 'float32');
  const xRowStep = wp * ci * 4;
  const fullView = backend.typedArrayFromHeap(full);
  k.conv2d(
    backend.typedArrayFromHeap(xp).byteOffset,
    backend.typedArrayFromHeap(filter).byteOffset,
    fullView.byteOffset,
    n,
    even(oh),
    even(ow),
    ci,
    co,
    kh,
    kw,
    xRowStep,
    hp * xRowStep,
  );
  if (!exact) {
    const outView = backend.typedArrayFromHeap(out);
    const rowFloats = ow * co;
    for (let b = 0; b < n; b++) {
      for (let r = 0; r < oh; r++) {
        const src = (b * even(oh) + r) * even(ow) * co;
        outView.set(fullView.subarray(src, src + rowFloats), (b * oh + r) * rowFloats);
      }
    }
    backend.disposeData(full.dataId);
  }
  backend.disposeData(xp.dataId);
  return out;
}

/** The forward stride-1 convolution (no bias or activation), or undefined where the kernel does not apply. */
export function conv2dSimd(
  backend: WasmBackendLike,
  x: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo | undefined {
  const k = simdKernelsFor(backend);
  const { n, oh, ow, ci, co, top, left } = convSizes(info);
  // The kernel's loops run at least once: empty tensors go to XNNPACK.
  if (!k || !stride1(info) || co % 8 !== 0 || n * oh * ow * ci === 0) return undefined;
  return convPadded(k, backend, x, filter, oh, ow, top, left);
}

/**
 * dx of a stride-1 convolution: dy padded by (k - 1 - pad) convolved with the filter turned by 180
 * degrees and its channel axes swapped. Undefined where the kernel does not apply.
 */
export function inputGradientSimd(
  backend: WasmBackendLike,
  dy: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo | undefined {
  const k = simdKernelsFor(backend);
  const { n, kh, kw, h, w, ci, co, top, left } = convSizes(info);
  if (!k || !stride1(info) || ci % 8 !== 0 || n * h * w * co === 0) return undefined;
  const turned = backend.makeOutput([kh, kw, co, ci], 'float32');
  const tv = backend.typedArrayFromHeap(turned);
  const fv = backend.typedArrayFromHeap(filter);
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const src = ((kh - 1 - a) * kw + (kw - 1 - b)) * ci * co;
      const dst = (a * kw + b) * co * ci;
      for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) tv[dst + o * ci + c] = fv[src + c * co + o];
    }
  }
  const dx = convPadded(k, backend, dy, turned, h, w, kh - 1 - top, kw - 1 - left);
  backend.disposeData(turned.dataId);
  return dx;
}
