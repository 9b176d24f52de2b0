/**
 * SVM inference (pure TypeScript): preprocessing, RBF kernel, one-vs-one decision values, and
 * libsvm 3.22's svm_predict / svm_predict_probability reproduced step by step (svm.cpp), so that a
 * model trained with libsvm-js predicts the same labels and probabilities here.
 *
 * Prediction reuses the model's scratch buffers (model.work): no allocation per call apart from
 * the small result object of predictSvm. Not re-entrant (JS is single-threaded; fine).
 */
import { NUM_CLASSES } from '../labels.ts';
import type { SvmModel, SvmPrediction, SvmPreprocess } from './types.ts';

/** libsvm's min_prob in svm_predict_probability. */
const MIN_PROB = 1e-7;

function checkInput(x: ArrayLike<number>, dim: number): void {
  if (x.length !== dim) throw new RangeError(`SVM input has ${x.length} values, expected ${dim}`);
  for (let i = 0; i < dim; i++) {
    if (!Number.isFinite(x[i])) throw new RangeError(`SVM input[${i}] is ${x[i]}`);
  }
}

/**
 * Applies standardisation and projection: returns the SVM feature vector (length pre.outDim) in
 * `out` (allocated if omitted). `scratch` (length inputDim) holds the standardised row when both
 * steps are present.
 */
export function applyPreprocess(pre: SvmPreprocess, x: ArrayLike<number>, out?: Float64Array, scratch?: Float64Array): Float64Array {
  const d = pre.inputDim;
  const res = out ?? new Float64Array(pre.outDim);
  const proj = pre.projection;
  const std = pre.standardize;
  // Standardised row: into `res` when not projecting, else into scratch.
  const xs = proj ? (std ? (scratch ?? new Float64Array(d)) : null) : res;
  if (std && xs) {
    const { mean, scale } = std;
    for (let i = 0; i < d; i++) xs[i] = (x[i]! - mean[i]!) / scale[i]!;
  } else if (xs) {
    for (let i = 0; i < d; i++) xs[i] = x[i]!;
  }
  if (proj) {
    const src: ArrayLike<number> = xs ?? x;
    const { mean, components, outDim } = proj;
    // z_c = Σ_i components[c,i]·(x'_i - mean_i); centre once into scratch when possible.
    let centred: Float64Array;
    if (xs) {
      for (let i = 0; i < d; i++) xs[i] = xs[i]! - mean[i]!;
      centred = xs;
    } else {
      centred = scratch ?? new Float64Array(d);
      for (let i = 0; i < d; i++) centred[i] = src[i]! - mean[i]!;
    }
    for (let c = 0, o = 0; c < outDim; c++, o += d) {
      let a0 = 0,
        a1 = 0,
        a2 = 0,
        a3 = 0;
      let i = 0;
      for (; i + 3 < d; i += 4) {
        a0 += components[o + i]! * centred[i]!;
        a1 += components[o + i + 1]! * centred[i + 1]!;
        a2 += components[o + i + 2]! * centred[i + 2]!;
        a3 += components[o + i + 3]! * centred[i + 3]!;
      }
      for (; i < d; i++) a0 += components[o + i]! * centred[i]!;
      res[c] = a0 + a1 + a2 + a3;
    }
  }
  return res;
}

/** Transforms many rows (e.g. a training set) with {@link applyPreprocess}; returns Float32 rows. */
export function transformRows(pre: SvmPreprocess, rows: readonly ArrayLike<number>[]): Float32Array[] {
  const tmp = new Float64Array(pre.outDim);
  const scratch = new Float64Array(pre.inputDim);
  return rows.map((r) => {
    if (r.length !== pre.inputDim) throw new RangeError(`row has ${r.length} values, expected ${pre.inputDim}`);
    return Float32Array.from(applyPreprocess(pre, r, tmp, scratch));
  });
}

/**
 * RBF kernel values between the feature vector in work.feat and every support vector, as
 * exp(-gamma·(|f|² + |sv|² - 2·f·sv)). `dots` (f·sv per support vector) may come from elsewhere,
 * e.g. one SIMD matrix product for a batch of faces; otherwise they are computed here.
 */
function kernelValues(model: SvmModel, dots?: ArrayLike<number>): Float64Array {
  const { sv, svNorm, gamma, totalSV: l, featureDim: k } = model;
  const f = model.work.feat;
  const kv = model.work.kvalue;
  let xx = 0;
  for (let t = 0; t < k; t++) xx += f[t]! * f[t]!;
  for (let s = 0, o = 0; s < l; s++, o += k) {
    let dot: number;
    if (dots) dot = dots[s]!;
    else {
      let d0 = 0,
        d1 = 0,
        d2 = 0,
        d3 = 0;
      let t = 0;
      for (; t + 3 < k; t += 4) {
        d0 += sv[o + t]! * f[t]!;
        d1 += sv[o + t + 1]! * f[t + 1]!;
        d2 += sv[o + t + 2]! * f[t + 2]!;
        d3 += sv[o + t + 3]! * f[t + 3]!;
      }
      for (; t < k; t++) d0 += sv[o + t]! * f[t]!;
      dot = d0 + d1 + d2 + d3;
    }
    let dist = xx + svNorm[s]! - 2 * dot;
    if (dist < 0) dist = 0;
    kv[s] = Math.exp(-gamma * dist);
  }
  return kv;
}

