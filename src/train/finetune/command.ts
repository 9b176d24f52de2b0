/**
 * npm run train -- finetune --data <dir> [--from models/fer-cnn] [--freeze N] [--epochs N] [--lr X]
 *   [--batch-size N] [--val-split 0.2] [--seed 42] [--out DIR] [--estimate loso|repeated|none] [--no-svm]
 *
 * Fine-tunes the FER2013 CNN on a personal photo folder (<dir>/<emotion>/*.jpg), evaluates it on a
 * stratified validation split, and estimates how it does on unseen people (leave-one-subject-out
 * when file names carry the subject, else repeated splits). Also trains svm-au-personal.
 */
import { basename, resolve } from 'node:path';
import { cnnInput } from '../../core/contracts/index.ts';
import { EMOTIONS } from '../../core/labels.ts';
import { argmaxRows } from '../../core/metrics.ts';
import { chooseBackend } from '../kernels/backend.ts';
import { predictProbs } from '../../learn/predict.ts';
import { loadLayersModel, saveLayersModel } from '../cnn/model-io.ts';
import {
  leaveOneSubjectOutFolds,
  MIN_PHOTOS_PER_CLASS,
  repeatedStratifiedSplits,
  stratifiedSplit,
  type Split,
} from '../data/personal-dataset.ts';
import { formatDuration } from '../util/progress.ts';
import { assertPublishableOut, publishModelDir } from '../util/publish-model.ts';
import { buildReport, writeReportFiles } from '../report/report.ts';
import { finetuneCnn, subset, type FinetuneOptions, type ImageSet } from '../../learn/finetune-cnn.ts';
import { loadPersonalData, type PersonalData } from '../data/personal-crops.ts';

export interface FinetuneCommandOptions extends Omit<FinetuneOptions, 'onEpoch'> {
  data: string;
  from: string;
  valSplit: number;
  out: string;
  estimate: 'loso' | 'repeated' | 'none' | 'auto';
  svm: boolean;
  log: (line: string) => void;
}

function setOf(data: PersonalData): ImageSet {
  return { pixels: data.pixels, labels: Uint8Array.from(data.samples, (s) => s.label), count: data.samples.length };
}

function accuracy(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  let hit = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hit++;
  return yTrue.length === 0 ? 0 : hit / yTrue.length;
}

/** Fine-tunes a fresh copy of the base model on `train` rows and predicts `val` rows (flip TTA). */
async function trainAndPredict(from: string, all: ImageSet, split: Split, o: FinetuneCommandOptions, onEpoch?: FinetuneOptions['onEpoch']) {
  const model = await loadLayersModel(from);
  const val = subset(all, split.val);
  const history = await finetuneCnn(model, subset(all, split.train), { ...o, ...(onEpoch ? { onEpoch, validation: val } : {}) });
  const yPred = argmaxRows(predictProbs(model, val.pixels, val.count, true), EMOTIONS.length);
  return { model, history, yTrue: val.labels, yPred };
}

