/**
 * npm run bench:svm: per-face prediction time and file size of every SVM in models/index.json,
 * through the app's inference code (src/core/svm) in Node. Pixel models read FER2013 PrivateTest
 * images; feature models synthetic rows of the right length (the cost does not depend on values).
 *
 *   npm run bench:svm -- [--models DIR] [--rows 500]
 */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseManifest, type SvmModelEntry } from '../../core/contracts/index.ts';
import { parseSvmInput, predictSvm, svmInputOf } from '../../core/svm/index.ts';
import { readSvmModel } from '../svm/export.ts';
import { loadFer2013, resolveFer2013Path } from '../data/fer2013.ts';
import { pixelRows } from '../data/svm-data.ts';
import { parseInteger, parseOptions, readCommandLine } from '../util/cli-args.ts';

const USAGE = 'usage: npm run bench:svm -- [--models DIR] [--rows N]   (defaults: models, 500 rows per model)';

/** The options, checked; a usage error exits 2. */
function options(): { models: string; rows: number } {
  const line = readCommandLine('bench:svm', USAGE, process.argv.slice(2), (args) => {
    const { values } = parseOptions(args, {
      models: { type: 'string', default: 'models' },
      rows: { type: 'string', default: '500' },
      help: { type: 'boolean', short: 'h' },
    });
    return { models: values.models, rows: parseInteger('rows', values.rows, { min: 1 }) };
  });
  if ('exitCode' in line) process.exit(line.exitCode);
  return line.options;
}
const { models, rows: n } = options();
const dir = resolve(models);
/** The SVM entries of `dir`/index.json, checked with the app's parser; exits 1 naming the file at fault. */
async function svmEntries(): Promise<SvmModelEntry[]> {
  const file = join(dir, 'index.json');
  try {
    const manifest = parseManifest(JSON.parse(await readFile(file, 'utf8')), file);
    return manifest.models.filter((m): m is SvmModelEntry => m.kind === 'svm');
  } catch (error) {
    const why = error instanceof SyntaxError ? `${file} is not valid JSON (${error.message})` : (error as Error).message;
    console.error(`bench:svm: ${why}`);
    process.exit(1);
  }
}
const svms = await svmEntries();
if (svms.length === 0) {
  console.log(`no SVM in ${join(dir, 'index.json')}: train one with npm run train -- svm-au (or svm-pixels)`);
  process.exit(0);
}
let pixels: Float32Array[] | undefined;
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
console.log('model                 rows   SVs     file MB  p50 ms/face  p95 ms/face');
for (const m of svms) {
  const modelDir = join(dir, m.path, '..');
  const model = await readSvmModel(modelDir);
  const bytes = (await stat(join(modelDir, 'weights.bin'))).size + (await stat(join(modelDir, 'model.json'))).size;
  const spec = parseSvmInput(model.input);
  let rows: ArrayLike<number>[];
  if (m.input.type === 'pixels') {
    if (!pixels) {
      const data = await loadFer2013(resolveFer2013Path(), { limitPerSplit: n });
      pixels = pixelRows(data.test.pixels, data.test.count);
    }
    rows = pixels;
  } else {
    // Random rows in the features' typical range; the cost depends on the sizes, not the values.
    rows = Array.from({ length: n }, (_, i) => Float32Array.from({ length: model.inputDim }, (_, j) => Math.sin(i * 7 + j) * 0.5 + 0.5));
  }
  // Timed per face as the app runs it: the input adapter (HOG for pixel models) and the SVM.
  const run = (x: ArrayLike<number>) => predictSvm(model, svmInputOf(spec, x, x));
  for (let i = 0; i < 20; i++) run(rows[i % rows.length]!); // warm-up
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    run(rows[i % rows.length]!);
    times.push(performance.now() - t0);
  }
  console.log(
    `${m.id.padEnd(20)} ${String(n).padStart(5)} ${String(model.totalSV).padStart(6)} ${(bytes / 1e6).toFixed(2).padStart(10)} ${percentile(times, 0.5).toFixed(3).padStart(12)} ${percentile(times, 0.95).toFixed(3).padStart(12)}`,
  );
}
if (svms.some((m) => m.input.type !== 'pixels'))
  console.log('(AU-feature rows are synthetic: an RBF SVM costs the same whatever the values)');
