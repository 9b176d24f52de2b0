/**
 * npm run train -- fusion: fits a fusion model (src/core/fusion.ts) on FER2013 PublicTest, which
 * the CNNs never trained on, choosing the L2 strength and the class balance by stratified k-fold
 * cross-validation within PublicTest (macro F1, accuracy printed beside it). PrivateTest is scored
 * once, at the end, by the published model read back through the app's own inference code.
 */
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { CnnModelEntry } from '../../core/contracts/index.ts';
import { FEATURE_COUNT, FEATURE_NAMES, FEATURE_VERSION } from '../../core/features/index.ts';
import {
  FUSION_DEFAULT_EPS,
  FUSION_MODEL_FILE,
  FUSION_WEIGHTS_FILE,
  fusionRow,
  parseFusionModel,
  predictFusion,
  serializeFusionModel,
  type FusionModel,
} from '../../core/fusion.ts';
import { EMOTIONS, NUM_CLASSES } from '../../core/labels.ts';
import { argmaxRows, classificationReport, confusionMatrix } from '../../core/metrics.ts';
import { classWeightsOf } from '../data/crop-data.ts';
import { resolveFer2013Path } from '../data/fer2013.ts';
import { initWasm } from '../kernels/backend.ts';
import { buildReport, writeReportFiles } from '../report/report.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { UsageError } from '../util/cli-args.ts';
import { readManifest } from '../util/manifest.ts';
import { assertPublishableOut, publishModelDir } from '../util/publish-model.ts';
import { loadFusionData, memberProbs, probsRow, type FusionSplit } from './data.ts';
import { augmentIntensity, formatIntensity, neutralMean, type IntensitySpec } from '../data/intensity.ts';
import { stratifiedFolds } from '../../learn/folds.ts';
import { fitLogreg, fitStandardizer, memberPrior, predictLogreg, standardize } from './logreg.ts';

export const FUSION_L2_GRID: readonly number[] = [1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1];
export const FUSION_BALANCE_GRID: readonly number[] = [0, 0.5, 1];

export interface FusionCommandOptions {
  /** Member CNN ids, looked up in the index.json beside --out. */
  members: string[];
  /** Fixed L2 strength (default: chosen by CV from FUSION_L2_GRID). */
  l2?: number;
  /** Fixed class-balance power (default: chosen by CV from FUSION_BALANCE_GRID). */
  balance?: number;
  folds: number;
  seed: number;
  /** Display name (default "Fusion: <members> + AU features"). */
  name?: string;
  /** Expression-intensity augmentation of the training rows (src/train/data/intensity.ts); default none. */
  intensity?: IntensitySpec;
  /** Model folder; its parent's index.json must list the members. */
  out: string;
  data?: string;
  log: (line: string) => void;
}

export interface Scores {
  accuracy: number;
  macroF1: number;
}

export function scoresOf(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): Scores {
  const r = classificationReport(confusionMatrix(yTrue, yPred, NUM_CLASSES), EMOTIONS);
  return { accuracy: r.accuracy, macroF1: r.macroAvg.f1 };
}

const fmt = (s: Scores): string => `acc ${s.accuracy.toFixed(4)}  macro F1 ${s.macroF1.toFixed(4)}`;

/** The members' entries from `modelsDir`/index.json; UsageError naming the file when one is missing or no CNN. */
export async function memberEntries(modelsDir: string, ids: readonly string[]): Promise<CnnModelEntry[]> {
  const entries = await readManifest(modelsDir);
  const file = join(modelsDir, 'index.json');
  const cnns = entries.filter((e): e is CnnModelEntry => e.kind === 'cnn');
  return ids.map((id) => {
    const e = entries.find((x) => x.id === id);
    if (!e) {
      throw new UsageError(
        `--members: no model "${id}" in ${file} (its CNNs: ${cnns.map((c) => c.id).join(', ') || 'none'}); ` +
          'the fusion model is published beside its members, so --out must be a folder of that models folder',
      );
    }
    if (e.kind !== 'cnn') throw new UsageError(`--members: "${id}" in ${file} is a ${e.kind} model; members must be CNNs`);
    return e;
  });
}

/** Raw fusion rows (log-probabilities of each member, then the features) of a split. */
function rowsOf(split: FusionSplit, probs: readonly Float32Array[], eps: number): Float64Array[] {
  return split.features.map((f, i) =>
    fusionRow(
      probs.map((p) => probsRow(p, i)),
      f,
      eps,
    ),
  );
}

