/**
 * Cuts the model input out of a frame: for each crop pixel, map its centre (or an n x n grid of
 * sub-pixel points when shrinking, so small crops of large faces do not alias) into the source
 * with `toSource`, sample bilinearly, convert to gray and scale to [0, 1].
 */
import type { Affine, PixelSource } from './types.ts';

/** ITU-R BT.601 luma, the weights tf.image.rgbToGrayscale and OpenCV use. */
export const LUMA = [0.299, 0.587, 0.114] as const;

/** Most sub-samples per axis; 4 x 4 covers a 4x shrink, beyond that a little aliasing is harmless. */
const MAX_SUPERSAMPLE = 4;

/**
 * Gray crop of `size` x `size` in [0, 1], written into `out` (allocated when omitted). Points outside
 * the source take the nearest edge pixel.
 */
export function warpGray(src: PixelSource, toSource: Affine, size: number, out?: Float32Array): Float32Array {
  const result = out ?? new Float32Array(size * size);
  if (result.length < size * size) throw new RangeError(`output holds ${result.length} values, need ${size * size}`);
  const { data, width, height, channels } = src;
  if (data.length < width * height * channels) throw new RangeError('pixel data shorter than width * height * channels');
  // Source pixels per crop pixel along each crop axis.
  const stretch = Math.max(Math.hypot(toSource.a, toSource.b), Math.hypot(toSource.c, toSource.d));
  const n = Math.min(MAX_SUPERSAMPLE, Math.max(1, Math.ceil(stretch - 1e-9)));
  const wr = channels === 1 ? 1 : LUMA[0];
  const wg = channels === 1 ? 0 : LUMA[1];
  const wb = channels === 1 ? 0 : LUMA[2];
  const gray = (x: number, y: number): number => {
    const i = (y * width + x) * channels;
    return channels === 1 ? data[i]! : wr * data[i]! + wg * data[i + 1]! + wb * data[i + 2]!;
  };
  const maxX = width - 1;
  const maxY = height - 1;
  const inv = 1 / (n * n * 255);
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      let sum = 0;
      for (let sj = 0; sj < n; sj++) {
        const cy = j + (sj + 0.5) / n;
        for (let si = 0; si < n; si++) {
          const cx = i + (si + 0.5) / n;
          // Source pixel centres sit at integer + 0.5.
          let x = toSource.a * cx + toSource.c * cy + toSource.e - 0.5;
          let y = toSource.b * cx + toSource.d * cy + toSource.f - 0.5;
          x = x < 0 ? 0 : x > maxX ? maxX : x;
          y = y < 0 ? 0 : y > maxY ? maxY : y;
          const x0 = Math.floor(x);
          const y0 = Math.floor(y);
          const x1 = x0 < maxX ? x0 + 1 : x0;
          const y1 = y0 < maxY ? y0 + 1 : y0;
          const fx = x - x0;
          const fy = y - y0;
          const top = gray(x0, y0) * (1 - fx) + gray(x1, y0) * fx;
          const bottom = gray(x0, y1) * (1 - fx) + gray(x1, y1) * fx;
          sum += top * (1 - fy) + bottom * fy;
        }
      }
      result[j * size + i] = sum * inv;
    }
  }
  return result;
}

/** Mirror image of a square gray crop (for hflip test-time augmentation). */
export function flipHorizontal(src: Float32Array, size: number, out?: Float32Array): Float32Array {
  const result = out ?? new Float32Array(size * size);
  for (let j = 0; j < size; j++) {
    const row = j * size;
    for (let i = 0; i < size; i++) result[row + i] = src[row + size - 1 - i]!;
  }
  return result;
}
