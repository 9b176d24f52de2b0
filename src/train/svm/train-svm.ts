/**
 * npm run train -- svm-au | svm-pixels [options]
 *
 * RBF C-SVCs with libsvm-js: C and gamma by 5-fold cross-validation on (a stratified sample of)
 * FER2013 Training, the final model on up to --train-rows Training rows, then PrivateTest scored
 * through the exported model by the app's own inference code (src/core/svm).
 */
import { basename, resolve } from 'node:path';
import { FEATURE_COUNT, FEATURE_NAMES, FEATURE_VERSION } from '../../core/features/index.ts';
import type { SvmInput } from '../../core/contracts/index.ts';
import { FER_HOG } from '../../core/hog.ts';
import { createPreprocess, parseSvmInput, svmInputOf, transformRows, type SvmPreprocess } from '../../core/svm/index.ts';
import { mulberry32 } from '../../core/random.ts';
import { loadFer2013, resolveFer2013Path } from '../data/fer2013.ts';
import { formatDuration } from '../util/progress.ts';
import { assertPublishableOut } from '../util/publish-model.ts';
import { libsvmToModelFiles, type ExportOptions } from './export.ts';
import { gridSearch, trainSvm } from './libsvm.ts';
import { fitPca } from './pca.ts';
import { fitStandardScaler } from '../../learn/scaler.ts';
import { loadFerFeatures, pixelRows, stratifiedSubsample } from '../data/svm-data.ts';
import { publishSvm } from './publish.ts';
import { augmentIntensity, formatIntensity, type IntensitySpec } from '../data/intensity.ts';
import { UsageError } from '../util/cli-args.ts';

interface Fitted {
  pre: SvmPreprocess;
  exportPre: Pick<ExportOptions, 'scaler' | 'projection'>;
  /** Mean squared norm of the centred SVM inputs: gamma = factor / this (= dims when standardised). */
  gammaScale: number;
}

interface SvmRunOptions {
  id: string;
  name: string;
  arch: string;
  out: string;
  seed: number;
  cvRows: number;
  trainRows: number;
  gridC: number[];
  gridGammaFactors: number[];
  /** Expression-intensity copies added to the final model's rows (not to the C/gamma search). */
  intensity?: IntensitySpec;
  log: (line: string) => void;
}

/** Grid search, final fit, export, and scoring of the exported model with the app's code. */
async function fitExportScore(
  o: SvmRunOptions,
  train: { rows: Float32Array[]; labels: number[] },
  fitted: Fitted,
  input: Record<string, unknown>,
) {
  const rand = mulberry32(o.seed);
  const z = transformRows(fitted.pre, train.rows);
  const dims = fitted.pre.outDim;
  const cvIdx = stratifiedSubsample(train.labels, o.cvRows, rand);
  const grid = { cost: o.gridC, gamma: o.gridGammaFactors.map((f) => f / fitted.gammaScale) };
  o.log(`C/gamma search: ${grid.cost.length * grid.gamma.length} cells x 5 folds on ${cvIdx.length} Training rows (${dims} dims)`);
  const t0 = Date.now();
  const search = await gridSearch(
    cvIdx.map((i) => z[i]!),
    cvIdx.map((i) => train.labels[i]!),
    grid,
    5,
    (p) => {
      const eta = ((Date.now() - t0) / 1000 / p.done) * (p.total - p.done);
      o.log(
        `  C ${p.cell.cost} gamma ${p.cell.gamma.toPrecision(3)}: CV accuracy ${p.cell.meanAccuracy.toFixed(4)} +- ${p.cell.stdAccuracy.toFixed(4)} (${p.done}/${p.total}, ETA ${formatDuration(eta)})`,
      );
    },
    { seed: o.seed },
  );
  const best = search.best;
  o.log(`best: C ${best.cost}, gamma ${best.gamma.toPrecision(3)} (CV ${best.meanAccuracy.toFixed(4)})`);
  // Intensity copies join the final fit only: in the search a copy and its original could land in
  // different folds, and the held-out score would flatter the model.
  const final = o.intensity
    ? (() => {
        const aug = augmentIntensity(
          train.rows.map((r) => Float64Array.from(r)),
          train.labels,
          o.intensity,
          o.seed,
        );
        return { z: transformRows(fitted.pre, aug.rows), labels: Array.from(aug.labels) };
      })()
    : { z, labels: train.labels };
  const finalIdx = stratifiedSubsample(final.labels, o.trainRows, rand);
  const copies = finalIdx.filter((i) => i >= train.rows.length).length;
  o.log(
    `final model on ${finalIdx.length} Training rows` +
      (o.intensity ? ` (${copies} of them intensity copies ${formatIntensity(o.intensity)})` : '') +
      ' with probability estimates...',
  );
  const trained = await trainSvm(
    finalIdx.map((i) => final.z[i]!),
    finalIdx.map((i) => final.labels[i]!),
    { cost: best.cost, gamma: best.gamma, probability: true },
  );
  o.log(`trained in ${formatDuration(trained.trainMs / 1000)}: ${trained.totalSV} support vectors`);
  const files = libsvmToModelFiles(trained.svm.serializeModel(), {
    input,
    ...fitted.exportPre,
    gamma: trained.params.gamma,
    meta: { cost: best.cost, gamma: best.gamma, trainRows: finalIdx.length, cvRows: cvIdx.length, seed: o.seed },
  });
  trained.svm.free();
  return { files, search, trainedRows: finalIdx.length, intensityCopies: copies, trainMs: trained.trainMs, totalSV: trained.totalSV };
}

