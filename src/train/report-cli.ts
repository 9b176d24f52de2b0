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
import { basename, join, relative, resolve, sep } from 'node:path';
import { EMOTIONS } from '../core/labels.ts';
import { classificationReport, confusionMatrix } from '../core/metrics.ts';
import { writeFileAtomic } from './atomic.ts';
import { parseOptions, UsageError, wantsHelp } from './cli-args.ts';
import { buildComparison, type ComparisonModelInput, type ComparisonReportInput, type UnknownPrediction } from '../core/comparison.ts';
import { scanPersonalFolder } from './personal-dataset.ts';
import { predictImages, type PredictedImage } from './predict/predict.ts';

const USAGE = `usage: npm run report [-- --data <personal folder>] [--models DIR]

  --data DIR    personal folder (default: the one the fine-tuned CNN was trained on, else ../shared/data/faces/jaffe)
  --models DIR  models folder (default: models)`;

interface ManifestModel {
  id: string;
  name: string;
  kind: string;
  path: string;
  report?: string;
}

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    // Only what the app downloads: the model files, not the report.
    if (e.isFile() && /^(model\.json|.*\.bin)$/.test(e.name)) total += (await stat(join(dir, e.name))).size;
  }
  return total;
}

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
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
    dataset: { name: setName, evaluatedOn: 'validation split', ...(noFace ? { note: `${noFace} images without a face counted wrong` } : {}) },
  };
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (wantsHelp(args)) {
    console.log(USAGE);
    return 0;
  }
  let values;
  try {
    ({ values } = parseOptions(args, { data: { type: 'string' }, models: { type: 'string', default: 'models' }, help: { type: 'boolean', short: 'h' } }));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`report: ${error.message}\n${USAGE}`);
    return 2;
  }
  const modelsDir = resolve(values.models!);
  const manifest = await readJson(join(modelsDir, 'index.json'));
  if (!manifest) {
    console.error(`report: ${join(modelsDir, 'index.json')} is missing or not JSON: train a model first (npm run train -- cnn)`);
    return 2;
  }
  const entries = (manifest.models as ManifestModel[]) ?? [];
  const reports = new Map<string, Record<string, unknown>>();
  for (const m of entries) if (m.report) {
    const r = await readJson(join(modelsDir, m.report));
    if (r) reports.set(m.id, r);
  }
  // The personal set and its validation split: the fine-tuned CNN's, so every model is scored on
  // the same images (none of which the fine-tuned models trained on).
  const finetuned = [...reports.values()].find((r) => Array.isArray((r.extra as { split?: { val?: unknown } })?.split?.val) && r.kind === 'cnn');
  const trainedOn = (finetuned?.dataset as { path?: string } | undefined)?.path;
  const dataDir = resolve(values.data ?? (trainedOn && existsSync(trainedOn) ? trainedOn : '../shared/data/faces/jaffe'));
  const models: ComparisonModelInput[] = [];
  for (const m of entries) {
    const r = reports.get(m.id);
    const sets: Record<string, ComparisonReportInput> = {};
    if (r && (r.dataset as { name?: string })?.name === 'FER2013') sets['FER2013 PrivateTest'] = r as unknown as ComparisonReportInput;
    models.push({ id: m.id, name: m.name, kind: m.kind, sizeBytes: await dirSize(join(modelsDir, m.id)), reports: sets });
  }

  let unknown: Parameters<typeof buildComparison>[0]['unknown'];
  if (existsSync(dataDir)) {
    const scan = await scanPersonalFolder(dataDir);
    const setName = `${basename(dataDir)} validation split`;
    const valFiles = ((finetuned?.extra as { split?: { val?: string[] } })?.split?.val ?? []).map((f) => join(scan.dir, f));
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
      if (val.length > 0) m.reports[setName] = scoreSet(valImages, val.map((f) => byPath.get(resolve(f))!), m.id, setName);
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
  await writeFileAtomic(join(modelsDir, 'REPORT.md'), header + markdown);
  console.log(markdown);
  console.error(`wrote ${join(modelsDir, 'REPORT.md')} and ${join(modelsDir, 'report.json')}`);
  return 0;
}

process.exitCode = await main();
