/**
 * The parts of a model's report.json (ModelReport, src/core/contracts/report.ts) that the Report
 * view shows, read loosely: a missing part is left out rather than failing the whole report, since
 * the view also shows reports written by older versions or by hand (pure).
 */
import type { HistoryPoint } from '../core/contracts/report.ts';
import { isRecord } from '../core/contracts/check.ts';
import { EMOTIONS } from '../core/labels.ts';
import type { ClassMetrics } from '../core/metrics.ts';

import type { ComparisonJson } from '../core/contracts/comparison.ts';
import {
  REAL_FACES_FILE,
  REAL_FACES_NEUTRAL_AUTO_FILE,
  REAL_FACES_NEUTRAL_FILE,
  type RealFacesResult,
} from '../core/contracts/real-faces.ts';

// models/report.json (the comparison) and models/real-faces.json have their types and parsers in src/core/contracts.
export { COMPARISON_FILE, parseComparison, type ComparisonJson } from '../core/contracts/comparison.ts';
export {
  REAL_FACES_FILE,
  REAL_FACES_NEUTRAL_AUTO_FILE,
  REAL_FACES_NEUTRAL_FILE,
  parseRealFaces,
  type RealFacesResult,
} from '../core/contracts/real-faces.ts';

export interface ReportView {
  accuracy?: number;
  macroF1?: number;
  labels: string[];
  perClass: ClassMetrics[];
  /** Rows = true class, columns = predicted class. */
  confusion?: number[][];
  history: HistoryPoint[];
  facts: [string, string][];
  /** The set the accuracy was measured on (see evaluationOf), when the report records it. */
  evaluation?: Evaluation;
}

/** Where a report's figures come from: a set name and the images scored. */
export interface Evaluation {
  /** E.g. "FER2013 PrivateTest", "jaffe validation split". */
  name: string;
  /** What the report adds about the split, e.g. "images with a face found"; null if nothing. */
  detail: string | null;
  /** Images scored (sum of per-class support), or null when the report gives no supports. */
  images: number | null;
}

/**
 * The evaluation set of a report: its data set's name and the split it was evaluated on, the
 * split's parenthesised detail set apart, so "PrivateTest" and "PrivateTest (images with a face
 * found)" share the name "FER2013 PrivateTest" (the figure keeps its own image count). These are
 * the set names `npm run report` uses in models/report.json.
 */
