/**
 * The live session: setup, the source (camera, video file or still image), the two-stage frame
 * loop and everything the live view shows. No DOM of its own: the view hands it its <video> as a
 * VideoSurface and its loaded <img>, subscribes to the state (the Svelte store contract), and calls
 * the actions; tests drive it with fakes (test/unit/app/session.test.ts).
 *
 * A source given while setup is still running (a file dropped on the page as it loads) waits: when
 * setup finishes, its frame loop starts or its image is processed.
 */
import type { ManifestState, ModelEntry } from '../manifest.ts';
import { parseBackendParam } from './backend-param.ts';
import { classifyCameraError, type CameraInfo, type CameraProblem } from './camera.ts';
import type { EngineEvents, EngineOptions } from './engine.ts';
import { ImageSizeError } from './image-cap.ts';
import type { Inference, ModelsWhere } from './inference-client.ts';
import { DetectorError, type Landmarker } from './landmarker.ts';
import { STILL_REUSE, type Detection, type FrameSource, type LivePipeline, type PipelineSettings, type RawTap } from './pipeline.ts';
import type { ModelStatus } from './runner.ts';
import { FrameStats } from './stats.ts';
import { applyBaseline, autoNeutralTap, captureNeutral, neutralReferences, type CaptureOptions } from './neutral-face.ts';
import type { NeutralBaseline } from '../../core/neutral-baseline.ts';
import type { BackendChoice, BackendName, FrameResult } from './types.ts';

export type Source =
  | { kind: 'none' }
  | { kind: 'camera'; stream: MediaStream }
  | { kind: 'video'; url: string; name: string }
  | { kind: 'image'; url: string; name: string };

export type Problem =
  | { kind: 'camera'; problem: CameraProblem; detail: string }
  | { kind: 'file'; message: string }
  | { kind: 'frame'; message: string; stopped: boolean };

export interface SessionState {
  phase: 'loading' | 'ready' | 'fatal';
  progress: { step: string; done: number; total: number };
  fatal: string;
  backend: BackendChoice | null;
  entries: ModelEntry[];
  statuses: Record<string, ModelStatus>;
  /** Why faces are found but not read (no manifest, unreadable manifest). */
  manifestNote: string;
  source: Source;
  problem: Problem | null;
  cameras: CameraInfo[];
  cameraId: string;
  /** The latest result of the current source (null: none yet, or none for this source). */
  frame: FrameResult | null;
  fps: number;
  modelsWhere: ModelsWhere;
  lanes: { page: string[]; worker: string[] } | undefined;
}

/** What the session needs of a loaded engine (engine.ts; fakes in tests). */
export interface SessionEngine {
  readonly landmarker: Pick<Landmarker, 'setNumFaces'>;
  readonly inference: Pick<Inference, 'where' | 'lanes' | 'memory' | 'ahead' | 'skip'> | undefined;
  readonly pipeline: Pick<
    LivePipeline,
    'detect' | 'classify' | 'process' | 'reset' | 'settings' | 'neutral' | 'neutralFeatures' | 'rawTaps'
  >;
  close(): void;
}

/** The view's <video> element, as the session drives it. */
export interface VideoSurface {
  /** Shows and plays a camera stream. */
  showStream(stream: MediaStream): Promise<void>;
  /** Shows and plays a video file in a loop; rejects when it cannot be played. */
  showUrl(url: string): Promise<void>;
  /** Stops and empties the element. */
  clear(): void;
  /** Resolves at the next presented frame. */
  nextFrame(): Promise<void>;
  /** The frame to read now, or undefined while none is decoded. */
  current(): { source: FrameSource; width: number; height: number } | undefined;
  /** A video file paused by the user (no new frames come). */
  paused(): boolean;
}

export interface SessionDeps {
  loadEngine(options: EngineOptions, events: EngineEvents, isCancelled: () => boolean): Promise<SessionEngine>;
  openCamera(deviceId?: string): Promise<MediaStream>;
  listCameras(): Promise<CameraInfo[]>;
  stopStream(stream: MediaStream): void;
  createUrl(file: Blob): string;
  revokeUrl(url: string): void;
  now(): number;
}

