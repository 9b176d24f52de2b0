/**
 * PCA for the SVM's input projection (Node). Covariance of the centred rows, then its top-k
 * eigenvectors by subspace (block power) iteration with QR and Rayleigh-Ritz steps, or by a
 * full Jacobi eigendecomposition for small dimensions.
 *
 * Two engines for the O(n·d²) covariance and the O(d²·K) products of the iteration:
 *   - 'js': blocked double-precision loops (28,709 × 2,304 pixel rows: about a minute on one core);
 *   - 'tfjs': tfjs matMul on the current backend (wasm/XNNPACK is set up if needed); float32
 *     products accumulated into a double covariance, several times faster.
 * Apply the result with src/core/svm's createPreprocess/applyPreprocess (the app's code).
 */
import { gaussian, mulberry32 } from '../../core/random.ts';

export type PcaRows = readonly ArrayLike<number>[] | { data: Float32Array | Float64Array; rows: number; cols: number };

export interface PcaOptions {
  engine?: 'js' | 'tfjs';
  /** 'auto': Jacobi when d ≤ 256 or the block would reach d, else subspace iteration. */
  method?: 'auto' | 'jacobi' | 'subspace';
  /** Extra block vectors for subspace iteration (default max(10, ceil(k/4))). */
  oversample?: number;
  maxIter?: number;
  /** Stop when every top-k Ritz residual |C·u - θ·u| ≤ tol·θ₁ (default 1e-6). */
  tol?: number;
  /** Rayleigh-Ritz (and the convergence check) every this many iterations (default 4). */
  rrEvery?: number;
  seed?: number;
  onProgress?: (msg: string) => void;
}

export interface Pca {
  d: number;
  k: number;
  /** Per-feature mean of the rows (the projection's `mean`). */
  mean: Float64Array;
  /**
   * k×d row-major, orthonormal rows, by decreasing variance; each row's largest-magnitude entry is
   * positive. Float32: the values the app will use (pass these to the exporter unchanged).
   */
  components: Float32Array;
  /** Variance along each component (covariance eigenvalues, n-1 normalisation). */
  explainedVariance: Float64Array;
  explainedVarianceRatio: Float64Array;
  /** Trace of the covariance. */
  totalVariance: number;
  method: 'jacobi' | 'subspace';
  engine: 'js' | 'tfjs';
  iterations: number;
  /** Largest final residual |C·u - θ·u| / θ₁ over the top k (subspace iteration only; 0 for Jacobi). */
  maxResidual: number;
  ms: { covariance: number; eigen: number };
}

interface RowSource {
  n: number;
  d: number;
  row(r: number): ArrayLike<number>;
}

function rowSource(input: PcaRows): RowSource {
  if (Array.isArray(input)) {
    const rows = input as readonly ArrayLike<number>[];
    if (rows.length === 0) throw new Error('fitPca: no rows');
    const d = rows[0]!.length;
    rows.forEach((r, i) => {
      if (r.length !== d) throw new Error(`fitPca: row ${i} has ${r.length} values, row 0 has ${d}`);
    });
    return { n: rows.length, d, row: (r) => rows[r]! };
  }
  const { data, rows, cols } = input as { data: Float32Array | Float64Array; rows: number; cols: number };
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) throw new Error(`fitPca: bad shape ${rows}x${cols}`);
  if (data.length !== rows * cols) throw new Error(`fitPca: data has ${data.length} values, shape ${rows}x${cols} needs ${rows * cols}`);
  return { n: rows, d: cols, row: (r) => data.subarray(r * cols, (r + 1) * cols) };
}

// ---------------------------------------------------------------------------------------------
// Linear-algebra engines

interface Engine {
  /** Covariance (n-1 normalisation) of the rows centred by `mean`; full symmetric d×d. */
  covariance(src: RowSource, mean: Float64Array): Promise<Float64Array>;
  /** Prepares Y = C·Q products for one C (d×d); returns a function of Q (d×K row-major). */
  multiplier(C: Float64Array, d: number): Promise<{ mul(Q: Float64Array, K: number, out: Float64Array): void; dispose(): void }>;
}

