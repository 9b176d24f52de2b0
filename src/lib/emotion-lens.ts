/**
 * createEmotionLens: the on-device emotion component as a library. Built on the app's own engine
 * (src/app/live: landmarker, detect stage, model runners, inference worker), so the app, the batch
 * page and the library run one pipeline.
 */
import { ACTION_UNITS } from '../core/features/index.ts';
import { EMOTIONS, emotionName } from '../core/labels.ts';
import { loadEngine, type Engine } from '../app/live/engine.ts';
import { applyBaseline, autoNeutralTap, captureNeutral, NeutralFaceStore, neutralReferences } from '../app/live/neutral-face.ts';
import type { RawTap } from '../app/live/pipeline.ts';
import { parseNeutralBaseline, type NeutralBaseline } from '../core/neutral-baseline.ts';
import type { ModelEntry } from '../app/manifest.ts';
import type { ModelStatus } from '../app/live/runner.ts';
import type { BackendChoice, FaceResult as FrameFace } from '../app/live/types.ts';
import { validateConfig, type EmotionLensConfig, type EmotionLensOptions } from './config.ts';
import type {
  Consensus,
  DetectOptions,
  DetectResult,
  DetectSource,
  FaceResult,
  LoadEvents,
  LoadResult,
  ModelPrediction,
} from './result.ts';

export interface EmotionLens {
  /** The validated configuration (defaults filled in, URLs absolute). */
  readonly config: Readonly<EmotionLensConfig>;
  /**
   * Loads the face landmarker, the manifest and the models. Resolves with the backend and every
   * model's status; rejects when the landmarker or the manifest cannot load or no backend works.
   * Called again, returns the same promise.
   */
  load(events?: LoadEvents): Promise<LoadResult>;
  /** Faces and emotions in one frame or image; loads first if needed. Calls run one at a time. */
  detect(source: DetectSource, options?: DetectOptions): Promise<DetectResult>;
  /**
   * Captures a person's neutral face: resolves after the next `frames` (default 30) detect() calls
   * that find exactly one face, with a baseline to pass to setNeutralBaseline (and to store as JSON
   * if wanted). Keep calling detect() on the video meanwhile; rejects after `timeoutMs` (default 10 s).
   */
  captureNeutral(options?: { frames?: number; timeoutMs?: number; signal?: AbortSignal }): Promise<NeutralBaseline>;
  /**
   * The general models with a neutral reference read faces against this person's neutral face from
   * the next detect() on (undefined: off). Returns the models moved and those whose reference
   * changed since the capture (not moved). Loads first if needed.
   */
  setNeutralBaseline(baseline: NeutralBaseline | undefined): Promise<{ moved: string[]; stale: string[] }>;
  /**
   * Learns the neutral face from the detect() calls on a video, without a capture: the most relaxed
   * 10 % of the last 900 frames with exactly one face, updated every 30 frames once 90 are in
   * (src/core/auto-neutral.ts). Applied while no baseline is set with setNeutralBaseline;
   * `onBaseline` gets each new one. `false` stops and forgets it. Loads first if needed.
   */
  setAutoNeutral(on: boolean, onBaseline?: (baseline: NeutralBaseline) => void): Promise<void>;
  /** Forgets face tracks and smoothing (call when a video source changes). */
  reset(): void;
  /** Frees the landmarker, the models and the worker; the lens cannot be used afterwards. */
  dispose(): void;
}

/** Checks `options` (ConfigError names the field at fault) and returns an unloaded lens. */
export function createEmotionLens(options: EmotionLensOptions = {}): EmotionLens {
  return new Lens(validateConfig(options));
}

const AU_ESTIMATES = ACTION_UNITS.map((au) => ({ au: au.name.replace(/_r$/, ''), name: au.description }));

class Lens implements EmotionLens {
  private loading: Promise<LoadResult> | undefined;
  private engine: Engine | undefined;
  private entries = new Map<string, ModelEntry>();
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;
  /** The app's rule for the neutral face (a set one wins over a learnt one), without storage. */
  private neutral: NeutralFaceStore | undefined;
  private autoTap: RawTap | undefined;
  private onLearnt: ((baseline: NeutralBaseline) => void) | undefined;

  constructor(readonly config: Readonly<EmotionLensConfig>) {}

  load(events: LoadEvents = {}): Promise<LoadResult> {
    if (this.disposed) return Promise.reject(new Error('EmotionLens: load() after dispose(); create a new lens'));
    this.loading ??= this.start(events);
    return this.loading;
  }

  private async start(events: LoadEvents): Promise<LoadResult> {
    const c = this.config;
    let backend: BackendChoice | null = null;
    const statuses = new Map<string, ModelStatus>();
    const engine = await loadEngine(
      {
        assets: {
          models: c.modelsUrl,
          mediapipeWasm: c.mediapipeWasmUrl,
          faceLandmarkerTask: c.faceLandmarkerUrl,
          tfjsWasm: c.tfjsWasmUrl,
        },
        backend: c.backend === 'auto' ? undefined : c.backend,
        where: c.worker,
        maxFaces: c.maxFaces,
        models: c.models,
        requireManifest: true,
        settings: { smoothing: c.smoothing > 0, smoothingMs: c.smoothing },
        output: { features: 'always', raw: c.landmarks },
      },
      {
        ...(events.onProgress ? { progress: events.onProgress } : {}),
        backend: (choice) => (backend = choice),
        status: (id, status) => statuses.set(id, status),
      },
      () => this.disposed,
    ).catch((error: unknown) => {
      this.loading = undefined; // a later load() tries again
      throw error;
    });
    if (this.disposed) {
      engine.close();
      throw new Error('EmotionLens: disposed while loading');
    }
    this.engine = engine;
    this.entries = new Map(engine.entries.map((e) => [e.id, e]));
    return {
      backend,
      models: engine.entries.map((e) => ({ id: e.id, name: e.name, kind: e.kind, status: statuses.get(e.id) ?? { state: 'loading' } })),
    };
  }

