/**
 * MediaPipe FaceLandmarker, loaded from the app's own origin (public/mediapipe/, set up by
 * scripts/setup-assets.ts). One instance switches between VIDEO mode (camera, video files) and
 * IMAGE mode (stills).
 *
 * Why two tasks: in VIDEO mode MediaPipe skips its face detector only while it already tracks
 * `numFaces` faces, so with "up to 4 faces" and one person in view the detector ran on every
 * frame (measured, headless Chromium, CPU delegate, 640x480: detectForVideo p50 28.6 ms with
 * numFaces 4, 23.6 ms with numFaces 1). `setOptions({numFaces})` rebuilds the graph, so it cannot
 * change per frame. Instead, while the last VIDEO frame found exactly one face, frames go to a
 * second task made with numFaces 1, except one discovery frame in DISCOVERY_EVERY on the
 * max-faces task, so a second person is found within half a second at 30 FPS. Stills always
 * use the max-faces task.
 *
 * A failure inside MediaPipe (e.g. `Aborted()` of its WebAssembly module) leaves that task
 * unusable: every later call would fail with "memory access out of bounds". So a failed call
 * closes the task, starts a fresh one at once, and throws DetectorError for that image or frame;
 * the next call uses the new task.
 */
// First: MediaPipe's bundle posts usage logs; the guard refuses them before it can (see there).
import '../egress-guard.ts';
import { FaceLandmarker, FilesetResolver, type FaceLandmarkerOptions, type FaceLandmarkerResult } from '@mediapipe/tasks-vision';
import { DEFAULT_ASSETS, type AssetUrls } from './assets.ts';

export const MEDIAPIPE_WASM = DEFAULT_ASSETS.mediapipeWasm;
export const FACE_LANDMARKER_TASK = DEFAULT_ASSETS.faceLandmarkerTask;

export type RunningMode = 'VIDEO' | 'IMAGE';

/** While tracking one face, every this many VIDEO frames runs the max-faces task (twice a second at 30 FPS). */
export const DISCOVERY_EVERY = 15;

/**
 * The part of MediaPipe's FaceLandmarker used here: a task on this thread, one in the landmarker
 * worker (landmarker-remote.ts, whose calls answer later), or a fake in tests.
 */
export interface FaceTask {
  detect(image: TexImageSource): FaceLandmarkerResult | Promise<FaceLandmarkerResult>;
  detectForVideo(image: TexImageSource, timestampMs: number): FaceLandmarkerResult | Promise<FaceLandmarkerResult>;
  setOptions(options: FaceLandmarkerOptions): Promise<void>;
  close(): void;
}
export type TaskFactory = (numFaces: number, mode: RunningMode) => Promise<FaceTask>;

/** The face detector failed on one image or frame; it has been replaced for the next one. */
export class DetectorError extends Error {
  override name = 'DetectorError';
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Makes MediaPipe FaceLandmarker tasks from the wasm folder and .task file at these URLs. */
export function mediapipeTasks(assets: Pick<AssetUrls, 'mediapipeWasm' | 'faceLandmarkerTask'> = DEFAULT_ASSETS): TaskFactory {
  return (numFaces, mode) => createTask(numFaces, mode, assets);
}

async function createTask(
  numFaces: number,
  mode: RunningMode,
  assets: Pick<AssetUrls, 'mediapipeWasm' | 'faceLandmarkerTask'>,
): Promise<FaceTask> {
  const fileset = await FilesetResolver.forVisionTasks(assets.mediapipeWasm);
  // CPU delegate: on GPU-less machines MediaPipe's WebGL path runs on SwiftShader and is slower.
  return FaceLandmarker.createFromOptions(fileset, {
    baseOptions: { modelAssetPath: assets.faceLandmarkerTask, delegate: 'CPU' },
    runningMode: mode,
    numFaces,
    outputFaceBlendshapes: true,
    // Head pose, used by the AU-style features to remove head rotation.
    outputFacialTransformationMatrixes: true,
  });
}

function closeQuietly(task: FaceTask): void {
  try {
    task.close();
  } catch {
    // an aborted module may fail to close; it is dropped either way
  }
}

/**
 * One MediaPipe task with its failure handling: a failed call closes the task, starts a fresh
 * one at once, and throws DetectorError; a failed replacement is reported by the next call and
 * retried at the call after. Each task keeps its own strictly increasing VIDEO timestamps.
 */
class TaskSlot {
  private task: FaceTask | undefined;
  private pending: Promise<FaceTask> | undefined;
  /** Why the last creation failed, until a call reports it (or for good, for a background slot). */
  private failed: { error: unknown } | undefined;
  private made: boolean;
  private closed = false;
  private lastTimestamp = -1;

