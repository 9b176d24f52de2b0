/**
 * The real-face evaluation: every model of a models folder on a labelled photo folder
 * (`<dir>/<emotion>/*`, folder names as in src/core/label-aliases.ts), through the app's own
 * pipeline exactly as `npm run predict` runs it (predictImages: the batch page in headless
 * Chromium finds the faces, frames the crops, computes the features and runs every model on
 * them). Per model: accuracy, macro F1, per-class recall and the confusion matrix.
 *
 * - A photo in which no face is found counts as wrong for every model (a user's camera would
 *   show nothing either).
 * - A labelled file that cannot be decoded (or must not be opened) is listed and left out.
 * - A model trained on photos of this folder is in-sample (see inSampleFor) and never named best.
 * - With `neutralBaseline`, each photo's answers are those the same person's other neutral photos
 *   give as a baseline (neutral-eval.ts, leave-one-out); models without a reference stay as they are.
 */
import { realpathSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import {
  parseManifest,
  parseReport,
  type EvaluatedImage,
  type ModelScore,
  type NeutralBaselineRun,
  type RealFacesResult,
  type TrainedOn,
  type ModelEntry,
} from '../../core/contracts/index.ts';
import { AUTO_NEUTRAL_SHARE } from '../../core/auto-neutral.ts';
import { LABEL_ALIASES } from '../../core/label-aliases.ts';
import { EMOTIONS, type Emotion } from '../../core/labels.ts';
import { classificationReport, confusionMatrix } from '../../core/metrics.ts';
import { parseSvmInput, predictSvm, svmInputOf, type SvmInputSpec, type SvmModel } from '../../core/svm/index.ts';
import { openFolder, predictImages, readSvmModel, UsageError, type FileItem, type PredictedImage } from './deps.ts';
import { neutralBaselineAnswers, parseSubject, type NeutralPick, type ReadMoved } from './neutral-eval.ts';

/** The confusion matrix's extra column: photos with no face (or no prediction), all counted wrong. */
export const NO_FACE = 'no face';
export const CONFUSION_COLUMNS: readonly string[] = [...EMOTIONS, NO_FACE];

// The result's types are the contract of models/real-faces.json (src/core/contracts/real-faces.ts).
export type {
  EvaluatedImage,
  ImageOutcome,
  ModelScore,
  NeutralBaselineRun,
  RealFacesResult,
  TrainedOn,
} from '../../core/contracts/index.ts';

export interface EvaluateFacesOptions {
  dir: string;
  /** Folder with index.json (default: models). */
  modelsDir?: string;
  /** Progress and warnings (default: silent). */
  log?: (line: string) => void;
  /** Browser pages in parallel (default: predictImages'). */
  pages?: number;
  /**
   * Move every answer by its person's neutral baseline (leave-one-out); `subject` is the regular
   * expression whose first group names the person in a file's base name (neutral-eval.ts).
   */
  neutralBaseline?: { subject: string; pick?: NeutralPick };
}

const acceptedNames = (): string => EMOTIONS.map((e) => LABEL_ALIASES[e].join('/')).join(', ');

function realOrResolved(path: string): { path: string; exists: boolean } {
  try {
    return { path: realpathSync(path), exists: true };
  } catch {
    return { path: resolve(path), exists: false };
  }
}

const within = (inner: string, outer: string): boolean => inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);

/**
 * Whether a model trained on `trainedOn` is in-sample for the folder `evaluated` (a real path):
 * their real paths are the same, or one holds the other (a model trained on jaffe/ has seen
 * jaffe/happy/; one trained on jaffe/happy/ has seen part of jaffe/). When the recorded path does
 * not exist on this machine, a data set named like the folder is taken as in-sample, to be safe.
 */
