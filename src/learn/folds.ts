/**
 * Seeded stratified k-fold splits for cross-validation, shared by the SVM trainer (svm-train.ts) and
 * the fusion models' CV (src/train/fusion): the same seed gives the same folds in Node and the browser.
 */
import { mulberry32 } from '../core/random.ts';

/**
 * Seeded stratified k-fold assignment: returns the fold (0..k-1) of every row. Each class's rows
 * are shuffled and dealt round-robin, continuing where the previous class stopped, so every fold
 * gets floor or ceil of n_c/k rows of each class c and the fold sizes differ by at most one.
 */
export function stratifiedFolds(labels: ArrayLike<number>, k: number, seed: number): Int32Array {
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`k must be an integer >= 2, got ${k}`);
  if (labels.length < k) throw new RangeError(`${labels.length} rows cannot make ${k} folds`);
  const rand = mulberry32(seed);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    const list = byClass.get(y);
    if (list) list.push(i);
    else byClass.set(y, [i]);
  }
  const fold = new Int32Array(labels.length);
  let next = 0;
  for (const y of [...byClass.keys()].sort((a, b) => a - b)) {
    const idx = byClass.get(y)!;
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    for (const i of idx) {
      fold[i] = next;
      next = (next + 1) % k;
    }
  }
  return fold;
}