/**
 * svm_predict_values for classification: fills work.dec and work.vote, returns vote_max_idx.
 * With `dots`, x is already the SVM feature vector (see {@link predictSvmFromDots}).
 */
function predictValues(model: SvmModel, x: ArrayLike<number>, dots?: ArrayLike<number>): number {
  const w = model.work;
  if (dots) {
    checkInput(x, model.featureDim);
    if (dots.length !== model.totalSV) throw new RangeError(`${dots.length} dot products for ${model.totalSV} support vectors`);
    for (let t = 0; t < model.featureDim; t++) w.feat[t] = x[t]!;
  } else {
    checkInput(x, model.inputDim);
    applyPreprocess(model.pre, x, w.feat, w.std);
  }
  const kv = kernelValues(model, dots);
  const { nClass, start, nSV, svCoef, rho, totalSV: l } = model;
  const vote = w.vote;
  const dec = w.dec;
  vote.fill(0);
  let p = 0;
  for (let i = 0; i < nClass; i++) {
    for (let j = i + 1; j < nClass; j++) {
      let sum = 0;
      const si = start[i]!;
      const sj = start[j]!;
      const ci = nSV[i]!;
      const cj = nSV[j]!;
      const coef1 = (j - 1) * l; // sv_coef[j-1]
      const coef2 = i * l; // sv_coef[i]
      for (let k = 0; k < ci; k++) sum += svCoef[coef1 + si + k]! * kv[si + k]!;
      for (let k = 0; k < cj; k++) sum += svCoef[coef2 + sj + k]! * kv[sj + k]!;
      sum -= rho[p]!;
      dec[p] = sum;
      if (dec[p]! > 0) ++vote[i]!;
      else ++vote[j]!;
      p++;
    }
  }
  let voteMaxIdx = 0;
  for (let i = 1; i < nClass; i++) if (vote[i]! > vote[voteMaxIdx]!) voteMaxIdx = i;
  return voteMaxIdx;
}

/**
 * Pairwise decision values (libsvm's svm_predict_values output), pairs (i,j), i<j, in the model's
 * class order (model.labels). Written into `out` if given.
 */
export function decisionValues(model: SvmModel, x: ArrayLike<number>, out?: Float64Array): Float64Array {
  predictValues(model, x);
  const dec = model.work.dec;
  if (out) {
    out.set(dec);
    return out;
  }
  return dec.slice();
}

/** libsvm's sigmoid_predict. */
function sigmoidPredict(decisionValue: number, A: number, B: number): number {
  const fApB = decisionValue * A + B;
  // 1-p used later; avoid catastrophic cancellation
  if (fApB >= 0) return Math.exp(-fApB) / (1.0 + Math.exp(-fApB));
  return 1.0 / (1 + Math.exp(fApB));
}

/**
 * libsvm's multiclass_probability (Wu, Lin and Weng 2004, method 2): pairwise coupling by the
 * iterative fixed-point method. r: k×k pairwise probabilities; writes p (k). q, qp: scratch.
 */
function multiclassProbability(k: number, r: Float64Array, p: Float64Array, Q: Float64Array, Qp: Float64Array): void {
  let t: number, j: number;
  let iter: number;
  const maxIter = Math.max(100, k);
  let pQp: number;
  const eps = 0.005 / k;
  for (t = 0; t < k; t++) {
    p[t] = 1.0 / k; // Valid if k = 1
    const tt = t * k + t;
    Q[tt] = 0;
    for (j = 0; j < t; j++) {
      Q[tt] += r[j * k + t]! * r[j * k + t]!;
      Q[t * k + j] = Q[j * k + t]!;
    }
    for (j = t + 1; j < k; j++) {
      Q[tt] += r[j * k + t]! * r[j * k + t]!;
      Q[t * k + j] = -r[j * k + t]! * r[t * k + j]!;
    }
  }
  for (iter = 0; iter < maxIter; iter++) {
    // stopping condition, recalculate QP,pQP for numerical accuracy
    pQp = 0;
    for (t = 0; t < k; t++) {
      Qp[t] = 0;
      for (j = 0; j < k; j++) Qp[t] += Q[t * k + j]! * p[j]!;
      pQp += p[t]! * Qp[t]!;
    }
    let maxError = 0;
    for (t = 0; t < k; t++) {
      const error = Math.abs(Qp[t]! - pQp);
      if (error > maxError) maxError = error;
    }
    if (maxError < eps) break;

    for (t = 0; t < k; t++) {
      const diff = (-Qp[t]! + pQp) / Q[t * k + t]!;
      p[t] += diff;
      pQp = (pQp + diff * (diff * Q[t * k + t]! + 2 * Qp[t]!)) / (1 + diff) / (1 + diff);
      for (j = 0; j < k; j++) {
        Qp[j] = (Qp[j]! + diff * Q[t * k + j]!) / (1 + diff);
        p[j] /= 1 + diff;
      }
    }
  }
}

