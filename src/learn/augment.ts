/**
 * On-the-fly augmentation for 48x48 gray faces, as in the reference study (Keras
 * ImageDataGenerator: rotation ±10°, shifts ±10%, zoom ±10%, horizontal flip), written as one
 * inverse affine warp with bilinear sampling and edge replication. Pure typed-array code: it runs
 * inside each training worker right before its gradient step. Optionally an expression-softening
 * warp (expression-warp.ts) comes first, and photometric changes last.
 */
import { EMOTIONS, IMAGE_PIXELS, IMAGE_SIZE } from '../core/labels.ts';
import { bilinear } from './bilinear.ts';
import { expressionWarpInto, type ExpressionWarpOptions } from './expression-warp.ts';

export interface AugmentOptions {
  rotationDeg: number;
  shift: number; // fraction of the side
  zoom: number; // ± fraction
  flip: boolean;
  /** Light, contrast, focus and noise changes after the warp (undefined: none). */
  photometric?: PhotometricOptions;
  /**
   * Landmark-guided softening of non-neutral expressions before the geometric warp (undefined:
   * none); augmentBatch then needs the rows' FaceShapes.
   */
  expressionWarp?: ExpressionWarpOptions;
  /**
   * Probability of hiding half the face last: the rows above or below PART_MASK_SPLIT (even odds)
   * are filled with the image's mean, so that the network learns to read the brows and eyes
   * without the mouth and the mouth without them (undefined or 0: never; no random draw then).
   */
  partMask?: number;
}

/** The first row of the lower half that partMask hides: below the eyes, above the nose tip in FER2013's framing. */
export const PART_MASK_SPLIT = 26;

/** What the expression warp needs besides the pixels, for every row of the pixel table. */
export interface FaceShapes {
  /** rows * 2K floats: each row's K keypoints (x, y in its 48x48 pixels); NaN where it has none. */
  keypoints: Float32Array;
  labels: ArrayLike<number>;
  /** 2K floats: the neutral face shape the keypoints are moved toward. */
  template: ArrayLike<number>;
}

const NEUTRAL = EMOTIONS.indexOf('neutral');

export const REFERENCE_AUGMENTATION: AugmentOptions = { rotationDeg: 10, shift: 0.1, zoom: 0.1, flip: true };
export const NO_AUGMENTATION: AugmentOptions = { rotationDeg: 0, shift: 0, zoom: 0, flip: false };

/**
 * Writes one image (0..255, `src` at `srcOffset`) into `dst` at `dstOffset` as float [0,1],
 * randomly transformed. With all ranges 0 and no flip it is an exact copy / 255.
 */
export function augmentInto(
  src: Uint8Array | Float32Array,
  srcOffset: number,
  dst: Float32Array,
  dstOffset: number,
  opts: AugmentOptions,
  rand: () => number,
): void {
  const s = IMAGE_SIZE;
  const angle = ((rand() * 2 - 1) * opts.rotationDeg * Math.PI) / 180;
  const scale = 1 + (rand() * 2 - 1) * opts.zoom;
  const tx = (rand() * 2 - 1) * opts.shift * s;
  const ty = (rand() * 2 - 1) * opts.shift * s;
  const flip = opts.flip && rand() < 0.5;
  if (angle === 0 && scale === 1 && tx === 0 && ty === 0) {
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        dst[dstOffset + y * s + x] = src[srcOffset + y * s + (flip ? s - 1 - x : x)] / 255;
      }
    }
    return;
  }
  // Output pixel (x,y) samples the source at R^-1 * (p - c - t) / scale + c, about the centre c.
  const c = (s - 1) / 2;
  const cos = Math.cos(angle) / scale;
  const sin = Math.sin(angle) / scale;
  for (let y = 0; y < s; y++) {
    const dy = y - c - ty;
    for (let x = 0; x < s; x++) {
      const dx = (flip ? s - 1 - x : x) - c - tx;
      dst[dstOffset + y * s + x] = bilinear(src, srcOffset, s, s, cos * dx + sin * dy + c, -sin * dx + cos * dy + c) / 255;
    }
  }
}

/**
 * Builds a [n,48,48,1] float batch from the given rows of a uint8 pixel table. With
 * opts.expressionWarp, each non-neutral row that has keypoints in `shapes` is first softened with
 * probability prob, by a factor a ~ U(low, high).
 */
