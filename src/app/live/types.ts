/** Types shared by the live pipeline and its Svelte views. */
import type { BrowserBackend } from '../../core/contracts/backends.ts';
import type { StageTimes } from '../../core/contracts/automation.ts';
import type { Box } from '../../core/framing/types.ts';

export type { StageTimes } from '../../core/contracts/automation.ts';

export type BackendName = BrowserBackend;

export interface BackendChoice {
  /** The backend tfjs runs on. */
  active: BackendName;
  /** Backends tried first that failed, with why (e.g. WebGPU unavailable). */
  skipped: { name: BackendName; reason: string }[];
}

/** One model's reading of one face. */
export interface ModelReading {
  modelId: string;
  /** Probabilities in EMOTIONS order, after smoothing when it is on. */
  probs: number[];
  /** Index of the largest probability. */
  top: number;
  /** Read against the person's neutral face (src/app/live/neutral-face.ts). */
  neutral?: true;
}

export interface FaceResult {
  /** Stable across frames while the face stays in view. */
  trackId: number;
  /** Face box in source pixels. */
  box: Box;
  readings: ModelReading[];
  /** The first model input size's crop (gray in [0,1]), for the "what the models see" view. */
  crop?: { size: number; pixels: Float32Array };
  /** The AU-style feature vector (src/core/features), when it was computed for this frame. */
  features?: Float32Array;
  /** Landmarks, blendshapes and head pose, when the pipeline keeps them (DetectOutput.raw). */
  raw?: RawFace;
}

/** What MediaPipe's FaceLandmarker gave for one face. */
export interface RawFace {
  /** 478 points, x and y normalised to the image (0..1), z relative depth. */
  landmarks: { x: number; y: number; z: number }[];
  /** The 52 blendshape scores with their names. */
  blendshapes: { categoryName: string; score: number }[];
  /** 4x4 facial transformation matrix (MediaPipe's data order), when the landmarker output it. */
  matrix?: number[];
}

export interface FrameResult {
  faces: FaceResult[];
  times: StageTimes;
  /** Source size in pixels, for the overlay's coordinate system. */
  width: number;
  height: number;
}
