/**
 * svm-au-personal: the AU-feature SVM retrained on a personal folder, as the reference study did:
 * 5-fold cross-validation scores (per fold and mean) over every labelled face, and the saved
 * model trained on the training part of the same stratified split the fine-tuned CNN uses, so its
 * validation figure is comparable.
 */
import { basename, resolve } from 'node:path';
import { FEATURE_COUNT, FEATURE_VERSION } from '../../core/features/index.ts';
import { createPreprocess, transformRows } from '../../core/svm/index.ts';
import { fitPersonalSvm } from '../../learn/personal-svm.ts';
import { fitStandardScaler } from '../../learn/scaler.ts';
import { stratifiedSplit, type Split } from '../data/personal-dataset.ts';
import { crossValidate, loadLibsvm } from '../svm/libsvm.ts';
import { loadPersonalData, type PersonalData } from '../data/personal-crops.ts';
import { publishSvm } from '../svm/publish.ts';

export interface PersonalSvmOptions {
  seed: number;
  /** Folder that holds models/ (index.json); the model goes to <modelsDir>/<id>. */
  modelsDir?: string;
  out?: string;
  log: (line: string) => void;
}

export async function trainPersonalSvm(data: PersonalData, split: Split, o: PersonalSvmOptions): Promise<void> {
  const started = Date.now();
  const labels = data.samples.map((s) => s.label);
  const trainRows = split.train.map((i) => data.features[i]!);
  const trainLabels = split.train.map((i) => labels[i]!);
  // The same fit as the browser's calibration (src/learn/personal-svm.ts).
  const fit = fitPersonalSvm(await loadLibsvm(), trainRows, trainLabels, { seed: o.seed });
  const best = { cost: fit.cost, gamma: fit.gamma };
  o.log(
    `svm-au-personal: C ${best.cost}, gamma ${best.gamma.toPrecision(3)} by ${fit.k}-fold CV on the training split (${fit.cvAccuracy.toFixed(4)})`,
  );

  // The reference study's figure: 5-fold CV over every labelled face, with the chosen C/gamma
  // (scaler fitted on all faces here, as a plain libsvm CV would).
  const allScaler = fitStandardScaler(data.features);
  const allZ = transformRows(createPreprocess({ inputDim: FEATURE_COUNT, standardize: allScaler }), data.features);
  const cv = await crossValidate(allZ, labels, { cost: best.cost, gamma: best.gamma }, 5, o.seed);
  o.log(
    `svm-au-personal 5-fold CV over all ${labels.length} faces: ${cv.folds.map((f) => f.accuracy.toFixed(3)).join(', ')}; mean ${cv.meanAccuracy.toFixed(4)} +- ${cv.stdAccuracy.toFixed(4)}`,
  );
  const files = fit.files;

  const outDir = resolve(o.out ?? resolve(o.modelsDir ?? 'models', 'svm-au-personal'));
  const folder = basename(data.scan.dir);
  const yTrue = split.val.map((i) => labels[i]!);
  const { accuracy: acc } = await publishSvm({
    outDir,
    name: `SVM on AU-style features (${folder})`,
    files,
    test: { rows: split.val.map((i) => data.features[i]!), labels: yTrue },
    manifestInput: { type: 'au-features', featureVersion: FEATURE_VERSION, dim: FEATURE_COUNT },
    report: () => ({
      name: `SVM on AU-style features, ${folder}`,
      arch: `RBF SVC on ${FEATURE_COUNT} AU-style features (standardised)`,
      datasetPath: data.scan.dir,
      datasetName: folder,
      evaluatedOn: `validation split (stratified, seed ${o.seed})`,
      datasetNote: `${yTrue.length} validation images; 5-fold CV over all ${labels.length} faces: mean ${cv.meanAccuracy.toFixed(4)}`,
      splits: { train: split.train.length, val: split.val.length, test: split.val.length },
      epochs: 0,
      wallTimeSec: Math.round((Date.now() - started) / 1000),
      backend: 'libsvm-js (wasm)',
      notes: `C ${best.cost}, gamma ${best.gamma.toPrecision(4)}; 5-fold CV over all faces (as the reference study reported): ${cv.folds.map((f) => f.accuracy.toFixed(3)).join(', ')}, mean ${cv.meanAccuracy.toFixed(4)}`,
      extra: {
        cost: best.cost,
        gamma: best.gamma,
        cvFolds: cv.folds.map((f) => f.accuracy),
        cvMean: cv.meanAccuracy,
        cvStd: cv.stdAccuracy,
        supportVectors: fit.totalSV,
        split: { seed: o.seed, val: split.val.map((i) => data.samples[i]!.file) },
      },
    }),
  });
  o.log(`wrote ${outDir} (validation accuracy ${acc.toFixed(4)})`);
}

/** `npm run train -- svm-au --data <folder>`: the personal SVM alone, on the default split. */
export async function trainPersonalSvmCommand(
  dir: string,
  o: { seed: number; out: string; valSplit?: number; log: (line: string) => void },
): Promise<void> {
  const data = await loadPersonalData(dir, (l) => o.log(`  ${l}`));
  const split = stratifiedSplit(
    data.samples.map((s) => s.label),
    o.valSplit ?? 0.2,
    o.seed,
  );
  await trainPersonalSvm(data, split, { seed: o.seed, out: o.out, log: o.log });
}
