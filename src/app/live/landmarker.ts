/**
 * MediaPipe FaceLandmarker, loaded from the app's own origin (public/mediapipe/, set up by
 * scripts/setup-assets.ts). One instance switches between VIDEO mode (camera, video files) and
 * IMAGE mode (stills).
 *
 * A failure inside MediaPipe (e.g. `Aborted()` of its WebAssembly module) leaves that task
 * unusable: every later call would fail with "memory access out of bounds". So a failed call
 * closes the task, starts a fresh one at once, and throws DetectorError for that image or frame;
 * the next call uses the new task.
 */
// First: MediaPipe's bundle posts usage logs; the guard refuses them before it can (see there).
import '../egress-guard.ts';
import { FaceLandmarker, FilesetResolver, type FaceLandmarkerResult } from '@mediapipe/tasks-vision';
import { DEFAULT_ASSETS, type AssetUrls } from './assets.ts';

export const MEDIAPIPE_WASM = DEFAULT_ASSETS.mediapipeWasm;
export const FACE_LANDMARKER_TASK = DEFAULT_ASSETS.faceLandmarkerTask;

export type RunningMode = 'VIDEO' | 'IMAGE';

/** The part of MediaPipe's FaceLandmarker used here (a fake in tests). */
export type FaceTask = Pick<FaceLandmarker, 'detect' | 'detectForVideo' | 'setOptions' | 'close'>;
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

export class Landmarker {
  private mode: RunningMode = 'VIDEO';
  private lastTimestamp = -1;
  /** undefined after a failure, until `replacement` resolves. */
  private task: FaceTask | undefined;
  private replacement: Promise<FaceTask> | undefined;
  private closed = false;
  /** How many times the task was replaced after a failure. */
  restarts = 0;

  private constructor(
    task: FaceTask,
    private numFaces: number,
    private readonly factory: TaskFactory,
  ) {
    this.task = task;
  }

  /** `factory` is injectable so tests can fail a task on purpose. */
  static async create(numFaces: number, factory: TaskFactory = mediapipeTasks()): Promise<Landmarker> {
    return new Landmarker(await factory(numFaces, 'VIDEO'), numFaces, factory);
  }

  /** The working task, waiting for the replacement of a failed one. */
  private async current(): Promise<FaceTask> {
    if (this.closed) throw new DetectorError('The face detector was closed.');
    if (this.task) return this.task;
    const pending = (this.replacement ??= this.factory(this.numFaces, this.mode));
    try {
      const task = await pending;
      if (this.closed) throw new Error('closed while restarting'); // close() closes it
      if (!this.task) {
        this.task = task;
        this.lastTimestamp = -1;
        this.restarts++;
      }
      return this.task;
    } catch (error) {
      throw new DetectorError(`The face detector could not be restarted (${describe(error)}). Reload the page.`, { cause: error });
    } finally {
      // A failed replacement is retried at the next call.
      if (this.replacement === pending) this.replacement = undefined;
    }
  }

  /** Runs `op` on the task; on failure replaces the task and throws DetectorError. */
  private async run<T>(op: (task: FaceTask) => T | Promise<T>): Promise<T> {
    const task = await this.current();
    try {
      return await op(task);
    } catch (error) {
      if (this.task === task) {
        this.task = undefined;
        try {
          task.close();
        } catch {
          // an aborted module may fail to close; it is dropped either way
        }
        const replacement = this.factory(this.numFaces, this.mode);
        replacement.catch(() => undefined); // reported by the next call, through current()
        this.replacement = replacement;
      }
      throw new DetectorError(`The face detector failed (${describe(error)}); it has been restarted for the next image or frame.`, {
        cause: error,
      });
    }
  }

  async setNumFaces(numFaces: number): Promise<void> {
    this.numFaces = numFaces;
    await this.run((task) => task.setOptions({ numFaces }));
  }

  private async ensureMode(mode: RunningMode): Promise<void> {
    if (mode === this.mode) return;
    await this.run((task) => task.setOptions({ runningMode: mode }));
    this.mode = mode;
    this.lastTimestamp = -1;
  }

  /** Faces in a video frame; timestamps must increase, so equal ones are nudged forward. */
  async detectVideo(source: TexImageSource, timestampMs: number): Promise<FaceLandmarkerResult> {
    await this.ensureMode('VIDEO');
    return this.run((task) => {
      const ts = Math.max(timestampMs, this.lastTimestamp + 1);
      this.lastTimestamp = ts;
      return task.detectForVideo(source as HTMLVideoElement, ts);
    });
  }

  async detectImage(source: TexImageSource): Promise<FaceLandmarkerResult> {
    await this.ensureMode('IMAGE');
    return this.run((task) => task.detect(source as HTMLImageElement));
  }

  close(): void {
    this.closed = true;
    this.task?.close();
    this.task = undefined;
    void this.replacement?.then(
      (t) => t.close(),
      () => undefined,
    );
    this.replacement = undefined;
  }
}
