/**
 * models/real-faces.json: the real-face evaluation `npm run evaluate -- --faces DIR --out
 * models/real-faces.json` writes (evaluateFaces() in src/train/faces/evaluate-faces.ts): every
 * model on every labelled photo of a folder (e.g. JAFFE, 192 photos). The app's Reports view shows
 * it as its own evaluation set, with in-sample models marked. Version 1.
 */
import type { Emotion } from '../labels.ts';
import { isRecord } from './check.ts';

export type ImageOutcome = 'face' | 'no-face' | 'unreadable';

export interface EvaluatedImage {
  /** Relative to the folder, '/'-separated. */
  file: string;
  label: Emotion;
  outcome: ImageOutcome;
  /** Faces found; the largest one is scored. */
  faces: number;
  /** Per model id: its answer for the largest face (empty without a face). */
  predicted: Record<string, Emotion>;
  error?: string;
  /** With a neutral baseline (RealFacesResult.neutralBaseline): the answers as the models gave them, unmoved. */
  plain?: Record<string, Emotion>;
  /** With a neutral baseline: the other photos (same person, labelled neutral) whose mean moved this one; empty when unmoved. */
  baselineOf?: string[];
}

/**
 * How a run with each person's neutral baseline moved the answers (`--neutral-baseline`): every
 * photo by the mean of the same person's other neutral photos, leave-one-out.
 */
export interface NeutralBaselineRun {
  /** The regular expression on each file's base name whose first group names the person. */
  subject: string;
  /**
   * 'auto' (`--auto-neutral`): no label used, each person's baseline is the most relaxed share of
   * their other photos (src/core/auto-neutral.ts); absent: their other photos labelled neutral.
   */
  pick?: 'auto';
  /** Persons among the photos with a face. */
  people: number;
  /** Photos with a face moved; left as they were (noSubject + noOtherNeutral + no model with a reference answered). */
  moved: number;
  unmoved: number;
  /** Photos whose name the subject pattern does not match. */
  noSubject: number;
  /** Photos whose person has no other neutral photo with a face. */
  noOtherNeutral: number;
  /** Models moved: those whose models/index.json entry has a neutral reference. */
  models: string[];
  /** Models without one: scored as they are. */
  withoutReference: string[];
}

export interface TrainedOn {
  name: string;
  path: string;
}

export interface ModelScore {
  id: string;
  name: string;
  kind: string;
  /** From the model's report.json; null when it records none (or cannot be read). */
  trainedOn: TrainedOn | null;
  /** true: trained on photos of this folder; null: unknown (never named best either). */
  inSample: boolean | null;
  inSampleReason: string;
  /** Photos scored (with a face or without), correct answers, photos without a face. */
  images: number;
  correct: number;
  noFace: number;
  /** Photos with a face that this model gave no answer for (counted wrong, like noFace). */
  noPrediction: number;
  accuracy: number;
  macroF1: number;
  /** Per emotion; null for an emotion with no photo in the folder. */
  recall: Record<Emotion, number | null>;
  /** Rows: true emotion (EMOTIONS order); columns: confusionColumns (the emotions, then no face). */
  confusion: number[][];
}

export interface RealFacesResult {
  version: 1;
  /** The folder's name, e.g. "jaffe". */
  set: string;
  /** The folder as given, and resolved. */
  dir: string;
  path: string;
  /** The command line that produced this result (set by the command). */
  command?: string;
  /** Present when the answers were moved by each person's neutral baseline (then `predicted` holds the moved answers). */
  neutralBaseline?: NeutralBaselineRun;
  generatedAt: string;
  modelsDir: string;
  /** tfjs backend the batch page ran the models on. */
  backend: string | null;
  counts: { labelled: number; scored: number; withFace: number; noFace: number; severalFaces: number; unreadable: number };
  /** Scored photos per emotion. */
  support: Record<Emotion, number>;
  confusionColumns: string[];
  models: ModelScore[];
  /** Manifest models the page could not run, with why. */
  notRun: { id: string; status: string }[];
  /** Highest accuracy (then macro F1) among out-of-sample models; null when there is none. */
  best: string | null;
  skipped: {
    /** Top-level folders that are not an emotion (unknown/ included): not scored. */
    folders: { folder: string; files: number; reason: string }[];
    /** Files not sent to the pipeline, with why. */
    files: { file: string; reason: string }[];
  };
  unreadable: { file: string; error: string }[];
  noFace: string[];
  severalFaces: string[];
  notes: string[];
  images: EvaluatedImage[];
}