  detect(source: DetectSource, options: DetectOptions = {}): Promise<DetectResult> {
    // One at a time: MediaPipe's video mode needs increasing timestamps, and frames share a tracker.
    const run = this.queue.then(() => this.detectNow(source, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async detectNow(source: DetectSource, options: DetectOptions): Promise<DetectResult> {
    if (this.disposed) throw new Error('EmotionLens: detect() after dispose(); create a new lens');
    await this.load();
    const engine = this.engine!;
    const { width, height } = sourceSize(source);
    const mode = options.mode ?? (isVideo(source) ? 'video' : 'image');
    const frame = await engine.pipeline.process(source, mode, width, height);
    // Boxes come in the pixels the detector read (scaled under its cap): back to the source's.
    const sx = width / frame.width;
    const sy = height / frame.height;
    return { faces: frame.faces.map((f) => this.face(f, sx, sy, width, height)), width, height, times: frame.times };
  }

  private face(f: FrameFace, sx: number, sy: number, width: number, height: number): FaceResult {
    const models: ModelPrediction[] = f.readings.map((r) => {
      const entry = this.entries.get(r.modelId);
      return {
        id: r.modelId,
        name: entry?.name ?? r.modelId,
        kind: entry?.kind ?? 'cnn',
        label: emotionName(r.top),
        score: r.probs[r.top]!,
        probs: [...r.probs],
      };
    });
    const features = f.features ?? new Float32Array(0);
    return {
      id: f.trackId,
      box: { x: f.box.x * sx, y: f.box.y * sy, width: f.box.width * sx, height: f.box.height * sy },
      ...(f.raw ? { landmarks: f.raw.landmarks.map((p) => ({ x: p.x * width, y: p.y * height, z: p.z })) } : {}),
      crop: f.crop ?? { size: 0, pixels: new Float32Array(0) },
      actionUnits: AU_ESTIMATES.map((au, i) => ({ ...au, value: features[i] ?? 0 })),
      features,
      models,
      consensus: consensusOf(models),
    };
  }

  async captureNeutral(options: { frames?: number; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<NeutralBaseline> {
    await this.load();
    return captureNeutral(this.engine!.pipeline, neutralReferences(this.engine!.entries), options);
  }

  async setNeutralBaseline(baseline: NeutralBaseline | undefined): Promise<{ moved: string[]; stale: string[] }> {
    await this.load();
    const store = this.neutralStore();
    store.set(baseline && parseNeutralBaseline(baseline));
    const { moved, stale } = store.current;
    return { moved, stale };
  }

  async setAutoNeutral(on: boolean, onBaseline?: (baseline: NeutralBaseline) => void): Promise<void> {
    await this.load();
    this.onLearnt = on ? onBaseline : undefined;
    this.neutralStore().setAuto(on);
  }

  private neutralStore(): NeutralFaceStore {
    const pipeline = this.engine!.pipeline;
    const references = neutralReferences(this.engine!.entries);
    this.neutral ??= new NeutralFaceStore(
      undefined,
      (baseline) => applyBaseline(pipeline, baseline, references),
      (listener) => {
        if (this.autoTap) pipeline.rawTaps.delete(this.autoTap);
        this.autoTap = undefined;
        if (!listener) return;
        this.autoTap = autoNeutralTap(references, (baseline) => {
          listener(baseline);
          this.onLearnt?.(baseline);
        });
        pipeline.rawTaps.add(this.autoTap);
      },
    );
    return this.neutral;
  }

  reset(): void {
    this.engine?.pipeline.reset();
  }

  dispose(): void {
    this.disposed = true;
    this.engine?.close();
    this.engine = undefined;
  }
}

/** Mean of the models' probabilities, its top label, and whether every model says the same. */
export function consensusOf(models: readonly Pick<ModelPrediction, 'label' | 'probs'>[]): Consensus | null {
  if (models.length === 0) return null;
  const probs = EMOTIONS.map((_, k) => models.reduce((sum, m) => sum + (m.probs[k] ?? 0), 0) / models.length);
  let top = 0;
  for (let k = 1; k < probs.length; k++) if (probs[k]! > probs[top]!) top = k;
  const label = emotionName(top);
  return { label, probs, agree: models.every((m) => m.label === label) };
}

function isVideo(source: DetectSource): source is HTMLVideoElement {
  return typeof HTMLVideoElement !== 'undefined' && source instanceof HTMLVideoElement;
}

/** The source's own size; throws naming what to wait for when it has no pixels yet. */
function sourceSize(source: DetectSource): { width: number; height: number } {
  if (isVideo(source)) {
    if (source.readyState < 2 || !source.videoWidth)
      throw new Error(`EmotionLens.detect: the video has no frame yet (readyState ${source.readyState}); wait for its "loadeddata" event`);
    return { width: source.videoWidth, height: source.videoHeight };
  }
  if (typeof HTMLImageElement !== 'undefined' && source instanceof HTMLImageElement) {
    if (!source.complete || !source.naturalWidth)
      throw new Error('EmotionLens.detect: the image is not decoded yet; await image.decode() first');
    return { width: source.naturalWidth, height: source.naturalHeight };
  }
  const { width, height } = source as { width: number; height: number };
  if (!(width > 0 && height > 0))
    throw new Error(`EmotionLens.detect: the source is ${width}x${height} px; give a canvas or bitmap with pixels`);
  return { width, height };
}
