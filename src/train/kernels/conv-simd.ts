/**
 * Stride-1 convolution kernels for training on the tfjs wasm backend, hand-written in WebAssembly
 * SIMD: the forward convolution (also used for the input gradient) and the filter gradient.
 *
 * Why not XNNPACK: tfjs's wasm backend has no filter-gradient kernel, and the compositions we can
 * build from its kernels are GEMMs whose reduction runs over the whole batch (K = n * oh * ow, tens
 * of thousands). XNNPACK's GEMM does not block K, so every 4-row tile of the output re-streams the
 * whole packed operand from L3: those products ran at 7-15 GMAC/s here. The input gradient paid for a
 * new XNNPACK operator (weight packing) on every call because its flipped filter is a new tensor.
 * These kernels keep an 8-channel x 4-position (or 4 x 8) tile of the result in SIMD registers and
 * run at ~25 GMAC/s on this machine (`runs` of `npm run bench:train -- --profile`).
 *
 * The module is WebAssembly text compiled at load time by wabt (no binary blob in the repository,
 * no toolchain needed). It imports the wasm backend's own memory, so it reads and writes tensors in
 * place; pointers are byte offsets into that memory.
 */
import { backend_util } from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import initWabt from 'wabt';
import type { WasmBackendLike } from './wasm-gradients.ts';

/**
 * filterGrad(xp, dy, dw, rows, rowBlock, oh, ow, ci, co, kh, kw, xRowStep, xImageJump)
 *   dw[(a*kw+b)*ci + c, o] += sum over output positions (n, i, j) of xp[n, i+a, j+b, c] * dy[n, i, j, o]
 *   xp: zero-padded input [n, hp, wp, ci]; dy: [n, oh, ow, co]; dw: [kh, kw, ci, co].
 *   rows = n * oh; xRowStep = wp*ci*4 bytes; xImageJump = (hp - oh + 1) * xRowStep (from the last
 *   output row of one image to the first of the next). The reduction runs in blocks of rowBlock
 *   rows of dy, so a block and its input rows stay in cache while every dW tile sweeps it.
 *   Needs ci % 4 == 0 and co % 8 == 0.
 * conv2d(xp, w, out, n, oh, ow, ci, co, kh, kw, xRowStep, xImageStep)
 *   out[n, i, j, o] = sum over a, b, c of xp[n, i+a, j+b, c] * w[a, b, c, o]
 *   xp: zero-padded input [n, hp, wp, ci]; w: [kh, kw, ci, co]; out: [n, oh, ow, co].
 *   xImageStep = hp * xRowStep. Tiles of 2x2 output positions: needs oh, ow even and co % 8 == 0.
 */