/**
 * Predicts one row: fills `probs` (length ≥ 7, EMOTIONS order; 0 for classes the model lacks) and
 * returns the predicted EMOTIONS index. With probA/probB: libsvm's svm_predict_probability
 * (probabilities, label = first argmax). Without: libsvm's svm_predict one-vs-one voting (label =
 * most votes, ties to the earliest class in the model's order) and probs = vote fractions.
 */
export function predictSvmInto(model: SvmModel, x: ArrayLike<number>, probs: { [i: number]: number; length: number }): number {
  return predictFrom(model, x, undefined, probs);
}

/**
 * {@link predictSvmInto} for an input already preprocessed (`feature`, length featureDim, e.g. from
 * {@link applyPreprocess}) whose dot products with every support vector (`dots`, length totalSV)
 * were computed elsewhere, e.g. by one matrix product on a tfjs backend for a batch of faces.
 */
export function predictSvmFromDots(
  model: SvmModel,
  feature: ArrayLike<number>,
  dots: ArrayLike<number>,
  probs: { [i: number]: number; length: number },
): number {
  return predictFrom(model, feature, dots, probs);
}

function predictFrom(
  model: SvmModel,
  x: ArrayLike<number>,
  dots: ArrayLike<number> | undefined,
  probs: { [i: number]: number; length: number },
): number {
  if (probs.length < NUM_CLASSES) throw new RangeError(`probs has length ${probs.length}, expected ${NUM_CLASSES}`);
  const voteMaxIdx = predictValues(model, x, dots);
  const { nClass, labels, probA, probB } = model;
  const w = model.work;
  for (let c = 0; c < NUM_CLASSES; c++) probs[c] = 0;

  if (probA && probB) {
    const r = w.pairwise;
    const dec = w.dec;
    const p = w.p;
    let k = 0;
    for (let i = 0; i < nClass; i++) {
      for (let j = i + 1; j < nClass; j++) {
        const v = Math.min(Math.max(sigmoidPredict(dec[k]!, probA[k]!, probB[k]!), MIN_PROB), 1 - MIN_PROB);
        r[i * nClass + j] = v;
        r[j * nClass + i] = 1 - v;
        k++;
      }
    }
    if (nClass === 2) {
      // libsvm-js's build (libsvm 3.22 as shipped there) returns the pairwise sigmoid directly
      // for two classes instead of running the coupling iteration.
      p[0] = r[1]!;
      p[1] = r[2]!;
    } else multiclassProbability(nClass, r, p, w.q, w.qp);
    let probMaxIdx = 0;
    for (let i = 1; i < nClass; i++) if (p[i]! > p[probMaxIdx]!) probMaxIdx = i;
    for (let i = 0; i < nClass; i++) probs[labels[i]!] = p[i]!;
    return labels[probMaxIdx]!;
  }

  const nPairs = (nClass * (nClass - 1)) / 2;
  if (nPairs === 0) probs[labels[0]!] = 1;
  else for (let i = 0; i < nClass; i++) probs[labels[i]!] = w.vote[i]! / nPairs;
  return labels[voteMaxIdx]!;
}

/** Predicts one row; see {@link predictSvmInto}. */
export function predictSvm(model: SvmModel, x: ArrayLike<number>): SvmPrediction {
  const probs = new Array<number>(NUM_CLASSES).fill(0);
  const top = predictSvmInto(model, x, probs);
  return { probs, top };
}

/** Predicts many rows: `rows` is an array of rows or one flat row-major array of n × inputDim. */
export function predictSvmBatch(model: SvmModel, rows: readonly ArrayLike<number>[] | Float32Array | Float64Array): SvmPrediction[] {
  if (rows instanceof Float32Array || rows instanceof Float64Array) {
    const d = model.inputDim;
    if (rows.length % d !== 0) throw new RangeError(`flat batch of ${rows.length} values is not a multiple of inputDim ${d}`);
    const out: SvmPrediction[] = [];
    for (let o = 0; o < rows.length; o += d) out.push(predictSvm(model, rows.subarray(o, o + d)));
    return out;
  }
  return rows.map((r) => predictSvm(model, r));
}
