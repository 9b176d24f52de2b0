/**
 * Every model on every face of still images, through the app's own pipeline in headless Chromium
 * (the batch page). Used by `npm run predict` and the comparison report.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { parseManifest, type ModelEntry } from '../../core/contracts/index.ts';
import { EMOTIONS } from '../../core/labels.ts';
import { argmax } from '../../core/metrics.ts';
import { base64ToFloat32, type BatchBackend, type BatchImageResult, type BatchInitResult, type BatchNeutral } from '../../core/batch.ts';
import { BatchPages } from '../browser/batch-page.ts';
import { IMAGE_EXTENSIONS } from '../extract/sources.ts';
import { checkFile, readFileChecked, scanFiles, UnreadableFileError, type SkippedPath } from '../data/file-scan.ts';

export interface ModelPrediction {
  label: string;
  probs: number[];
}

export interface PredictedFace {
  /** x, y, width, height in image pixels. */
  box: [number, number, number, number];
  models: Record<string, ModelPrediction>;
  /** The face's AU-style features (src/core/features), with PredictOptions.withFeatures only. */
  features?: Float32Array;
}

export interface PredictedImage {
  file: string;
  faces: PredictedFace[];
  error?: string;
}

/** Per-image model timings, kept apart from the JSON output. */
export interface ImageTimings {
  faces: number;
  modelMs: Record<string, number>;
}

export interface PredictOptions {
  /** Model ids to run (default: every model in models/index.json). */
  models?: string[];
  backend?: BatchBackend;
  pages?: number;
  /** Serve models from this folder instead of ./models. */
  modelsDir?: string;
  /** A person's neutral face (neutral.ts), applied in the page. */
  neutral?: BatchNeutral;
  /** Keep each face's AU-style features (PredictedFace.features); off for the printed output. */
  withFeatures?: boolean;
  /** Called once the page is ready (backend and model statuses). */
  onReady?: (init: BatchInitResult) => void;
  /** Called for each image as soon as it is done, in input order. */
  onImage?: (image: PredictedImage) => void;
  /** Called with each image's model timings (images with faces only). */
  onTimings?: (timings: ImageTimings) => void;
  onConsoleError?: (text: string) => void;
}

/**
 * Expands folders (recursively, image files only, sorted) and keeps explicit files as given.
 * Paths that do not exist come back in `missing`; files that must not be read (a FIFO, a device,
 * over MAX_IMAGE_BYTES, unreadable) in `skipped` with the reason, never opened.
 */
export async function collectImageFiles(paths: string[]): Promise<{ files: string[]; missing: string[]; skipped: SkippedPath[] }> {
  const files: string[] = [];
  const missing: string[] = [];
  const skipped: SkippedPath[] = [];
  const isImage = (name: string) => IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
  for (const p of paths) {
    const info = await stat(p).catch(() => undefined);
    if (!info) missing.push(p);
    else if (info.isDirectory()) {
      const scan = await scanFiles(p, { include: isImage });
      files.push(...scan.files.map((f) => f.path));
      skipped.push(...scan.skipped);
    } else {
      const checked = await checkFile(p);
      if ('file' in checked) files.push(p);
      else skipped.push(checked.skipped);
    }
  }
  return { files, missing, skipped };
}

/** One model's answer as printed: the top label and the probabilities to 4 decimals. */
export function modelPrediction(probs: number[]): ModelPrediction {
  return { label: EMOTIONS[argmax(probs)]!, probs: probs.map((v) => Math.round(v * 1e4) / 1e4) };
}

export function toPredictedImage(file: string, r: BatchImageResult, withFeatures = false): PredictedImage {
  if (r.status !== 'ok') return { file, faces: [], error: r.error ?? 'could not be read as an image' };
  return {
    file,
    faces: r.faces.map((f) => ({
      box: f.box.map((v) => Math.round(v)) as [number, number, number, number],
      models: Object.fromEntries(Object.entries(f.predictions ?? {}).map(([id, probs]) => [id, modelPrediction(probs)])),
      ...(withFeatures ? { features: base64ToFloat32(f.features) } : {}),
    })),
  };
}

const FILES_PER_CALL = 8;

/** Models of the manifest that failed to load as corrupt; the message names each and why. */
export class CorruptModelError extends Error {
  constructor(
    readonly models: { id: string; status: string }[],
    modelsDir: string,
  ) {
    super(
      models.map((m) => `model "${m.id}" (in ${modelsDir}) is ${m.status}`).join('\n') +
        `\n(to run the other models meanwhile, leave ${models.length === 1 ? 'it' : 'them'} out with --models)`,
    );
    this.name = 'CorruptModelError';
  }
}

