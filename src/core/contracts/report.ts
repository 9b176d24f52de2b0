/**
 * A model's report.json: written by buildReport() (src/train/report/report.ts) for every model we train,
 * read by the app's Report view, `npm run report` and `npm run evaluate`. parseReport() is the
 * strict reader (errors name the file and field); the app's views read the same type loosely.
 */
import type { AverageMetrics, ClassMetrics } from '../metrics.ts';
import { isRecord } from './check.ts';

/** One epoch of training, as report.json's `history` and the curves chart hold it. */
export interface HistoryPoint {
  epoch: number;
  loss: number;
  acc: number;
  valLoss: number;
  valAcc: number;
}

export interface SplitCounts {
  train: number;
  val: number;
  test: number;
}

export interface ReportDataset {
  /** e.g. 'FER2013' or a personal folder's name. */
  name: string;
  path: string;
  splits: SplitCounts;
  /** e.g. 'PrivateTest' or 'validation split'. */
  evaluatedOn: string;
  /** Anything the reader must know to judge the figure (e.g. images with no face found). */
  note?: string;
}

export interface ModelReport {
  /** Stable id, e.g. the model directory name. */
  id: string;
  /** Human-readable name. */
  name: string;
  /** Model family, e.g. 'cnn' or 'svm'. */
  kind: string;
  /** Architecture description, e.g. 'mini-xception' or 'linear-svm-hog'. */
  arch: string;
  dataset: ReportDataset;
  /** Accuracy on the evaluation split (0..1). */
  accuracy: number;
  perClass: ClassMetrics[];
  macroAvg: AverageMetrics;
  weightedAvg: AverageMetrics;
  /** Rows = true class, columns = predicted class, in `labels` order. */
  confusionMatrix: number[][];
  labels: string[];
  /** Epochs actually trained. */
  epochs: number;
  /** Epoch whose weights were kept (e.g. best validation accuracy). */
  bestEpoch?: number;
  wallTimeSec?: number;
  /** Training throughput. */
  imagesPerSec?: number;
  /** TensorFlow.js backend used for training, e.g. 'tensorflow', 'cpu', 'wasm'. */
  backend?: string;
  /** Trainable parameter count. */
  params?: number;
  /** Whether test-time augmentation was used for the reported numbers. */
  tta?: boolean;
  /** ISO 8601 timestamp. */
  createdAt: string;
  history: HistoryPoint[];
  notes?: string;
  /** Model-specific figures (e.g. an SVM's chosen C and gamma, cross-validation scores). */
  extra?: Record<string, unknown>;
}

/** The file name of a model's report inside its folder. */
export const REPORT_FILE = 'report.json';

const HISTORY_KEYS = ['epoch', 'loss', 'acc', 'valLoss', 'valAcc'] as const;

/** A checker of one report; `at` names the field for messages. */
class Reader {
  constructor(private readonly file: string) {}

  fail(at: string, what: string, value: unknown): never {
    throw new Error(`${this.file}: ${at} must be ${what}, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`);
  }

  record(v: unknown, at: string): Record<string, unknown> {
    return isRecord(v) ? v : this.fail(at, 'an object', v);
  }

  string(v: unknown, at: string): string {
    return typeof v === 'string' ? v : this.fail(at, 'a string', v);
  }

  number(v: unknown, at: string, min = -Infinity, max = Infinity): number {
    return typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? v : this.fail(at, `a number in ${min}..${max}`, v);
  }

  count(v: unknown, at: string): number {
    return Number.isInteger(v) && (v as number) >= 0 ? (v as number) : this.fail(at, 'a whole number >= 0', v);
  }

  /** A training figure: JSON writes a NaN or infinite loss as null, read back as NaN. */
  figure(v: unknown, at: string): number {
    if (v === null) return NaN;
    return typeof v === 'number' ? v : this.fail(at, 'a number (or null for NaN)', v);
  }

  list(v: unknown, at: string): unknown[] {
    return Array.isArray(v) ? v : this.fail(at, 'a list', v);
  }

  optional<T>(obj: Record<string, unknown>, key: string, read: (v: unknown, at: string) => T): { [k: string]: T } {
    return obj[key] === undefined ? {} : { [key]: read(obj[key], key) };
  }

