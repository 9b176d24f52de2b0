/**
 * Our WebAssembly SIMD kernels for training on the tfjs wasm backend: one module of WebAssembly text,
 * compiled at load time by wabt (no binary blob in the repository, no toolchain needed). It imports
 * the wasm backend's own memory, so the kernels read and write tensors in place; their arguments are
 * byte offsets into that memory. The TensorInfo-level wrappers live in conv-simd.ts and
 * wasm-gradients.ts; each falls back to XNNPACK compositions for shapes a kernel does not take.
 */
import initWabt from 'wabt';

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
 * maxPoolGrad2x2(x, dy, dx, n, oh, ow, c, rowStep, imageStep)
 *   2x2 max pooling with stride 2 and no padding: each dy value goes to the first maximum of its
 *   window in row-major order (the cpu backend's rule); the other three get 0. x and dx share the
 *   layout [n, h, w, c] (rowStep = w*c*4, imageStep = h*rowStep bytes); dy: [n, oh, ow, c]. Writes
 *   every dx element of the windows only: rows or columns past 2*oh, 2*ow are left as they are.
 *   Needs c % 4 == 0.
 * bnSums(x, rows, c, shift, sum, sq) / bnGradSums(dy, x, rows, c, sdy, sdyx)
 *   Per channel of rows x c floats: sum += Σ(x - shift), sq += Σ(x - shift)² (shift: float32 [c]);
 *   sdy += Σdy, sdyx += Σdy·x. The sums are float64 [c] in memory; within blocks of 512 rows the
 *   kernel adds in float32 (4 channels per SIMD register), across blocks in float64. c % 4 == 0, rows > 0.
 * bnAffine(out, u, v, rows, c, a, b, d)
 *   Per channel (float32 [c] vectors a, b, d): out = a·u + b, or, where v != 0, out = a·u + b·v + d.
 */
/**
 * The register tile both convolution kernels share: for k = 0..3, x = the float at splats[k]
 * broadcast to four lanes, then acc(2k) += x * a and acc(2k+1) += x * b (8 accumulators, 4 x 8 floats).
 */
function tileUpdate(splats: string[], a: string, b: string): string {
  return splats
    .map(
      (address, k) => `
                  (local.set $x (v128.load32_splat ${address}))
                  (local.set $acc${2 * k} (f32x4.add (local.get $acc${2 * k}) (f32x4.mul (local.get $x) (local.get ${a}))))
                  (local.set $acc${2 * k + 1} (f32x4.add (local.get $acc${2 * k + 1}) (f32x4.mul (local.get $x) (local.get ${b}))))`,
    )
    .join('');
}

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
${tileUpdate(['(local.get $xq)', 'offset=4 (local.get $xq)', 'offset=8 (local.get $xq)', 'offset=12 (local.get $xq)'], '$d0', '$d1')}
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
${tileUpdate(
  [
    '(local.get $xq)',
    '(i32.add (local.get $xq) (local.get $xStep))',
    '(i32.add (local.get $xq) (local.get $xRowStep))',
    '(i32.add (local.get $xq) (local.get $s3))',
  ],
  '$w0',
  '$w1',
)}
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

  (func (export "maxPoolGrad2x2")
    (param $x i32) (param $dy i32) (param $dx i32) (param $n i32) (param $oh i32) (param $ow i32) (param $c i32)
    (param $rowStep i32) (param $imageStep i32)
    (local $b i32) (local $i i32) (local $j i32) (local $ch i32) (local $p i32) (local $q i32) (local $dyp i32)
    (local $c4 i32) (local $delta i32)
    (local $x00 v128) (local $x01 v128) (local $x10 v128) (local $x11 v128) (local $best v128) (local $d v128)
    (local $g1 v128) (local $g2 v128) (local $g3 v128)
    (local.set $c4 (i32.shl (local.get $c) (i32.const 2)))
    (local.set $delta (i32.sub (local.get $dx) (local.get $x)))
    (local.set $dyp (local.get $dy))
    (local.set $b (i32.const 0))
    (loop $bLoop
      (local.set $i (i32.const 0))
      (loop $iLoop
        (local.set $j (i32.const 0))
        (loop $jLoop
          ;; top-left input of window (i, j)
          (local.set $p (i32.add (i32.add (local.get $x) (i32.mul (local.get $b) (local.get $imageStep)))
            (i32.add (i32.mul (i32.shl (local.get $i) (i32.const 1)) (local.get $rowStep))
                     (i32.mul (i32.shl (local.get $j) (i32.const 1)) (local.get $c4)))))
          (local.set $ch (local.get $c))
          (loop $cLoop
            (local.set $q (i32.add (local.get $p) (local.get $rowStep)))
            (local.set $x00 (v128.load (local.get $p)))
            (local.set $x01 (v128.load (i32.add (local.get $p) (local.get $c4))))
            (local.set $x10 (v128.load (local.get $q)))
            (local.set $x11 (v128.load (i32.add (local.get $q) (local.get $c4))))
            ;; first maximum in row-major order wins, as in a sequential scan with '>'
            (local.set $g1 (f32x4.gt (local.get $x01) (local.get $x00)))
            (local.set $best (v128.bitselect (local.get $x01) (local.get $x00) (local.get $g1)))
            (local.set $g2 (f32x4.gt (local.get $x10) (local.get $best)))
            (local.set $best (v128.bitselect (local.get $x10) (local.get $best) (local.get $g2)))
            (local.set $g3 (f32x4.gt (local.get $x11) (local.get $best)))
            (local.set $d (v128.load (local.get $dyp)))
            (v128.store (i32.add (i32.add (local.get $q) (local.get $c4)) (local.get $delta)) (v128.and (local.get $d) (local.get $g3)))
            (local.set $d (v128.andnot (local.get $d) (local.get $g3)))
            (v128.store (i32.add (local.get $q) (local.get $delta)) (v128.and (local.get $d) (local.get $g2)))
            (local.set $d (v128.andnot (local.get $d) (local.get $g2)))
            (v128.store (i32.add (i32.add (local.get $p) (local.get $c4)) (local.get $delta)) (v128.and (local.get $d) (local.get $g1)))
            (v128.store (i32.add (local.get $p) (local.get $delta)) (v128.andnot (local.get $d) (local.get $g1)))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $dyp (i32.add (local.get $dyp) (i32.const 16)))
            (br_if $cLoop (local.tee $ch (i32.sub (local.get $ch) (i32.const 4)))))
          (br_if $jLoop (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $ow))))
        (br_if $iLoop (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $oh))))
      (br_if $bLoop (i32.lt_u (local.tee $b (i32.add (local.get $b) (i32.const 1))) (local.get $n)))))

  (func (export "bnSums")
    (param $x i32) (param $rows i32) (param $c i32) (param $shift i32) (param $sum i32) (param $sq i32)
    (call $blockSums (local.get $x) (local.get $x) (local.get $rows) (local.get $c) (local.get $shift) (local.get $sum) (local.get $sq) (i32.const 0)))
  (func (export "bnGradSums")
    (param $dy i32) (param $x i32) (param $rows i32) (param $c i32) (param $sdy i32) (param $sdyx i32)
    (call $blockSums (local.get $dy) (local.get $x) (local.get $rows) (local.get $c) (i32.const 0) (local.get $sdy) (local.get $sdyx) (i32.const 1)))
  ;; Per channel over rows x c floats, in blocks of 512 rows (float32 within a block, float64 across):
  ;; mode 0: d = u - shift; s += d; q += d*d.   mode 1: d = u; s += d; q += d*v.
  (func $blockSums
    (param $u i32) (param $v i32) (param $rows i32) (param $c i32) (param $shift i32) (param $s64 i32) (param $q64 i32) (param $mode i32)
    (local $c4 i32) (local $r0 i32) (local $rEnd i32) (local $g i32) (local $p i32) (local $end i32) (local $dv i32) (local $o i32)
    (local $s v128) (local $q v128) (local $d v128) (local $h v128)
    (local.set $c4 (i32.shl (local.get $c) (i32.const 2)))
    (local.set $dv (i32.sub (local.get $v) (local.get $u)))
    (local.set $r0 (i32.const 0))
    (loop $blockLoop
      (local.set $rEnd (i32.add (local.get $r0) (i32.const 512)))
      (if (i32.gt_u (local.get $rEnd) (local.get $rows)) (then (local.set $rEnd (local.get $rows))))
      (local.set $g (i32.const 0))
      (loop $groupLoop
        (local.set $h (v128.const i32x4 0 0 0 0))
        (if (i32.eqz (local.get $mode)) (then (local.set $h (v128.load (i32.add (local.get $shift) (local.get $g))))))
        (local.set $s (v128.const i32x4 0 0 0 0))
        (local.set $q (v128.const i32x4 0 0 0 0))
        (local.set $p (i32.add (i32.add (local.get $u) (i32.mul (local.get $r0) (local.get $c4))) (local.get $g)))
        (local.set $end (i32.add (i32.add (local.get $u) (i32.mul (local.get $rEnd) (local.get $c4))) (local.get $g)))
        (if (i32.eqz (local.get $mode))
          (then
            (loop $rowLoop
              (local.set $d (f32x4.sub (v128.load (local.get $p)) (local.get $h)))
              (local.set $s (f32x4.add (local.get $s) (local.get $d)))
              (local.set $q (f32x4.add (local.get $q) (f32x4.mul (local.get $d) (local.get $d))))
              (br_if $rowLoop (i32.lt_u (local.tee $p (i32.add (local.get $p) (local.get $c4))) (local.get $end)))))
          (else
            (loop $gradLoop
              (local.set $d (v128.load (local.get $p)))
              (local.set $s (f32x4.add (local.get $s) (local.get $d)))
              (local.set $q (f32x4.add (local.get $q) (f32x4.mul (local.get $d) (v128.load (i32.add (local.get $p) (local.get $dv))))))
              (br_if $gradLoop (i32.lt_u (local.tee $p (i32.add (local.get $p) (local.get $c4))) (local.get $end))))))
        ;; float64 accumulators: channel k = g/4 sits at byte 8k = 2g
        (local.set $o (i32.add (local.get $s64) (i32.shl (local.get $g) (i32.const 1))))
        (v128.store (local.get $o) (f64x2.add (v128.load (local.get $o)) (f64x2.promote_low_f32x4 (local.get $s))))
        (v128.store offset=16 (local.get $o) (f64x2.add (v128.load offset=16 (local.get $o))
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $s) (local.get $s)))))
        (local.set $o (i32.add (local.get $q64) (i32.shl (local.get $g) (i32.const 1))))
        (v128.store (local.get $o) (f64x2.add (v128.load (local.get $o)) (f64x2.promote_low_f32x4 (local.get $q))))
        (v128.store offset=16 (local.get $o) (f64x2.add (v128.load offset=16 (local.get $o))
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $q) (local.get $q)))))
        (br_if $groupLoop (i32.lt_u (local.tee $g (i32.add (local.get $g) (i32.const 16))) (local.get $c4))))
      (br_if $blockLoop (i32.lt_u (local.tee $r0 (local.get $rEnd)) (local.get $rows)))))
  ;; out = a*u + b, or with v: out = a*u + b*v + d (a, b, d: float32 per channel)
  (func (export "bnAffine")
    (param $out i32) (param $u i32) (param $v i32) (param $rows i32) (param $c i32) (param $a i32) (param $b i32) (param $d i32)
    (local $c4 i32) (local $p i32) (local $end i32) (local $g i32) (local $du i32) (local $dv i32) (local $x v128)
    (local.set $c4 (i32.shl (local.get $c) (i32.const 2)))
    (local.set $du (i32.sub (local.get $u) (local.get $out)))
    (local.set $dv (i32.sub (local.get $v) (local.get $out)))
    (local.set $p (local.get $out))
    (local.set $end (i32.add (local.get $out) (i32.mul (local.get $rows) (local.get $c4))))
    (loop $rowLoop
      (local.set $g (i32.const 0))
      (loop $groupLoop
        (local.set $x (f32x4.mul (v128.load (i32.add (local.get $a) (local.get $g))) (v128.load (i32.add (local.get $p) (local.get $du)))))
        (if (local.get $v)
          (then
            (local.set $x (f32x4.add (local.get $x)
              (f32x4.mul (v128.load (i32.add (local.get $b) (local.get $g))) (v128.load (i32.add (local.get $p) (local.get $dv))))))
            (local.set $x (f32x4.add (local.get $x) (v128.load (i32.add (local.get $d) (local.get $g))))))
          (else (local.set $x (f32x4.add (local.get $x) (v128.load (i32.add (local.get $b) (local.get $g)))))))
        (v128.store (local.get $p) (local.get $x))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br_if $groupLoop (i32.lt_u (local.tee $g (i32.add (local.get $g) (i32.const 16))) (local.get $c4))))
      (br_if $rowLoop (i32.lt_u (local.get $p) (local.get $end)))))
)
`;

export interface SimdKernels {
  filterGrad(
    xp: number,
    dy: number,
    dw: number,
    rows: number,
    rowBlock: number,
    oh: number,
    ow: number,
    ci: number,
    co: number,
    kh: number,
    kw: number,
    xRowStep: number,
    xImageJump: number,
  ): void;
  conv2d(
    xp: number,
    w: number,
    out: number,
    n: number,
    oh: number,
    ow: number,
    ci: number,
    co: number,
    kh: number,
    kw: number,
    xRowStep: number,
    xImageStep: number,
  ): void;
  maxPoolGrad2x2(x: number, dy: number, dx: number, n: number, oh: number, ow: number, c: number, rowStep: number, imageStep: number): void;
  bnSums(x: number, rows: number, c: number, shift: number, sum: number, sq: number): void;
  bnGradSums(dy: number, x: number, rows: number, c: number, sdy: number, sdyx: number): void;
  bnAffine(out: number, u: number, v: number, rows: number, c: number, a: number, b: number, d: number): void;
}

let compiled: WebAssembly.Module | undefined;
let kernels: SimdKernels | undefined;
let boundMemory: WebAssembly.Memory | undefined;

function memoryOf(backend: unknown): WebAssembly.Memory | undefined {
  return (backend as { wasm?: { asm?: { memory?: WebAssembly.Memory } } }).wasm?.asm?.memory;
}

/** Compiles the kernels (once per thread) and binds them to the wasm backend's memory. */
export async function loadSimdKernels(backend: unknown): Promise<void> {
  const memory = memoryOf(backend);
  if (!memory) throw new Error('loadSimdKernels: not a tfjs wasm backend (no wasm.asm.memory)');
  if (!compiled) {
    const wabt = await initWabt();
    const parsed = wabt.parseWat('simd-kernels.wat', WAT, { simd: true });
    try {
      parsed.validate();
      compiled = await WebAssembly.compile(new Uint8Array(parsed.toBinary({}).buffer));
    } finally {
      parsed.destroy();
    }
  }
  if (boundMemory === memory && kernels) return;
  kernels = (await WebAssembly.instantiate(compiled, { env: { memory } })).exports as unknown as SimdKernels;
  boundMemory = memory;
}

/** The kernels, if loaded for this backend's memory. */
export function simdKernelsFor(backend: unknown): SimdKernels | undefined {
  const memory = memoryOf(backend);
  return memory !== undefined && memory === boundMemory ? kernels : undefined;
}

export function simdKernelsLoaded(backend: unknown): boolean {
  return simdKernelsFor(backend) !== undefined;
}
