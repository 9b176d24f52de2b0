/**
 * Multinomial logistic regression (softmax) for the fusion models: weighted cross-entropy with an
 * L2 penalty on the weights (not the biases), minimised by L-BFGS. The problem is convex and small
 * (a few thousand rows, ~175 inputs, 7 classes), so a full-batch quasi-Newton solver reaches the
 * optimum in a few hundred steps, deterministically: same rows, same model.
 */
import { NUM_CLASSES } from '../../core/labels.ts';
import { softmaxInPlace } from '../../core/fusion.ts';

export interface Standardizer {
  mean: Float64Array;
  scale: Float64Array;
}

/** Mean and standard deviation per column (scale 1 where a column is constant, so it stays 0). */
export function fitStandardizer(rows: readonly Float64Array[]): Standardizer {
  const d = rows[0]?.length ?? 0;
  const mean = new Float64Array(d);
  const scale = new Float64Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j] += r[j]! / rows.length;
  for (const r of rows) for (let j = 0; j < d; j++) scale[j] += (r[j]! - mean[j]!) ** 2 / rows.length;
  for (let j = 0; j < d; j++) scale[j] = scale[j]! > 1e-12 ? Math.sqrt(scale[j]!) : 1;
  return { mean, scale };
}

/** (x - mean) / scale; a non-finite value becomes 0 (the mean), as src/core/fusion.ts reads it. */
export function standardize(rows: readonly Float64Array[], s: Standardizer): Float64Array[] {
  return rows.map((r) => Float64Array.from(r, (v, j) => (Number.isFinite(v) ? (v - s.mean[j]!) / s.scale[j]! : 0)));
}

export interface LogregOptions {
  /** L2 strength: the loss is the weighted mean cross-entropy + l2 / 2 * |W - prior|^2. */
  l2: number;
  /** The weights the penalty pulls towards ([K * d]; default 0): a strong L2 gives this model. */
  prior?: Float64Array;
  /** Per-row weights (e.g. class-balanced); default 1. */
  sampleWeights?: ArrayLike<number>;
  maxIter?: number;
  /** Stop when the largest gradient entry is below this. */
  tol?: number;
  /** Start from these parameters (warm start), [K * d weights, K biases]. */
  init?: Float64Array;
}

export interface LogregFit {
  /** [K * d] row-major by class. */
  weights: Float64Array;
  bias: Float64Array;
  /** Objective value after each iteration (the first entry: at the start). */
  losses: number[];
  iterations: number;
  converged: boolean;
}

/** Rows packed into one row-major array (n x d), for cache-friendly loops. */
export interface Design {
  x: Float64Array;
  n: number;
  d: number;
}

export function packRows(rows: readonly Float64Array[]): Design {
  const n = rows.length;
  const d = rows[0]?.length ?? 0;
  const x = new Float64Array(n * d);
  rows.forEach((r, i) => {
    if (r.length !== d) throw new Error(`row ${i} has ${r.length} values, expected ${d}`);
    x.set(r, i * d);
  });
  return { x, n, d };
}

/** Objective and gradient at `theta` ([K*d weights, K biases]); `grad` is overwritten. */
export function objective(
  theta: Float64Array,
  data: Design,
  labels: ArrayLike<number>,
  l2: number,
  sampleWeights: ArrayLike<number> | undefined,
  grad: Float64Array,
  prior?: Float64Array,
): number {
  const K = NUM_CLASSES;
  const { x, n, d } = data;
  const wEnd = K * d;
  grad.fill(0);
  let total = 0;
  let loss = 0;
  const p = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    const xo = i * d;
    const s = sampleWeights ? sampleWeights[i]! : 1;
    total += s;
    let max = -Infinity;
    for (let k = 0; k < K; k++) {
      let z = theta[wEnd + k]!;
      const o = k * d;
      for (let j = 0; j < d; j++) z += theta[o + j]! * x[xo + j]!;
      p[k] = z;
      if (z > max) max = z;
    }
    let sum = 0;
    for (let k = 0; k < K; k++) {
      p[k] = Math.exp(p[k]! - max);
      sum += p[k]!;
    }
    const y = labels[i]!;
    loss -= s * (Math.log(p[y]!) - Math.log(sum));
    for (let k = 0; k < K; k++) {
      const r = s * (p[k]! / sum - (k === y ? 1 : 0));
      const o = k * d;
      for (let j = 0; j < d; j++) grad[o + j] += r * x[xo + j]!;
      grad[wEnd + k] += r;
    }
  }
  const inv = 1 / total;
  let penalty = 0;
  for (let t = 0; t < grad.length; t++) grad[t] *= inv;
  for (let t = 0; t < wEnd; t++) {
    const delta = theta[t]! - (prior ? prior[t]! : 0);
    penalty += delta * delta;
    grad[t] += l2 * delta;
  }
  return loss * inv + 0.5 * l2 * penalty;
}

