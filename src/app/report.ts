/**
 * The parts of a model's report.json (written by src/train/report.ts) that the Report view shows,
 * validated loosely: a missing part is left out rather than failing the whole report (pure).
 */
import { EMOTIONS } from '../core/labels.ts';
import type { ComparisonJson } from '../core/comparison.ts';

export type { ComparisonJson } from '../core/comparison.ts';

export interface ClassRow {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface CurvePoint {
  epoch: number;
  loss: number;
  acc: number;
  valLoss: number;
  valAcc: number;
}

export interface ReportView {
  accuracy?: number;
  macroF1?: number;
  labels: string[];
  perClass: ClassRow[];
  /** Rows = true class, columns = predicted class. */
  confusion?: number[][];
  history: CurvePoint[];
  facts: [string, string][];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export function parseReportView(json: unknown): ReportView {
  if (!isRecord(json)) throw new Error('report.json must be an object');
  const labels = Array.isArray(json.labels) && json.labels.every((l) => typeof l === 'string') ? (json.labels as string[]) : [...EMOTIONS];
  const perClass: ClassRow[] = Array.isArray(json.perClass)
    ? json.perClass.filter(isRecord).flatMap((r) => {
        const row = { label: String(r.label ?? ''), precision: num(r.precision), recall: num(r.recall), f1: num(r.f1), support: num(r.support) };
        return row.precision === undefined || row.recall === undefined || row.f1 === undefined || row.support === undefined ? [] : [row as ClassRow];
      })
    : [];
  const cm = json.confusionMatrix;
  const confusion =
    Array.isArray(cm) && cm.length === labels.length && cm.every((row) => Array.isArray(row) && row.length === labels.length && row.every((v) => num(v) !== undefined))
      ? (cm as number[][])
      : undefined;
  const history: CurvePoint[] = Array.isArray(json.history)
    ? json.history.filter(isRecord).flatMap((h) => {
        const p = { epoch: num(h.epoch), loss: num(h.loss), acc: num(h.acc), valLoss: num(h.valLoss), valAcc: num(h.valAcc) };
        return Object.values(p).some((v) => v === undefined) ? [] : [p as CurvePoint];
      })
    : [];
  const facts: [string, string][] = [];
  const add = (k: string, v: unknown) => {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') facts.push([k, String(v)]);
  };
  add('architecture', json.arch);
  if (isRecord(json.dataset)) add('evaluated on', `${String(json.dataset.name ?? '')} ${String(json.dataset.evaluatedOn ?? '')}`.trim());
  add('epochs', json.epochs);
  add('best epoch', json.bestEpoch);
  add('parameters', json.params);
  add('test-time augmentation', json.tta);
  add('trained on backend', json.backend);
  add('created', json.createdAt);
  add('notes', json.notes);
  const accuracy = num(json.accuracy);
  const macro = isRecord(json.macroAvg) ? num(json.macroAvg.f1) : undefined;
  return { ...(accuracy !== undefined ? { accuracy } : {}), ...(macro !== undefined ? { macroF1: macro } : {}), labels, perClass, confusion, history, facts };
}

/** SVG polyline points for `values` over `epochs`, in a w x h box (y axis 0..yMax, up). */
export function polyline(epochs: number[], values: number[], w: number, h: number, yMax: number): string {
  if (epochs.length === 0) return '';
  const x0 = Math.min(...epochs);
  const x1 = Math.max(...epochs);
  const sx = x1 > x0 ? w / (x1 - x0) : 0;
  return values.map((v, i) => `${((epochs[i]! - x0) * sx).toFixed(1)},${(h - (Math.min(v, yMax) / yMax) * h).toFixed(1)}`).join(' ');
}

/** Where `npm run report` puts the model comparison, relative to /models/. */
export const COMPARISON_FILE = 'report.json';

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * Checks the shape of models/report.json (src/core/comparison.ts, version 1) before the view
 * renders it; throws an Error naming the first problem.
 */
export function parseComparison(json: unknown): ComparisonJson {
  if (!isRecord(json) || json.version !== 1) throw new Error('not a version 1 model comparison');
  const { classes, models, evaluationSets, unknown, summary } = json;
  if (!isStringArray(classes)) throw new Error('"classes" must be a list of labels');
  if (!isStringArray(summary)) throw new Error('"summary" must be a list of sentences');
  if (!Array.isArray(models) || !models.every((m) => isRecord(m) && typeof m.id === 'string' && typeof m.name === 'string')) {
    throw new Error('"models" must be a list of {id, name, ...}');
  }
  if (!Array.isArray(evaluationSets)) throw new Error('"evaluationSets" must be a list');
  for (const set of evaluationSets) {
    if (!isRecord(set) || typeof set.name !== 'string' || !Array.isArray(set.rows)) throw new Error('an evaluation set needs a name and rows');
    if (!isStringArray(set.absentClasses)) throw new Error(`evaluation set "${set.name}": "absentClasses" must be a list`);
    for (const row of set.rows) {
      if (!isRecord(row) || typeof row.modelId !== 'string' || !Array.isArray(row.perClassF1) || row.perClassF1.length !== classes.length) {
        throw new Error(`evaluation set "${set.name}": each row needs a modelId and one F1 (or null) per class`);
      }
    }
  }
  if (unknown !== null) {
    if (!isRecord(unknown) || !Array.isArray(unknown.images)) throw new Error('"unknown" must be null or hold "images"');
    for (const img of unknown.images) {
      if (!isRecord(img) || typeof img.file !== 'string' || !Array.isArray(img.predictions) || img.predictions.length !== models.length) {
        throw new Error('each unknown image needs a file and one prediction entry per model');
      }
    }
    if (unknown.scores !== null && !(Array.isArray(unknown.scores) && unknown.scores.length === models.length)) {
      throw new Error('"unknown.scores" must be null or one score per model');
    }
  }
  return json as unknown as ComparisonJson;
}

/** Presentation helpers for the comparison (same formats as REPORT.md). */
export const fmtPercent = (v: number | null): string => (v === null ? '—' : `${(v * 100).toFixed(1)}%`);
export const fmtF1 = (v: number | null): string => (v === null ? '—' : v.toFixed(2));
export const fmtMs = (v: number | null): string => (v === null ? '—' : `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`);
export function fmtBytes(bytes: number): string {
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(2)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} B`;
}