export interface CvCell extends Scores {
  l2: number;
  balance: number;
  /** With intensity copies: the scores on the original held-out rows alone (the cell's own scores count their copies too). */
  original?: Scores;
}

/**
 * k-fold CV over the grid: standardization fitted on each training fold only; along the L2 path
 * (strongest first) each fit starts from the previous one. Returns every cell's pooled held-out scores.
 * With `intensity`, each training fold gets its intensity copies and so does each held-out fold
 * (toward the training fold's neutral mean): L2 and balance are then chosen for faces of every
 * intensity, the premise of the augmentation, not for FER2013's strong expressions alone.
 */
export function crossValidate(
  rows: readonly Float64Array[],
  labels: Uint8Array,
  o: {
    l2s: readonly number[];
    balances: readonly number[];
    folds: number;
    seed: number;
    /** Members whose log-probabilities lead each row: the L2 penalty pulls towards their average (0: towards 0). */
    members?: number;
    /** Intensity copies of each fold, seeded by `seed` + fold (see above). */
    intensity?: IntensitySpec;
    log?: (line: string) => void;
  },
): CvCell[] {
  const t0 = performance.now();
  const fold = stratifiedFolds(labels, o.folds, o.seed);
  const l2s = [...o.l2s].sort((a, b) => b - a);
  const preds = new Map<string, Int32Array>();
  const key = (l2: number, b: number) => `${l2}|${b}`;
  for (const l2 of l2s) for (const b of o.balances) preds.set(key(l2, b), new Int32Array(rows.length));
  // Held-out intensity copies: their labels, and each cell's predictions, in fold order.
  const copyLabels: number[] = [];
  const copyPreds = new Map<string, number[]>();
  for (const k of preds.keys()) copyPreds.set(k, []);
  for (let f = 0; f < o.folds; f++) {
    const trainIdx: number[] = [];
    const testIdx: number[] = [];
    fold.forEach((g, i) => (g === f ? testIdx : trainIdx).push(i));
    let trainRows = trainIdx.map((i) => rows[i]!);
    let yTrain: Uint8Array = Uint8Array.from(trainIdx, (i) => labels[i]!);
    let testRows = testIdx.map((i) => rows[i]!);
    if (o.intensity) {
      const toward = neutralMean(trainRows, yTrain);
      ({ rows: trainRows, labels: yTrain } = augmentIntensity(trainRows, yTrain, o.intensity, o.seed + f, toward));
      const held = augmentIntensity(
        testRows,
        Uint8Array.from(testIdx, (i) => labels[i]!),
        o.intensity,
        o.seed + 1000 + f,
        toward,
      );
      testRows = held.rows;
      copyLabels.push(...held.labels.subarray(testIdx.length));
    }
    const st = fitStandardizer(trainRows);
    const xTrain = standardize(trainRows, st);
    const xTest = standardize(testRows, st);
    let steps = 0;
    const prior = o.members ? memberPrior(st, o.members) : undefined;
    for (const b of o.balances) {
      const cw = classWeightsOf(yTrain, b);
      const sw = Float64Array.from(yTrain, (y) => cw[y]!);
      let init = prior ? new Float64Array([...prior.weights, ...prior.bias]) : undefined;
      for (const l2 of l2s) {
        // Held-out predictions need no more precision than this (the final fit runs to the default tolerance).
        const fit = fitLogreg(xTrain, yTrain, {
          l2,
          sampleWeights: sw,
          maxIter: 300,
          tol: 1e-5,
          ...(prior ? { prior: prior.weights } : {}),
          ...(init ? { init } : {}),
        });
        steps += fit.iterations;
        init = new Float64Array([...fit.weights, ...fit.bias]);
        const top = argmaxRows(
          predictLogreg(fit, xTest).flatMap((p) => Array.from(p)),
          NUM_CLASSES,
        );
        const out = preds.get(key(l2, b))!;
        testIdx.forEach((i, j) => (out[i] = top[j]!));
        copyPreds.get(key(l2, b))!.push(...top.slice(testIdx.length));
      }
    }
    o.log?.(`  fold ${f + 1}/${o.folds} done: ${steps} L-BFGS steps (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  const cells: CvCell[] = [];
  for (const b of o.balances) {
    for (const l2 of [...l2s].reverse()) {
      const k = key(l2, b);
      const original = scoresOf(labels, preds.get(k)!);
      if (!o.intensity) cells.push({ l2, balance: b, ...original });
      else cells.push({ l2, balance: b, ...scoresOf([...labels, ...copyLabels], [...preds.get(k)!, ...copyPreds.get(k)!]), original });
    }
  }
  return cells;
}

/** Best cell: highest macro F1, then accuracy, then the stronger L2 (the simpler model). */
export function bestCell(cells: readonly CvCell[]): CvCell {
  return [...cells].sort((a, b) => b.macroF1 - a.macroF1 || b.accuracy - a.accuracy || b.l2 - a.l2)[0]!;
}

export async function runFusion(o: FusionCommandOptions): Promise<void> {
  const start = performance.now();
  const out = await assertPublishableOut(o.out, { log: o.log });
  const modelsDir = dirname(out);
  const id = basename(out);
  const members = await memberEntries(modelsDir, o.members);
  const ferPath = resolveFer2013Path(o.data);
  const data = await loadFusionData(ferPath, o.log);
  await initWasm(true);
  o.log(`member probabilities (${members.map((m) => `${m.id}${m.input.tta === 'hflip-mean' ? ' with flip TTA' : ''}`).join(', ')})...`);
  const pubProbs = await memberProbs(members, modelsDir, data.publicTest);
  const privProbs = await memberProbs(members, modelsDir, data.privateTest);
  const eps = FUSION_DEFAULT_EPS;
  const pubRows = rowsOf(data.publicTest, pubProbs, eps);
  const pubLabels = data.publicTest.labels;

  const memberAlone = members.map((m, j) => ({
    id: m.id,
    publicTest: scoresOf(pubLabels, argmaxRows(pubProbs[j]!, NUM_CLASSES)),
    privateTest: scoresOf(data.privateTest.labels, argmaxRows(privProbs[j]!, NUM_CLASSES)),
  }));
  for (const m of memberAlone) o.log(`${m.id} alone on the PublicTest faces: ${fmt(m.publicTest)}`);

  const l2s = o.l2 !== undefined ? [o.l2] : FUSION_L2_GRID;
  const balances = o.balance !== undefined ? [o.balance] : FUSION_BALANCE_GRID;
  const intensity = o.intensity ? formatIntensity(o.intensity) : undefined;
  o.log(
    `${o.folds}-fold CV within PublicTest (${data.publicTest.count} faces, ${pubRows[0]!.length} inputs): ` +
      `L2 ${l2s.join(', ')} x balance ${balances.join(', ')}` +
      (intensity ? `; training folds with intensity copies ${intensity}` : ''),
  );
  const cells = crossValidate(pubRows, pubLabels, {
    l2s,
    balances,
    folds: o.folds,
    seed: o.seed,
    members: members.length,
    ...(o.intensity ? { intensity: o.intensity } : {}),
    log: o.log,
  });
  for (const c of cells)
    o.log(
      `  L2 ${String(c.l2).padEnd(6)} balance ${c.balance}: ${fmt(c)}${c.original ? ` (original faces alone: ${fmt(c.original)})` : ''}`,
    );
  const best = bestCell(cells);
  o.log(
    `chosen (highest CV macro F1${best.original ? ', intensity copies of the held-out faces counted' : ''}): ` +
      `L2 ${best.l2}, balance ${best.balance} (${fmt(best)}${best.original ? `; original faces alone: ${fmt(best.original)}` : ''})`,
  );

  // The final fit: every PublicTest face (and its intensity copies).
  const fitSet = o.intensity ? augmentIntensity(pubRows, pubLabels, o.intensity, o.seed) : { rows: pubRows, labels: pubLabels };
  const st = fitStandardizer(fitSet.rows);
  const cw = classWeightsOf(fitSet.labels, best.balance);
  const prior = memberPrior(st, members.length);
  const fit = fitLogreg(standardize(fitSet.rows, st), fitSet.labels, {
    l2: best.l2,
    prior: prior.weights,
    init: new Float64Array([...prior.weights, ...prior.bias]),
    sampleWeights: Float64Array.from(fitSet.labels, (y) => cw[y]!),
  });
  o.log(
    `final fit on all ${data.publicTest.count} PublicTest faces` +
      (intensity ? ` + ${fitSet.rows.length - pubRows.length} intensity copies` : '') +
      `: ${fit.iterations} L-BFGS steps, loss ${fit.losses.at(-1)!.toFixed(4)}`,
  );
  const model: FusionModel = {
    members: members.map((m) => m.id),
    featureVersion: FEATURE_VERSION,
    featureCount: FEATURE_COUNT,
    eps,
    inputDim: pubRows[0]!.length,
    mean: st.mean,
    scale: st.scale,
    weights: fit.weights,
    bias: fit.bias,
  };
  const training = {
    command: 'npm run train -- fusion',
    fitOn: `FER2013 PublicTest, the ${data.publicTest.count} faces the app pipeline found`,
    l2: best.l2,
    balance: best.balance,
    chosenBy: `${o.folds}-fold stratified CV within PublicTest (seed ${o.seed}), highest macro F1`,
    penalty: 'L2 towards the members alone (the average of their log-probabilities), biases free',
    ...(intensity
      ? {
          intensity,
          intensityNote: `each non-neutral training row also copied toward the neutral mean row by a factor in ${intensity} (src/train/data/intensity.ts)`,
        }
      : {}),
  };
  const files = serializeFusionModel(model, { featureNames: FEATURE_NAMES, training });
  const name = o.name ?? `Fusion: ${members.map((m) => m.id).join(' + ')} + AU features`;
  const tta = members.some((m) => m.input.tta === 'hflip-mean');
  let scored: Scores | undefined;
  await publishModelDir(
    out,
    async (tmp) => {
      await writeFileAtomic(join(tmp, FUSION_MODEL_FILE), JSON.stringify(files.json, null, 1) + '\n');
      await writeFile(join(tmp, FUSION_WEIGHTS_FILE), files.weights);
      // PrivateTest, once, by the written model read back through the app's inference code.
      const { readFile } = await import('node:fs/promises');
      const bytes = await readFile(join(tmp, FUSION_WEIGHTS_FILE));
      const back = parseFusionModel(
        JSON.parse(await readFile(join(tmp, FUSION_MODEL_FILE), 'utf8')),
        bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      );
      const pt = data.privateTest;
      const yPred = pt.features.map((f, i) => {
        const p = predictFusion(
          back,
          privProbs.map((q) => probsRow(q, i)),
          f,
        );
        return p.indexOf(Math.max(...p));
      });
      scored = scoresOf(pt.labels, yPred);
      const report = buildReport({
        id,
        name,
        kind: 'fusion',
        arch: `softmax regression on log p(${model.members.join(', ')}) and ${FEATURE_COUNT} AU-style features`,
        datasetPath: data.path,
        splits: { train: data.publicTest.count, val: 0, test: pt.count },
        evaluatedOn: 'PrivateTest',
        datasetNote:
          `PrivateTest faces found by the app pipeline: ${pt.count} of ${pt.images} images (the others have no crop or features). ` +
          `Fitted on the ${data.publicTest.count} PublicTest faces found (of ${data.publicTest.images})` +
          (intensity ? ` with expression-intensity copies ${intensity}` : '') +
          '; L2 and class balance chosen by CV within PublicTest.',
        yTrue: pt.labels,
        yPred,
        epochs: 0,
        params: NUM_CLASSES * model.inputDim + NUM_CLASSES,
        tta,
        wallTimeSec: (performance.now() - start) / 1000,
        extra: {
          members: model.members,
          l2: best.l2,
          balance: best.balance,
          ...(intensity ? { intensity } : {}),
          folds: o.folds,
          seed: o.seed,
          cv: cells,
          memberAlone,
          featureVersion: FEATURE_VERSION,
          eps,
          iterations: fit.iterations,
        },
      });
      await writeReportFiles(tmp, report);
    },
    {
      log: o.log,
      manifestEntry: {
        id,
        name,
        kind: 'fusion',
        members: model.members,
        input: { type: 'au-features', featureVersion: FEATURE_VERSION, dim: FEATURE_COUNT },
      },
    },
  );
  o.log(`PrivateTest (${data.privateTest.count} faces found, scored once): fusion ${fmt(scored!)}`);
  for (const m of memberAlone) o.log(`  ${m.id} alone on the same faces: ${fmt(m.privateTest)}`);
  o.log(`published ${out} and its entry in ${join(modelsDir, 'index.json')} (${((performance.now() - start) / 1000).toFixed(0)} s)`);
}
