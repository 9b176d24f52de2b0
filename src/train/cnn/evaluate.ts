import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseReport, REPORT_FILE, type ModelReport } from '../../core/contracts/index.ts';
import { EMOTIONS, NUM_CLASSES } from '../../core/labels.ts';
import { argmaxRows, classificationReport, confusionMatrix } from '../../core/metrics.ts';
import { loadFer2013, resolveFer2013Path } from '../data/fer2013.ts';
import { loadLayersModel } from './model-io.ts';
import { predictProbs } from '../../learn/predict.ts';

/** A model folder's report.json, checked with parseReport; throws naming the file. */
async function readModelReport(dir: string): Promise<ModelReport> {
  const reportFile = join(dir, REPORT_FILE);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(reportFile, 'utf8'));
  } catch (e) {
    throw new Error(`${reportFile} is missing or not JSON (${(e as Error).message}); evaluate a model folder written by npm run train`, {
      cause: e,
    });
  }
  return parseReport(json, reportFile);
}

/**
 * Recomputes a CNN model folder's PrivateTest figures from its artifacts alone (model.json +
 * weights.bin) next to what its report.json says (`npm run evaluate`, committed-model tests).
 * `tta` defaults to what the report was made with.
 */
export async function evaluateModelDir(dir: string, dataPath?: string, tta?: boolean) {
  // The model first: corrupt weights are what matters most, whatever the report says.
  const model = await loadLayersModel(dir);
  let report: ModelReport;
  try {
    report = await readModelReport(dir);
  } catch (e) {
    model.dispose();
    throw e;
  }
  const useTta = tta ?? report.tta ?? false;
  const data = await loadFer2013(resolveFer2013Path(dataPath));
  const probs = predictProbs(model, data.test.pixels, data.test.count, useTta);
  // loadLayersModel's warm-up catches broken weights; an image that still gives NaN must not count as a class.
  const bad = probs.findIndex((p) => !Number.isFinite(p));
  if (bad >= 0) {
    model.dispose();
    throw new Error(
      `${dir}: PrivateTest image ${Math.floor(bad / NUM_CLASSES)} gives a probability of ${probs[bad]}: the model is corrupt; retrain it or restore the folder`,
    );
  }
  const cm = confusionMatrix(data.test.labels, argmaxRows(probs, NUM_CLASSES), NUM_CLASSES);
  model.dispose();
  return { recomputed: classificationReport(cm, EMOTIONS), reported: report.accuracy, tta: useTta, count: data.test.count };
}
