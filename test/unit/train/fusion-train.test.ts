/** The fusion model's training math (src/train/fusion/logreg.ts, command.ts) and its command line, on tiny synthetic sets. */
import { describe, expect, it } from 'vitest';
import { NUM_CLASSES } from '../../../src/core/labels.ts';
import { mulberry32 } from '../../../src/core/random.ts';
import { classWeightsOf } from '../../../src/train/data/crop-data.ts';
import { bestCell, crossValidate, scoresOf } from '../../../src/train/fusion/command.ts';
import {
  fitLogreg,
  fitStandardizer,
  memberPrior,
  objective,
  packRows,
  predictLogreg,
  standardize,
} from '../../../src/train/fusion/logreg.ts';
import { stratifiedFolds } from '../../../src/learn/folds.ts';
import { parseFusionArgs } from '../../../src/train/commands/train-args.ts';
import { UsageError } from '../../../src/train/util/cli-args.ts';

/** Rows whose class shows in a few columns, with noise; `counts` rows per class. */
function synthetic(counts: number[], d = 6, seed = 3, signal = 1.2): { rows: Float64Array[]; labels: Uint8Array } {
  const r = mulberry32(seed);
  const rows: Float64Array[] = [];
  const labels: number[] = [];
  counts.forEach((n, c) => {
    for (let i = 0; i < n; i++) {
      labels.push(c);
      rows.push(
        Float64Array.from({ length: d }, (_, j) => (j === c % d ? signal : 0) + (j === (c + 1) % d ? signal / 2 : 0) + 2 * r() - 1),
      );
    }
  });
  return { rows, labels: Uint8Array.from(labels) };
}

const argmax = (p: ArrayLike<number>): number => Array.from(p).indexOf(Math.max(...Array.from(p)));