const WAT = `
(module
  (import "env" "memory" (memory 1))
  (func (export "filterGrad")
    (param $xp i32) (param $dy i32) (param $dw i32) (param $rows i32) (param $rowBlock i32)
    (param $oh i32) (param $ow i32) (param $ci i32) (param $co i32) (param $kh i32) (param $kw i32)
    (param $xRowStep i32) (param $xImageJump i32)
    (local $rb i32) (local $rEnd i32) (local $n0 i32) (local $i0 i32) (local $blockX i32) (local $blockDy i32)
    (local $a i32) (local $b i32) (local $c0 i32) (local $o0 i32) (local $tapX i32) (local $dwp i32)
    (local $r i32) (local $i i32) (local $xrow i32) (local $xq i32) (local $dyp i32) (local $j i32)
    (local $xStep i32) (local $dyStep i32) (local $co4 i32)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    (local $acc4 v128) (local $acc5 v128) (local $acc6 v128) (local $acc7 v128)
    (local $d0 v128) (local $d1 v128) (local $x v128)
    (local.set $xStep (i32.shl (local.get $ci) (i32.const 2)))
    (local.set $dyStep (i32.shl (local.get $co) (i32.const 2)))
    (local.set $co4 (local.get $dyStep))
    (local.set $rb (i32.const 0))
    (block $rbDone (loop $rbLoop
      (br_if $rbDone (i32.ge_u (local.get $rb) (local.get $rows)))
      (local.set $rEnd (i32.add (local.get $rb) (local.get $rowBlock)))
      (if (i32.gt_u (local.get $rEnd) (local.get $rows)) (then (local.set $rEnd (local.get $rows))))
      (local.set $n0 (i32.div_u (local.get $rb) (local.get $oh)))
      (local.set $i0 (i32.rem_u (local.get $rb) (local.get $oh)))
      ;; byte offset of padded row (n0, i0) and of dy row rb
      (local.set $blockX (i32.add (local.get $xp)
        (i32.add (i32.mul (local.get $n0) (i32.add (local.get $xImageJump) (i32.mul (i32.sub (local.get $oh) (i32.const 1)) (local.get $xRowStep))))
                 (i32.mul (local.get $i0) (local.get $xRowStep)))))
      (local.set $blockDy (i32.add (local.get $dy) (i32.mul (local.get $rb) (i32.mul (local.get $ow) (local.get $dyStep)))))
      (local.set $a (i32.const 0))
      (loop $aLoop
        (local.set $b (i32.const 0))
        (loop $bLoop
          (local.set $tapX (i32.add (local.get $blockX)
            (i32.add (i32.mul (local.get $a) (local.get $xRowStep)) (i32.mul (local.get $b) (local.get $xStep)))))
          (local.set $c0 (i32.const 0))
          (loop $cLoop
            (local.set $o0 (i32.const 0))
            (loop $oLoop
              (local.set $dwp (i32.add (local.get $dw) (i32.shl
                (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $a) (local.get $kw)) (local.get $b)) (local.get $ci)) (local.get $c0)) (local.get $co)) (local.get $o0))
                (i32.const 2))))
              (local.set $acc0 (v128.load (local.get $dwp)))
              (local.set $acc1 (v128.load offset=16 (local.get $dwp)))
              (local.set $acc2 (v128.load (i32.add (local.get $dwp) (local.get $co4))))
              (local.set $acc3 (v128.load offset=16 (i32.add (local.get $dwp) (local.get $co4))))
              (local.set $acc4 (v128.load (i32.add (local.get $dwp) (i32.shl (local.get $co4) (i32.const 1)))))
              (local.set $acc5 (v128.load offset=16 (i32.add (local.get $dwp) (i32.shl (local.get $co4) (i32.const 1)))))
              (local.set $acc6 (v128.load (i32.add (local.get $dwp) (i32.mul (local.get $co4) (i32.const 3)))))
              (local.set $acc7 (v128.load offset=16 (i32.add (local.get $dwp) (i32.mul (local.get $co4) (i32.const 3)))))
              (local.set $r (local.get $rb))
              (local.set $i (local.get $i0))
              (local.set $xrow (i32.add (local.get $tapX) (i32.shl (local.get $c0) (i32.const 2))))
              (local.set $dyp (i32.add (local.get $blockDy) (i32.shl (local.get $o0) (i32.const 2))))
              (loop $rLoop
                (local.set $xq (local.get $xrow))
                (local.set $j (local.get $ow))
                (loop $jLoop
                  (local.set $d0 (v128.load (local.get $dyp)))
                  (local.set $d1 (v128.load offset=16 (local.get $dyp)))
                  (local.set $x (v128.load32_splat (local.get $xq)))
                  (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (local.get $x) (local.get $d0))))
                  (local.set $acc1 (f32x4.add (local.get $acc1) (f32x4.mul (local.get $x) (local.get $d1))))
                  (local.set $x (v128.load32_splat offset=4 (local.get $xq)))
                  (local.set $acc2 (f32x4.add (local.get $acc2) (f32x4.mul (local.get $x) (local.get $d0))))
                  (local.set $acc3 (f32x4.add (local.get $acc3) (f32x4.mul (local.get $x) (local.get $d1))))
                  (local.set $x (v128.load32_splat offset=8 (local.get $xq)))
                  (local.set $acc4 (f32x4.add (local.get $acc4) (f32x4.mul (local.get $x) (local.get $d0))))
                  (local.set $acc5 (f32x4.add (local.get $acc5) (f32x4.mul (local.get $x) (local.get $d1))))
                  (local.set $x (v128.load32_splat offset=12 (local.get $xq)))
                  (local.set $acc6 (f32x4.add (local.get $acc6) (f32x4.mul (local.get $x) (local.get $d0))))
                  (local.set $acc7 (f32x4.add (local.get $acc7) (f32x4.mul (local.get $x) (local.get $d1))))
                  (local.set $xq (i32.add (local.get $xq) (local.get $xStep)))
                  (local.set $dyp (i32.add (local.get $dyp) (local.get $co4)))
                  (br_if $jLoop (local.tee $j (i32.sub (local.get $j) (i32.const 1)))))
                ;; next output row: the next padded row, or the first row of the next image
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (if (i32.eq (local.get $i) (local.get $oh))
                  (then (local.set $i (i32.const 0)) (local.set $xrow (i32.add (local.get $xrow) (local.get $xImageJump))))
                  (else (local.set $xrow (i32.add (local.get $xrow) (local.get $xRowStep)))))
                (br_if $rLoop (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (local.get $rEnd))))
              (v128.store (local.get $dwp) (local.get $acc0))
              (v128.store offset=16 (local.get $dwp) (local.get $acc1))
              (v128.store (i32.add (local.get $dwp) (local.get $co4)) (local.get $acc2))
              (v128.store offset=16 (i32.add (local.get $dwp) (local.get $co4)) (local.get $acc3))
              (v128.store (i32.add (local.get $dwp) (i32.shl (local.get $co4) (i32.const 1))) (local.get $acc4))
              (v128.store offset=16 (i32.add (local.get $dwp) (i32.shl (local.get $co4) (i32.const 1))) (local.get $acc5))
              (v128.store (i32.add (local.get $dwp) (i32.mul (local.get $co4) (i32.const 3))) (local.get $acc6))
              (v128.store offset=16 (i32.add (local.get $dwp) (i32.mul (local.get $co4) (i32.const 3))) (local.get $acc7))
              (br_if $oLoop (i32.lt_u (local.tee $o0 (i32.add (local.get $o0) (i32.const 8))) (local.get $co))))
            (br_if $cLoop (i32.lt_u (local.tee $c0 (i32.add (local.get $c0) (i32.const 4))) (local.get $ci))))
          (br_if $bLoop (i32.lt_u (local.tee $b (i32.add (local.get $b) (i32.const 1))) (local.get $kw))))
        (br_if $aLoop (i32.lt_u (local.tee $a (i32.add (local.get $a) (i32.const 1))) (local.get $kh))))
      (local.set $rb (local.get $rEnd))
      (br $rbLoop))))

  (func (export "conv2d")
    (param $xp i32) (param $w i32) (param $out i32) (param $n i32) (param $oh i32) (param $ow i32)
    (param $ci i32) (param $co i32) (param $kh i32) (param $kw i32) (param $xRowStep i32) (param $xImageStep i32)
    (local $img i32) (local $ximg i32) (local $oimg i32) (local $o0 i32) (local $i i32) (local $j i32)
    (local $xbase i32) (local $a i32) (local $b i32) (local $xq i32) (local $wq i32) (local $c i32) (local $op i32)
    (local $xStep i32) (local $co4 i32) (local $s3 i32) (local $orow i32)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    (local $acc4 v128) (local $acc5 v128) (local $acc6 v128) (local $acc7 v128)
    (local $w0 v128) (local $w1 v128) (local $x v128)
    (local.set $xStep (i32.shl (local.get $ci) (i32.const 2)))
    (local.set $co4 (i32.shl (local.get $co) (i32.const 2)))
    (local.set $s3 (i32.add (local.get $xRowStep) (local.get $xStep)))
    (local.set $orow (i32.mul (local.get $ow) (local.get $co4)))
    (local.set $img (i32.const 0))
    (loop $imgLoop
      (local.set $ximg (i32.add (local.get $xp) (i32.mul (local.get $img) (local.get $xImageStep))))
      (local.set $oimg (i32.add (local.get $out) (i32.mul (local.get $img) (i32.mul (local.get $oh) (local.get $orow)))))
      (local.set $o0 (i32.const 0))
      (loop $oLoop
        (local.set $i (i32.const 0))
        (loop $iLoop
          (local.set $j (i32.const 0))
          (loop $jLoop
            (local.set $acc0 (v128.const i32x4 0 0 0 0)) (local.set $acc1 (v128.const i32x4 0 0 0 0))
            (local.set $acc2 (v128.const i32x4 0 0 0 0)) (local.set $acc3 (v128.const i32x4 0 0 0 0))
            (local.set $acc4 (v128.const i32x4 0 0 0 0)) (local.set $acc5 (v128.const i32x4 0 0 0 0))
            (local.set $acc6 (v128.const i32x4 0 0 0 0)) (local.set $acc7 (v128.const i32x4 0 0 0 0))
            (local.set $xbase (i32.add (local.get $ximg)
              (i32.add (i32.mul (local.get $i) (local.get $xRowStep)) (i32.mul (local.get $j) (local.get $xStep)))))
            (local.set $wq (i32.add (local.get $w) (i32.shl (local.get $o0) (i32.const 2))))
            (local.set $a (i32.const 0))
            (loop $aLoop
              (local.set $b (i32.const 0))
              (loop $bLoop
                (local.set $xq (i32.add (local.get $xbase)
                  (i32.add (i32.mul (local.get $a) (local.get $xRowStep)) (i32.mul (local.get $b) (local.get $xStep)))))
                (local.set $c (local.get $ci))
                (loop $cLoop
                  (local.set $w0 (v128.load (local.get $wq)))
                  (local.set $w1 (v128.load offset=16 (local.get $wq)))
                  (local.set $x (v128.load32_splat (local.get $xq)))
                  (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (local.get $x) (local.get $w0))))
                  (local.set $acc1 (f32x4.add (local.get $acc1) (f32x4.mul (local.get $x) (local.get $w1))))
                  (local.set $x (v128.load32_splat (i32.add (local.get $xq) (local.get $xStep))))
                  (local.set $acc2 (f32x4.add (local.get $acc2) (f32x4.mul (local.get $x) (local.get $w0))))
                  (local.set $acc3 (f32x4.add (local.get $acc3) (f32x4.mul (local.get $x) (local.get $w1))))
                  (local.set $x (v128.load32_splat (i32.add (local.get $xq) (local.get $xRowStep))))
                  (local.set $acc4 (f32x4.add (local.get $acc4) (f32x4.mul (local.get $x) (local.get $w0))))
                  (local.set $acc5 (f32x4.add (local.get $acc5) (f32x4.mul (local.get $x) (local.get $w1))))
                  (local.set $x (v128.load32_splat (i32.add (local.get $xq) (local.get $s3))))
                  (local.set $acc6 (f32x4.add (local.get $acc6) (f32x4.mul (local.get $x) (local.get $w0))))
                  (local.set $acc7 (f32x4.add (local.get $acc7) (f32x4.mul (local.get $x) (local.get $w1))))
                  (local.set $xq (i32.add (local.get $xq) (i32.const 4)))
                  (local.set $wq (i32.add (local.get $wq) (local.get $co4)))
                  (br_if $cLoop (local.tee $c (i32.sub (local.get $c) (i32.const 1)))))
                (br_if $bLoop (i32.lt_u (local.tee $b (i32.add (local.get $b) (i32.const 1))) (local.get $kw))))
              (br_if $aLoop (i32.lt_u (local.tee $a (i32.add (local.get $a) (i32.const 1))) (local.get $kh))))
            ;; out positions (i, j), (i, j+1), (i+1, j), (i+1, j+1)
            (local.set $op (i32.add (local.get $oimg)
              (i32.add (i32.add (i32.mul (local.get $i) (local.get $orow)) (i32.mul (local.get $j) (local.get $co4)))
                       (i32.shl (local.get $o0) (i32.const 2)))))
            (v128.store (local.get $op) (local.get $acc0))
            (v128.store offset=16 (local.get $op) (local.get $acc1))
            (v128.store (i32.add (local.get $op) (local.get $co4)) (local.get $acc2))
            (v128.store offset=16 (i32.add (local.get $op) (local.get $co4)) (local.get $acc3))
            (v128.store (i32.add (local.get $op) (local.get $orow)) (local.get $acc4))
            (v128.store offset=16 (i32.add (local.get $op) (local.get $orow)) (local.get $acc5))
            (v128.store (i32.add (i32.add (local.get $op) (local.get $orow)) (local.get $co4)) (local.get $acc6))
            (v128.store offset=16 (i32.add (i32.add (local.get $op) (local.get $orow)) (local.get $co4)) (local.get $acc7))
            (br_if $jLoop (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 2))) (local.get $ow))))
          (br_if $iLoop (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 2))) (local.get $oh))))
        (br_if $oLoop (i32.lt_u (local.tee $o0 (i32.add (local.get $o0) (i32.const 8))) (local.get $co))))
      (br_if $imgLoop (i32.lt_u (local.tee $img (i32.add (local.get $img) (i32.const 1))) (local.get $n)))))
)
`;

