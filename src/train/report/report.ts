/**
 * Model evaluation report: report.json (the numbers) plus confusion.svg and curves.svg.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { HistoryPoint, ModelReport } from '../../core/contracts/index.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { confusionSvg, curvesSvg } from './svg.ts';

// The report's types are a contract the app and the commands read: they live in src/core/contracts.
export type { HistoryPoint, ModelReport, SplitCounts } from '../../core/contracts/index.ts';
// Building the report is shared with the browser's calibration trainer.
export { buildReport, type BuildReportInput } from '../../learn/report.ts';

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
