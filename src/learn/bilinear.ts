/**
 * Bilinear sampling of a gray image stored row-major in a typed array: the one sampler of the
 * training augmentations (augment.ts: geometric warp, down-up scaling; expression-warp.ts).
 */

/** `src` (w x h, from `offset`) at (sx, sy), bilinear, clamped to the edges. */
export function bilinear(src: Uint8Array | Float32Array, offset: number, w: number, h: number, sx: number, sy: number): number {
  sx = sx < 0 ? 0 : sx > w - 1 ? w - 1 : sx;
  sy = sy < 0 ? 0 : sy > h - 1 ? h - 1 : sy;
  const x0 = Math.floor(sx);
  const y0 = Math.floor(sy);
  const x1 = x0 < w - 1 ? x0 + 1 : x0;
  const y1 = y0 < h - 1 ? y0 + 1 : y0;
  const fx = sx - x0;
  const fy = sy - y0;
  const r0 = offset + y0 * w;
  const r1 = offset + y1 * w;
  const top = src[r0 + x0]! + (src[r0 + x1]! - src[r0 + x0]!) * fx;
  const bottom = src[r1 + x0]! + (src[r1 + x1]! - src[r1 + x0]!) * fx;
  return top + (bottom - top) * fy;
}