describe('fusion training math', () => {
  const { rows, labels } = synthetic([30, 30, 30, 30, 30, 30, 30]);

  it('the gradient is the derivative of the objective (finite differences)', () => {
    const data = packRows(rows);
    const n = NUM_CLASSES * data.d + NUM_CLASSES;
    const r = mulberry32(5);
    const theta = Float64Array.from({ length: n }, () => r() - 0.5);
    const sw = Float64Array.from(labels, (y) => 1 + y / 7);
    const grad = new Float64Array(n);
    objective(theta, data, labels, 0.01, sw, grad);
    const scratch = new Float64Array(n);
    for (const t of [0, 7, data.d * 3 + 2, n - 1]) {
      const h = 1e-6;
      const up = Float64Array.from(theta);
      const down = Float64Array.from(theta);
      up[t] += h;
      down[t] -= h;
      const numeric = (objective(up, data, labels, 0.01, sw, scratch) - objective(down, data, labels, 0.01, sw, scratch)) / (2 * h);
      expect(grad[t]).toBeCloseTo(numeric, 6);
    }
  });

  it('the loss decreases at every step, converges, and the fit is deterministic', () => {
    const a = fitLogreg(rows, labels, { l2: 1e-3 });
    expect(a.converged).toBe(true);
    expect(a.losses[0]).toBeCloseTo(Math.log(NUM_CLASSES), 12); // zero weights: uniform probabilities
    for (let i = 1; i < a.losses.length; i++) expect(a.losses[i]).toBeLessThan(a.losses[i - 1]!);
    expect(a.losses.at(-1)!).toBeLessThan(0.8 * a.losses[0]!);
    const b = fitLogreg(rows, labels, { l2: 1e-3 });
    expect(b.weights).toEqual(a.weights);
    expect(b.bias).toEqual(a.bias);
    const hits = predictLogreg(a, rows).filter((p, i) => argmax(p) === labels[i]).length;
    expect(hits / rows.length).toBeGreaterThan(0.6);
  });

  it('a stronger L2 gives smaller weights', () => {
    const norm = (w: Float64Array) => Math.sqrt(w.reduce((s, v) => s + v * v, 0));
    expect(norm(fitLogreg(rows, labels, { l2: 1 }).weights)).toBeLessThan(norm(fitLogreg(rows, labels, { l2: 1e-3 }).weights) / 2);
  });

  it('the members prior is the member alone, and a strong L2 keeps the weights there', () => {
    const r = mulberry32(4);
    const probs = Array.from({ length: 70 }, () => {
      const e = Array.from({ length: NUM_CLASSES }, () => Math.exp(3 * r()));
      const sum = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / sum);
    });
    const raw = probs.map((p) => Float64Array.from([...p.map(Math.log), r(), r(), r()]));
    const y = Uint8Array.from(raw, (_, i) => i % NUM_CLASSES);
    const st = fitStandardizer(raw);
    const z = standardize(raw, st);
    const prior = memberPrior(st, 1);
    predictLogreg(prior, z).forEach((p, i) => p.forEach((v, k) => expect(v).toBeCloseTo(probs[i]![k]!, 12)));
    const fit = fitLogreg(z, y, { l2: 1e6, prior: prior.weights, init: new Float64Array([...prior.weights, ...prior.bias]) });
    expect(Math.max(...fit.weights.map((w, t) => Math.abs(w - prior.weights[t]!)))).toBeLessThan(1e-3);
    // A weak L2 moves away from the prior (the labels here are unrelated to the member).
    const loose = fitLogreg(z, y, { l2: 1e-3, prior: prior.weights });
    expect(Math.max(...loose.weights.map((w, t) => Math.abs(w - prior.weights[t]!)))).toBeGreaterThan(0.1);
  });

  it('class-balanced weights average 1 over the rows and raise a rare class recall', () => {
    const rare = synthetic([200, 12, 200, 200, 200, 200, 200], 6, 9, 0.8);
    const w = classWeightsOf(rare.labels, 1);
    const mean = Array.from(rare.labels).reduce((s, y) => s + w[y]!, 0) / rare.labels.length;
    expect(mean).toBeCloseTo(1, 12);
    expect(w[1]! / w[0]!).toBeCloseTo(200 / 12, 9);
    const recall = (balance: number) => {
      const cw = classWeightsOf(rare.labels, balance);
      const fit = fitLogreg(rare.rows, rare.labels, { l2: 1e-3, sampleWeights: Float64Array.from(rare.labels, (y) => cw[y]!) });
      const pred = predictLogreg(fit, rare.rows).map(argmax);
      return pred.filter((p, i) => rare.labels[i] === 1 && p === 1).length / 12;
    };
    expect(recall(1)).toBeGreaterThan(recall(0));
  });

  it('standardizes with the training rows only; a constant column keeps scale 1', () => {
    const s = fitStandardizer([Float64Array.of(1, 5), Float64Array.of(3, 5)]);
    expect(Array.from(s.mean)).toEqual([2, 5]);
    expect(Array.from(s.scale)).toEqual([1, 1]);
    expect(standardize([Float64Array.of(4, NaN)], s).map((r) => Array.from(r))).toEqual([[2, 0]]);
  });

  it('folds are seeded and stratified', () => {
    const y = Uint8Array.from({ length: 103 }, (_, i) => (i % 10 === 0 ? 1 : i % 3));
    const a = stratifiedFolds(y, 5, 1);
    expect(Array.from(stratifiedFolds(y, 5, 1))).toEqual(Array.from(a));
    expect(Array.from(stratifiedFolds(y, 5, 2))).not.toEqual(Array.from(a));
    for (const c of new Set(y)) {
      const perFold = [0, 1, 2, 3, 4].map((f) => Array.from(y).filter((v, i) => v === c && a[i] === f).length);
      expect(Math.max(...perFold) - Math.min(...perFold), `class ${c}`).toBeLessThanOrEqual(1);
    }
  });

  it('cross-validation scores every cell on held-out rows and picks the best macro F1', () => {
    const cells = crossValidate(rows, labels, { l2s: [1e-3, 10], balances: [0, 1], folds: 3, seed: 1 });
    expect(cells.map((c) => [c.l2, c.balance])).toEqual([
      [1e-3, 0],
      [10, 0],
      [1e-3, 1],
      [10, 1],
    ]);
    // Held out: on labels that are pure noise a weakly regularized fit learns its training rows,
    // while its cross-validated accuracy stays near chance.
    const r = mulberry32(11);
    const noise = Array.from({ length: 84 }, () => Float64Array.from({ length: 30 }, () => r()));
    const noiseLabels = Uint8Array.from(noise, (_, i) => i % NUM_CLASSES);
    const fit = fitLogreg(standardize(noise, fitStandardizer(noise)), noiseLabels, { l2: 1e-4 });
    const trainAcc =
      predictLogreg(fit, standardize(noise, fitStandardizer(noise))).filter((p, i) => argmax(p) === noiseLabels[i]).length / 84;
    expect(trainAcc).toBeGreaterThan(0.9);
    const [cv] = crossValidate(noise, noiseLabels, { l2s: [1e-4], balances: [0], folds: 4, seed: 1 });
    expect(cv!.accuracy).toBeLessThan(0.35);
    expect(
      bestCell([
        { l2: 1, balance: 0, accuracy: 0.5, macroF1: 0.4 },
        { l2: 0.1, balance: 1, accuracy: 0.4, macroF1: 0.45 },
        { l2: 0.01, balance: 1, accuracy: 0.4, macroF1: 0.45 },
      ]),
    ).toEqual({ l2: 0.1, balance: 1, accuracy: 0.4, macroF1: 0.45 });
    expect(scoresOf([0, 1, 1], [0, 1, 0]).accuracy).toBeCloseTo(2 / 3, 12);
  });
});

describe('npm run train -- fusion options', () => {
  it('defaults: fer-cnn, 5 folds, seed 1, models/fusion-fer-cnn; L2 and balance left to CV', () => {
    const o = parseFusionArgs([]);
    expect(o).toMatchObject({ members: ['fer-cnn'], folds: 5, seed: 1 });
    expect(o !== 'help' && o.out.endsWith('models/fusion-fer-cnn')).toBe(true);
    expect(o !== 'help' && 'l2' in o).toBe(false);
    expect(parseFusionArgs(['--members', 'a,b', '--l2', '0.01', '--balance', '0.5'])).toMatchObject({
      members: ['a', 'b'],
      l2: 0.01,
      balance: 0.5,
    });
    expect(parseFusionArgs(['--help'])).toBe('help');
  });

  it('usage errors name the option', () => {
    const bad: [string[], RegExp][] = [
      [['--balance', '2'], /--balance/],
      [['--l2', '-1'], /--l2/],
      [['--folds', '1'], /--folds/],
      [['--members', 'a,a'], /--members lists a model twice/],
      [['--members', '../x'], /not a model id/],
      [['--epochs', '3'], /epochs/],
    ];
    for (const [args, message] of bad) {
      expect(() => parseFusionArgs(args), args.join(' ')).toThrow(UsageError);
      expect(() => parseFusionArgs(args), args.join(' ')).toThrow(message);
    }
  });
});
