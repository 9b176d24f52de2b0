/**
 * npm run evaluate -- --app-crops: every CNN of a models folder scored on the FER2013 faces the
 * app's own pipeline found (the extraction cache's aligned 48x48 crops, as the live app feeds
 * them), not on FER2013's raw framing. PublicTest by default: it is the selection set, the CNNs
 * never trained on it. PrivateTest is for reporting once, never for choosing between models.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { CnnModelEntry } from '../../core/contracts/index.ts';
import { EMOTIONS, NUM_CLASSES } from '../../core/labels.ts';
import { argmaxRows, classificationReport, confusionMatrix } from '../../core/metrics.ts';
import { resolveFer2013Path } from '../data/fer2013.ts';
import { loadFusionData, memberProbs, type FusionSplit } from '../fusion/data.ts';
import { initWasm } from '../kernels/backend.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { parseOptions, readCommandLine, UsageError } from '../util/cli-args.ts';
import { MANIFEST_FILE, readManifest } from '../util/manifest.ts';

export type AppCropsSplit = 'public' | 'private';

export const APP_CROPS_USAGE = `usage: npm run evaluate -- --app-crops [--models DIR] [--data PATH] [--split public|private] [--json FILE]

  --app-crops      every CNN in the models folder on the FER2013 faces the app's pipeline found
                   (the extraction cache's aligned 48x48 crops; make it with npm run extract),
                   flip TTA as each model's index.json entry says; SVM and fusion entries are skipped
  --models DIR     models folder with index.json (default: models)
  --data PATH      fer2013.csv or .csv.gz (default: ./data/, then ../shared/data/fer2013/)
  --split NAME     public (default: PublicTest, the selection set) or private (PrivateTest: for
                   reporting only, never for choosing between models)
  --json FILE      also write the results as JSON (written atomically)`;

export const PRIVATE_WARNING =
  'warning: scoring PrivateTest. It is for reporting final figures only, never for choosing between models (use PublicTest, the default, for that)';

export interface ClassRecall {
  label: string;
  correct: number;
  total: number;
  recall: number;
}

export interface AppCropScores {
  accuracy: number;
  macroF1: number;
  recall: ClassRecall[];
}

export interface AppCropModelResult extends AppCropScores {
  id: string;
  name: string;
  tta: CnnModelEntry['input']['tta'];
}

export interface AppCropsResult {
  split: 'PublicTest' | 'PrivateTest';
  /** The FER2013 file and its extraction cache (absolute). */
  data: string;
  cacheDir: string;
  /** Images of the split, and how many of them have a face (the crops scored). */
  images: number;
  faces: number;
  models: AppCropModelResult[];
  skipped: { id: string; kind: string; reason: string }[];
}

/** Accuracy, macro F1 and per-class recall of `[count * 7]` probabilities against labels (src/core/metrics.ts). */
export function scoreAppCrops(probs: Float32Array, labels: ArrayLike<number>): AppCropScores {
  const cm = confusionMatrix(labels, argmaxRows(probs, NUM_CLASSES), NUM_CLASSES);
  const report = classificationReport(cm, EMOTIONS);
  return {
    accuracy: report.accuracy,
    macroF1: report.macroAvg.f1,
    recall: report.perClass.map((c, k) => ({ label: c.label, correct: cm[k]![k]!, total: c.support, recall: c.recall })),
  };
}

/** Why an entry is not scored on the cache's crops, or undefined when it is. */
function skipReason(e: { kind: string; input: unknown }): string | undefined {
  if (e.kind !== 'cnn') return `kind "${e.kind}": this command scores CNNs only`;
  const input = (e as CnnModelEntry).input;
  if (input.size !== 48 || input.color !== 'gray')
    return `reads ${input.size}x${input.size} ${input.color} crops; the extraction cache holds 48x48 gray crops`;
  return undefined;
}

export interface AppCropsOptions {
  modelsDir: string;
  /** FER2013 file; default as npm run evaluate resolves it. */
  data?: string;
  split: AppCropsSplit;
  log: (line: string) => void;
}