const dot = (a: Float64Array, b: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/** Fits the regression by L-BFGS (memory 10, backtracking Armijo line search). */
export function fitLogreg(rows: readonly Float64Array[], labels: ArrayLike<number>, o: LogregOptions): LogregFit {
  if (rows.length === 0) throw new Error('fitLogreg: no rows');
  if (rows.length !== labels.length) throw new Error(`fitLogreg: ${rows.length} rows, ${labels.length} labels`);
  const data = packRows(rows);
  const d = data.d;
  const n = NUM_CLASSES * d + NUM_CLASSES;
  const maxIter = o.maxIter ?? 500;
  const tol = o.tol ?? 1e-6;
  const theta = o.init ? Float64Array.from(o.init) : new Float64Array(n);
  if (theta.length !== n) throw new Error(`fitLogreg: init has ${theta.length} values, expected ${n}`);
  const grad = new Float64Array(n);
  if (o.prior && o.prior.length !== NUM_CLASSES * d)
    throw new Error(`fitLogreg: prior has ${o.prior.length} values, expected ${NUM_CLASSES * d}`);
  const f = (t: Float64Array, g: Float64Array) => objective(t, data, labels, o.l2, o.sampleWeights, g, o.prior);
  let loss = f(theta, grad);
  const losses = [loss];
  const memory = 10;
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const next = new Float64Array(n);
  const nextGrad = new Float64Array(n);
  let iterations = 0;
  let converged = false;
  for (; iterations < maxIter; iterations++) {
    if (grad.reduce((m, v) => Math.max(m, Math.abs(v)), 0) < tol) {
      converged = true;
      break;
    }
    // Two-loop recursion: direction = -H * grad.
    const q = Float64Array.from(grad);
    const alpha: number[] = [];
    for (let m = S.length - 1; m >= 0; m--) {
      const a = dot(S[m]!, q) / dot(Y[m]!, S[m]!);
      alpha[m] = a;
      for (let t = 0; t < n; t++) q[t] -= a * Y[m]![t]!;
    }
    const gamma = S.length > 0 ? dot(S.at(-1)!, Y.at(-1)!) / dot(Y.at(-1)!, Y.at(-1)!) : 1 / Math.max(1, Math.sqrt(dot(grad, grad)));
    for (let t = 0; t < n; t++) q[t] *= gamma;
    for (let m = 0; m < S.length; m++) {
      const b = dot(Y[m]!, q) / dot(Y[m]!, S[m]!);
      for (let t = 0; t < n; t++) q[t] += S[m]![t]! * (alpha[m]! - b);
    }
    let slope = -dot(grad, q);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      S.length = 0;
      Y.length = 0;
      const g = 1 / Math.max(1, Math.sqrt(dot(grad, grad)));
      for (let t = 0; t < n; t++) q[t] = grad[t]! * g;
      slope = -dot(grad, q);
    }
    let step = 1;
    let nextLoss = Infinity;
    for (let tries = 0; tries < 40; tries++) {
      for (let t = 0; t < n; t++) next[t] = theta[t]! - step * q[t]!;
      nextLoss = f(next, nextGrad);
      if (nextLoss <= loss + 1e-4 * step * slope) break;
      step /= 2;
    }
    if (!(nextLoss < loss)) {
      converged = true; // no further decrease at float precision
      break;
    }
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let t = 0; t < n; t++) {
      s[t] = next[t]! - theta[t]!;
      y[t] = nextGrad[t]! - grad[t]!;
    }
    if (dot(s, y) > 1e-12) {
      S.push(s);
      Y.push(y);
      if (S.length > memory) {
        S.shift();
        Y.shift();
      }
    }
    theta.set(next);
    grad.set(nextGrad);
    const change = loss - nextLoss;
    loss = nextLoss;
    losses.push(loss);
    if (change < 1e-12 * Math.max(1, Math.abs(loss))) {
      converged = true;
      iterations++;
      break;
    }
  }
  return { weights: theta.slice(0, NUM_CLASSES * d), bias: theta.slice(NUM_CLASSES * d), losses, iterations, converged };
}

/** Class probabilities of standardized rows under a fit. */
export function predictLogreg(fit: Pick<LogregFit, 'weights' | 'bias'>, rows: readonly Float64Array[]): Float64Array[] {
  const K = NUM_CLASSES;
  return rows.map((x) => {
    const d = x.length;
    const p = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      let z = fit.bias[k]!;
      for (let j = 0; j < d; j++) z += fit.weights[k * d + j]! * x[j]!;
      p[k] = z;
    }
    softmaxInPlace(p);
    return p;
  });
}

/**
 * The fusion model's prior: the average of its members' own outputs. On standardized inputs,
 * logit_k = mean over members of log p_k needs weight scale_j on member column j = k and bias
 * mean_j; a model pulled towards this by the L2 penalty starts as the members and moves away from
 * them only as far as the data supports (strong L2 = the members alone).
 */
export function memberPrior(st: Standardizer, members: number): { weights: Float64Array; bias: Float64Array } {
  const K = NUM_CLASSES;
  const d = st.mean.length;
  const weights = new Float64Array(K * d);
  const bias = new Float64Array(K);
  for (let m = 0; m < members; m++) {
    for (let k = 0; k < K; k++) {
      const j = m * K + k;
      weights[k * d + j] = st.scale[j]! / members;
      bias[k] += st.mean[j]! / members;
    }
  }
  return { weights, bias };
}
