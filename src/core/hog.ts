/**
 * Histogram of oriented gradients (Dalal & Triggs) of a square gray image: unsigned gradients in
 * `bins` orientation bins per `cell` x `cell` pixel cell (bilinear in orientation), blocks of 2x2
 * cells with a stride of one cell, each block L2-Hys normalised (clip 0.2). Used by the pixel SVM,
 * where it is far more robust to lighting and small shifts than raw pixels. Pure TypeScript.
 */

export interface HogOptions {
  /** Image side in pixels. */
  size: number;
  /** Cell side in pixels (size must be a multiple). */
  cell: number;
  bins: number;
}

export const FER_HOG: HogOptions = { size: 48, cell: 6, bins: 9 };

/** Length of the descriptor: (cells-1)^2 blocks x 4 cells x bins. */
export function hogLength(o: HogOptions): number {
  const cells = o.size / o.cell;
  return (cells - 1) * (cells - 1) * 4 * o.bins;
}

/** HOG of `image` (size*size values, any scale), written into `out` (allocated if omitted). */
export function hog(image: ArrayLike<number>, o: HogOptions = FER_HOG, out?: Float32Array): Float32Array {
  const { size, cell, bins } = o;
  if (size % cell !== 0) throw new Error(`hog: size ${size} is not a multiple of cell ${cell}`);
  if (image.length !== size * size) throw new Error(`hog: expected ${size * size} pixels, got ${image.length}`);
  const cells = size / cell;
  const hist = new Float64Array(cells * cells * bins);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // Centred differences, clamped at the border.
      const gx = image[y * size + Math.min(size - 1, x + 1)]! - image[y * size + Math.max(0, x - 1)]!;
      const gy = image[Math.min(size - 1, y + 1) * size + x]! - image[Math.max(0, y - 1) * size + x]!;
      const mag = Math.sqrt(gx * gx + gy * gy);
      if (mag === 0) continue;
      let angle = Math.atan2(gy, gx);
      if (angle < 0) angle += Math.PI; // unsigned: 0..pi
      const pos = (angle / Math.PI) * bins - 0.5;
      const b0 = Math.floor(pos);
      const w1 = pos - b0;
      const base = (Math.floor(y / cell) * cells + Math.floor(x / cell)) * bins;
      hist[base + ((b0 + bins) % bins)] += mag * (1 - w1);
      hist[base + ((b0 + 1) % bins)] += mag * w1;
    }
  }
  const res = out ?? new Float32Array(hogLength(o));
  const block = new Float64Array(4 * bins);
  let o2 = 0;
  for (let by = 0; by < cells - 1; by++) {
    for (let bx = 0; bx < cells - 1; bx++) {
      let k = 0;
      for (const [dy, dx] of [
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
      ] as const) {
        const base = ((by + dy) * cells + bx + dx) * bins;
        for (let b = 0; b < bins; b++) block[k++] = hist[base + b]!;
      }
      // L2-Hys: normalise, clip at 0.2, normalise again.
      let n = 1e-6;
      for (let i = 0; i < block.length; i++) n += block[i]! * block[i]!;
      n = Math.sqrt(n);
      let n2 = 1e-6;
      for (let i = 0; i < block.length; i++) {
        block[i] = Math.min(0.2, block[i]! / n);
        n2 += block[i]! * block[i]!;
      }
      n2 = Math.sqrt(n2);
      for (let i = 0; i < block.length; i++) res[o2++] = block[i]! / n2;
    }
  }
  return res;
}