export interface SessionOptions {
  backend: BackendName | undefined;
  where: ModelsWhere;
  forceSplit: boolean;
  /** With where = 'worker': read video frames ahead (pipeline.ts). */
  readAhead: boolean;
  /**
   * Frames read ahead where the faces held still skip the landmarker, at most this many in a row
   * (pipeline.ts StillReuse; 0: never). ?reuse=N sets it (default STILL_REUSE.maxFrames).
   */
  maxReusedFrames: number;
  /** Where the face landmarker runs (engine.ts). */
  landmarker: 'page' | 'worker';
  maxFaces: number;
  smoothing: boolean;
  smoothingMs: number;
}

/**
 * The URL parameters. ?backend= forces a tfjs backend. On 2 cores or more all models run in the
 * inference worker and video frames are read ahead (pipeline.ts: the crop models start while this
 * thread finds the landmarks; fastest here, docs/benchmarks.md); on one core, all on the page.
 * ?worker=0 keeps them on the page, ?worker=1 in the worker, ?worker=split splits them between the
 * page and the worker (each frame read by both at once), ?ahead=0 turns read ahead off, ?reuse=0
 * runs the landmarker on every frame (else frames where the faces held still reuse the last
 * landmarks, at most ?reuse=N in a row, default 1).
 * ?landmarker=worker runs MediaPipe in its own worker (slower on 2 cores: see landmarker-remote.ts).
 */
export function optionsFromUrl(
  search: string,
  cores: number = globalThis.navigator?.hardwareConcurrency ?? 1,
): Pick<SessionOptions, 'backend' | 'where' | 'forceSplit' | 'readAhead' | 'maxReusedFrames' | 'landmarker'> {
  const params = new URLSearchParams(search);
  const worker = params.get('worker');
  return {
    backend: parseBackendParam(params.get('backend')),
    where: worker === '1' ? 'worker' : worker === '0' ? 'page' : worker === 'split' ? 'split' : cores >= 2 ? 'worker' : 'page',
    forceSplit: worker === 'split',
    readAhead: params.get('ahead') !== '0',
    maxReusedFrames: reuseParam(params.get('reuse')),
    landmarker: params.get('landmarker') === 'worker' ? 'worker' : 'page',
  };
}

/** ?reuse=N: 0-30 frames in a row without the landmarker; anything else is the default. */
function reuseParam(value: string | null): number {
  return value !== null && /^\d{1,2}$/.test(value) && Number(value) <= 30 ? Number(value) : STILL_REUSE.maxFrames;
}

type Listener = (state: SessionState) => void;

/** The crop size detectStill returns (the calibration's, a FER2013 row's). */
const STILL_CROP_SIZE = 48;

/** One face of a still image as detectStill finds it (no model readings). */
export interface StillFace {
  /** The aligned 48x48 gray crop in [0,1]; undefined if the pipeline made no 48 px crop. */
  crop: Float32Array | undefined;
  /** The AU-style features. */
  features: Float32Array | undefined;
}

/**
 * Models run after the general ones on every frame, on the readings' way to the view: the personal
 * models (src/app/calibration/personal-lane.ts). Their entries join the model lists as 'ready'.
 */
export interface ExtraModels {
  readonly entries: ModelEntry[];
  settings: PipelineSettings;
  augment(frame: FrameResult, startMs: number, mode: 'video' | 'image'): Promise<FrameResult>;
  /** Models the user hid, not to run. */
  skip(hidden: readonly string[]): void;
  reset(): void;
}

