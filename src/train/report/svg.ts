/**
 * The training report's standalone SVG files (confusion.svg, curves.svg): the shared chart builders
 * of src/core/charts.ts (the app's Reports view draws with the same ones) on a white page.
 */
import type { HistoryPoint } from '../../core/contracts/index.ts';
import { confusionChart, curvesChart, FILE_PALETTE } from '../../core/charts.ts';

export { escapeXml } from '../../core/charts.ts';

/** Confusion-matrix heatmap: rows = true class, columns = predicted class (counts and row %). */
export function confusionSvg(cm: number[][], labels: readonly string[], title: string): string {
  return confusionChart(cm, labels, { title, palette: FILE_PALETTE });
}

/** Two panels, loss and accuracy per epoch, each with train and validation lines. */
export function curvesSvg(history: readonly HistoryPoint[], title: string): string {
  return curvesChart(history, { title, palette: FILE_PALETTE });
}