export async function runFinetune(o: FinetuneCommandOptions): Promise<void> {
  const started = Date.now();
  const backend = await chooseBackend('auto');
  o.log(backend.description);
  o.log(`reading ${o.data} (faces through the app's pipeline in headless Chromium)...`);
  // Refuse an unsafe --out before minutes of work, and again when publishing.
  await assertPublishableOut(o.out, { log: o.log });
  const data = await loadPersonalData(o.data, (line) => o.log(`  ${line}`));
  const all = setOf(data);
  const present = [...new Set(data.samples.map((s) => s.label))].sort((a, b) => a - b);
  o.log(
    `${data.samples.length} labelled faces in ${present.length} classes (${present.map((c) => `${EMOTIONS[c]} ${data.samples.filter((s) => s.label === c).length}`).join(', ')})`,
  );
  for (const s of data.skipped.slice(0, 10)) o.log(`  skipped ${s.file}: ${s.reason}`);
  if (data.skipped.length > 10) o.log(`  ... and ${data.skipped.length - 10} more skipped`);
  if (data.samples.length < 10)
    throw new Error(
      `${o.data}: only ${data.samples.length} usable faces; fine-tuning needs at least 10 (more than 20 per class is better)`,
    );
  // The folder was checked before extraction; photos without a usable face can still thin a class out.
  if (present.length < 2)
    throw new Error(
      `${o.data}: usable faces in only ${present.length} class (${EMOTIONS[present[0]!]}); fine-tuning needs at least 2 classes`,
    );
  for (const c of present) {
    const n = data.samples.filter((s) => s.label === c).length;
    const photos = data.scan.items.filter((i) => i.label === c).length;
    // (Classes with few photos were already warned about.)
    if (n < MIN_PHOTOS_PER_CLASS && photos >= MIN_PHOTOS_PER_CLASS)
      o.log(
        `warning: only ${n} usable face${n === 1 ? '' : 's'} for ${EMOTIONS[c]}: its validation figures will be noisy (20 or more per class is better)`,
      );
  }

  const split = stratifiedSplit(Array.from(all.labels), o.valSplit, o.seed);
  o.log(`split (seed ${o.seed}): ${split.train.length} train, ${split.val.length} validation`);

  // The starting model on the same validation images: what fine-tuning adds.
  const base = await loadLayersModel(o.from);
  const valSet = subset(all, split.val);
  const baseAcc = accuracy(valSet.labels, argmaxRows(predictProbs(base, valSet.pixels, valSet.count, true), EMOTIONS.length));
  base.dispose();
  o.log(`${basename(o.from)} before fine-tuning: validation accuracy ${baseAcc.toFixed(4)}`);

  const t0 = Date.now();
  const main = await trainAndPredict(o.from, all, split, o, (epoch, p) => {
    const eta = ((Date.now() - t0) / 1000 / epoch) * (o.epochs - epoch);
    o.log(
      `epoch ${epoch}/${o.epochs}: loss ${p.loss.toFixed(4)} acc ${p.acc.toFixed(4)} | val loss ${p.valLoss.toFixed(4)} val acc ${p.valAcc.toFixed(4)} | ETA ${formatDuration(eta)}`,
    );
  });
  const valAcc = accuracy(main.yTrue, main.yPred);
  o.log(`validation accuracy ${valAcc.toFixed(4)} (${split.val.length} images)`);

  // Honest small-data estimate: people the model has not seen, or many splits.
  const subjects = data.samples.map((s) => s.subject);
  const knownSubjects = new Set(subjects.filter((s) => s !== undefined)).size;
  const mode = o.estimate === 'auto' ? (knownSubjects >= 2 && subjects.every((s) => s !== undefined) ? 'loso' : 'repeated') : o.estimate;
  let estimate: Record<string, unknown> | undefined;
  if (mode === 'loso') {
    const folds = leaveOneSubjectOutFolds(subjects);
    const per: { subject: string; n: number; accuracy: number }[] = [];
    for (const fold of folds) {
      const r = await trainAndPredict(o.from, all, fold, o);
      r.model.dispose();
      per.push({ subject: fold.subject, n: fold.val.length, accuracy: accuracy(r.yTrue, r.yPred) });
      o.log(
        `  leave-one-subject-out ${per.length}/${folds.length}: ${fold.subject} ${per.at(-1)!.accuracy.toFixed(3)} (${fold.val.length} images)`,
      );
    }
    const pooled = per.reduce((s, p) => s + p.accuracy * p.n, 0) / per.reduce((s, p) => s + p.n, 0);
    estimate = {
      method: 'leave-one-subject-out',
      folds: per,
      meanAccuracy: per.reduce((s, p) => s + p.accuracy, 0) / per.length,
      pooledAccuracy: pooled,
    };
    o.log(`leave-one-subject-out accuracy: ${pooled.toFixed(4)} over ${per.length} subjects`);
  } else if (mode === 'repeated') {
    const splits = repeatedStratifiedSplits(Array.from(all.labels), o.valSplit, 5, o.seed);
    const accs: number[] = [];
    for (const s of splits) {
      const r = await trainAndPredict(o.from, all, s, o);
      r.model.dispose();
      accs.push(accuracy(r.yTrue, r.yPred));
      o.log(`  repeated split ${accs.length}/${splits.length}: ${accs.at(-1)!.toFixed(3)}`);
    }
    const mean = accs.reduce((a, b) => a + b, 0) / accs.length;
    const sd = Math.sqrt(accs.reduce((a, b) => a + (b - mean) ** 2, 0) / accs.length);
    estimate = { method: 'repeated stratified splits', accuracies: accs, meanAccuracy: mean, sd };
    o.log(`repeated splits: ${mean.toFixed(4)} +- ${sd.toFixed(4)}`);
  }

  const id = basename(o.out);
  const folder = basename(resolve(o.data));
  const report = buildReport({
    id,
    name: `FER2013 CNN fine-tuned on ${folder}`,
    kind: 'cnn',
    arch: `${basename(o.from)} fine-tuned, first ${o.freeze} conv blocks frozen`,
    datasetPath: resolve(o.data),
    datasetName: folder,
    evaluatedOn: `validation split (${Math.round(o.valSplit * 100)}%, stratified, seed ${o.seed})`,
    datasetNote:
      `${split.val.length} validation images; the same people appear in training and validation` +
      (estimate ? `; unseen-data estimate in extra.estimate` : ''),
    splits: { train: split.train.length, val: split.val.length, test: split.val.length },
    yTrue: main.yTrue,
    yPred: main.yPred,
    epochs: o.epochs,
    history: main.history,
    wallTimeSec: Math.round((Date.now() - started) / 1000),
    backend: backend.name,
    tta: true,
    notes:
      `${basename(o.from)} scored ${baseAcc.toFixed(4)} on these validation images before fine-tuning. ` +
      `Adam lr ${o.lr}, batch ${o.batchSize}, ${o.epochs} epochs (fixed, no selection on validation), augmentation ${o.augment ? 'on' : 'off'}.` +
      (estimate ? ` ${estimate.method}: ${Number((estimate.pooledAccuracy ?? estimate.meanAccuracy) as number).toFixed(4)}.` : ''),
    extra: {
      baseModel: basename(o.from),
      baseValAccuracy: baseAcc,
      freeze: o.freeze,
      split: { seed: o.seed, valFraction: o.valSplit, val: split.val.map((i) => data.samples[i]!.file), train: split.train.length },
      skipped: data.skipped,
      ...(estimate ? { estimate } : {}),
    },
  });
  const outDir = await publishModelDir(
    o.out,
    async (tmp) => {
      await saveLayersModel(main.model, tmp);
      await writeReportFiles(tmp, report);
    },
    {
      log: o.log,
      manifestEntry: { id, name: report.name, kind: 'cnn', input: cnnInput({ size: 48, tta: 'hflip-mean' }) },
    },
  );
  main.model.dispose();
  o.log(`wrote ${outDir} (validation accuracy ${valAcc.toFixed(4)}) in ${formatDuration((Date.now() - started) / 1000)}`);
  if (o.svm) {
    const { trainPersonalSvm } = await import('./personal-svm.ts');
    await trainPersonalSvm(data, split, { seed: o.seed, modelsDir: resolve(outDir, '..'), log: o.log });
  }
}
