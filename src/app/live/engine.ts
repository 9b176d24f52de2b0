/**
 * Setting up the whole on-device pipeline: face landmarker, models manifest, tfjs backend and
 * models, then the detect/classify pipeline over them. One setup for the live session
 * (session.ts), the library (src/lib) and the batch page (src/app/batch).
 */
import { loadManifest, type ManifestState, type ModelEntry } from '../manifest.ts';
import { DEFAULT_ASSETS, type AssetUrls } from './assets.ts';
import { startInference, type Inference, type ModelsWhere } from './inference-client.ts';
import { Landmarker, mediapipeTasks } from './landmarker.ts';
import { workerTasks } from './landmarker-remote.ts';
import { LivePipeline, STILL_REUSE, type DetectOutput, type PipelineSettings } from './pipeline.ts';
import type { ModelStatus } from './runner.ts';
import type { BackendChoice, BackendName } from './types.ts';

export interface EngineOptions {
  assets?: AssetUrls;
  /** undefined: WebGPU, then WebGL, then wasm, then cpu. */
  backend?: BackendName | undefined;
  where: ModelsWhere;
  /** With where = 'split': split even when it gains nothing (tests). */
  forceSplit?: boolean;
  /** With where = 'worker': read video frames ahead (pipeline.ts; default true). */
  readAhead?: boolean;
  /** On frames read ahead where the faces held still, skip the landmarker, at most this many frames in a row (pipeline.ts StillReuse; default 0: never). */
  maxReusedFrames?: number;
  maxFaces: number;
  /** Where MediaPipe's landmarker runs: this thread (default) or its own worker (landmarker-remote.ts). */
  landmarker?: 'page' | 'worker';
  /** Which manifest models to load: all of them, these ids (an unknown id is an error), or none. */
  models: 'all' | 'none' | readonly string[];
  /** A manifest that cannot be read is an error (the library), not just a note (the app). */
  requireManifest?: boolean;
  settings: PipelineSettings;
  output?: DetectOutput;
}

export interface EngineEvents {
  /** `done` of `total` steps, with what is happening. */
  progress?(step: string, done: number, total: number): void;
  /** The manifest's state and the entries that will be loaded. */
  manifest?(state: ManifestState, entries: ModelEntry[]): void;
  backend?(choice: BackendChoice): void;
  status?(id: string, status: ModelStatus): void;
}

export interface Engine {
  readonly landmarker: Landmarker;
  /** undefined when no model was asked for or the manifest has none. */
  readonly inference: Inference | undefined;
  readonly pipeline: LivePipeline;
  readonly manifest: ManifestState;
  /** The manifest entries asked for, in manifest order. */
  readonly entries: ModelEntry[];
  close(): void;
}

/** An error in setup, worded for the user, naming what to fix. */
export class EngineError extends Error {
  override name = 'EngineError';
}

/** The entries `models` asks for; throws naming unknown ids and the ones available. */
export function selectEntries(all: readonly ModelEntry[], models: EngineOptions['models'], manifestUrl: string): ModelEntry[] {
  if (models === 'none') return [];
  if (models === 'all') return [...all];
  const known = new Set(all.map((e) => e.id));
  const unknown = models.filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new EngineError(
      `models: ${unknown.map((id) => `"${id}"`).join(', ')} not in ${manifestUrl} (it lists ${all.map((e) => e.id).join(', ') || 'no model'})`,
    );
  }
  const wanted = new Set(models);
  return all.filter((e) => wanted.has(e.id));
}

export async function loadEngine(
  options: EngineOptions,
  events: EngineEvents = {},
  isCancelled: () => boolean = () => false,
): Promise<Engine> {
  const assets = options.assets ?? DEFAULT_ASSETS;
  const total = 3;
  events.progress?.('Loading the face landmarker…', 0, total);
  let landmarker: Landmarker;
  try {
    landmarker = await Landmarker.create(options.maxFaces, options.landmarker === 'worker' ? workerTasks(assets) : mediapipeTasks(assets));
  } catch (error) {
    throw new EngineError(
      `The face landmarker could not load from ${assets.faceLandmarkerTask} and ${assets.mediapipeWasm} (${(error as Error).message}). Run "npm run setup-assets" and reload.`,
      { cause: error },
    );
  }
  let inference: Inference | undefined;
  try {
    events.progress?.('Reading the models manifest…', 1, total);
    const manifestUrl = `${assets.models}index.json`;
    const manifest: ManifestState =
      options.models === 'none' ? { status: 'missing' } : await loadManifest((url) => fetch(url, { cache: 'no-cache' }), assets.models);
    if (options.requireManifest && options.models !== 'none' && manifest.status !== 'ready') {
      throw new EngineError(
        manifest.status === 'error'
          ? `The models manifest could not be read: ${manifest.message}`
          : `No models manifest at ${manifestUrl} (HTTP 404): set modelsUrl to the folder holding index.json.`,
      );
    }
    const entries = manifest.status === 'ready' ? selectEntries(manifest.manifest.models, options.models, manifestUrl) : [];
    events.manifest?.(manifest, entries);
    // With no entry the backend is still started: the HUD names it, and a manifest can grow.
    if (options.models !== 'none') {
      events.progress?.(
        `Starting TensorFlow.js (${options.backend ?? 'WebGPU → WebGL → wasm'}) and loading ${entries.length} model(s)…`,
        2,
        total,
      );
      let loaded = 0;
      inference = await startInference({
        where: options.where,
        backend: options.backend,
        entries,
        onBackend: (choice) => events.backend?.(choice),
        onStatus: (id, status) => {
          events.status?.(id, status);
          if (status.state !== 'loading')
            events.progress?.(`Loaded ${++loaded} of ${entries.length} model(s)…`, 2 + loaded / Math.max(1, entries.length), total);
        },
        forceSplit: options.forceSplit ?? false,
        readAhead: options.readAhead ?? true,
        assets,
      });
    }
    if (isCancelled()) throw new EngineError('setup cancelled');
    const pipeline = new LivePipeline(landmarker, inference, { ...options.settings }, undefined, undefined, options.output);
    if (options.maxReusedFrames) pipeline.reuse = { ...STILL_REUSE, maxFrames: options.maxReusedFrames };
    events.progress?.('Ready', total, total);
    return {
      landmarker,
      inference,
      pipeline,
      manifest,
      entries,
      close: () => {
        landmarker.close();
        inference?.terminate();
      },
    };
  } catch (error) {
    landmarker.close();
    inference?.terminate();
    throw error;
  }
}