export function evaluationOf(dataset: unknown, perClass: readonly ClassMetrics[]): Evaluation | undefined {
  if (!isRecord(dataset) || typeof dataset.name !== 'string' || dataset.name.trim() === '') return undefined;
  const on = typeof dataset.evaluatedOn === 'string' ? dataset.evaluatedOn.trim() : '';
  const m = /^(.*?)\s*\((.*)\)\s*$/.exec(on);
  const split = m ? m[1]! : on;
  const images = perClass.length ? perClass.reduce((a, c) => a + c.support, 0) : null;
  return { name: `${dataset.name.trim()} ${split || 'test split'}`, detail: m ? m[2]! : null, images };
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export function parseReportView(json: unknown): ReportView {
  if (!isRecord(json)) throw new Error('report.json must be an object');
  const labels = Array.isArray(json.labels) && json.labels.every((l) => typeof l === 'string') ? (json.labels as string[]) : [...EMOTIONS];
  const perClass: ClassMetrics[] = Array.isArray(json.perClass)
    ? json.perClass.filter(isRecord).flatMap((r) => {
        const row = {
          label: String(r.label ?? ''),
          precision: num(r.precision),
          recall: num(r.recall),
          f1: num(r.f1),
          support: num(r.support),
        };
        return row.precision === undefined || row.recall === undefined || row.f1 === undefined || row.support === undefined
          ? []
          : [row as ClassMetrics];
      })
    : [];
  const cm = json.confusionMatrix;
  const confusion =
    Array.isArray(cm) &&
    cm.length === labels.length &&
    cm.every((row) => Array.isArray(row) && row.length === labels.length && row.every((v) => num(v) !== undefined))
      ? (cm as number[][])
      : undefined;
  const history: HistoryPoint[] = Array.isArray(json.history)
    ? json.history.filter(isRecord).flatMap((h) => {
        const p = { epoch: num(h.epoch), loss: num(h.loss), acc: num(h.acc), valLoss: num(h.valLoss), valAcc: num(h.valAcc) };
        return Object.values(p).some((v) => v === undefined) ? [] : [p as HistoryPoint];
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
  const evaluation = evaluationOf(json.dataset, perClass);
  return {
    ...(evaluation ? { evaluation } : {}),
    ...(accuracy !== undefined ? { accuracy } : {}),
    ...(macro !== undefined ? { macroF1: macro } : {}),
    labels,
    perClass,
    confusion,
    history,
    facts,
  };
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

/** One figure of the summary table: a model's accuracy on one evaluation set. */
export interface SummaryCell {
  accuracy: number;
  macroF1: number | null;
  /** Images this figure was measured on (null: unknown). */
  images: number | null;
  /** Trained on this set's images: shown marked, never best. */
  inSample: boolean;
  best: boolean;
  /** Why the figure is marked, or a detail of its split; shown on hover. */
  note: string | null;
}

/** One column of the summary table: one evaluation set, never two. */
export interface SummaryColumn {
  key: string;
  /** E.g. "FER2013 PrivateTest", "jaffe validation split", "Real faces: jaffe". */
  name: string;
  /** Images in the set: the most any figure of the column was measured on (null: unknown). */
  size: number | null;
  /** Where the figures come from, e.g. models/report.json. */
  source: string;
  cells: Record<string, SummaryCell>;
}

export interface SummaryInput {
  /** Each model's parsed report.json (absent: none, or not loaded yet). */
  reports: Record<string, ReportView | undefined>;
  comparison?: ComparisonJson | null;
  realFaces?: RealFacesResult | null;
  /** The same photos, each read against its person's neutral face (models/real-faces-neutral.json). */
  realFacesNeutral?: RealFacesResult | null;
  /** The same, each person's neutral face picked without labels (models/real-faces-neutral-auto.json). */
  realFacesNeutralAuto?: RealFacesResult | null;
}

/**
 * The Reports view's summary: one column per evaluation set. The comparison's sets come first
 * (every model scored on the same images by `npm run report`); a model's own report.json fills
 * in the set it names where the comparison has no figure for it, and a set no comparison has
 * gets its own column; the real-face evaluation is a column of its own, in-sample models marked.
 * A figure never lands in a column of another set.
 */
export function summaryColumns(input: SummaryInput): SummaryColumn[] {
  const columns: SummaryColumn[] = [];
  const byName = new Map<string, SummaryColumn>();
  const column = (name: string, source: string): SummaryColumn => {
    let c = byName.get(name);
    if (!c) {
      c = { key: `set-${columns.length}`, name, size: null, source, cells: {} };
      columns.push(c);
      byName.set(name, c);
    }
    return c;
  };
  const comparison = input.comparison ?? null;
  for (const set of comparison?.evaluationSets ?? []) {
    const col = column(set.name, 'models/report.json');
    const counted = set.rows.filter((r) => r.accuracy !== null).length;
    for (const row of set.rows) {
      if (row.accuracy === null) continue;
      col.cells[row.modelId] = {
        accuracy: row.accuracy,
        macroF1: row.macroF1,
        images: row.images,
        inSample: false,
        best: counted > 1 && (set.bestAccuracy?.modelIds.includes(row.modelId) ?? false),
        note: row.note,
      };
    }
  }
  const fromReports = new Set<SummaryColumn>();
  for (const [id, view] of Object.entries(input.reports)) {
    if (!view || view.accuracy === undefined) continue;
    const col = column(view.evaluation?.name ?? 'Test split (set not recorded)', "the model's report.json");
    if (col.cells[id]) continue;
    col.cells[id] = {
      accuracy: view.accuracy,
      macroF1: view.macroF1 ?? null,
      images: view.evaluation?.images ?? null,
      inSample: false,
      best: false,
      note: view.evaluation?.detail ?? null,
    };
    fromReports.add(col);
  }
  // A column filled (even in part) from single reports has no common leader: figures from separate
  // runs may differ in images, so none is named best unless the comparison named it.
  for (const col of fromReports) if (col.source !== 'models/report.json') for (const cell of Object.values(col.cells)) cell.best = false;

  const realFaceSets = [
    [input.realFaces, (set: string) => `Real faces: ${set}`, `models/${REAL_FACES_FILE}`],
    [input.realFacesNeutral, (set: string) => `Real faces: ${set}, own neutral face`, `models/${REAL_FACES_NEUTRAL_FILE}`],
    [
      input.realFacesNeutralAuto,
      (set: string) => `Real faces: ${set}, own neutral face, no labels`,
      `models/${REAL_FACES_NEUTRAL_AUTO_FILE}`,
    ],
  ] as const;
  for (const [rf, name, source] of realFaceSets) {
    if (!rf) continue;
    const col = column(name(rf.set), source);
    col.size = rf.counts.scored;
    for (const m of rf.models) {
      col.cells[m.id] = {
        accuracy: m.accuracy,
        macroF1: m.macroF1,
        images: m.images,
        inSample: m.inSample !== false,
        best: m.id === rf.best && m.inSample === false,
        note: m.inSample === false ? null : m.inSampleReason,
      };
    }
  }
  for (const col of columns) {
    if (col.size !== null) continue;
    const sizes = Object.values(col.cells).flatMap((c) => (c.images === null ? [] : [c.images]));
    col.size = sizes.length ? Math.max(...sizes) : null;
  }
  return columns;
}

/** "3,589" (grouped thousands, whatever the locale). */
export const fmtCount = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
