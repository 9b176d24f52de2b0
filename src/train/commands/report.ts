/**
 * npm run report [-- --data <personal folder>] [--out models]
 *
 * The model comparison: every model of models/index.json on FER2013 PrivateTest (from its own
 * report.json) and on the personal set's validation split (scored here, through the app's
 * pipeline in headless Chromium), with size and per-face latency, plus every model's prediction
 * for the personal set's unknown/ photos. Writes models/REPORT.md and models/report.json.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import {
  parseManifest,
  parseRealFaces,
  parseReport,
  REAL_FACES_FILE,
  REAL_FACES_NEUTRAL_FILE,
  REAL_FACES_NEUTRAL_AUTO_FILE,
  type ModelReport,
} from '../../core/contracts/index.ts';
import { EMOTIONS } from '../../core/labels.ts';
import { classificationReport, confusionMatrix } from '../../core/metrics.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { parseOptions, readCommandLine } from '../util/cli-args.ts';
import { buildComparison, type ComparisonModelInput, type ComparisonReportInput, type UnknownPrediction } from '../report/comparison.ts';
import { scanPersonalFolder } from '../data/personal-dataset.ts';
import { predictImages, type PredictedImage } from '../predict/predict.ts';
import { renderRealFacesTable } from '../faces/render.ts';

const USAGE = `usage: npm run report [-- --data <personal folder>] [--models DIR]

  --data DIR    personal folder (default: the one the fine-tuned CNN was trained on, else ../shared/data/faces/jaffe)
  --models DIR  models folder (default: models)`;

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    // Only what the app downloads: the model files, not the report.
    if (e.isFile() && /^(model\.json|.*\.bin)$/.test(e.name)) total += (await stat(join(dir, e.name))).size;
  }
  return total;
}

/** A JSON file's value; throws naming the file when it is unreadable or not JSON. */
async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file} is unreadable or not JSON (${(e as Error).message})`, { cause: e });
  }
}

function top(probs: number[]): { label: string; prob: number } {
  let best = 0;
  probs.forEach((p, i) => (p > probs[best]! ? (best = i) : undefined));
  return { label: EMOTIONS[best]!, prob: probs[best]! };
}

/** Scores one model on predicted images with known labels; a missing face counts as wrong. */
function scoreSet(images: PredictedImage[], labels: number[], id: string, setName: string): ComparisonReportInput {
  const yTrue: number[] = [];
  const yPred: number[] = [];
  let noFace = 0;
  images.forEach((img, i) => {
    const m = img.faces[0]?.models[id];
    yTrue.push(labels[i]!);
    if (!m) {
      noFace++;
      // Counted wrong: any class other than the truth.
      yPred.push((labels[i]! + 1) % EMOTIONS.length);
    } else yPred.push(EMOTIONS.indexOf(m.label as (typeof EMOTIONS)[number]));
  });
  const r = classificationReport(confusionMatrix(yTrue, yPred, EMOTIONS.length), EMOTIONS);
  return {
    accuracy: r.accuracy,
    macroAvg: { f1: r.macroAvg.f1 },
    perClass: r.perClass.map((c) => ({ label: c.label, f1: c.f1, support: c.support })),
    labels: [...EMOTIONS],
    dataset: {
      name: setName,
      evaluatedOn: 'validation split',
      ...(noFace ? { note: `${noFace} images without a face counted wrong` } : {}),
    },
  };
}

async function main(): Promise<number> {
  const line = readCommandLine('report', USAGE, process.argv.slice(2), (args) =>
    parseOptions(args, {
      data: { type: 'string' },
      models: { type: 'string', default: 'models' },
      help: { type: 'boolean', short: 'h' },
    }),
  );
  if ('exitCode' in line) return line.exitCode;
  const { values } = line.options;
  const modelsDir = resolve(values.models!);
  const manifestFile = join(modelsDir, 'index.json');
  if (!existsSync(manifestFile)) {
    console.error(`report: ${manifestFile} is missing: train a model first (npm run train -- cnn)`);
    return 2;
  }
  const entries = parseManifest(await readJson(manifestFile), manifestFile).models;
  const reports = new Map<string, ModelReport>();
  for (const m of entries)
    if (m.report) {
      const file = join(modelsDir, m.report);
      if (!existsSync(file)) {
        console.error(`report: ${file} (${m.id}'s report) is missing: its FER2013 figures are left out`);
        continue;
      }
      reports.set(m.id, parseReport(await readJson(file), file));
    }
  // The personal set and its validation split: the fine-tuned CNN's, so every model is scored on
  // the same images (none of which the fine-tuned models trained on).
  const splitOf = (r: ModelReport | undefined) => (r?.extra as { split?: { val?: unknown } } | undefined)?.split?.val;
  const finetuned = [...reports.values()].find((r) => Array.isArray(splitOf(r)) && r.kind === 'cnn');
  const trainedOn = finetuned?.dataset.path;
  const dataDir = resolve(values.data ?? (trainedOn && existsSync(trainedOn) ? trainedOn : '../shared/data/faces/jaffe'));
  const models: ComparisonModelInput[] = [];
  for (const m of entries) {
    const r = reports.get(m.id);
    const sets: Record<string, ComparisonReportInput> = {};
    if (r?.dataset.name === 'FER2013') sets['FER2013 PrivateTest'] = r;
    models.push({ id: m.id, name: m.name, kind: m.kind, sizeBytes: await dirSize(join(modelsDir, dirname(m.path))), reports: sets });
  }

  let unknown: Parameters<typeof buildComparison>[0]['unknown'];
  if (existsSync(dataDir)) {
    const scan = await scanPersonalFolder(dataDir);
    const setName = `${basename(dataDir)} validation split`;
    const valFiles = ((splitOf(finetuned) as string[] | undefined) ?? []).map((f) => join(scan.dir, f));
    const byPath = new Map(scan.items.map((it) => [resolve(it.path), it.label]));
    const val = valFiles.filter((f) => byPath.has(resolve(f)));
    const files = [...val, ...scan.unknown];
    console.error(`scoring ${models.length} models on ${val.length} validation and ${scan.unknown.length} unknown images of ${dataDir}...`);
    const latency = new Map<string, { ms: number; faces: number }>();
    const predicted = await predictImages(files, {
      onTimings: (t) => {
        for (const [id, ms] of Object.entries(t.modelMs)) {
          const a = latency.get(id) ?? { ms: 0, faces: 0 };
          a.ms += ms;
          a.faces += t.faces;
          latency.set(id, a);
        }
      },
    });
    const valImages = predicted.slice(0, val.length);
    const unknownImages = predicted.slice(val.length);
    for (const m of models) {
      if (val.length > 0)
        m.reports[setName] = scoreSet(
          valImages,
          val.map((f) => byPath.get(resolve(f))!),
          m.id,
          setName,
        );
      const l = latency.get(m.id);
      if (l && l.faces > 0) m.latencyMsPerFace = l.ms / l.faces;
    }
    unknown = {
      images: unknownImages.map((img) => ({
        file: relative(scan.dir, img.file).split(sep).join('/'),
        predictions: Object.fromEntries(
          models.map((m): [string, UnknownPrediction | null] => {
            const p = img.faces[0]?.models[m.id];
            return [m.id, p ? top(p.probs) : null];
          }),
        ),
      })),
      ...(scan.unknownLabels
        ? { labels: Object.fromEntries([...scan.unknownLabels].map(([file, label]) => [`unknown/${file}`, EMOTIONS[label]!])) }
        : {}),
    };
  } else {
    console.error(`report: ${dataDir} not found: only FER2013 figures (pass --data <personal folder>)`);
  }
  const { json, markdown } = buildComparison({ models, ...(unknown ? { unknown } : {}), generatedAt: new Date().toISOString() });
  const header =
    `<!-- Generated by \`npm run report\`; do not edit. Latency: per face, in headless Chromium ` +
    `(the batch page, tfjs wasm backend) on ${basename(dataDir)} images. -->\n\n`;
  await writeFileAtomic(join(modelsDir, 'report.json'), JSON.stringify(json, null, 2) + '\n');
  const realFaces = await realFacesSection(modelsDir);
  await writeFileAtomic(join(modelsDir, 'REPORT.md'), header + markdown + realFaces);
  console.log(markdown + realFaces);
  console.error(`wrote ${join(modelsDir, 'REPORT.md')} and ${join(modelsDir, 'report.json')}`);
  return 0;
}