export async function evaluateAppCrops(o: AppCropsOptions): Promise<AppCropsResult> {
  const modelsDir = resolve(o.modelsDir);
  const entries = await readManifest(modelsDir);
  if (entries.length === 0)
    throw new UsageError(
      `--models: no models listed in ${join(modelsDir, MANIFEST_FILE)} (missing or empty); point --models at a models folder`,
    );
  const data = await loadFusionData(resolveFer2013Path(o.data), o.log);
  const split: FusionSplit = o.split === 'private' ? data.privateTest : data.publicTest;
  const result: AppCropsResult = {
    split: o.split === 'private' ? 'PrivateTest' : 'PublicTest',
    data: data.path,
    cacheDir: data.cacheDir,
    images: split.images,
    faces: split.count,
    models: [],
    skipped: [],
  };
  await initWasm(true);
  for (const e of entries) {
    const reason = skipReason(e);
    if (reason !== undefined) {
      result.skipped.push({ id: e.id, kind: e.kind, reason });
      continue;
    }
    const cnn = e as CnnModelEntry;
    o.log(`scoring ${cnn.id} on ${split.count} crops${cnn.input.tta === 'hflip-mean' ? ' (flip TTA)' : ''}`);
    // memberProbs: the fusion trainer's own inference on these crops (TTA as the entry says).
    const [probs] = await memberProbs([cnn], modelsDir, split);
    result.models.push({ id: cnn.id, name: cnn.name, tta: cnn.input.tta, ...scoreAppCrops(probs!, split.labels) });
  }
  return result;
}

/** The printed table: the faces count, one line per model, then what was skipped. */
export function renderAppCrops(r: AppCropsResult): string {
  const idWidth = Math.max(2, ...r.models.map((m) => m.id.length));
  const lines = [
    `${r.split}: ${r.faces} of ${r.images} images have a face (app-pipeline crops from ${r.cacheDir})`,
    `${'id'.padEnd(idWidth)}  accuracy  macroF1  recall per class (${EMOTIONS.join(' ')})`,
  ];
  for (const m of r.models) {
    const recall = m.recall.map((c) => `${c.correct}/${c.total}`).join(' ');
    lines.push(`${m.id.padEnd(idWidth)}  ${m.accuracy.toFixed(4).padStart(8)}  ${m.macroF1.toFixed(4).padStart(7)}  ${recall}`);
  }
  for (const s of r.skipped) lines.push(`skipped ${s.id}: ${s.reason}`);
  return lines.join('\n');
}

function parse(argv: readonly string[]): { models: string; data?: string; split: AppCropsSplit; json?: string } {
  const { values } = parseOptions(argv, {
    'app-crops': { type: 'boolean' },
    models: { type: 'string' },
    data: { type: 'string' },
    split: { type: 'string' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  const split = values.split ?? 'public';
  if (split !== 'public' && split !== 'private') throw new UsageError(`--split must be public or private, got "${split}"`);
  if (values.json !== undefined && values.json.trim() === '') throw new UsageError('--json needs a file name');
  if (values.models !== undefined && values.models.trim() === '') throw new UsageError('--models needs a folder');
  return {
    models: values.models ?? 'models',
    split,
    ...(values.data !== undefined ? { data: values.data } : {}),
    ...(values.json !== undefined ? { json: values.json } : {}),
  };
}

/** Runs `npm run evaluate -- --app-crops ...` on `argv`; resolves to the exit status (2: usage error). */
export async function appCropsCommand(argv: readonly string[]): Promise<number> {
  const line = readCommandLine('evaluate --app-crops', APP_CROPS_USAGE, argv, parse);
  if ('exitCode' in line) return line.exitCode;
  const o = line.options;
  if (o.split === 'private') console.log(PRIVATE_WARNING);
  let result: AppCropsResult;
  try {
    result = await evaluateAppCrops({
      modelsDir: o.models,
      split: o.split,
      log: (line) => console.error(line),
      ...(o.data !== undefined ? { data: o.data } : {}),
    });
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`evaluate --app-crops: ${error.message}`);
    return 2;
  }
  console.log(renderAppCrops(result));
  if (o.json !== undefined) {
    const file = resolve(o.json);
    await mkdir(dirname(file), { recursive: true });
    await writeFileAtomic(file, JSON.stringify(result, null, 1) + '\n');
    console.error(`wrote ${o.json}`);
  }
  return 0;
}