const jsEngine: Engine = {
  async covariance(src, mean) {
    const { n, d } = src;
    const R = 128;
    const C = new Float64Array(d * d);
    const T = new Float64Array(d * R); // chunk, column-major: T[i*R + r]
    for (let r0 = 0; r0 < n; r0 += R) {
      const rr = Math.min(R, n - r0);
      for (let r = 0; r < rr; r++) {
        const x = src.row(r0 + r);
        for (let i = 0; i < d; i++) T[i * R + r] = x[i]! - mean[i]!;
      }
      if (rr < R) for (let i = 0; i < d; i++) T.fill(0, i * R + rr, (i + 1) * R);
      for (let i = 0; i < d; i++) {
        const oi = i * R;
        const ci = i * d;
        for (let j = i; j < d; j++) {
          const oj = j * R;
          let s0 = 0,
            s1 = 0,
            s2 = 0,
            s3 = 0;
          for (let r = 0; r < R; r += 4) {
            s0 += T[oi + r]! * T[oj + r]!;
            s1 += T[oi + r + 1]! * T[oj + r + 1]!;
            s2 += T[oi + r + 2]! * T[oj + r + 2]!;
            s3 += T[oi + r + 3]! * T[oj + r + 3]!;
          }
          C[ci + j] += s0 + s1 + s2 + s3;
        }
      }
    }
    finishCovariance(C, d, n);
    return C;
  },
  async multiplier(C, d) {
    return {
      mul(Q, K, Y) {
        Y.fill(0);
        for (let i = 0; i < d; i++) {
          const yi = i * K;
          const ci = i * d;
          for (let j = 0; j < d; j++) {
            const c = C[ci + j]!;
            if (c === 0) continue;
            const qj = j * K;
            for (let t = 0; t < K; t++) Y[yi + t] += c * Q[qj + t]!;
          }
        }
      },
      dispose() {},
    };
  },
};

/** Mirrors the upper triangle and divides by n-1. */
function finishCovariance(C: Float64Array, d: number, n: number): void {
  const div = Math.max(1, n - 1);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const v = C[i * d + j]! / div;
      C[i * d + j] = v;
      C[j * d + i] = v;
    }
  }
}