  constructor(
    private readonly make: () => Promise<FaceTask>,
    private readonly onRestart: () => void,
    task?: FaceTask,
  ) {
    this.task = task;
    this.made = task !== undefined;
  }

  /** Starts making a task; the first one of a slot is not a restart. */
  private start(): Promise<FaceTask> {
    const restart = this.made;
    let pending: Promise<FaceTask>;
    try {
      pending = this.make();
    } catch (error) {
      pending = Promise.reject(error);
    }
    this.pending = pending;
    pending.then(
      (task) => {
        if (this.pending === pending) this.pending = undefined;
        if (this.closed) return closeQuietly(task);
        this.task = task;
        this.made = true;
        this.lastTimestamp = -1;
        if (restart) this.onRestart();
      },
      (error: unknown) => {
        if (this.pending === pending) this.pending = undefined;
        this.failed = { error };
      },
    );
    return pending;
  }

  /** The working task, waiting for the replacement of a failed one. */
  async current(): Promise<FaceTask> {
    if (this.closed) throw new DetectorError('The face detector was closed.');
    if (this.task) return this.task;
    const failed = this.failed;
    this.failed = undefined; // a failed replacement is retried at the next call
    if (failed) throw restartError(failed.error);
    try {
      await (this.pending ?? this.start());
    } catch (error) {
      this.failed = undefined;
      throw restartError(error);
    }
    if (this.closed || !this.task) throw new DetectorError('The face detector was closed.');
    return this.task;
  }

  /**
   * The task if it is ready, without waiting: starts making the first one in the background.
   * A slot whose creation failed stays empty (see `error`) and never blocks a frame.
   */
  ready(): FaceTask | undefined {
    if (!this.closed && !this.task && !this.pending && !this.failed) void this.start();
    return this.task;
  }

  /** Why this slot has no task and will not make one, if so. */
  get error(): unknown {
    return this.failed?.error;
  }

  /** Runs `op` on the task; on failure replaces the task and throws DetectorError. */
  async run<T>(op: (task: FaceTask) => T | Promise<T>): Promise<T> {
    const task = await this.current();
    try {
      return await op(task);
    } catch (error) {
      if (this.task === task) {
        this.task = undefined;
        closeQuietly(task);
        void this.start(); // reported by the next call, through current()
      }
      throw new DetectorError(`The face detector failed (${describe(error)}); it has been restarted for the next image or frame.`, {
        cause: error,
      });
    }
  }

  /** `timestampMs`, nudged forward if needed: MediaPipe refuses a timestamp that does not increase. */
  timestamp(timestampMs: number): number {
    this.lastTimestamp = Math.max(timestampMs, this.lastTimestamp + 1);
    return this.lastTimestamp;
  }

  /** A task that changed running mode starts a new timestamp sequence. */
  resetTimestamps(): void {
    this.lastTimestamp = -1;
  }

  close(): void {
    this.closed = true;
    if (this.task) closeQuietly(this.task);
    this.task = undefined; // a pending one is closed when it arrives (start())
  }
}

function restartError(error: unknown): DetectorError {
  return new DetectorError(`The face detector could not be restarted (${describe(error)}). Reload the page.`, { cause: error });
}

export type TaskKind = 'max' | 'single';

export class Landmarker {
  private mode: RunningMode = 'VIDEO';
  /** The task that finds up to `numFaces` faces; VIDEO or IMAGE mode. */
  private readonly max: TaskSlot;
  /** The `numFaces: 1` VIDEO task, made when first useful; only while `numFaces` > 1. */
  private single: TaskSlot | undefined;
  /** Faces in the last VIDEO frame; undefined after a failure, a still or at the start. */
  private lastVideoFaces: number | undefined;
  /** Frames on the single-face task since the last frame on the max-faces task. */
  private sinceDiscovery = 0;
  private restartCount = 0;
  private readonly frames: Record<TaskKind, number> = { max: 0, single: 0 };
  private last: TaskKind | undefined;

