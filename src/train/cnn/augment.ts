/**
 * On-the-fly augmentation for 48x48 gray faces, as in the reference study (Keras
 * ImageDataGenerator: rotation ±10°, shifts ±10%, zoom ±10%, horizontal flip), written as one
 * inverse affine warp with bilinear sampling and edge replication. Pure typed-array code: it runs
 * inside each training worker right before its gradient step.
 */
import { IMAGE_PIXELS, IMAGE_SIZE } from '../../core/labels.ts';

export interface AugmentOptions {
  rotationDeg: number;
  shift: number; // fraction of the side
  zoom: number; // ± fraction
  flip: boolean;
}

export const REFERENCE_AUGMENTATION: AugmentOptions = { rotationDeg: 10, shift: 0.1, zoom: 0.1, flip: true };
export const NO_AUGMENTATION: AugmentOptions = { rotationDeg: 0, shift: 0, zoom: 0, flip: false };

/**
 * Writes one image (uint8 0..255, `src` at `srcOffset`) into `dst` at `dstOffset` as float [0,1],
 * randomly transformed. With all ranges 0 and no flip it is an exact copy / 255.
 */
export function augmentInto(
  src: Uint8Array, srcOffset: number, dst: Float32Array, dstOffset: number, opts: AugmentOptions, rand: () => number,
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
      let sx = cos * dx + sin * dy + c;
      let sy = -sin * dx + cos * dy + c;
      sx = sx < 0 ? 0 : sx > s - 1 ? s - 1 : sx;
      sy = sy < 0 ? 0 : sy > s - 1 ? s - 1 : sy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = x0 < s - 1 ? x0 + 1 : x0;
      const y1 = y0 < s - 1 ? y0 + 1 : y0;
      const fx = sx - x0;
      const fy = sy - y0;
      const r0 = srcOffset + y0 * s;
      const r1 = srcOffset + y1 * s;
      const top = src[r0 + x0] + (src[r0 + x1] - src[r0 + x0]) * fx;
      const bottom = src[r1 + x0] + (src[r1 + x1] - src[r1 + x0]) * fx;
      dst[dstOffset + y * s + x] = (top + (bottom - top) * fy) / 255;
    }
  }
}

/** Builds a [n,48,48,1] float batch from the given rows of a uint8 pixel table. */
export function augmentBatch(
  pixels: Uint8Array, rows: ArrayLike<number>, opts: AugmentOptions, rand: () => number, out?: Float32Array,
): Float32Array {
  const dst = out ?? new Float32Array(rows.length * IMAGE_PIXELS);
  for (let i = 0; i < rows.length; i++) augmentInto(pixels, rows[i] * IMAGE_PIXELS, dst, i * IMAGE_PIXELS, opts, rand);
  return dst;
}