export class LiveSession {
  readonly stats = new FrameStats();
  private state: SessionState;
  private readonly listeners = new Set<Listener>();
  private engine: SessionEngine | undefined;
  private surface: VideoSurface | undefined;
  private image: FrameSource | undefined;
  private runToken = 0;
  private destroyed = false;
  private maxFaces: number;
  private smoothing: { smoothing: boolean; smoothingMs: number };
  private extra: ExtraModels | undefined;
  private generalEntries: ModelEntry[] = [];
  /** Model ids the user hid: not run (setHiddenModels). */
  private hidden: string[] = [];
  /** The video loop's last detection, read again when the models change while the video is paused. */
  private lastDetection: Detection | undefined;
  /** The running frame loop, if any (detectStill pauses it), and its detect call in progress. */
  private loop: Promise<void> | undefined;
  private detecting: Promise<unknown> | undefined;
  /** detectStill calls, one at a time. */
  private stills: Promise<unknown> = Promise.resolve();
  /** The person's neutral face, applied to the general models that have a reference (neutral-face.ts). */
  private neutralBaseline: NeutralBaseline | undefined;
  /** Learning the neutral face automatically: who gets it, and the tap on the pipeline. */
  private autoNeutral: ((baseline: NeutralBaseline) => void) | undefined;
  private autoTap: RawTap | undefined;

  constructor(
    private readonly options: SessionOptions,
    private readonly deps: SessionDeps,
  ) {
    this.maxFaces = options.maxFaces;
    this.smoothing = { smoothing: options.smoothing, smoothingMs: options.smoothingMs };
    this.state = {
      phase: 'loading',
      progress: { step: 'Starting…', done: 0, total: 3 },
      fatal: '',
      backend: null,
      entries: [],
      statuses: {},
      manifestNote: '',
      source: { kind: 'none' },
      problem: null,
      cameras: [],
      cameraId: '',
      frame: null,
      fps: 0,
      modelsWhere: options.where,
      lanes: undefined,
    };
  }

  /** The Svelte store contract: called now and after every change; returns the unsubscribe. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    listener(this.state);
    return () => this.listeners.delete(listener);
  }

  get current(): SessionState {
    return this.state;
  }

  get ready(): boolean {
    return this.engine !== undefined;
  }

  private set(patch: Partial<SessionState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener(this.state);
  }

  /** The view's <video>; needed before a camera or video source is started. */
  attach(surface: VideoSurface): void {
    this.surface = surface;
  }

  /** Loads everything; resolves when ready (or fatal: see state.phase and state.fatal). */
  async setup(): Promise<void> {
    try {
      const engine = await this.deps.loadEngine(
        {
          backend: this.options.backend,
          where: this.options.where,
          forceSplit: this.options.forceSplit,
          readAhead: this.options.readAhead,
          maxReusedFrames: this.options.maxReusedFrames,
          landmarker: this.options.landmarker,
          maxFaces: this.maxFaces,
          models: 'all',
          settings: { ...this.smoothing },
          // Always (~0.1 ms a face): the panel's action units, calibration capture and the personal
          // AU model read them even when no general model does.
          output: { features: 'always' },
        },
        {
          progress: (step, done, total) => this.set({ progress: { step, done, total } }),
          manifest: (manifest, entries) => {
            this.generalEntries = entries;
            this.set({
              entries: [...entries, ...(this.extra?.entries ?? [])],
              statuses: { ...this.extraStatuses(), ...Object.fromEntries(entries.map((e) => [e.id, { state: 'loading' }])) },
              manifestNote: noteOf(manifest),
            });
          },
          backend: (backend) => this.set({ backend }),
          status: (id, status) => this.set({ statuses: { ...this.state.statuses, [id]: status } }),
        },
        () => this.destroyed,
      );
      if (this.destroyed) {
        engine.close();
        return;
      }
      this.engine = engine;
      engine.pipeline.settings = { ...this.smoothing };
      applyBaseline(engine.pipeline, this.neutralBaseline, neutralReferences(this.generalEntries));
      this.attachAutoNeutral();
      if (this.hidden.length > 0) engine.inference?.skip(this.hidden);
      // maxFaces may have changed while loading.
      if (this.maxFaces !== this.options.maxFaces) await engine.landmarker.setNumFaces(this.maxFaces).catch(() => undefined);
      this.set({ phase: 'ready', modelsWhere: engine.inference?.where ?? this.options.where, lanes: engine.inference?.lanes });
      this.resume();
      const cameras = await this.deps.listCameras().catch(() => []);
      this.set({ cameras });
    } catch (error) {
      if (this.destroyed) return;
      this.set({ phase: 'fatal', fatal: error instanceof Error ? error.message : String(error) });
    }
  }