  private constructor(
    task: FaceTask,
    private numFaces: number,
    /** Read at each creation (not captured), so tests can swap it. */
    private readonly factory: TaskFactory,
  ) {
    const restarted = () => void this.restartCount++;
    this.max = new TaskSlot(() => this.factory(this.numFaces, this.mode), restarted, task);
  }

  /** `factory` is injectable so tests can fail a task on purpose. */
  static async create(numFaces: number, factory: TaskFactory = mediapipeTasks()): Promise<Landmarker> {
    return new Landmarker(await factory(numFaces, 'VIDEO'), numFaces, factory);
  }

  /** How many times a task (either one) was replaced after a failure. */
  get restarts(): number {
    return this.restartCount;
  }

  /** VIDEO frames run on each task so far (for tests and benches). */
  get videoFrames(): Readonly<Record<TaskKind, number>> {
    return { ...this.frames };
  }

  /** The task that ran the last VIDEO frame. */
  get lastTask(): TaskKind | undefined {
    return this.last;
  }

  /** Why the single-face task could not be made (VIDEO then stays on the max-faces task), if so. */
  get singleTaskError(): unknown {
    return this.single?.error;
  }

  async setNumFaces(numFaces: number): Promise<void> {
    this.numFaces = numFaces;
    if (numFaces <= 1) {
      this.single?.close();
      this.single = undefined;
    }
    await this.max.run((task) => task.setOptions({ numFaces }));
  }

  private async ensureMode(mode: RunningMode): Promise<void> {
    if (mode === this.mode) return;
    await this.max.run((task) => task.setOptions({ runningMode: mode }));
    this.mode = mode;
    this.max.resetTimestamps();
  }

  /** The single-face task for this frame if the last frame found exactly one face and it is ready. */
  private trackingSlot(): TaskSlot | undefined {
    if (this.numFaces <= 1 || this.lastVideoFaces !== 1) return undefined;
    if (this.sinceDiscovery >= DISCOVERY_EVERY - 1) return undefined; // a discovery frame
    this.single ??= new TaskSlot(
      () => this.factory(1, 'VIDEO'),
      () => void this.restartCount++,
    );
    return this.single.ready() ? this.single : undefined;
  }

  /** Faces in a video frame; timestamps must increase, so equal ones are nudged forward. */
  async detectVideo(source: TexImageSource, timestampMs: number): Promise<FaceLandmarkerResult> {
    const single = this.trackingSlot();
    const kind: TaskKind = single ? 'single' : 'max';
    try {
      let result: FaceLandmarkerResult;
      if (single) {
        result = await single.run((task) => task.detectForVideo(source, single.timestamp(timestampMs)));
      } else {
        await this.ensureMode('VIDEO');
        result = await this.max.run((task) => task.detectForVideo(source, this.max.timestamp(timestampMs)));
      }
      this.frames[kind]++;
      this.last = kind;
      this.sinceDiscovery = single ? this.sinceDiscovery + 1 : 0;
      this.lastVideoFaces = result.faceLandmarks.length;
      return result;
    } catch (error) {
      // The next frame goes to the max-faces task, which also gives a replacement time to load.
      this.lastVideoFaces = undefined;
      throw error;
    }
  }

  async detectImage(source: TexImageSource): Promise<FaceLandmarkerResult> {
    // A still interrupts any video: the next video frame starts on the max-faces task.
    this.lastVideoFaces = undefined;
    await this.ensureMode('IMAGE');
    return this.max.run((task) => task.detect(source));
  }

  close(): void {
    this.max.close();
    this.single?.close();
  }
}
