/**
 * Expression-softening warp for CNN training images (the pixel analog of the fusion model's
 * expression-intensity augmentation, src/train/data/intensity.ts). FER2013's expressions are
 * mostly strong, and a CNN trained on them calls a mild real-face expression neutral. For a
 * non-neutral 48x48 image with facial landmarks L (its pixel coordinates), a neutral face shape is
 * fitted onto L by a similarity transform (Procrustes: scale, rotation, translation), giving N';
 * the landmarks are moved part of the way toward it, T = N' + a (L - N'), and the image is warped
 * so that the face's features land on T: a = 1 leaves the image as it is, smaller a gives a milder
 * version of the same expression (label kept).
 *
 * The warp is backward: output pixel p samples the source at p + D(p), where D interpolates the
 * displacements D(T_i) = L_i - T_i with normalized Gaussian RBF weights, plus anchor points along
 * the border with zero displacement so the background stays put. The landmark weights get a few
 * residual-correction rounds (plain normalized weights reproduce only about half of each
 * displacement), D is evaluated on a coarse grid (it is smooth at this sigma), tapered to exactly
 * zero on the outermost pixels, and scaled down where it would fold the image (foldFreeScale).
 * Pure typed-array code: it runs inside each training worker.
 */
import { bilinear } from './bilinear.ts';

/**
 * The MediaPipe FaceLandmarker (478-point mesh) indices whose positions drive the warp: 54 points
 * on what expressions move and on what frames them. Brows: the upper contour of each brow, outer to
 * inner (70 63 105 66 107 / 300 293 334 296 336). Eyes: corners and two points on each lid
 * (33 160 158 133 153 144 / 263 387 385 362 380 373). Nose: bridge, tip, base and nostril wings
 * (168 1 2 98 327), nearly rigid, they hold the middle of the face. Mouth: the outer lip contour
 * (corners 61 291, 40 37 0 267 270 above, 91 84 17 314 321 below) and the inner lips (78 13 308 14).
 * Cheeks (50 280, raised in a smile). Jaw: every other point of the lower face contour, from below one
 * ear to below the other via the chin (132 172 150 176 152 400 379 397 361), which opens with
 * the mouth; not the contour's ends at the ears, which move with head turns, not expressions.
 * Eye and mouth points are the ones src/core/framing and src/core/features/geometry.ts use.
 */
export const EXPRESSION_WARP_LANDMARKS: readonly number[] = [
  // brows
  70, 63, 105, 66, 107, 300, 293, 334, 296, 336,
  // eyes
  33, 160, 158, 133, 153, 144, 263, 387, 385, 362, 380, 373,
  // nose
  168, 1, 2, 98, 327,
  // mouth, outer then inner
  61, 40, 37, 0, 267, 270, 291, 321, 314, 17, 84, 91, 78, 13, 308, 14,
  // cheeks
  50, 280,
  // jaw
  132, 172, 150, 176, 152, 400, 379, 397, 361,
];

/** Number of keypoints per image: each is (x, y), so a keypoint row holds 2 * K floats. */
export const EXPRESSION_WARP_K = EXPRESSION_WARP_LANDMARKS.length;

export interface ExpressionWarpOptions {
  /** Range of the factor a (0 < low <= high <= 1): how much of the expression is kept. */
  low: number;
  high: number;
  /** Probability that a non-neutral image with keypoints is warped. */
  prob: number;
}

/** Gaussian RBF width in pixels: a few pixels, so lips and lids move without dragging the cheeks. */
export const WARP_SIGMA = 4.5;
/** Smallest local area ratio (Jacobian determinant) the warp may cause: no fold, no tear. */
const MIN_JACOBIAN = 0.3;
/** Residual-correction rounds of the landmark weights (see warpField). */
export const CORRECTION_ROUNDS = 3;
/** Border anchors every this many pixels. */
const ANCHOR_STEP = 4;
/** Displacement grid spacing in pixels (D is bilinear between nodes). */
const GRID_STEP = 2;
/** Width in pixels of the ramp that takes D to zero at the outermost pixels. */
const TAPER = 4;
/** A warp that moves no landmark more than this (pixels) is skipped: the output is the input. */
const NO_OP = 1e-3;

/** Similarity map p -> (a x - b y + tx, b x + a y + ty): scale sqrt(a² + b²), rotation atan2(b, a). */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/**
 * Least-squares similarity taking the `k` points of `from` onto those of `to` (both x0, y0, x1, ...;
 * `to` read from `toOffset`): ordinary Procrustes without reflection.
 */