  /** Setup is done: a source given meanwhile gets its frame loop or its still processed now. */
  private resume(): void {
    const kind = this.state.source.kind;
    if (kind === 'camera' || kind === 'video') this.startLoop();
    else if (kind === 'image' && this.image) void this.processStill();
  }

  /**
   * Models the user hid are not run from the next frame on, so the shown ones get the CPU (a shown
   * fusion still runs its hidden members); hidden models give no readings, so recordings and the
   * timeline hold only the shown ones.
   */
  setHiddenModels(ids: readonly string[]): void {
    if (ids.length === this.hidden.length && ids.every((id, i) => id === this.hidden[i])) return;
    this.hidden = [...ids];
    this.engine?.inference?.skip(this.hidden);
    this.extra?.skip(this.hidden);
    // No new frame will come for an image or a paused video: read the last one again, so a model
    // shown again gets its reading now.
    const kind = this.state.source.kind;
    if (kind === 'image') void this.processStill();
    else if (kind === 'video' && this.surface?.paused()) void this.classifyAgain();
  }

  private async classifyAgain(): Promise<void> {
    const engine = this.engine;
    const last = this.lastDetection;
    if (!engine || !last) return;
    const token = this.runToken;
    // Its early half was used up: the models read its crops afresh.
    const { ahead: _, ...detection } = last;
    try {
      const result = await this.withExtra(await engine.pipeline.classify(detection), last.startMs, 'video');
      if (token === this.runToken && this.surface?.paused()) this.set({ frame: result });
    } catch {
      // The next frame played gets the readings.
    }
  }

  /** Tfjs' tensor count and backend, for the automation hook. */
  memory(): Promise<{ numTensors: number; backend: string }> {
    return this.engine?.inference?.memory() ?? Promise.resolve({ numTensors: 0, backend: '' });
  }

  /**
   * The person's neutral face (undefined: none): the general models with a neutral reference read
   * faces against it from the next frame on. Returns the models it moves and those whose reference
   * changed since the capture (not moved: capture again).
   */
  setNeutralBaseline(baseline: NeutralBaseline | undefined): { moved: string[]; stale: string[] } {
    this.neutralBaseline = baseline;
    if (!this.engine) return { moved: [], stale: [] }; // setup applies it
    const result = applyBaseline(this.engine.pipeline, baseline, neutralReferences(this.generalEntries));
    const kind = this.state.source.kind;
    if (kind === 'image') void this.processStill();
    else if (kind === 'video' && this.surface?.paused()) void this.classifyAgain();
    return result;
  }

  /**
   * Learns the neutral face from the frames of the camera or video (neutral-face.ts autoNeutralTap):
   * `onBaseline` gets each new one; undefined stops. Started again once the models have loaded.
   */
  setAutoNeutral(onBaseline: ((baseline: NeutralBaseline) => void) | undefined): void {
    this.autoNeutral = onBaseline;
    this.attachAutoNeutral();
  }

  private attachAutoNeutral(): void {
    if (this.autoTap) this.engine?.pipeline.rawTaps.delete(this.autoTap);
    this.autoTap = undefined;
    const references = neutralReferences(this.generalEntries);
    if (!this.engine || !this.autoNeutral || references.size === 0) return;
    this.autoTap = autoNeutralTap(references, this.autoNeutral);
    this.engine.pipeline.rawTaps.add(this.autoTap);
  }

