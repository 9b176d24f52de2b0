/**
 * Conv2DBackpropFilter for stride-1 convolutions as a hand-written WebAssembly SIMD kernel.
 *
 * Why not XNNPACK: tfjs's wasm backend has no filter-gradient kernel, and the compositions we can
 * build from its kernels are GEMMs whose reduction runs over the whole batch (K = n * oh * ow, tens
 * of thousands). XNNPACK's GEMM does not block K, so every 4-row tile of the output re-streams the
 * whole packed operand from L3; those products ran at half the speed of the forward convolutions.
 * This kernel blocks the reduction by rows of the output gradient so each block stays in L1/L2, and
 * keeps a 4 (input channels) x 8 (output channels) tile of dW in SIMD registers across the block.
 *
 * The module is WebAssembly text compiled at load time by wabt (no binary blob in the repository,
 * no toolchain needed). It has its own memory: the padded input and dy are copied in, dW copied out.
 */
import initWabt from 'wabt';

/**
 * filterGrad(xp, dy, dw, rows, rowBlock, oh, ow, ci, co, kh, kw, xRowStep, xImageJump)
 * dw[(a*kw+b)*ci + c, o] += sum over output positions (n, i, j) of xp[n, i+a, j+b, c] * dy[n, i, j, o]
 * xp: zero-padded input [n, hp, wp, ci]; dy: [n, oh, ow, co]; dw: [kh, kw, ci, co]; byte pointers.
 * rows = n * oh; xRowStep = wp*ci*4 bytes; xImageJump = (hp - oh + 1) * wp*ci*4 bytes (last row of one
 * image to the first of the next). Requires ci % 4 == 0 and co % 8 == 0.
 */
const WAT = `
(module
  (memory (export "memory") 1)
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
      (br $rbLoop)))))
`;

interface FilterGradExports {
  memory: WebAssembly.Memory;
  filterGrad(xp: number, dy: number, dw: number, rows: number, rowBlock: number, oh: number, ow: number, ci: number,
    co: number, kh: number, kw: number, xRowStep: number, xImageJump: number): void;
}

let kernel: FilterGradExports | undefined;

/** Compiles the kernel (once per thread). Call before the first training step; kernels are synchronous. */
export async function loadFilterGradientSimd(): Promise<void> {
  if (kernel) return;
  const wabt = await initWabt();
  const parsed = wabt.parseWat('filter-gradient.wat', WAT, { simd: true });
  try {
    parsed.validate();
    const { buffer } = parsed.toBinary({});
    const module = await WebAssembly.compile(buffer);
    kernel = (await WebAssembly.instantiate(module, {})).exports as unknown as FilterGradExports;
  } finally {
    parsed.destroy();
  }
}

export function filterGradientSimdLoaded(): boolean {
  return kernel !== undefined;
}

/** Shapes the kernel handles: stride 1, no dilation, channel counts in whole register tiles. */
export function filterGradientSimdSupports(ci: number, co: number, strideH: number, strideW: number): boolean {
  return kernel !== undefined && strideH === 1 && strideW === 1 && ci % 4 === 0 && co % 8 === 0;
}

export interface FilterGradientProblem {
  x: Float32Array; // [n, h, w, ci]
  dy: Float32Array; // [n, oh, ow, co]
  n: number; h: number; w: number; ci: number; co: number;
  kh: number; kw: number; oh: number; ow: number;
  top: number; left: number; // padding above and left of the input
}

/** Rows of dy per reduction block: about 32 KiB of dy, so the block and its input rows stay in L1/L2. */
function rowBlockFor(ow: number, co: number): number {
  return Math.max(1, Math.floor(32768 / (ow * co * 4)));
}

/** dW [kh, kw, ci, co] for a stride-1 convolution. */
export function filterGradientSimd(p: FilterGradientProblem): Float32Array {
  if (!kernel) throw new Error('filterGradientSimd: call loadFilterGradientSimd() first');
  const { n, h, w, ci, co, kh, kw, oh, ow, top, left } = p;
  // Padded input big enough for every tap of every output position.
  const hp = Math.max(oh + kh - 1, h + top);
  const wp = Math.max(ow + kw - 1, w + left);
  const xpFloats = n * hp * wp * ci;
  const dyFloats = n * oh * ow * co;
  const dwFloats = kh * kw * ci * co;
  const xpPtr = 0;
  const dyPtr = xpFloats * 4;
  const dwPtr = dyPtr + dyFloats * 4;
  const bytes = dwPtr + dwFloats * 4;
  const memory = kernel.memory;
  if (memory.buffer.byteLength < bytes) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
  const heap = new Float32Array(memory.buffer);
  heap.fill(0, 0, xpFloats);
  const rowFloats = w * ci;
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < h; r++) {
      const dst = ((b * hp + r + top) * wp + left) * ci;
      const src = (b * h + r) * rowFloats;
      heap.set(p.x.subarray(src, src + rowFloats), dst);
    }
  }
  heap.set(p.dy.subarray(0, dyFloats), dyPtr / 4);
  heap.fill(0, dwPtr / 4, dwPtr / 4 + dwFloats);
  const xRowStep = wp * ci * 4;
  kernel.filterGrad(xpPtr, dyPtr, dwPtr, n * oh, rowBlockFor(ow, co), oh, ow, ci, co, kh, kw, xRowStep,
    (hp - oh + 1) * xRowStep);
  return heap.slice(dwPtr / 4, dwPtr / 4 + dwFloats);
}
