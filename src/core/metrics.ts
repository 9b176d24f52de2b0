/**
 * Classification metrics (pure TypeScript; no DOM, no Node APIs).
 * Definitions follow scikit-learn's classification_report, with zero division -> 0.
 */

export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** Number of true samples of this class (row sum of the confusion matrix). */
  support: number;
}

export interface AverageMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationReport {
  accuracy: number;
  perClass: ClassMetrics[];
  /**
   * Unweighted mean over the classes that occur (true or predicted), as scikit-learn does when
   * labels are inferred: a personal set without, say, disgust photos is not scored 0 for disgust.
   */
  macroAvg: AverageMetrics;
  /** Mean over classes weighted by support. */
  weightedAvg: AverageMetrics;
}

/**
 * Confusion matrix with rows = true class, columns = predicted class:
 * cm[t][p] counts samples whose true label is t and predicted label is p.
 */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numClasses: number): number[][] {
  if (yTrue.length !== yPred.length) {
    throw new Error(`confusionMatrix: yTrue has ${yTrue.length} entries but yPred has ${yPred.length}`);
  }
  if (!Number.isInteger(numClasses) || numClasses <= 0) throw new RangeError(`confusionMatrix: bad numClasses ${numClasses}`);
  const cm: number[][] = [];
  for (let i = 0; i < numClasses; i++) cm.push(new Array<number>(numClasses).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i]!;
    const p = yPred[i]!;
    if (!Number.isInteger(t) || t < 0 || t >= numClasses)
      throw new RangeError(`confusionMatrix: yTrue[${i}] = ${t} is outside 0..${numClasses - 1}`);
    if (!Number.isInteger(p) || p < 0 || p >= numClasses)
      throw new RangeError(`confusionMatrix: yPred[${i}] = ${p} is outside 0..${numClasses - 1}`);
    cm[t]![p]!++;
  }
  return cm;
}

const div = (a: number, b: number): number => (b === 0 ? 0 : a / b);

/** Per-class precision/recall/F1, accuracy, macro and weighted averages from a confusion matrix. */
export function classificationReport(cm: number[][], labels: readonly string[]): ClassificationReport {
  const k = cm.length;
  if (labels.length !== k) throw new Error(`classificationReport: ${labels.length} labels for a ${k}x${k} matrix`);
  for (const row of cm) if (row.length !== k) throw new Error('classificationReport: confusion matrix is not square');

  let total = 0;
  let correct = 0;
  const colSums = new Array<number>(k).fill(0);
  const rowSums = new Array<number>(k).fill(0);
  for (let t = 0; t < k; t++) {
    for (let p = 0; p < k; p++) {
      const v = cm[t]![p]!;
      total += v;
      rowSums[t]! += v;
      colSums[p]! += v;
      if (t === p) correct += v;
    }
  }

  const perClass: ClassMetrics[] = [];
  for (let c = 0; c < k; c++) {
    const tp = cm[c]![c]!;
    const precision = div(tp, colSums[c]!);
    const recall = div(tp, rowSums[c]!);
    const f1 = div(2 * precision * recall, precision + recall);
    perClass.push({ label: labels[c]!, precision, recall, f1, support: rowSums[c]! });
  }

  const macroAvg: AverageMetrics = { precision: 0, recall: 0, f1: 0, support: total };
  const weightedAvg: AverageMetrics = { precision: 0, recall: 0, f1: 0, support: total };
  const occurring = perClass.filter((_, c) => rowSums[c]! > 0 || colSums[c]! > 0).length || k;
  for (const [c, m] of perClass.entries()) {
    if (rowSums[c]! > 0 || colSums[c]! > 0 || occurring === k) {
      macroAvg.precision += m.precision / occurring;
      macroAvg.recall += m.recall / occurring;
      macroAvg.f1 += m.f1 / occurring;
    }
    const w = div(m.support, total);
    weightedAvg.precision += m.precision * w;
    weightedAvg.recall += m.recall * w;
    weightedAvg.f1 += m.f1 * w;
  }

  return { accuracy: div(correct, total), perClass, macroAvg, weightedAvg };
}

/** Index of the largest value (the first one on a tie). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Row-wise argmax of a flat (n * numClasses) score array; ties go to the lowest index. */
export function argmaxRows(probs: Float32Array | number[], numClasses: number): Int32Array {
  if (!Number.isInteger(numClasses) || numClasses <= 0) throw new RangeError(`argmaxRows: bad numClasses ${numClasses}`);
  if (probs.length % numClasses !== 0) {
    throw new Error(`argmaxRows: length ${probs.length} is not a multiple of numClasses ${numClasses}`);
  }
  const n = probs.length / numClasses;
  const out = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const base = r * numClasses;
    let best = 0;
    let bestV = probs[base]!;
    for (let c = 1; c < numClasses; c++) {
      const v = probs[base + c]!;
      if (v > bestV || (Number.isNaN(bestV) && !Number.isNaN(v))) {
        bestV = v;
        best = c;
      }
    }
    out[r] = best;
  }
  return out;
}