/** Writes the model folder and manifest entry; PrivateTest is scored on the written model. */
async function writeModel(
  o: SvmRunOptions,
  result: Awaited<ReturnType<typeof fitExportScore>>,
  test: { rows: ArrayLike<number>[]; labels: number[] },
  report: {
    datasetPath: string;
    splits: { train: number; val: number; test: number };
    evaluatedOn?: string;
    note?: (acc: number) => string;
    extra?: Record<string, unknown>;
  },
  manifestInput: SvmInput,
  started: number,
): Promise<number> {
  const best = result.search.best;
  const scored = await publishSvm({
    outDir: o.out,
    name: o.name,
    files: result.files,
    test,
    manifestInput,
    report: ({ accuracy, msPerFace }) => ({
      name: o.name,
      arch: o.arch,
      datasetPath: report.datasetPath,
      splits: report.splits,
      ...(report.evaluatedOn ? { evaluatedOn: report.evaluatedOn } : {}),
      ...(report.note ? { datasetNote: report.note(accuracy) } : {}),
      epochs: 0,
      wallTimeSec: Math.round((Date.now() - started) / 1000),
      backend: 'libsvm-js (wasm)',
      params: result.totalSV * (result.files.json.svm.featureDim + result.files.json.svm.nClass - 1),
      notes: `RBF C-SVC, C ${best.cost}, gamma ${best.gamma.toPrecision(4)} chosen by 5-fold CV (${best.meanAccuracy.toFixed(4)}); ${result.totalSV} support vectors from ${result.trainedRows} training rows${o.intensity ? ` (${result.intensityCopies} of them expression-intensity copies ${formatIntensity(o.intensity)})` : ''}; ${msPerFace.toFixed(3)} ms per face (Node, src/core/svm)`,
      extra: {
        cost: best.cost,
        gamma: best.gamma,
        cvAccuracy: best.meanAccuracy,
        grid: result.search.cells.map((c) => ({
          cost: c.cost,
          gamma: c.gamma,
          meanAccuracy: c.meanAccuracy,
          stdAccuracy: c.stdAccuracy,
          foldAccuracies: c.foldAccuracies,
        })),
        trainRows: result.trainedRows,
        ...(o.intensity ? { intensity: formatIntensity(o.intensity), intensityCopies: result.intensityCopies } : {}),
        supportVectors: result.totalSV,
        trainSeconds: Math.round(result.trainMs / 1000),
        modelBytes: result.files.weights.length,
        msPerFaceNode: msPerFace,
        ...report.extra,
      },
    }),
  });
  return scored.accuracy;
}