export function inSampleFor(
  evaluated: string,
  trainedOn: TrainedOn | null,
  why = 'its report records no training data',
): { inSample: boolean | null; reason: string } {
  if (!trainedOn) return { inSample: null, reason: `unknown: ${why}` };
  const trained = realOrResolved(trainedOn.path);
  if (trained.exists) {
    return within(evaluated, trained.path) || within(trained.path, evaluated)
      ? { inSample: true, reason: `trained on ${trainedOn.name} (${trained.path})` }
      : { inSample: false, reason: `trained on ${trainedOn.name} (${trained.path}), not on this folder` };
  }
  return trainedOn.name.trim().toLowerCase() === basename(evaluated).toLowerCase()
    ? { inSample: true, reason: `trained on a set named ${trainedOn.name} (${trainedOn.path}, not found here): taken as this folder` }
    : { inSample: false, reason: `trained on ${trainedOn.name} (${trainedOn.path}, not found here), not a set of this folder's name` };
}

/** The training data a model's report.json records, or why there is none. */
async function trainedOnOf(modelsDir: string, report: string | undefined): Promise<{ trainedOn: TrainedOn | null; why?: string }> {
  if (!report) return { trainedOn: null, why: 'its index.json entry names no report.json' };
  const file = join(modelsDir, report);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return { trainedOn: null, why: `${file} cannot be read` };
  }
  try {
    const { dataset } = parseReport(JSON.parse(text) as unknown, file);
    return { trainedOn: { name: dataset.name, path: dataset.path } };
  } catch (error) {
    return { trainedOn: null, why: (error as Error).message };
  }
}

/** Mean F1 over the emotions that occur (true or predicted), the rule of src/core/metrics.ts. */
function macroF1Of(cm: number[][], f1: number[]): number {
  const k = EMOTIONS.length;
  const occurs = (c: number) => cm[c]!.some((v) => v > 0) || cm.some((row) => row[c]! > 0);
  const classes = Array.from({ length: k }, (_, c) => c).filter(occurs);
  return classes.length === 0 ? 0 : classes.reduce((s, c) => s + f1[c]!, 0) / classes.length;
}

/**
 * One model's figures on the scored photos (unreadable ones excluded). A photo without a face, or
 * without this model's answer, goes to the "no face" column: wrong, and a miss for its emotion's
 * recall, while no emotion's precision is charged for it.
 */
export function scoreModel(
  images: readonly EvaluatedImage[],
  id: string,
): Pick<ModelScore, 'images' | 'correct' | 'noFace' | 'noPrediction' | 'accuracy' | 'macroF1' | 'recall' | 'confusion'> {
  const none = EMOTIONS.length;
  const scored = images.filter((im) => im.outcome !== 'unreadable');
  const yTrue = scored.map((im) => EMOTIONS.indexOf(im.label));
  let noPrediction = 0;
  const yPred = scored.map((im) => {
    const p = im.predicted[id];
    if (p === undefined) {
      if (im.outcome === 'face') noPrediction++;
      return none;
    }
    return EMOTIONS.indexOf(p);
  });
  const full = confusionMatrix(yTrue, yPred, none + 1);
  const report = classificationReport(full, CONFUSION_COLUMNS);
  // The "no face" row is always empty: no photo is labelled "no face".
  const cm = full.slice(0, none);
  const perClass = report.perClass.slice(0, none);
  const recall = Object.fromEntries(EMOTIONS.map((e, c) => [e, perClass[c]!.support > 0 ? perClass[c]!.recall : null])) as Record<
    Emotion,
    number | null
  >;
  return {
    images: scored.length,
    correct: yTrue.filter((t, i) => t === yPred[i]).length,
    noFace: scored.filter((im) => im.outcome === 'no-face').length,
    noPrediction,
    accuracy: report.accuracy,
    macroF1: macroF1Of(
      cm,
      perClass.map((c) => c.f1),
    ),
    recall,
    confusion: cm,
  };
}

/**
 * The SVMs moved at their input features (--neutral-baseline), read in Node by the app's own SVM
 * inference (src/core/svm) on moved features; the page computed those features.
 */