  /** Captures the neutral face of the one face in view of the running camera or video (neutral-face.ts). */
  captureNeutral(options: CaptureOptions = {}): Promise<NeutralBaseline> {
    const kind = this.state.source.kind;
    if (!this.engine || (kind !== 'camera' && kind !== 'video'))
      return Promise.reject(new Error('Start the camera (or play a video) first: the neutral face is captured from the live picture.'));
    return captureNeutral(this.engine.pipeline, neutralReferences(this.generalEntries), options);
  }

  setSmoothing(smoothing: boolean, smoothingMs: number): void {
    this.smoothing = { smoothing, smoothingMs };
    if (this.engine) this.engine.pipeline.settings = { smoothing, smoothingMs };
    if (this.extra) this.extra.settings = { smoothing, smoothingMs };
  }

  /** Sets (or, with undefined, removes) the models run after the general ones; from the next frame on. */
  setExtraModels(extra: ExtraModels | undefined): void {
    const statuses = { ...this.state.statuses };
    for (const e of this.extra?.entries ?? []) delete statuses[e.id];
    this.extra = extra;
    if (extra) {
      extra.settings = { ...this.smoothing };
      extra.skip(this.hidden);
    }
    this.set({ entries: [...this.generalEntries, ...(extra?.entries ?? [])], statuses: { ...statuses, ...this.extraStatuses() } });
  }

  private extraStatuses(): Record<string, ModelStatus> {
    return Object.fromEntries((this.extra?.entries ?? []).map((e) => [e.id, { state: 'ready' } as ModelStatus]));
  }

  /** The frame with the extra models' readings added (as is when there are none). */
  private withExtra(frame: FrameResult, startMs: number, mode: 'video' | 'image'): Promise<FrameResult> {
    return this.extra ? this.extra.augment(frame, startMs, mode) : Promise.resolve(frame);
  }

  async setMaxFaces(maxFaces: number): Promise<void> {
    if (maxFaces === this.maxFaces) return;
    this.maxFaces = maxFaces;
    if (!this.engine) return; // setup applies it
    await this.engine.landmarker.setNumFaces(maxFaces).catch(() => undefined); // a failure is reported by the next frame
    if (this.state.source.kind === 'image') await this.processStill();
  }

  stopSource(): void {
    this.runToken++;
    const source = this.state.source;
    if (source.kind === 'camera') this.deps.stopStream(source.stream);
    if (source.kind === 'video' || source.kind === 'image') this.deps.revokeUrl(source.url);
    this.surface?.clear();
    this.loop = undefined; // it ends at its next frame, or never (a cleared surface has none)
    this.image = undefined;
    this.lastDetection = undefined;
    this.stats.reset();
    this.engine?.pipeline.reset();
    this.extra?.reset();
    this.set({ source: { kind: 'none' }, frame: null, fps: 0 });
  }

  async startCamera(): Promise<void> {
    this.stopSource();
    this.set({ problem: null });
    try {
      const stream = await this.deps.openCamera(this.state.cameraId || undefined);
      this.set({ source: { kind: 'camera', stream } });
      await this.surface!.showStream(stream);
      const cameras = await this.deps.listCameras().catch(() => this.state.cameras);
      this.set({ cameras, cameraId: stream.getVideoTracks()[0]?.getSettings().deviceId ?? this.state.cameraId });
      this.startLoop();
    } catch (error) {
      const e = classifyCameraError(error);
      this.set({ problem: { kind: 'camera', problem: e.problem, detail: e.message } });
    }
  }

  /** Another camera; restarts the camera when it is running. */
  async selectCamera(deviceId: string): Promise<void> {
    this.set({ cameraId: deviceId });
    if (this.state.source.kind === 'camera') await this.startCamera();
  }