process.exitCode = await main().catch((error: Error) => {
  // A models list or report the readers would refuse: named by the parser, nothing written.
  console.error(`report: ${error.message}`);
  if (process.env.DEBUG) console.error(error.stack);
  return 1;
});

/**
 * models/real-faces.json (written by `npm run evaluate -- --faces DIR --out models/real-faces.json`)
 * as a "Real faces" section, and models/real-faces-neutral.json (the same with --neutral-baseline)
 * and models/real-faces-neutral-auto.json (with --auto-neutral too) below it; empty when absent. Figures are the files', never retyped.
 */
async function realFacesSection(modelsDir: string): Promise<string> {
  const plain = await readRealFaces(join(modelsDir, REAL_FACES_FILE), '');
  const neutral = await readRealFaces(join(modelsDir, REAL_FACES_NEUTRAL_FILE), ' --neutral-baseline');
  const auto = await readRealFaces(join(modelsDir, REAL_FACES_NEUTRAL_AUTO_FILE), ' --neutral-baseline --auto-neutral');
  let text = plain ? `\n## Real faces\n\nModels trained on FER2013 meet other faces live. ${renderRealFacesTable(plain)}` : '';
  if (neutral)
    text +=
      `\n### With each person's neutral face\n\nWhat the live view's "Set my neutral face" gives: every general model with a neutral ` +
      `reference reads each photo against the same person's other neutral photos (never the photo itself). ${renderRealFacesTable(neutral)}`;
  if (auto)
    text +=
      `\n### With each person's neutral face, picked without labels\n\nWhat the live view's "Auto" gives: each photo read against the ` +
      `most relaxed 10 % of the same person's other photos, picked by the models' own p(neutral), no label used. ${renderRealFacesTable(auto)}`;
  return text;
}

async function readRealFaces(file: string, option: string) {
  if (!existsSync(file)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message}); rerun npm run evaluate -- --faces DIR${option} --out ${file}`, {
      cause: e,
    });
  }
  return parseRealFaces(json, file);
}