async function svmReaders(modelsDir: string, entries: readonly ModelEntry[]): Promise<ReadMoved | undefined> {
  if (entries.length === 0) return undefined;
  const models = new Map<string, { model: SvmModel; input: SvmInputSpec }>();
  for (const e of entries) {
    if (e.kind !== 'svm') throw new Error(`${e.id}: only an SVM on the AU-style features is moved at its input`);
    const model = await readSvmModel(join(modelsDir, e.path, '..'));
    models.set(e.id, { model, input: parseSvmInput(model.input) });
  }
  return (id, features) => {
    const m = models.get(id);
    if (!m) throw new Error(`model "${id}" is not an SVM moved at its input`);
    return predictSvm(m.model, svmInputOf(m.input, [], features)).probs;
  };
}

/** The best out-of-sample model: highest accuracy, then macro F1; in-sample and unknown ones never. */
export function bestOutOfSample(models: readonly Pick<ModelScore, 'id' | 'inSample' | 'accuracy' | 'macroF1'>[]): string | null {
  let best: (typeof models)[number] | undefined;
  for (const m of models) {
    if (m.inSample !== false) continue;
    if (!best || m.accuracy > best.accuracy || (m.accuracy === best.accuracy && m.macroF1 > best.macroF1)) best = m;
  }
  return best?.id ?? null;
}

function toEvaluated(file: string, label: Emotion, p: PredictedImage): EvaluatedImage {
  if (p.error !== undefined) return { file, label, outcome: 'unreadable', faces: 0, predicted: {}, error: p.error };
  const face = p.faces[0];
  if (!face) return { file, label, outcome: 'no-face', faces: 0, predicted: {} };
  const predicted: Record<string, Emotion> = {};
  for (const [id, m] of Object.entries(face.models))
    if ((EMOTIONS as readonly string[]).includes(m.label)) predicted[id] = m.label as Emotion;
  return { file, label, outcome: 'face', faces: p.faces.length, predicted };
}