  /** An image or video file (from the file input or a drop); resolves once a video plays. */
  async openFile(file: Blob & { name: string }): Promise<void> {
    this.stopSource();
    this.set({ problem: null });
    const isImage = file.type.startsWith('image/');
    const isVideo = file.type.startsWith('video/');
    if (!isImage && !isVideo) {
      this.set({
        problem: {
          kind: 'file',
          message: `"${file.name}" is not an image or a video${file.type ? ` (${file.type})` : ''}. Choose a photo (JPEG, PNG, WebP…) or a video (MP4, WebM…).`,
        },
      });
      return;
    }
    const url = this.deps.createUrl(file);
    if (isImage) {
      // The view shows it and calls imageLoaded() once decoded.
      this.set({ source: { kind: 'image', url, name: file.name } });
      return;
    }
    const source: Source = { kind: 'video', url, name: file.name };
    this.set({ source });
    try {
      await this.surface!.showUrl(url);
    } catch {
      if (this.state.source === source) this.set({ problem: { kind: 'file', message: `"${file.name}" could not be played as a video.` } });
      return;
    }
    if (this.state.source === source) this.startLoop();
  }

  /** The view's <img> of the image source has loaded. */
  imageLoaded(image: FrameSource): void {
    if (this.state.source.kind !== 'image') return;
    this.image = image;
    void this.processStill();
  }

  /** The view's <img> could not decode the image source. */
  imageFailed(): void {
    const source = this.state.source;
    if (source.kind !== 'image') return;
    this.stopSource();
    this.set({ problem: { kind: 'file', message: `"${source.name}" could not be read as an image. Choose a photo (JPEG, PNG, WebP…).` } });
  }

  destroy(): void {
    this.destroyed = true;
    this.stopSource();
    this.engine?.close();
    this.engine = undefined;
    this.listeners.clear();
  }

  private async processStill(): Promise<void> {
    const engine = this.engine;
    const image = this.image;
    const source = this.state.source;
    if (!engine || !image || source.kind !== 'image') return;
    const size = sizeOf(image);
    if (!size) return;
    const token = this.runToken;
    try {
      engine.pipeline.reset();
      const startMs = this.deps.now();
      const result = await this.withExtra(await engine.pipeline.process(image, 'image', size.width, size.height), startMs, 'image');
      if (token !== this.runToken) return;
      this.stats.record(result.times, this.deps.now());
      this.set({ frame: result });
    } catch (error) {
      if (token !== this.runToken) return;
      // No result for this image (never the previous one's); the detector is fresh for the next.
      this.set({
        frame: null,
        problem:
          error instanceof ImageSizeError
            ? { kind: 'file', message: `"${source.name}": ${error.message}.` }
            : { kind: 'frame', message: (error as Error).message, stopped: false },
      });
    }
  }

  /** Starts the frame loop of a camera or video source; before setup is done, setup starts it. */
  private startLoop(): void {
    if (!this.engine || !this.surface || this.destroyed) return;
    const loop = this.runVideoLoop(this.engine, this.surface);
    this.loop = loop;
    void loop.finally(() => {
      if (this.loop === loop) this.loop = undefined;
    });
  }

  /**
   * The detect stage alone on a still image (calibration photos, src/app/calibration/photo-samples.ts):
   * each face's 48x48 crop and AU-style features, exactly as an opened image gets them; no model
   * runs. Calls run one at a time. The frame loop pauses meanwhile (the one detector switches to its
   * still-image mode) and resumes after, with tracking and smoothing restarted.
   */
  detectStill(image: FrameSource, width: number, height: number): Promise<StillFace[]> {
    const run = this.stills.then(() => this.detectStillNow(image, width, height));
    this.stills = run.catch(() => undefined);
    return run;
  }

