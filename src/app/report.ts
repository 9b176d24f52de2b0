/**
 * The parts of a model's report.json (ModelReport, src/core/contracts/report.ts) that the Report
 * view shows, read loosely: a missing part is left out rather than failing the whole report, since
 * the view also shows reports written by older versions or by hand (pure).
 */
import type { HistoryPoint } from '../core/contracts/report.ts';
import { isRecord } from '../core/contracts/check.ts';
import { EMOTIONS } from '../core/labels.ts';
import type { ClassMetrics } from '../core/metrics.ts';

// models/report.json (the comparison) has its type and parser in src/core/contracts.
export { COMPARISON_FILE, parseComparison, type ComparisonJson } from '../core/contracts/comparison.ts';

export interface ReportView {
  accuracy?: number;
  macroF1?: number;
  labels: string[];
  perClass: ClassMetrics[];
  /** Rows = true class, columns = predicted class. */
  confusion?: number[][];
  history: HistoryPoint[];
  facts: [string, string][];
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
  return {
    ...(accuracy !== undefined ? { accuracy } : {}),
    ...(macro !== undefined ? { macroF1: macro } : {}),
    labels,
    perClass,
    confusion,
    history,
    facts,
  };
}

/** SVG polyline points for `values` over `epochs`, in a w x h box (y axis 0..yMax, up). */
export function polyline(epochs: number[], values: number[], w: number, h: number, yMax: number): string {
  if (epochs.length === 0) return '';
  const x0 = Math.min(...epochs);
  const x1 = Math.max(...epochs);
  const sx = x1 > x0 ? w / (x1 - x0) : 0;
  return values.map((v, i) => `${((epochs[i]! - x0) * sx).toFixed(1)},${(h - (Math.min(v, yMax) / yMax) * h).toFixed(1)}`).join(' ');
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