  average(v: unknown, at: string): AverageMetrics {
    const o = this.record(v, at);
    return {
      precision: this.number(o.precision, `${at}.precision`, 0, 1),
      recall: this.number(o.recall, `${at}.recall`, 0, 1),
      f1: this.number(o.f1, `${at}.f1`, 0, 1),
      support: this.count(o.support, `${at}.support`),
    };
  }
}

/**
 * Checks a parsed report.json as buildReport() writes it; throws an Error naming `file` and the
 * field at fault. Fields it does not know (older reports had more) are left out of the result.
 */
export function parseReport(json: unknown, file: string = REPORT_FILE): ModelReport {
  const r = new Reader(file);
  const o = r.record(json, 'the report');
  const d = r.record(o.dataset, 'dataset');
  const s = r.record(d.splits, 'dataset.splits');
  const labels = r.list(o.labels, 'labels').map((l, i) => r.string(l, `labels[${i}]`));
  const k = labels.length;
  const confusionMatrix = r
    .list(o.confusionMatrix, 'confusionMatrix')
    .map((row, t) => r.list(row, `confusionMatrix[${t}]`).map((v, p) => r.count(v, `confusionMatrix[${t}][${p}]`)));
  if (confusionMatrix.length !== k || confusionMatrix.some((row) => row.length !== k)) {
    r.fail(
      'confusionMatrix',
      `${k}x${k} (one row and column per label)`,
      confusionMatrix.map((row) => row.length),
    );
  }
  const perClass = r.list(o.perClass, 'perClass').map((c, i): ClassMetrics => {
    const at = `perClass[${i}]`;
    const row = r.record(c, at);
    return { label: r.string(row.label, `${at}.label`), ...r.average(row, at) };
  });
  const history = r.list(o.history, 'history').map((h, i): HistoryPoint => {
    const at = `history[${i}]`;
    const p = r.record(h, at);
    const [epoch, loss, acc, valLoss, valAcc] = HISTORY_KEYS.map((key) => r.figure(p[key], `${at}.${key}`));
    return { epoch: r.count(epoch, `${at}.epoch`), loss: loss!, acc: acc!, valLoss: valLoss!, valAcc: valAcc! };
  });
  const opt = <T>(key: string, read: (v: unknown, at: string) => T) => r.optional(o, key, read);
  return {
    id: r.string(o.id, 'id'),
    name: r.string(o.name, 'name'),
    kind: r.string(o.kind, 'kind'),
    arch: r.string(o.arch, 'arch'),
    dataset: {
      name: r.string(d.name, 'dataset.name'),
      path: r.string(d.path, 'dataset.path'),
      splits: {
        train: r.count(s.train, 'dataset.splits.train'),
        val: r.count(s.val, 'dataset.splits.val'),
        test: r.count(s.test, 'dataset.splits.test'),
      },
      evaluatedOn: r.string(d.evaluatedOn, 'dataset.evaluatedOn'),
      ...(d.note !== undefined ? { note: r.string(d.note, 'dataset.note') } : {}),
    },
    accuracy: r.number(o.accuracy, 'accuracy', 0, 1),
    perClass,
    macroAvg: r.average(o.macroAvg, 'macroAvg'),
    weightedAvg: r.average(o.weightedAvg, 'weightedAvg'),
    confusionMatrix,
    labels,
    epochs: r.count(o.epochs, 'epochs'),
    ...opt('bestEpoch', (v, at) => r.count(v, at)),
    ...opt('wallTimeSec', (v, at) => r.number(v, at, 0)),
    ...opt('imagesPerSec', (v, at) => r.number(v, at, 0)),
    ...opt('backend', (v, at) => r.string(v, at)),
    ...opt('params', (v, at) => r.count(v, at)),
    ...opt('tta', (v, at) => (typeof v === 'boolean' ? v : r.fail(at, 'true or false', v))),
    createdAt: r.string(o.createdAt, 'createdAt'),
    history,
    ...opt('notes', (v, at) => r.string(v, at)),
    ...opt('extra', (v, at) => r.record(v, at)),
  };
}
