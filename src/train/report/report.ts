/**
 * Model evaluation report: report.json (the numbers) plus confusion.svg and curves.svg.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { EMOTIONS } from '../../core/labels.ts';
import { classificationReport, confusionMatrix as computeConfusion } from '../../core/metrics.ts';
import type { HistoryPoint, ModelReport, SplitCounts } from '../../core/contracts/index.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { confusionSvg, curvesSvg } from './svg.ts';

// The report's types are a contract the app and the commands read: they live in src/core/contracts.
export type { HistoryPoint, ModelReport, SplitCounts } from '../../core/contracts/index.ts';

export interface BuildReportInput extends Partial<
  Pick<ModelReport, 'epochs' | 'bestEpoch' | 'wallTimeSec' | 'imagesPerSec' | 'backend' | 'params' | 'tta' | 'history' | 'notes' | 'extra'>
> {
  id: string;
  name: string;
  kind: string;
  arch: string;
  datasetPath: string;
  splits: SplitCounts;
  /** Defaults to 'FER2013'. */
  datasetName?: string;
  /** Defaults to 'PrivateTest'. */
  evaluatedOn?: string;
  datasetNote?: string;
  /** Either a ready confusion matrix, or yTrue + yPred on the evaluation split. */
  confusionMatrix?: number[][];
  yTrue?: ArrayLike<number>;
  yPred?: ArrayLike<number>;
  /** Defaults to EMOTIONS. */
  labels?: readonly string[];
  /** Defaults to now. */
  createdAt?: Date | string;
}

/** Assemble a ModelReport, computing the confusion matrix and metrics. */
export function buildReport(input: BuildReportInput): ModelReport {
  const labels = [...(input.labels ?? EMOTIONS)];
  let cm: number[][];
  if (input.confusionMatrix) {
    cm = input.confusionMatrix.map((row) => [...row]);
  } else if (input.yTrue && input.yPred) {
    cm = computeConfusion(input.yTrue, input.yPred, labels.length);
  } else {
    throw new Error('buildReport: pass either confusionMatrix or yTrue + yPred');
  }
  if (cm.length !== labels.length) {
    throw new Error(`buildReport: ${cm.length}x${cm.length} confusion matrix for ${labels.length} labels`);
  }
  const metrics = classificationReport(cm, labels);
  const history = input.history ? input.history.map((h) => ({ ...h })) : [];
  const createdAt =
    input.createdAt === undefined
      ? new Date().toISOString()
      : typeof input.createdAt === 'string'
        ? input.createdAt
        : input.createdAt.toISOString();

  const report: ModelReport = {
    id: input.id,
    name: input.name,
    kind: input.kind,
    arch: input.arch,
    dataset: {
      name: input.datasetName ?? 'FER2013',
      path: input.datasetPath,
      splits: { ...input.splits },
      evaluatedOn: input.evaluatedOn ?? 'PrivateTest',
      ...(input.datasetNote !== undefined ? { note: input.datasetNote } : {}),
    },
    accuracy: metrics.accuracy,
    perClass: metrics.perClass,
    macroAvg: metrics.macroAvg,
    weightedAvg: metrics.weightedAvg,
    confusionMatrix: cm,
    labels,
    epochs: input.epochs ?? history.length,
    createdAt,
    history,
  };
  if (input.bestEpoch !== undefined) report.bestEpoch = input.bestEpoch;
  if (input.wallTimeSec !== undefined) report.wallTimeSec = input.wallTimeSec;
  if (input.imagesPerSec !== undefined) report.imagesPerSec = input.imagesPerSec;
  if (input.backend !== undefined) report.backend = input.backend;
  if (input.params !== undefined) report.params = input.params;
  if (input.tta !== undefined) report.tta = input.tta;
  if (input.notes !== undefined) report.notes = input.notes;
  if (input.extra !== undefined) report.extra = input.extra;
  return report;
}

export const REPORT_FILES = {
  json: 'report.json',
  confusion: 'confusion.svg',
  curves: 'curves.svg',
} as const;

/**
 * Write report.json (pretty), confusion.svg and curves.svg into `dir` (created if missing),
 * each file atomically. `history` defaults to report.history.
 */
export async function writeReportFiles(
  dir: string,
  report: ModelReport,
  history: readonly HistoryPoint[] = report.history,
): Promise<{ json: string; confusion: string; curves: string }> {
  await mkdir(dir, { recursive: true });
  const paths = {
    json: join(dir, REPORT_FILES.json),
    confusion: join(dir, REPORT_FILES.confusion),
    curves: join(dir, REPORT_FILES.curves),
  };
  const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;
  const evalName = `${report.name} - ${report.dataset.name} ${report.dataset.evaluatedOn}${report.tta ? ' (TTA)' : ''}`;
  await writeFileAtomic(
    paths.confusion,
    confusionSvg(report.confusionMatrix, report.labels, `${evalName}: accuracy ${pct(report.accuracy)}`),
  );
  await writeFileAtomic(paths.curves, curvesSvg(history, `${report.name} - training curves`));
  // JSON last: a reader that sees the new report.json also sees the new charts.
  await writeFileAtomic(paths.json, JSON.stringify(report, null, 2) + '\n');
  return paths;
}
