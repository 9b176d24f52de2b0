/**
 * Per-feature standardisation fitted on training rows: x' = (x - mean) / scale, as
 * scikit-learn's StandardScaler (population standard deviation; a constant feature gets scale 1).
 * Apply it with src/core/svm's createPreprocess/applyPreprocess (the code the app runs).
 */

export interface StandardScaler {
  mean: Float64Array;
  scale: Float64Array;
}

export function fitStandardScaler(rows: readonly ArrayLike<number>[]): StandardScaler {
  if (rows.length === 0) throw new Error('fitStandardScaler: no rows');
  const d = rows[0]!.length;
  const n = rows.length;
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    const x = rows[r]!;
    if (x.length !== d) throw new Error(`fitStandardScaler: row ${r} has ${x.length} values, row 0 has ${d}`);
    for (let i = 0; i < d; i++) mean[i] += x[i]!;
  }
  for (let i = 0; i < d; i++) {
    mean[i] /= n;
    if (!Number.isFinite(mean[i])) throw new Error(`fitStandardScaler: feature ${i} has non-finite values`);
  }
  // Two-pass variance (numerically stable for features with a large mean).
  const m2 = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    const x = rows[r]!;
    for (let i = 0; i < d; i++) {
      const t = x[i]! - mean[i]!;
      m2[i] += t * t;
    }
  }
  const scale = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    const sd = Math.sqrt(m2[i]! / n);
    // Near-constant features (relative to their magnitude) count as constant, like sklearn.
    scale[i] = sd > 10 * Number.EPSILON * Math.max(1, Math.abs(mean[i]!)) ? sd : 1;
  }
  return { mean, scale };
}