  private async detectStillNow(image: FrameSource, width: number, height: number): Promise<StillFace[]> {
    const engine = this.engine;
    if (!engine) throw new Error('the face detector is still loading: try again once the live view is ready');
    // Stopping the loop: it starts no detect call after the token changes (it may wait for its next
    // frame a long time, or forever if the camera stalls, so only its call in progress is awaited).
    const paused = this.loop !== undefined;
    if (paused) {
      this.runToken++;
      this.loop = undefined;
      await this.detecting?.catch(() => undefined);
    }
    try {
      const d = await engine.pipeline.detect(image, 'image', width, height);
      const crops = d.crops.get(STILL_CROP_SIZE);
      const f = d.features;
      return d.boxes.map((_, i) => ({
        crop: crops?.[i],
        features: f ? f.values.slice(i * f.dim, (i + 1) * f.dim) : undefined,
      }));
    } finally {
      engine.pipeline.reset();
      const kind = this.state.source.kind;
      if (paused && !this.loop && !this.destroyed && (kind === 'camera' || kind === 'video')) this.startLoop();
    }
  }

  /**
   * Frames flow through two stages: landmarker and crops, then the models. With all models in the
   * worker and no read ahead, this thread finds the faces of frame N + 1 while the worker reads
   * frame N; at most one frame is with the models at a time, so every frame gets every model.
   * Otherwise a frame finishes before the next starts: with read ahead the worker already overlaps
   * the landmarker within the frame, and in split or page mode this thread runs models too. Either
   * way the landmarker's ~25 ms of blocking work must not delay the answer for the previous frame
   * (measured: 73 ms p50 end to end with read ahead when frames overlapped, the result of frame N
   * waiting for the landmarks of N + 1).
   */
  private async runVideoLoop(engine: SessionEngine, surface: VideoSurface): Promise<void> {
    const token = ++this.runToken;
    const pipeline = engine.pipeline;
    let inflight: Promise<void> | undefined;
    const overlapFrames = engine.inference?.where === 'worker' && !engine.inference.ahead;
    const fail = (error: unknown) => {
      if (token === this.runToken) this.set({ problem: { kind: 'frame', message: (error as Error).message, stopped: true } });
      this.runToken++;
    };
    // The next frame's callback is requested before this frame's work, so a frame that arrives
    // while this one is processed is read as soon as this one is done (not one frame later).
    let next = surface.nextFrame();
    // The detector restarts itself after a failure: skip that frame, stop only if it keeps failing.
    let detectorFailures = 0;
    while (token === this.runToken && !this.destroyed) {
      await next;
      next = surface.nextFrame();
      if (token !== this.runToken) break;
      const frame = surface.current();
      if (!frame) continue;
      let detection: Detection;
      try {
        const detecting = pipeline.detect(frame.source, 'video', frame.width, frame.height);
        this.detecting = detecting;
        detection = await detecting;
        this.lastDetection = detection;
        if (detectorFailures > 0 && this.state.problem?.kind === 'frame') this.set({ problem: null });
        detectorFailures = 0;
      } catch (error) {
        if (error instanceof DetectorError && ++detectorFailures < 3 && token === this.runToken) {
          this.set({ problem: { kind: 'frame', message: error.message, stopped: false }, frame: null });
          continue;
        }
        fail(error);
        break;
      }
      await inflight;
      if (token !== this.runToken) break;
      inflight = pipeline
        .classify(detection)
        .then((general) => this.withExtra(general, detection.startMs, 'video'))
        .then((result) => {
          if (token !== this.runToken) return;
          this.stats.record(result.times, this.deps.now());
          this.set({ frame: result, fps: this.stats.fps() });
        }, fail);
      if (!overlapFrames) await inflight;
    }
    await inflight;
  }
}

function noteOf(manifest: ManifestState): string {
  if (manifest.status === 'missing')
    return 'No trained models yet (/models/index.json not found): faces are found but not read. Train one with "npm run train -- cnn".';
  if (manifest.status === 'error') return `The models manifest could not be read: ${manifest.message}`;
  return '';
}

/** An image's own size (an <img>'s natural size); undefined before it is decoded. */
function sizeOf(image: FrameSource): { width: number; height: number } | undefined {
  const img = image as { naturalWidth?: number; naturalHeight?: number; width: number; height: number };
  const width = img.naturalWidth ?? img.width;
  const height = img.naturalHeight ?? img.height;
  return width > 0 && height > 0 ? { width, height } : undefined;
}