interface ConvSimdExports {
  filterGrad(xp: number, dy: number, dw: number, rows: number, rowBlock: number, oh: number, ow: number, ci: number,
    co: number, kh: number, kw: number, xRowStep: number, xImageJump: number): void;
  conv2d(xp: number, w: number, out: number, n: number, oh: number, ow: number, ci: number, co: number, kh: number,
    kw: number, xRowStep: number, xImageStep: number): void;
}

let compiled: WebAssembly.Module | undefined;
let kernels: ConvSimdExports | undefined;
let boundMemory: WebAssembly.Memory | undefined;

function memoryOf(backend: unknown): WebAssembly.Memory | undefined {
  return (backend as { wasm?: { asm?: { memory?: WebAssembly.Memory } } }).wasm?.asm?.memory;
}

/** Compiles the kernels (once per thread) and binds them to the wasm backend's memory. */
export async function loadConvSimd(backend: unknown): Promise<void> {
  const memory = memoryOf(backend);
  if (!memory) throw new Error('loadConvSimd: not a tfjs wasm backend (no wasm.asm.memory)');
  if (!compiled) {
    const wabt = await initWabt();
    const parsed = wabt.parseWat('conv-simd.wat', WAT, { simd: true });
    try {
      parsed.validate();
      compiled = await WebAssembly.compile(new Uint8Array(parsed.toBinary({}).buffer));
    } finally {
      parsed.destroy();
    }
  }
  if (boundMemory === memory && kernels) return;
  kernels = (await WebAssembly.instantiate(compiled, { env: { memory } })).exports as unknown as ConvSimdExports;
  boundMemory = memory;
}

