/**
 * npm run evaluate [-- --model models/fer-cnn] [--data PATH] [--no-tta]
 *
 * Recomputes a committed CNN's PrivateTest figures from its artifacts alone (model.json +
 * weights.bin) and compares them with its report.json.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EMOTIONS, NUM_CLASSES } from '../core/labels.ts';
import { argmaxRows, classificationReport, confusionMatrix } from '../core/metrics.ts';
import { chooseBackend } from './backend.ts';
import { parseOptions, UsageError, wantsHelp } from './cli-args.ts';
import { loadFer2013, resolveFer2013Path } from './fer2013.ts';
import { predictProbs } from './evaluate.ts';
import { loadLayersModel } from './model-io.ts';

export async function evaluateModelDir(dir: string, dataPath?: string, tta?: boolean) {
  const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as { accuracy: number; tta?: boolean };
  const useTta = tta ?? report.tta ?? false;
  const model = await loadLayersModel(dir);
  const data = await loadFer2013(resolveFer2013Path(dataPath));
  const probs = predictProbs(model, data.test.pixels, data.test.count, useTta);
  // loadLayersModel's warm-up catches broken weights; an image that still gives NaN must not count as a class.
  const bad = probs.findIndex((p) => !Number.isFinite(p));
  if (bad >= 0) {
    model.dispose();
    throw new Error(`${dir}: PrivateTest image ${Math.floor(bad / NUM_CLASSES)} gives a probability of ${probs[bad]}: the model is corrupt; retrain it or restore the folder`);
  }
  const cm = confusionMatrix(data.test.labels, argmaxRows(probs, NUM_CLASSES), NUM_CLASSES);
  model.dispose();
  return { recomputed: classificationReport(cm, EMOTIONS), reported: report.accuracy, tta: useTta, count: data.test.count };
}

const USAGE = `usage: npm run evaluate [-- --model DIR] [--data PATH] [--no-tta]

  --model DIR   CNN model folder with model.json, weights and report.json (default: models/fer-cnn)
  --data PATH   fer2013.csv or .csv.gz (default: ./data/, then ../shared/data/fer2013/)
  --no-tta      no horizontal-flip test-time augmentation (default: as the model's report says)`;

async function main() {
  const args = process.argv.slice(2);
  if (wantsHelp(args)) {
    console.log(USAGE);
    return;
  }
  const { values } = parseOptions(args, {
    model: { type: 'string', default: 'models/fer-cnn' },
    data: { type: 'string' },
    'no-tta': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  console.log((await chooseBackend('auto', true)).description);
  const dir = resolve(values.model!);
  const r = await evaluateModelDir(dir, values.data, values['no-tta'] ? false : undefined);
  console.log(`${dir}: PrivateTest (${r.count} images${r.tta ? ', flip TTA' : ''}) accuracy ${r.recomputed.accuracy.toFixed(4)}; report.json says ${r.reported.toFixed(4)}`);
  for (const c of r.recomputed.perClass) console.log(`  ${c.label.padEnd(9)} precision ${c.precision.toFixed(3)} recall ${c.recall.toFixed(3)} f1 ${c.f1.toFixed(3)} support ${c.support}`);
  console.log(`  macro F1 ${r.recomputed.macroAvg.f1.toFixed(4)}, weighted F1 ${r.recomputed.weightedAvg.f1.toFixed(4)}`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  main().then(
    () => process.exit(0),
    (e: Error) => {
      console.error(`error: ${e.message}${e instanceof UsageError ? '\n(npm run evaluate -- --help lists the options)' : ''}`);
      process.exit(e instanceof UsageError ? 2 : 1);
    },
  );
}