export function fitSimilarity(from: ArrayLike<number>, to: ArrayLike<number>, toOffset: number, k: number): Similarity {
  let fx = 0;
  let fy = 0;
  let lx = 0;
  let ly = 0;
  for (let i = 0; i < k; i++) {
    fx += from[2 * i]!;
    fy += from[2 * i + 1]!;
    lx += to[toOffset + 2 * i]!;
    ly += to[toOffset + 2 * i + 1]!;
  }
  fx /= k;
  fy /= k;
  lx /= k;
  ly /= k;
  let dot = 0;
  let cross = 0;
  let norm = 0;
  for (let i = 0; i < k; i++) {
    const px = from[2 * i]! - fx;
    const py = from[2 * i + 1]! - fy;
    const qx = to[toOffset + 2 * i]! - lx;
    const qy = to[toOffset + 2 * i + 1]! - ly;
    dot += px * qx + py * qy;
    cross += px * qy - py * qx;
    norm += px * px + py * py;
  }
  if (!(norm > 0)) throw new RangeError('fitSimilarity: the template points all coincide');
  const a = dot / norm;
  const b = cross / norm;
  return { a, b, tx: lx - (a * fx - b * fy), ty: ly - (b * fx + a * fy) };
}

/** `s` applied to point i of `pts` (x0, y0, x1, ...), written to out[2i], out[2i + 1]. */
export function applySimilarity(
  s: Similarity,
  pts: ArrayLike<number>,
  k: number,
  out = new Float64Array(2 * k),
): Float64Array<ArrayBuffer> {
  for (let i = 0; i < k; i++) {
    const x = pts[2 * i]!;
    const y = pts[2 * i + 1]!;
    out[2 * i] = s.a * x - s.b * y + s.tx;
    out[2 * i + 1] = s.b * x + s.a * y + s.ty;
  }
  return out;
}

/** The landmarks' target positions T = N' + a (L - N'), N' the template fitted onto L. */
export function warpTargets(keypoints: ArrayLike<number>, offset: number, template: ArrayLike<number>, a: number, k: number): Float64Array {
  const fitted = applySimilarity(fitSimilarity(template, keypoints, offset, k), template, k);
  for (let j = 0; j < 2 * k; j++) fitted[j] = fitted[j]! + a * (keypoints[offset + j]! - fitted[j]!);
  return fitted;
}

/**
 * The backward displacement field of the warp, per output pixel of a `size` x `size` image
 * (row-major dx, dy: output (x, y) samples the source at (x + dx, y + dy)), or undefined when no
 * landmark moves more than NO_OP (a = 1, or keypoints already on the fitted template).
 */
export function warpField(
  keypoints: ArrayLike<number>,
  kpOffset: number,
  template: ArrayLike<number>,
  a: number,
  size: number,
  sigma = WARP_SIGMA,
  rounds = CORRECTION_ROUNDS,
): { dx: Float32Array; dy: Float32Array } | undefined {
  const k = template.length / 2;
  const targets = warpTargets(keypoints, kpOffset, template, a, k);
  // Displacements at the targets: output T_i samples the source at L_i.
  const disp = new Float64Array(2 * k);
  let largest = 0;
  for (let j = 0; j < 2 * k; j++) {
    disp[j] = keypoints[kpOffset + j]! - targets[j]!;
    largest = Math.max(largest, Math.abs(disp[j]!));
  }
  if (!(largest > NO_OP)) return undefined;
  const last = size - 1;
  // Centres: the targets, then border anchors (zero displacement, so they only add weight).
  const anchors: number[] = [];
  for (let t = 0; t < last; t += ANCHOR_STEP) anchors.push(t, 0, last, t, last - t, last, 0, last - t);
  const cx = new Float64Array(k + anchors.length / 2);
  const cy = new Float64Array(cx.length);
  for (let i = 0; i < k; i++) {
    cx[i] = targets[2 * i]!;
    cy[i] = targets[2 * i + 1]!;
  }
  for (let i = 0; i < anchors.length / 2; i++) {
    cx[k + i] = anchors[2 * i]!;
    cy[k + i] = anchors[2 * i + 1]!;
  }
  const inv2s2 = 1 / (2 * sigma * sigma);
  // Plain normalized-RBF weights reproduce only about half of a landmark's displacement at its
  // target (its neighbours and the anchors average it away). A few residual-correction rounds on
  // the landmark weights (a truncated Neumann series for the interpolation matrix) bring it close,
  // while bounding how much any weight can grow where close landmarks disagree (no wild folds).
  const w = Float64Array.from(disp);
  if (rounds > 0) {
    const phi = new Float64Array(k * k);
    const denom = new Float64Array(k);
    for (let j = 0; j < k; j++) {
      for (let i = 0; i < cx.length; i++) {
        const ex = cx[j]! - cx[i]!;
        const ey = cy[j]! - cy[i]!;
        const v = Math.exp(-(ex * ex + ey * ey) * inv2s2);
        denom[j] += v;
        if (i < k) phi[j * k + i] = v;
      }
    }
    const fit = new Float64Array(2 * k);
    for (let round = 0; round < rounds; round++) {
      for (let j = 0; j < k; j++) {
        let fx = 0;
        let fy = 0;
        for (let i = 0; i < k; i++) {
          fx += phi[j * k + i]! * w[2 * i]!;
          fy += phi[j * k + i]! * w[2 * i + 1]!;
        }
        fit[2 * j] = fx / denom[j]!;
        fit[2 * j + 1] = fy / denom[j]!;
      }
      for (let j = 0; j < 2 * k; j++) w[j] = w[j]! + disp[j]! - fit[j]!;
    }
  }
  // D on a coarse grid covering 0..last.
  const nodes = Math.ceil(last / GRID_STEP) + 1;
  const gx = new Float64Array(nodes * nodes);
  const gy = new Float64Array(nodes * nodes);
  for (let r = 0; r < nodes; r++) {
    const py = r * GRID_STEP;
    for (let c = 0; c < nodes; c++) {
      const px = c * GRID_STEP;
      let sw = 0;
      let sx = 0;
      let sy = 0;
      for (let i = 0; i < cx.length; i++) {
        const ex = px - cx[i]!;
        const ey = py - cy[i]!;
        const v = Math.exp(-(ex * ex + ey * ey) * inv2s2);
        sw += v;
        if (i < k) {
          sx += v * w[2 * i]!;
          sy += v * w[2 * i + 1]!;
        }
      }
      // Far from every centre (cannot happen with border anchors, but never divide by ~0).
      if (sw > 1e-12) {
        gx[r * nodes + c] = sx / sw;
        gy[r * nodes + c] = sy / sw;
      }
    }
  }
  const dx = new Float32Array(size * size);
  const dy = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const ry = Math.min(y / GRID_STEP, nodes - 1);
    const r0 = Math.min(Math.floor(ry), nodes - 2);
    const fy = ry - r0;
    for (let x = 0; x < size; x++) {
      const rx = Math.min(x / GRID_STEP, nodes - 1);
      const c0 = Math.min(Math.floor(rx), nodes - 2);
      const fx = rx - c0;
      const i00 = r0 * nodes + c0;
      const i01 = i00 + nodes;
      const w00 = (1 - fx) * (1 - fy);
      const w10 = fx * (1 - fy);
      const w01 = (1 - fx) * fy;
      const w11 = fx * fy;
      const edge = Math.min(x, y, last - x, last - y);
      const taper = edge >= TAPER ? 1 : edge / TAPER;
      dx[y * size + x] = taper * (w00 * gx[i00]! + w10 * gx[i00 + 1]! + w01 * gx[i01]! + w11 * gx[i01 + 1]!);
      dy[y * size + x] = taper * (w00 * gy[i00]! + w10 * gy[i00 + 1]! + w01 * gy[i01]! + w11 * gy[i01 + 1]!);
    }
  }
  const s = foldFreeScale(dx, dy, size);
  if (s < 1) {
    for (let p = 0; p < dx.length; p++) {
      dx[p] = dx[p]! * s;
      dy[p] = dy[p]! * s;
    }
  }
  return { dx, dy };
}