/** Where the README's command puts the real-face evaluation, relative to models/. */
export const REAL_FACES_FILE = 'real-faces.json';
/** The same evaluation with each person's neutral baseline (`--neutral-baseline`), beside it in models/. */
export const REAL_FACES_NEUTRAL_FILE = 'real-faces-neutral.json';
/** The same with each person's neutral face picked without labels (`--neutral-baseline --auto-neutral`). */
export const REAL_FACES_NEUTRAL_AUTO_FILE = 'real-faces-neutral-auto.json';

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isFraction = (v: unknown): v is number => typeof v === 'number' && v >= 0 && v <= 1;

/**
 * Checks the parts of models/real-faces.json a reader relies on (set, counts, each model's figures
 * and in-sample flag, best); throws an Error naming `file` and the first problem.
 */
export function parseRealFaces(json: unknown, file = `models/${REAL_FACES_FILE}`): RealFacesResult {
  const rerun = 'rerun npm run evaluate -- --faces DIR --out models/real-faces.json';
  const fail = (why: string): never => {
    throw new Error(`${file}: ${why} (${rerun})`);
  };
  if (!isRecord(json) || json.version !== 1) return fail('not a version 1 real-face evaluation');
  if (typeof json.set !== 'string' || json.set === '') fail('"set" must name the evaluated folder');
  const counts = json.counts;
  if (!isRecord(counts) || !['labelled', 'scored', 'withFace', 'noFace'].every((k) => isCount(counts[k]))) {
    fail('"counts" must hold whole numbers labelled, scored, withFace and noFace');
  }
  if (!Array.isArray(json.models)) return fail('"models" must be a list');
  const ids = new Set<string>();
  json.models.forEach((m: unknown, i: number) => {
    const where = `models[${i}]`;
    if (!isRecord(m) || typeof m.id !== 'string' || typeof m.name !== 'string') return fail(`${where} needs an id and a name`);
    if (!(m.inSample === true || m.inSample === false || m.inSample === null))
      fail(`${where} (${m.id}): "inSample" must be true, false or null`);
    if (!isCount(m.images) || !isCount(m.correct)) fail(`${where} (${m.id}): "images" and "correct" must be whole numbers`);
    if (!isFraction(m.accuracy) || !isFraction(m.macroF1)) fail(`${where} (${m.id}): "accuracy" and "macroF1" must be in 0..1`);
    ids.add(m.id);
  });
  if (!(json.best === null || (typeof json.best === 'string' && ids.has(json.best))))
    fail('"best" must be null or one of the models\' ids');
  if (!Array.isArray(json.notes) || !json.notes.every((n) => typeof n === 'string')) fail('"notes" must be a list of sentences');
  if (json.neutralBaseline !== undefined) {
    const nb = json.neutralBaseline;
    const isIds = (v: unknown) => Array.isArray(v) && v.every((id) => typeof id === 'string');
    if (
      !isRecord(nb) ||
      typeof nb.subject !== 'string' ||
      (nb.pick !== undefined && nb.pick !== 'auto') ||
      !['people', 'moved', 'unmoved', 'noSubject', 'noOtherNeutral'].every((k) => isCount(nb[k])) ||
      !isIds(nb.models) ||
      !isIds(nb.withoutReference)
    )
      fail(
        '"neutralBaseline" must hold "subject", whole numbers people, moved, unmoved, noSubject and noOtherNeutral, the id lists "models" and "withoutReference", and "pick" only as "auto"',
      );
  }
  return json as unknown as RealFacesResult;
}