async function tfjsEngine(): Promise<Engine> {
  const tf = await import('@tensorflow/tfjs');
  const name = tf.engine().backendName;
  if (name !== 'wasm' && name !== 'tensorflow') {
    const { initWasm } = await import('../kernels/backend.ts');
    await initWasm();
  }
  return {
    async covariance(src, mean) {
      const { n, d } = src;
      const R = Math.max(64, Math.min(4096, Math.floor(2 ** 23 / d)));
      const C = new Float64Array(d * d);
      const chunk = new Float32Array(R * d);
      for (let r0 = 0; r0 < n; r0 += R) {
        const rr = Math.min(R, n - r0);
        for (let r = 0; r < rr; r++) {
          const x = src.row(r0 + r);
          for (let i = 0; i < d; i++) chunk[r * d + i] = x[i]! - mean[i]!;
        }
        const g = tf.tidy(() => {
          const t = tf.tensor2d(chunk.subarray(0, rr * d), [rr, d]);
          return tf.matMul(t, t, true, false);
        });
        const data = await g.data();
        g.dispose();
        for (let i = 0; i < d; i++) for (let j = i; j < d; j++) C[i * d + j] += data[i * d + j]!;
      }
      finishCovariance(C, d, n);
      return C;
    },
    async multiplier(C, d) {
      const c = tf.tensor2d(Float32Array.from(C), [d, d]);
      return {
        mul(Q, K, Y) {
          const y = tf.tidy(() => tf.matMul(c, tf.tensor2d(Float32Array.from(Q), [d, K])));
          Y.set(y.dataSync());
          y.dispose();
        },
        dispose() {
          c.dispose();
        },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Small dense helpers (row-major)

/** Cyclic Jacobi eigendecomposition of a symmetric n×n matrix (copied). Eigenvalues descending; V columns. */
export function symmetricEigen(A0: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const A = Float64Array.from(A0);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  let norm = 0;
  for (let i = 0; i < n * n; i++) norm += A[i]! * A[i]!;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p * n + q]! ** 2;
    if (off <= 1e-32 * norm || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q]!;
        if (apq === 0 || apq * apq <= 1e-36 * Math.abs(A[p * n + p]! * A[q * n + q]!)) continue;
        const theta = (A[q * n + q]! - A[p * n + p]!) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < n; r++) {
          const arp = A[r * n + p]!;
          const arq = A[r * n + q]!;
          A[r * n + p] = c * arp - s * arq;
          A[r * n + q] = s * arp + c * arq;
        }
        for (let r = 0; r < n; r++) {
          const apr = A[p * n + r]!;
          const aqr = A[q * n + r]!;
          A[p * n + r] = c * apr - s * aqr;
          A[q * n + r] = s * apr + c * aqr;
        }
        for (let r = 0; r < n; r++) {
          const vrp = V[r * n + p]!;
          const vrq = V[r * n + q]!;
          V[r * n + p] = c * vrp - s * vrq;
          V[r * n + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => A[b * n + b]! - A[a * n + a]!);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = A[src * n + src]!;
    for (let r = 0; r < n; r++) vectors[r * n + dst] = V[r * n + src]!;
  });
  return { values, vectors };
}

/**
 * In-place modified Gram-Schmidt (twice, for orthogonality to machine precision) on the K columns
 * of the d×K row-major matrix M. A column that vanishes (rank deficiency) is replaced by a random
 * vector orthogonal to the previous ones.
 */
function orthonormalizeColumns(M: Float64Array, d: number, K: number, rand: () => number): void {
  const col = new Float64Array(d);
  const Qt = new Float64Array(K * d); // columns, contiguous
  for (let c = 0; c < K; c++) {
    for (let i = 0; i < d; i++) col[i] = M[i * K + c]!;
    let attempts = 0;
    for (;;) {
      let before = 0;
      for (let i = 0; i < d; i++) before += col[i]! * col[i]!;
      before = Math.sqrt(before);
      for (let pass = 0; pass < 2; pass++) {
        for (let b = 0; b < c; b++) {
          const qb = b * d;
          let dot = 0;
          for (let i = 0; i < d; i++) dot += Qt[qb + i]! * col[i]!;
          for (let i = 0; i < d; i++) col[i] -= dot * Qt[qb + i]!;
        }
      }
      let after = 0;
      for (let i = 0; i < d; i++) after += col[i]! * col[i]!;
      after = Math.sqrt(after);
      if (after > 1e-10 * before && after > 0) {
        for (let i = 0; i < d; i++) Qt[c * d + i] = col[i]! / after;
        break;
      }
      if (++attempts > 5) throw new Error('fitPca: could not orthonormalise the block (d too small for k?)');
      for (let i = 0; i < d; i++) col[i] = gaussian(rand);
    }
  }
  for (let c = 0; c < K; c++) for (let i = 0; i < d; i++) M[i * K + c] = Qt[c * d + i]!;
}

/** out (a×c) = Aᵀ (b×a)ᵀ · B (b×c): inner products of columns. Row-major inputs. */
function atb(A: Float64Array, B: Float64Array, rows: number, a: number, c: number): Float64Array {
  const out = new Float64Array(a * c);
  for (let r = 0; r < rows; r++) {
    const ar = r * a;
    const br = r * c;
    for (let i = 0; i < a; i++) {
      const v = A[ar + i]!;
      if (v === 0) continue;
      const oi = i * c;
      for (let j = 0; j < c; j++) out[oi + j] += v * B[br + j]!;
    }
  }
  return out;
}

/** out (rows×c) = A (rows×a) · B (a×c). */
function ab(A: Float64Array, B: Float64Array, rows: number, a: number, c: number): Float64Array {
  const out = new Float64Array(rows * c);
  for (let r = 0; r < rows; r++) {
    const ar = r * a;
    const or = r * c;
    for (let i = 0; i < a; i++) {
      const v = A[ar + i]!;
      if (v === 0) continue;
      const bi = i * c;
      for (let j = 0; j < c; j++) out[or + j] += v * B[bi + j]!;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

/** Fits a k-component PCA. */
export async function fitPca(input: PcaRows, k: number, options: PcaOptions = {}): Promise<Pca> {
  const src = rowSource(input);
  const { n, d } = src;
  if (n < 2) throw new Error('fitPca: needs at least 2 rows');
  if (!Number.isInteger(k) || k < 1 || k > d) throw new RangeError(`fitPca: k must be an integer in 1..${d}, got ${k}`);
  const engineName = options.engine ?? 'js';
  const engine = engineName === 'tfjs' ? await tfjsEngine() : jsEngine;
  const rand = mulberry32(options.seed ?? 1);
  const log = options.onProgress ?? (() => {});

  const t0 = performance.now();
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    const x = src.row(r);
    for (let i = 0; i < d; i++) mean[i] += x[i]!;
  }
  for (let i = 0; i < d; i++) {
    mean[i] /= n;
    if (!Number.isFinite(mean[i])) throw new Error(`fitPca: feature ${i} has non-finite values`);
  }
  const C = await engine.covariance(src, mean);
  let totalVariance = 0;
  for (let i = 0; i < d; i++) totalVariance += C[i * d + i]!;
  const t1 = performance.now();
  log(`pca: covariance ${n}x${d} in ${((t1 - t0) / 1000).toFixed(1)} s (${engineName})`);

  const oversample = options.oversample ?? Math.max(10, Math.ceil(k / 4));
  const K = Math.min(d, k + oversample);
  const method = options.method === undefined || options.method === 'auto' ? (d <= 256 || K >= d ? 'jacobi' : 'subspace') : options.method;

  let values: Float64Array; // top k, descending
  let vecs: Float64Array; // d×k row-major (columns = eigenvectors)
  let iterations = 0;
  let maxResidual = 0;
  if (method === 'jacobi') {
    const e = symmetricEigen(C, d);
    values = e.values.slice(0, k);
    vecs = new Float64Array(d * k);
    for (let i = 0; i < d; i++) for (let c = 0; c < k; c++) vecs[i * k + c] = e.vectors[i * d + c]!;
  } else {
    const maxIter = options.maxIter ?? 100;
    const tol = options.tol ?? 1e-6;
    const rrEvery = Math.max(1, options.rrEvery ?? 4);
    const mul = await engine.multiplier(C, d);
    try {
      let Q: Float64Array = new Float64Array(d * K);
      for (let i = 0; i < Q.length; i++) Q[i] = gaussian(rand);
      orthonormalizeColumns(Q, d, K, rand);
      let Y: Float64Array = new Float64Array(d * K);
      values = new Float64Array(k);
      vecs = new Float64Array(d * k);
      for (;;) {
        mul.mul(Q, K, Y); // Y = C·Q
        iterations++;
        const last = iterations >= maxIter;
        if (iterations % rrEvery === 0 || last) {
          // Rayleigh-Ritz: B = Qᵀ C Q; U = Q·V, C·U = Y·V.
          const B = atb(Q, Y, d, K, K);
          for (let i = 0; i < K; i++) for (let j = i + 1; j < K; j++) B[i * K + j] = B[j * K + i] = (B[i * K + j]! + B[j * K + i]!) / 2;
          const e = symmetricEigen(B, K);
          const U = ab(Q, e.vectors, d, K, K);
          const CU = ab(Y, e.vectors, d, K, K);
          const scale = Math.abs(e.values[0]!) || 1;
          maxResidual = 0;
          for (let c = 0; c < k; c++) {
            let r2 = 0;
            for (let i = 0; i < d; i++) r2 += (CU[i * K + c]! - e.values[c]! * U[i * K + c]!) ** 2;
            maxResidual = Math.max(maxResidual, Math.sqrt(r2) / scale);
          }
          log(`pca: iteration ${iterations}, max residual ${maxResidual.toExponential(2)}`);
          if (maxResidual <= tol || last) {
            values = e.values.slice(0, k);
            for (let i = 0; i < d; i++) for (let c = 0; c < k; c++) vecs[i * k + c] = U[i * K + c]!;
            break;
          }
          Q = CU; // next power step's block, in Ritz order
          Y = U; // reuse the buffer
        } else {
          const t = Q;
          Q = Y;
          Y = t;
        }
        orthonormalizeColumns(Q, d, K, rand);
      }
    } finally {
      mul.dispose();
    }
  }
  const t2 = performance.now();
  log(
    `pca: top ${k} of ${d} by ${method} in ${((t2 - t1) / 1000).toFixed(1)} s${method === 'subspace' ? ` (${iterations} iterations)` : ''}`,
  );

  // Rows of components, sign-normalised (largest-magnitude entry positive).
  const components = new Float32Array(k * d);
  for (let c = 0; c < k; c++) {
    let big = 0;
    for (let i = 0; i < d; i++) if (Math.abs(vecs[i * k + c]!) > Math.abs(big)) big = vecs[i * k + c]!;
    const sign = big < 0 ? -1 : 1;
    for (let i = 0; i < d; i++) components[c * d + i] = sign * vecs[i * k + c]!;
  }
  const explainedVariance = values.map((v) => Math.max(0, v));
  const explainedVarianceRatio = explainedVariance.map((v) => (totalVariance > 0 ? v / totalVariance : 0));
  return {
    d,
    k,
    mean,
    components,
    explainedVariance,
    explainedVarianceRatio,
    totalVariance,
    method,
    engine: engineName,
    iterations,
    maxResidual,
    ms: { covariance: t1 - t0, eigen: t2 - t1 },
  };
}