/**
 * The largest s in [0, 1] (to 1/256) for which the map p -> p + s D(p) keeps a Jacobian
 * determinant of at least MIN_JACOBIAN at every pixel (forward differences): s = 1 unless the
 * field would fold or tear the image. Landmarks far off the template (a turned head, a poor mesh)
 * and face-contour points near the fixed border ask for displacements that change too fast.
 */
export function foldFreeScale(dx: Float32Array, dy: Float32Array, size: number): number {
  const m = (size - 1) * (size - 1);
  // det(I + s J) = 1 + s tr(J) + s² det(J), per pixel.
  const tr = new Float64Array(m);
  const det = new Float64Array(m);
  let q = 0;
  for (let y = 0; y < size - 1; y++) {
    for (let x = 0; x < size - 1; x++) {
      const p = y * size + x;
      const a = dx[p + 1]! - dx[p]!;
      const b = dx[p + size]! - dx[p]!;
      const c = dy[p + 1]! - dy[p]!;
      const d = dy[p + size]! - dy[p]!;
      tr[q] = a + d;
      det[q++] = a * d - b * c;
    }
  }
  const ok = (s: number): boolean => {
    for (let i = 0; i < m; i++) if (1 + s * tr[i]! + s * s * det[i]! < MIN_JACOBIAN) return false;
    return true;
  };
  if (ok(1)) return 1;
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 8; i++) {
    const mid = (lo + hi) / 2;
    if (ok(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * Writes the `size` x `size` image `src` (at `srcOffset`, values in any scale) into `dst` at
 * `dstOffset`, warped so that its keypoints (2k floats at `kpOffset`: x, y in pixel coordinates,
 * pixel centres at integers) move toward warpTargets(..., a). Same scale as the input; a = 1, or
 * keypoints already on the fitted template, copy the image exactly.
 */
export function expressionWarpInto(
  src: Uint8Array | Float32Array,
  srcOffset: number,
  size: number,
  keypoints: ArrayLike<number>,
  kpOffset: number,
  template: ArrayLike<number>,
  a: number,
  dst: Float32Array,
  dstOffset: number,
  sigma = WARP_SIGMA,
): void {
  const field = warpField(keypoints, kpOffset, template, a, size, sigma);
  const n = size * size;
  if (!field) {
    for (let i = 0; i < n; i++) dst[dstOffset + i] = src[srcOffset + i]!;
    return;
  }
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      // Exact on the border (taper 0): bilinear at whole pixels returns the pixel itself.
      dst[dstOffset + p] = bilinear(src, srcOffset, size, size, x + field.dx[p]!, y + field.dy[p]!);
    }
  }
}
