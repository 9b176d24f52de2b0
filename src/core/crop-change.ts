/**
 * How much a face crop changed between two frames, for skipping the landmarker on a frame where the
 * face held still (src/app/live/pipeline.ts): the mean absolute difference of the two crops' 2x2
 * block means, in the crops' own [0, 1] gray units. Averaging 2x2 blocks halves a camera's pixel
 * noise while keeping what matters. Measured on JAFFE's 48x48 app crops, each of the two crops with
 * its own Gaussian noise: noise alone of sigma 3/255 gives 0.006-0.007 (5/255: 0.010-0.012, 6/255:
 * 0.012-0.014), a shift by half a crop pixel under 3/255 noise 0.021-0.032, by one 0.039-0.064; a
 * posed expression against the same person's neutral photo (no noise added) 0.022-0.175, median 0.07.
 */
export function cropChange(a: ArrayLike<number>, b: ArrayLike<number>, size: number): number {
  if (a.length !== size * size || b.length !== size * size) {
    throw new Error(`cropChange: crops of ${a.length} and ${b.length} values are not ${size}x${size}`);
  }
  const half = Math.floor(size / 2);
  if (half === 0) return Math.abs(a[0]! - b[0]!);
  let sum = 0;
  for (let y = 0; y < half; y++) {
    for (let x = 0; x < half; x++) {
      const i = 2 * y * size + 2 * x;
      const da = a[i]! + a[i + 1]! + a[i + size]! + a[i + size + 1]!;
      const db = b[i]! + b[i + 1]! + b[i + size]! + b[i + size + 1]!;
      sum += Math.abs(da - db) / 4;
    }
  }
  return sum / (half * half);
}
