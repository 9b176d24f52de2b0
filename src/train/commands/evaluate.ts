/**
 * npm run evaluate [-- --model models/fer-cnn] [--data PATH] [--no-tta]
 * npm run evaluate -- --faces DIR [--out FILE.json] [--models DIR] [--neutral-baseline [--subject REGEX]]   (real-face evaluation, src/train/faces)
 * npm run evaluate -- --app-crops [--models DIR] [--split public|private] [--json FILE]   (src/train/cnn/evaluate-app-crops.ts)
 *
 * Recomputes a committed CNN's PrivateTest figures from its artifacts alone (model.json +
 * weights.bin) and compares them with its report.json.
 */
import { resolve } from 'node:path';
import { evaluateModelDir } from '../cnn/evaluate.ts';
import { chooseBackend } from '../kernels/backend.ts';
import { parseOptions, UsageError, wantsHelp } from '../util/cli-args.ts';

const USAGE = `usage: npm run evaluate [-- --model DIR] [--data PATH] [--no-tta]
       npm run evaluate -- --faces DIR [--out FILE.json] [--models DIR] [--neutral-baseline [--subject REGEX]]
                                     (every model on a labelled photo folder; --faces --help)
       npm run evaluate -- --app-crops [--models DIR] [--data PATH] [--split public|private] [--json FILE]
                                     (every CNN on the FER2013 faces the app's pipeline found; --app-crops --help)

  --model DIR   CNN model folder with model.json, weights and report.json (default: models/fer-cnn)
  --data PATH   fer2013.csv or .csv.gz (default: ./data/, then ../shared/data/fer2013/)
  --no-tta      no horizontal-flip test-time augmentation (default: as the model's report says)`;

async function main() {
  const args = process.argv.slice(2);
  if (args.some((a) => a === '--faces' || a.startsWith('--faces='))) {
    const { facesCommand } = await import('../faces/command.ts');
    process.exit(await facesCommand(args));
  }
  if (args.some((a) => a === '--app-crops' || a.startsWith('--app-crops='))) {
    const { appCropsCommand } = await import('../cnn/evaluate-app-crops.ts');
    process.exit(await appCropsCommand(args));
  }
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
  console.log(
    `${dir}: PrivateTest (${r.count} images${r.tta ? ', flip TTA' : ''}) accuracy ${r.recomputed.accuracy.toFixed(4)}; report.json says ${r.reported.toFixed(4)}`,
  );
  for (const c of r.recomputed.perClass)
    console.log(
      `  ${c.label.padEnd(9)} precision ${c.precision.toFixed(3)} recall ${c.recall.toFixed(3)} f1 ${c.f1.toFixed(3)} support ${c.support}`,
    );
  console.log(`  macro F1 ${r.recomputed.macroAvg.f1.toFixed(4)}, weighted F1 ${r.recomputed.weightedAvg.f1.toFixed(4)}`);
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(`error: ${e.message}${e instanceof UsageError ? '\n(npm run evaluate -- --help lists the options)' : ''}`);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