/** What opening the batch pages takes from PredictOptions (video.ts's options share it). */
export type ModelPagesOptions = Pick<PredictOptions, 'models' | 'backend' | 'modelsDir' | 'neutral' | 'onReady' | 'onConsoleError'>;

/**
 * `pages` batch pages with the models loaded (onReady told). A model whose files fail their checks
 * (or that gives NaN) would only add made-up answers: then the pages are closed and
 * CorruptModelError thrown.
 */
export async function openModelPages(options: ModelPagesOptions, pages: number): Promise<BatchPages> {
  const opened = await BatchPages.open({
    numFaces: 4,
    models: true,
    ...(options.models ? { modelIds: options.models } : {}),
    ...(options.backend ? { backend: options.backend } : {}),
    ...(options.modelsDir ? { modelsDir: options.modelsDir } : {}),
    ...(options.neutral ? { neutral: options.neutral } : {}),
    pages,
    ...(options.onConsoleError ? { onConsoleError: options.onConsoleError } : {}),
  });
  options.onReady?.(opened.init);
  const corrupt = opened.init.models.filter((m) => m.status.startsWith('corrupt'));
  if (corrupt.length > 0) {
    await opened.close();
    throw new CorruptModelError(corrupt, resolve(options.modelsDir ?? process.env.MODELS_DIR ?? 'models'));
  }
  return opened;
}

export async function predictImages(files: string[], options: PredictOptions = {}): Promise<PredictedImage[]> {
  const results: (PredictedImage | undefined)[] = new Array(files.length);
  if (files.length === 0) return [];
  const pages = await openModelPages(options, Math.min(options.pages ?? 2, Math.ceil(files.length / FILES_PER_CALL)));
  let emitted = 0;
  const emit = (): void => {
    // (Not `onImage?.(results[emitted++])`: an optional call skips its arguments, increment included.)
    while (emitted < files.length && results[emitted]) {
      const image = results[emitted++]!;
      options.onImage?.(image);
    }
  };
  try {
    let next = 0;
    const worker = async (page: number): Promise<void> => {
      while (next < files.length) {
        const start = next;
        next += FILES_PER_CALL;
        const group = files.slice(start, start + FILES_PER_CALL);
        type Loaded = { file: string; bytes: Uint8Array } | { file: string; error: string };
        const loaded = await Promise.all(
          group.map(async (file): Promise<Loaded> => {
            try {
              return { file, bytes: await readFileChecked(file) };
            } catch (error) {
              if (!(error instanceof UnreadableFileError)) throw error;
              return { file, error: error.message };
            }
          }),
        );
        const readable = loaded.filter((l): l is { file: string; bytes: Uint8Array } => 'bytes' in l);
        const out =
          readable.length > 0
            ? await pages.processFiles(
                page,
                readable.map((l) => ({ name: l.file, bytes: l.bytes })),
              )
            : [];
        let k = 0;
        loaded.forEach((l, i) => {
          if (!('bytes' in l)) {
            results[start + i] = { file: l.file, faces: [], error: l.error };
            return;
          }
          const r = out[k++]!;
          results[start + i] = toPredictedImage(l.file, r, options.withFeatures);
          if (r.modelMs && r.faces.length > 0) options.onTimings?.({ faces: r.faces.length, modelMs: r.modelMs });
        });
        emit();
      }
    };
    await Promise.all(Array.from({ length: pages.size }, (_, p) => worker(p)));
  } finally {
    await pages.close();
  }
  return results.map((r, i) => r ?? { file: files[i]!, faces: [], error: 'not processed' });
}

/**
 * The manifest's model ids (models/index.json or another models folder), checked as the app checks
 * it (parseManifest); throws naming the file and the entry at fault.
 */
export async function manifestModelIds(modelsDir = 'models'): Promise<string[]> {
  return (await manifestEntries(modelsDir)).map((m) => m.id);
}

/** The entries of `modelsDir`/index.json; throws naming the file when it is not valid. */
export async function manifestEntries(modelsDir = 'models'): Promise<ModelEntry[]> {
  const file = resolve(modelsDir, 'index.json');
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file} is not valid JSON (${(e as Error).message}); fix it, or restore it with git`, { cause: e });
  }
  return parseManifest(json, file).models;
}