async function runSvmAu(o: SvmRunOptions, dataPath: string, exportCsv?: string): Promise<void> {
  const started = Date.now();
  o.log(`FER2013 faces through the app's pipeline (headless Chromium; cached after the first run)...`);
  const data = await loadFerFeatures(dataPath, (l) => o.log(`  ${l}`));
  if (exportCsv) {
    const { exportFeaturesCsv } = await import('../extract/features-csv.ts');
    o.log(`wrote ${await exportFeaturesCsv(data.cacheDir, exportCsv)} rows to ${exportCsv}`);
  }
  const scaler = fitStandardScaler(data.train.rows);
  const fitted: Fitted = {
    pre: createPreprocess({ inputDim: FEATURE_COUNT, standardize: scaler }),
    exportPre: { scaler },
    gammaScale: FEATURE_COUNT,
  };
  const input = { type: 'au-features', featureVersion: FEATURE_VERSION, dim: FEATURE_COUNT, features: [...FEATURE_NAMES] };
  const result = await fitExportScore(o, data.train, fitted, input);
  const faces = data.test.rows.length;
  const acc = await writeModel(
    o,
    result,
    data.test,
    {
      datasetPath: data.path,
      splits: { train: data.train.rows.length, val: data.val.rows.length, test: faces },
      evaluatedOn: 'PrivateTest (images with a face found)',
      note: (a) =>
        `a face was found in ${faces} of ${data.test.images} PrivateTest images (${((100 * faces) / data.test.images).toFixed(1)}%); ` +
        `counting the other ${data.test.images - faces} as wrong, accuracy is ${((a * faces) / data.test.images).toFixed(4)}`,
      extra: { faceRate: faces / data.test.images, privateTestImages: data.test.images },
    },
    { type: 'au-features', featureVersion: FEATURE_VERSION, dim: FEATURE_COUNT },
    started,
  );
  o.log(
    `PrivateTest accuracy ${acc.toFixed(4)} on ${faces} faces (${((acc * faces) / data.test.images).toFixed(4)} counting the ${data.test.images - faces} images without a face as wrong)`,
  );
  o.log(`wrote ${resolve(o.out)} in ${formatDuration((Date.now() - started) / 1000)}`);
}

async function runSvmPixels(o: SvmRunOptions, dataPath: string, components: number): Promise<void> {
  const started = Date.now();
  const data = await loadFer2013(dataPath);
  o.log(`FER2013: ${data.train.count} Training, ${data.test.count} PrivateTest rows`);
  // HOG of each 48x48 image (src/core/hog.ts, as the app computes it on the live crop): on raw
  // pixels the same SVM scored about 8 points lower in cross-validation (README).
  const spec = parseSvmInput({ type: 'pixels', size: 48, descriptor: 'hog', hog: { cell: FER_HOG.cell, bins: FER_HOG.bins } });
  const toRows = (pixels: Uint8Array, count: number) => pixelRows(pixels, count).map((x) => Float32Array.from(svmInputOf(spec, x, [])));
  const train = { rows: toRows(data.train.pixels, data.train.count), labels: Array.from(data.train.labels) };
  // Raw crops: the written model is scored through its input adapter (HOG included), as the app runs it.
  const test = { rows: pixelRows(data.test.pixels, data.test.count), labels: Array.from(data.test.labels) };
  const dim = train.rows[0]!.length;
  o.log(`HOG: ${dim} values per image; PCA: ${components} components over ${train.rows.length} rows...`);
  const t0 = Date.now();
  const pca = await fitPca(train.rows, components, { engine: 'tfjs' });
  const kept = pca.explainedVariance.reduce((a, b) => a + b, 0);
  o.log(`PCA done in ${formatDuration((Date.now() - t0) / 1000)}: ${((100 * kept) / pca.totalVariance).toFixed(1)}% of the variance kept`);
  const projection = { mean: pca.mean, components: pca.components, k: components };
  const fitted: Fitted = {
    pre: createPreprocess({ inputDim: dim, projection: { mean: pca.mean, components: pca.components, outDim: components } }),
    exportPre: { projection },
    gammaScale: kept,
  };
  const input = {
    type: 'pixels',
    size: 48,
    range: [0, 1],
    descriptor: 'hog',
    hog: { cell: FER_HOG.cell, bins: FER_HOG.bins },
    pca: components,
  };
  const result = await fitExportScore(o, train, fitted, input);
  const acc = await writeModel(
    o,
    result,
    test,
    {
      datasetPath: data.path,
      splits: { train: data.train.count, val: data.val.count, test: data.test.count },
      extra: { descriptor: 'hog', hogLength: dim, pcaComponents: components, pcaVarianceKept: kept / pca.totalVariance },
    },
    { type: 'pixels', size: 48, range: [0, 1], descriptor: 'hog', hog: { cell: FER_HOG.cell, bins: FER_HOG.bins } },
    started,
  );
  o.log(`PrivateTest accuracy ${acc.toFixed(4)}`);
  o.log(`wrote ${resolve(o.out)} in ${formatDuration((Date.now() - started) / 1000)}`);
}