export function augmentBatch(
  pixels: Uint8Array,
  rows: ArrayLike<number>,
  opts: AugmentOptions,
  rand: () => number,
  out?: Float32Array,
  shapes?: FaceShapes,
): Float32Array {
  const dst = out ?? new Float32Array(rows.length * IMAGE_PIXELS);
  const ew = opts.expressionWarp;
  if (ew && !shapes) throw new Error("augmentBatch: expressionWarp needs the rows' keypoints, labels and neutral template (shapes)");
  const warped = ew ? new Float32Array(IMAGE_PIXELS) : undefined;
  const stride = shapes ? shapes.template.length : 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    let src: Uint8Array | Float32Array = pixels;
    let off = row * IMAGE_PIXELS;
    if (ew && shapes && warped && shapes.labels[row] !== NEUTRAL && !Number.isNaN(shapes.keypoints[row * stride]!) && rand() < ew.prob) {
      const a = ew.low + (ew.high - ew.low) * rand();
      expressionWarpInto(pixels, off, IMAGE_SIZE, shapes.keypoints, row * stride, shapes.template, a, warped, 0);
      src = warped;
      off = 0;
    }
    augmentInto(src, off, dst, i * IMAGE_PIXELS, opts, rand);
    if (opts.photometric) photometricInto(dst, i * IMAGE_PIXELS, opts.photometric, rand);
    if (opts.partMask && rand() < opts.partMask) maskHalfInto(dst, i * IMAGE_PIXELS, rand() < 0.5 ? 'upper' : 'lower');
  }
  return dst;
}

/** Fills the upper (rows < PART_MASK_SPLIT) or lower half of the image at `off` with its mean. */
export function maskHalfInto(dst: Float32Array, off: number, half: 'upper' | 'lower'): void {
  const img = dst.subarray(off, off + IMAGE_PIXELS);
  let mean = 0;
  for (let i = 0; i < IMAGE_PIXELS; i++) mean += img[i]!;
  mean /= IMAGE_PIXELS;
  const split = PART_MASK_SPLIT * IMAGE_SIZE;
  img.fill(mean, half === 'upper' ? 0 : split, half === 'upper' ? split : IMAGE_PIXELS);
}

/**
 * Photometric robustness (real cameras differ from FER2013 in light, contrast, focus and noise):
 * applied to a [0,1] float image after the geometric warp. Each field is a range or probability.
 */
export interface PhotometricOptions {
  brightness: number; // ± shift
  contrast: number; // ± fraction around the mean
  gamma: number; // ± log-gamma
  blurProb: number; // 3x3 blur
  downscaleProb: number; // down to 16..32 px, then back up
  noiseStd: number; // max Gaussian noise std
  eraseProb: number; // random erasing of a 5..20 % rectangle
}

export const PHOTOMETRIC_AUGMENTATION: PhotometricOptions = {
  brightness: 0.15,
  contrast: 0.35,
  gamma: 0.4,
  blurProb: 0.2,
  downscaleProb: 0.2,
  noiseStd: 0.03,
  eraseProb: 0.25,
};

const scratch = new Float32Array(IMAGE_PIXELS);

export function photometricInto(dst: Float32Array, off: number, o: PhotometricOptions, rand: () => number): void {
  const s = IMAGE_SIZE;
  const n = IMAGE_PIXELS;
  const img = dst.subarray(off, off + n);
  if (rand() < o.downscaleProb) {
    const side = 16 + Math.floor(rand() * 17);
    const small = new Float32Array(side * side);
    const k = s / side;
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++) small[y * side + x] = bilinear(img, 0, s, s, (x + 0.5) * k - 0.5, (y + 0.5) * k - 0.5);
    for (let y = 0; y < s; y++)
      for (let x = 0; x < s; x++) img[y * s + x] = bilinear(small, 0, side, side, (x + 0.5) / k - 0.5, (y + 0.5) / k - 0.5);
  }
  if (rand() < o.blurProb) {
    scratch.set(img);
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        let sum = 0;
        let wsum = 0;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = y + dy;
          if (yy < 0 || yy >= s) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            if (xx < 0 || xx >= s) continue;
            const wgt = (dx === 0 ? 2 : 1) * (dy === 0 ? 2 : 1);
            sum += scratch[yy * s + xx]! * wgt;
            wsum += wgt;
          }
        }
        img[y * s + x] = sum / wsum;
      }
    }
  }
  let mean = 0;
  for (let i = 0; i < n; i++) mean += img[i]!;
  mean /= n;
  const c = 1 + (rand() * 2 - 1) * o.contrast;
  const b = (rand() * 2 - 1) * o.brightness;
  const g = Math.exp((rand() * 2 - 1) * o.gamma);
  const noise = rand() * o.noiseStd;
  for (let i = 0; i < n; i++) {
    let v = (img[i]! - mean) * c + mean + b;
    v = v <= 0 ? 0 : v >= 1 ? 1 : Math.pow(v, g);
    if (noise > 0) {
      // Box-Muller
      const u = 1 - rand();
      v += noise * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
      v = v < 0 ? 0 : v > 1 ? 1 : v;
    }
    img[i] = v;
  }
  if (rand() < o.eraseProb) {
    const area = (0.05 + rand() * 0.15) * n;
    const aspect = Math.exp((rand() * 2 - 1) * Math.log(2));
    const h = Math.min(s, Math.max(1, Math.round(Math.sqrt(area * aspect))));
    const w = Math.min(s, Math.max(1, Math.round(Math.sqrt(area / aspect))));
    const y0 = Math.floor(rand() * (s - h + 1));
    const x0 = Math.floor(rand() * (s - w + 1));
    const fill = rand();
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) img[y * s + x] = fill;
  }
}