export async function evaluateFaces(options: EvaluateFacesOptions): Promise<RealFacesResult> {
  const log = options.log ?? (() => undefined);
  const subject = options.neutralBaseline ? parseSubject(options.neutralBaseline.subject) : undefined;
  const root = resolve(options.dir);
  let isDir = false;
  try {
    isDir = statSync(root).isDirectory();
  } catch {
    /* reported below */
  }
  if (!isDir)
    throw new UsageError(`${options.dir} is not a folder: pass a folder of labelled photos, DIR/<emotion>/* (e.g. DIR/happy/1.jpg)`);
  const modelsDir = resolve(options.modelsDir ?? 'models');
  const manifestFile = join(modelsDir, 'index.json');
  let manifestText: string;
  try {
    manifestText = await readFile(manifestFile, 'utf8');
  } catch {
    throw new UsageError(`${manifestFile} not found: run from the project folder, or pass --models DIR with an index.json`);
  }
  let manifestJson: unknown;
  try {
    manifestJson = JSON.parse(manifestText);
  } catch (error) {
    throw new Error(`${manifestFile} is not JSON (${(error as Error).message}): restore it (git checkout ${manifestFile})`, {
      cause: error,
    });
  }
  const manifest = parseManifest(manifestJson, manifestFile);

  const source = await openFolder(root);
  if (source.kind !== 'folder') throw new Error(`${root}: expected a folder`);
  const labelled: { item: FileItem; label: Emotion }[] = [];
  const folders = new Map<string, number>();
  const skippedFiles: { file: string; reason: string }[] = [];
  for (const item of source.items) {
    const slash = item.id.indexOf('/');
    if (item.label === undefined) {
      if (slash >= 0) folders.set(item.id.slice(0, slash), (folders.get(item.id.slice(0, slash)) ?? 0) + 1);
      // Top-level files other than images (a README, a manifest) are not meant as photos.
      else if (!item.notImage) skippedFiles.push({ file: item.id, reason: 'image outside a class folder' });
      continue;
    }
    if (item.skip !== undefined) skippedFiles.push({ file: item.id, reason: item.skip });
    else if (item.notImage) skippedFiles.push({ file: item.id, reason: 'not an image file type' });
    else labelled.push({ item, label: EMOTIONS[item.label]! });
  }
  const skippedFolders = [...folders].map(([folder, files]) => ({
    folder,
    files,
    reason:
      folder.trim().toLowerCase() === 'unknown'
        ? 'photos to predict, without labels'
        : `"${folder}" is not an emotion name or alias (accepted, any case: ${acceptedNames()})`,
  }));
  for (const f of skippedFolders) log(`skipping ${f.folder}/ (${f.files} file${f.files === 1 ? '' : 's'}): ${f.reason}`);
  if (labelled.length === 0) {
    throw new UsageError(
      `no labelled photos in ${root}: put them in folders named after their emotion (${acceptedNames()}), e.g. ${join(root, 'happy')}/`,
    );
  }

  log(`evaluating ${manifest.models.length} models on ${labelled.length} labelled photos of ${root} through the app's pipeline...`);
  let backend: string | null = null;
  let statuses: { id: string; status: string }[] = [];
  let done = 0;
  const predicted = await predictImages(
    labelled.map((l) => l.item.path),
    {
      modelsDir,
      models: manifest.models.map((m) => m.id),
      ...(options.pages !== undefined ? { pages: options.pages } : {}),
      // Models moved at their input are read again on each photo's moved features.
      withFeatures: subject !== undefined,
      onReady: (init) => {
        backend = init.backend ?? null;
        statuses = init.models.map((m) => ({ id: m.id, status: m.status }));
      },
      onImage: () => {
        done++;
        if (done % 32 === 0 || done === labelled.length) log(`  ${done}/${labelled.length} photos`);
      },
      onConsoleError: (t) => {
        if (process.env.DEBUG) log(`  page: ${t}`);
      },
    },
  );
  const images = predicted.map((p, i) => toEvaluated(labelled[i]!.item.id, labelled[i]!.label, p));
  const ready = new Set(statuses.filter((s) => s.status === 'ready').map((s) => s.id));
  let neutralBaseline: NeutralBaselineRun | undefined;
  if (subject) {
    const references = new Map(manifest.models.flatMap((m) => (ready.has(m.id) && m.neutral ? [[m.id, m.neutral] as const] : [])));
    const moved = neutralBaselineAnswers(
      images.map((im, i) => {
        const face = predicted[i]!.faces[0];
        const probs =
          im.outcome === 'face' && face ? Object.fromEntries(Object.entries(face.models).map(([id, m]) => [id, m.probs])) : null;
        return { file: im.file, label: im.label, probs, features: im.outcome === 'face' ? (face?.features ?? null) : null };
      }),
      references,
      subject,
      await svmReaders(
        modelsDir,
        manifest.models.filter((m) => references.get(m.id)?.features),
      ),
      options.neutralBaseline!.pick,
    );
    images.forEach((im, i) => {
      if (im.outcome !== 'face') return;
      im.plain = im.predicted;
      im.predicted = { ...im.predicted, ...moved.predicted[i] };
      im.baselineOf = moved.baselineOf[i]!;
    });
    neutralBaseline = {
      subject: options.neutralBaseline!.subject,
      ...(options.neutralBaseline!.pick === 'auto' ? { pick: 'auto' as const } : {}),
      people: moved.people,
      moved: moved.moved,
      unmoved: moved.unmoved,
      noSubject: moved.noSubject,
      noOtherNeutral: moved.noOtherNeutral,
      models: moved.models,
      withoutReference: manifest.models.filter((m) => ready.has(m.id) && !references.has(m.id)).map((m) => m.id),
    };
  }
  const notRun = manifest.models
    .filter((m) => !ready.has(m.id))
    .map((m) => ({ id: m.id, status: statuses.find((s) => s.id === m.id)?.status ?? 'not loaded by the page' }));

  const real = realpathSync(root);
  const models: ModelScore[] = [];
  for (const m of manifest.models) {
    if (!ready.has(m.id)) continue;
    const { trainedOn, why } = await trainedOnOf(modelsDir, m.report);
    const { inSample, reason } = inSampleFor(real, trainedOn, why);
    models.push({ id: m.id, name: m.name, kind: m.kind, trainedOn, inSample, inSampleReason: reason, ...scoreModel(images, m.id) });
  }

  const scored = images.filter((im) => im.outcome !== 'unreadable');
  const noFace = images.filter((im) => im.outcome === 'no-face').map((im) => im.file);
  const unreadable = images.filter((im) => im.outcome === 'unreadable').map((im) => ({ file: im.file, error: im.error ?? 'unreadable' }));
  const severalFaces = images.filter((im) => im.faces > 1).map((im) => im.file);
  const support = Object.fromEntries(EMOTIONS.map((e) => [e, scored.filter((im) => im.label === e).length])) as Record<Emotion, number>;
  const notes = [`Photos with no face found count as wrong for every model (${noFace.length} of ${scored.length}).`];
  if (unreadable.length)
    notes.push(
      `${unreadable.length} labelled file${unreadable.length === 1 ? '' : 's'} could not be decoded: left out of the figures (see "unreadable").`,
    );
  if (severalFaces.length)
    notes.push(`${severalFaces.length} photo${severalFaces.length === 1 ? ' shows' : 's show'} several faces: the largest is scored.`);
  const inSample = models.filter((m) => m.inSample === true).map((m) => m.id);
  if (inSample.length)
    notes.push(`In-sample (trained on photos of this folder, so their figures are not a test): ${inSample.join(', ')}. Never named best.`);
  const unknown = models.filter((m) => m.inSample === null).map((m) => m.id);
  if (unknown.length) notes.push(`Training data unknown (no usable report.json), so never named best: ${unknown.join(', ')}.`);
  if (notRun.length) notes.push(`Not run: ${notRun.map((m) => `${m.id} (${m.status})`).join(', ')}.`);
  if (neutralBaseline) {
    const nb = neutralBaseline;
    notes.push(
      `With each person's neutral baseline (leave-one-out): every photo moved by the mean of ${nb.pick === 'auto' ? `the most relaxed ${AUTO_NEUTRAL_SHARE * 100} % of the same person's other photos, picked without labels by the models' own p(neutral)` : "the same person's other neutral photos"} ` +
        `(person: the first group of /${nb.subject}/ on the file name); ${nb.moved} of ${scored.length - noFace.length} photos with a face moved ` +
        `(${nb.people} people), ${nb.unmoved} left as the models gave them (${nb.noSubject} name${nb.noSubject === 1 ? '' : 's'} naming no person, ` +
        `${nb.noOtherNeutral} whose person has no other ${nb.pick === 'auto' ? '' : 'neutral '}photo). Models moved: ${nb.models.join(', ') || 'none'}.`,
    );
    if (nb.withoutReference.length)
      notes.push(
        `No neutral reference: ${nb.withoutReference.join(', ')} (scored as they are; npm run train -- neutral-reference adds one to a general model's entry).`,
      );
  }

  return {
    version: 1,
    set: basename(root),
    dir: options.dir,
    path: root,
    ...(neutralBaseline ? { neutralBaseline } : {}),
    generatedAt: new Date().toISOString(),
    modelsDir,
    backend,
    counts: {
      labelled: labelled.length,
      scored: scored.length,
      withFace: scored.length - noFace.length,
      noFace: noFace.length,
      severalFaces: severalFaces.length,
      unreadable: unreadable.length,
    },
    support,
    confusionColumns: [...CONFUSION_COLUMNS],
    models,
    notRun,
    best: bestOutOfSample(models),
    skipped: { folders: skippedFolders, files: skippedFiles },
    unreadable,
    noFace,
    severalFaces,
    notes,
    images,
  };
}