/** The options of `npm run train -- svm-au | svm-pixels`, as parseSvmArgs (commands/train-args.ts) checked them. */
export interface SvmArgs {
  data?: string;
  /** Default: 1, or 42 with a personal folder (the fine-tune's split). */
  seed?: number;
  cvRows: number;
  trainRows?: number;
  gridC: number[];
  gridGammaFactors: number[];
  components: number;
  exportCsv?: string;
  out?: string;
  /** svm-au on FER2013 only: expression-intensity copies in the final fit. */
  intensity?: IntensitySpec;
}

/** Runs svm-au or svm-pixels with options checked by parseSvmArgs (src/train/commands/train-args.ts). */
export async function svmCommand(command: 'svm-au' | 'svm-pixels', a: SvmArgs): Promise<void> {
  const log = (line: string) => console.log(line);
  const { stat } = await import('node:fs/promises');
  const info = a.data ? await stat(a.data).catch(() => undefined) : undefined;
  const personal = command === 'svm-au' && info?.isDirectory() === true;
  const out = a.out ?? (personal ? 'models/svm-au-personal' : `models/${command}`);
  // A refused --out fails now, not after the feature extraction and the grid search.
  await assertPublishableOut(out, { log });
  if (a.intensity && (command !== 'svm-au' || personal))
    throw new UsageError('--intensity is for svm-au on FER2013 (AU-style feature rows), not for svm-pixels or a personal folder');
  if (personal) {
    const { trainPersonalSvmCommand } = await import('../finetune/personal-svm.ts');
    // Seed 42 by default: the fine-tune's split, so both personal models share validation photos.
    await trainPersonalSvmCommand(a.data!, { seed: a.seed ?? 42, out, log });
    return;
  }
  const dataPath = resolveFer2013Path(a.data);
  const base: SvmRunOptions = {
    id: command,
    name: command === 'svm-au' ? 'SVM on AU-style features' : 'SVM on pixels (HOG + PCA)',
    arch:
      command === 'svm-au'
        ? `RBF SVC on ${FEATURE_COUNT} AU-style features (standardised)`
        : `RBF SVC on ${a.components} PCA components of the 48x48 crop's HOG (6x6 cells, 9 bins)`,
    out,
    seed: a.seed ?? 1,
    cvRows: a.cvRows,
    trainRows: a.trainRows ?? (command === 'svm-au' ? Number.MAX_SAFE_INTEGER : 12000),
    gridC: a.gridC,
    gridGammaFactors: a.gridGammaFactors,
    ...(a.intensity ? { intensity: a.intensity } : {}),
    log,
  };
  base.id = basename(resolve(base.out));
  if (command === 'svm-au') await runSvmAu(base, dataPath, a.exportCsv);
  else await runSvmPixels(base, dataPath, a.components);
}
