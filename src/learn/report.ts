/**
 * A model's report.json contents (src/core/contracts/report.ts): the metrics of its evaluation set
 * and its training record. Pure, shared by the Node commands (which also draw the SVG charts,
 * src/train/report/report.ts) and the in-browser calibration trainer.
 */
import { EMOTIONS } from '../core/labels.ts';
import { classificationReport, confusionMatrix as computeConfusion } from '../core/metrics.ts';
import type { ModelReport, SplitCounts } from '../core/contracts/index.ts';

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