/** The kernels, if loaded for this backend's memory. */
function kernelsFor(backend: unknown): ConvSimdExports | undefined {
  const memory = memoryOf(backend);
  return memory !== undefined && memory === boundMemory ? kernels : undefined;
}

export function convSimdLoaded(backend: unknown): boolean {
  return kernelsFor(backend) !== undefined;
}

/** Rows of dy per reduction block: about 32 KiB of dy, so the block and its input rows stay in L1/L2. */
function filterGradRowBlock(ow: number, co: number): number {
  return Math.max(1, Math.floor(32768 / (ow * co * 4)));
}

/**
 * Copies x [n, h, w, c] into dst [n, hp, wp, cp] at (top, left), zeros elsewhere (and in channels
 * c..cp-1). Padding here is what lets the kernels run every tap without bounds checks.
 */
function padInto(dst: Float32Array, x: Float32Array, n: number, h: number, w: number, c: number, hp: number,
  wp: number, top: number, left: number, cp: number): void {
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

const stride1 = (info: backend_util.Conv2DInfo) => info.strideHeight === 1 && info.strideWidth === 1 &&
  info.dilationHeight === 1 && info.dilationWidth === 1 && info.dataFormat === 'channelsLast';

/** A zero-padded copy of x [n, h, w, c] as a scratch tensor [n, hp, wp, cp] (cp >= c); the caller frees it. */
function padded(backend: WasmBackendLike, x: TensorInfo, hp: number, wp: number, top: number, left: number,
  cp = x.shape[3]): TensorInfo {
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
export function filterGradientSimd(backend: WasmBackendLike, x: TensorInfo, dy: TensorInfo,
  info: backend_util.Conv2DInfo): TensorInfo | undefined {
  const k = kernelsFor(backend);
  const { batchSize: n, filterHeight: kh, filterWidth: kw, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow,
    inChannels: ci, outChannels: co } = info;
  if (!k || !stride1(info) || co % 8 !== 0) return undefined;
  const { top, left } = info.padInfo;
  const hp = Math.max(oh + kh - 1, h + top);
  const wp = Math.max(ow + kw - 1, w + left);
  const cp = Math.ceil(ci / 4) * 4;
  const xp = padded(backend, x, hp, wp, top, left, cp);
  const dw = backend.makeOutput([kh, kw, ci, co], 'float32');
  const dwp = cp === ci ? dw : backend.makeOutput([kh, kw, cp, co], 'float32');
  const dwpv = backend.typedArrayFromHeap(dwp);
  dwpv.fill(0);
  const xRowStep = wp * cp * 4;
  k.filterGrad(backend.typedArrayFromHeap(xp).byteOffset, backend.typedArrayFromHeap(dy).byteOffset, dwpv.byteOffset,
    n * oh, filterGradRowBlock(ow, co), oh, ow, cp, co, kh, kw, xRowStep, (hp - oh + 1) * xRowStep);
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

/** out = conv2d(xp, w) on an already padded input: the shared part of the forward pass and dx. */
function convPadded(k: ConvSimdExports, backend: WasmBackendLike, xp: TensorInfo, filter: TensorInfo,
  oh: number, ow: number): TensorInfo {
  const [n, hp, wp, ci] = xp.shape;
  const [kh, kw, , co] = filter.shape;
  const out = backend.makeOutput([n, oh, ow, co], 'float32');
  const xRowStep = wp * ci * 4;
  k.conv2d(backend.typedArrayFromHeap(xp).byteOffset, backend.typedArrayFromHeap(filter).byteOffset,
    backend.typedArrayFromHeap(out).byteOffset, n, oh, ow, ci, co, kh, kw, xRowStep, hp * xRowStep);
  return out;
}

/** The forward stride-1 convolution (no bias or activation), or undefined where the kernel does not apply. */
export function conv2dSimd(backend: WasmBackendLike, x: TensorInfo, filter: TensorInfo,
  info: backend_util.Conv2DInfo): TensorInfo | undefined {
  const k = kernelsFor(backend);
  const { filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow, outChannels: co } = info;
  if (!k || !stride1(info) || oh % 2 !== 0 || ow % 2 !== 0 || co % 8 !== 0) return undefined;
  const xp = padded(backend, x, oh + kh - 1, ow + kw - 1, info.padInfo.top, info.padInfo.left);
  const out = convPadded(k, backend, xp, filter, oh, ow);
  backend.disposeData(xp.dataId);
  return out;
}

/**
 * dx of a stride-1 convolution: dy padded by (k - 1 - pad) convolved with the filter turned by 180
 * degrees and its channel axes swapped. Undefined where the kernel does not apply.
 */
export function inputGradientSimd(backend: WasmBackendLike, dy: TensorInfo, filter: TensorInfo,
  info: backend_util.Conv2DInfo): TensorInfo | undefined {
  const k = kernelsFor(backend);
  const { filterHeight: kh, filterWidth: kw, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  if (!k || !stride1(info) || h % 2 !== 0 || w % 2 !== 0 || ci % 8 !== 0) return undefined;
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
  const dyp = padded(backend, dy, h + kh - 1, w + kw - 1, kh - 1 - info.padInfo.top, kw - 1 - info.padInfo.left);
  const dx = convPadded(k, backend, dyp, turned, h, w);
  backend.disposeData(dyp.dataId);
  backend.disposeData(turned.dataId);
  return dx;
}
