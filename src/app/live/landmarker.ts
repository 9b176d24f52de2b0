/**
 * MediaPipe FaceLandmarker, loaded from the app's own origin (public/mediapipe/, set up by
 * scripts/setup-assets.ts). One instance switches between VIDEO mode (camera, video files) and
 * IMAGE mode (stills).
 */
import { FaceLandmarker, FilesetResolver, type FaceLandmarkerResult } from '@mediapipe/tasks-vision';

export const MEDIAPIPE_WASM = '/mediapipe/wasm';
export const FACE_LANDMARKER_TASK = '/mediapipe/face_landmarker.task';

export type RunningMode = 'VIDEO' | 'IMAGE';

export class Landmarker {
  private mode: RunningMode = 'VIDEO';
  private lastTimestamp = -1;

  private constructor(private readonly task: FaceLandmarker) {}

  static async create(numFaces: number): Promise<Landmarker> {
    const fileset = await FilesetResolver.forVisionTasks(MEDIAPIPE_WASM);
    // CPU delegate: on GPU-less machines MediaPipe's WebGL path runs on SwiftShader and is slower.
    const task = await FaceLandmarker.createFromOptions(fileset, {
      baseOptions: { modelAssetPath: FACE_LANDMARKER_TASK, delegate: 'CPU' },
      runningMode: 'VIDEO',
      numFaces,
      outputFaceBlendshapes: true,
      // Head pose, used by the AU-style features to remove head rotation.
      outputFacialTransformationMatrixes: true,
    });
    return new Landmarker(task);
  }

  async setNumFaces(numFaces: number): Promise<void> {
    await this.task.setOptions({ numFaces });
  }

  private async ensureMode(mode: RunningMode): Promise<void> {
    if (mode === this.mode) return;
    await this.task.setOptions({ runningMode: mode });
    this.mode = mode;
    this.lastTimestamp = -1;
  }

  /** Faces in a video frame; timestamps must increase, so equal ones are nudged forward. */
  async detectVideo(source: TexImageSource, timestampMs: number): Promise<FaceLandmarkerResult> {
    await this.ensureMode('VIDEO');
    const ts = Math.max(timestampMs, this.lastTimestamp + 1);
    this.lastTimestamp = ts;
    return this.task.detectForVideo(source as HTMLVideoElement, ts);
  }

  async detectImage(source: TexImageSource): Promise<FaceLandmarkerResult> {
    await this.ensureMode('IMAGE');
    return this.task.detect(source as HTMLImageElement);
  }

  close(): void {
    this.task.close();
  }
}
