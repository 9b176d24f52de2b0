/**
 * models/report.json: the model comparison `npm run report` writes (buildComparison() in
 * src/train/report/comparison.ts) and the app's Report view shows. Version 1.
 */
import { isRecord } from './check.ts';

export interface ComparisonModel {
  id: string;
  name: string;
  kind: string;
  sizeBytes: number;
  latencyMsPerFace: number | null;
}

export interface ComparisonRow {
  modelId: string;
  /** False when the model has no report on this set (all figures null). */
  evaluated: boolean;
  accuracy: number | null;
  macroF1: number | null;
  /** Aligned with ComparisonJson.classes; null where the class is absent from the set. */
  perClassF1: (number | null)[];
  /** Images evaluated (sum of per-class support), when the report gives supports. */
  images: number | null;
  note: string | null;
}

/** The best value of a metric on one set; several ids on a tie. */
export interface Leader {
  metric: 'accuracy' | 'macroF1';
  modelIds: string[];
  value: number;
  /** Next best distinct value, when another model was evaluated. */
  runnerUp: { modelIds: string[]; value: number } | null;
  /** value - runnerUp.value. */
  margin: number | null;
}

export interface ComparisonSet {
  name: string;
  rows: ComparisonRow[];
  /** Classes no evaluated model has an image of in this set (F1 shown as —). */
  absentClasses: string[];
  bestAccuracy: Leader | null;
  bestMacroF1: Leader | null;
}

export interface UnknownImageRow {
  file: string;
  /** Held-back label (canonical name when it is an emotion), or null. */
  label: string | null;
  /** Per model (ComparisonJson.models order); correct is null without a label. */
  predictions: (
    | { modelId: string; label: string; prob: number; correct: boolean | null }
    | { modelId: string; label: null; prob: null; correct: boolean | null }
  )[];
}

export interface UnknownScore {
  modelId: string;
  /** Predictions equal to the held-back label. */
  right: number;
  /** Images with a held-back label (a missing prediction counts as not right). */
  total: number;
  /** Of those, images where the model gave a prediction. */
  predicted: number;
}

export interface ComparisonUnknown {
  images: UnknownImageRow[];
  /** Present when at least one image has a held-back label. */
  scores: UnknownScore[] | null;
  best: { modelIds: string[]; right: number; total: number } | null;
  /** Images where every model gave the same label (and all gave one). */
  agreed: number;
}

export interface ComparisonJson {
  version: 1;
  generatedAt: string;
  classes: string[];
  models: ComparisonModel[];
  evaluationSets: ComparisonSet[];
  unknown: ComparisonUnknown | null;
  fastest: { modelIds: string[]; latencyMsPerFace: number; runnerUp: { modelIds: string[]; latencyMsPerFace: number } | null } | null;
  /** Generated sentences, also the summary of REPORT.md. */
  summary: string[];
}

/** Where `npm run report` puts the comparison, relative to models/. */
export const COMPARISON_FILE = 'report.json';

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * Checks the shape of models/report.json before a view renders it; throws an Error naming `file`
 * and the first problem.
 */
export function parseComparison(json: unknown, file = `models/${COMPARISON_FILE}`): ComparisonJson {
  const fail = (why: string): never => {
    throw new Error(`${file}: ${why}`);
  };
  if (!isRecord(json) || json.version !== 1) fail('not a version 1 model comparison (rerun npm run report)');
  const { classes, models, evaluationSets, unknown, summary } = json as Record<string, unknown>;
  if (!isStringArray(classes)) fail('"classes" must be a list of labels');
  if (!isStringArray(summary)) fail('"summary" must be a list of sentences');
  if (!Array.isArray(models) || !models.every((m) => isRecord(m) && typeof m.id === 'string' && typeof m.name === 'string')) {
    fail('"models" must be a list of {id, name, ...}');
  }
  if (!Array.isArray(evaluationSets)) return fail('"evaluationSets" must be a list');
  for (const set of evaluationSets) {
    if (!isRecord(set) || typeof set.name !== 'string' || !Array.isArray(set.rows)) return fail('an evaluation set needs a name and rows');
    if (!isStringArray(set.absentClasses)) fail(`evaluation set "${set.name}": "absentClasses" must be a list`);
    for (const row of set.rows) {
      if (
        !isRecord(row) ||
        typeof row.modelId !== 'string' ||
        !Array.isArray(row.perClassF1) ||
        row.perClassF1.length !== (classes as string[]).length
      ) {
        fail(`evaluation set "${set.name}": each row needs a modelId and one F1 (or null) per class`);
      }
    }
  }
  if (unknown !== null) {
    if (!isRecord(unknown) || !Array.isArray(unknown.images)) return fail('"unknown" must be null or hold "images"');
    for (const img of unknown.images) {
      if (
        !isRecord(img) ||
        typeof img.file !== 'string' ||
        !Array.isArray(img.predictions) ||
        img.predictions.length !== (models as unknown[]).length
      ) {
        fail('each unknown image needs a file and one prediction entry per model');
      }
    }
    if (unknown.scores !== null && !(Array.isArray(unknown.scores) && unknown.scores.length === (models as unknown[]).length)) {
      fail('"unknown.scores" must be null or one score per model');
    }
  }
  return json as unknown as ComparisonJson;
}
