/** Every type the library returns, in one place. */
import type { ModelKind } from '../core/contracts/manifest.ts';
import type { Emotion } from '../core/labels.ts';
import type { ModelStatus } from '../app/live/runner.ts';
import type { BackendChoice, StageTimes } from '../app/live/types.ts';

export type { ModelKind } from '../core/contracts/manifest.ts';
export type { Emotion } from '../core/labels.ts';
export type { BackendChoice, StageTimes } from '../app/live/types.ts';
export type { ModelStatus } from '../app/live/runner.ts';

/** What detect() reads. A video is read as a stream (tracking, smoothing); the rest as stills. */
export type DetectSource = HTMLVideoElement | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas | ImageBitmap;

export interface DetectOptions {
  /**
   * 'video': a frame of a stream (timestamps increase, faces are tracked and smoothed);
   * 'image': a still. Default: 'video' for an HTMLVideoElement, else 'image'.
   */
  mode?: 'video' | 'image';
}

/** In the source's own pixels. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One model's reading of one face. */
export interface ModelPrediction {
  /** Manifest id, e.g. `fer-cnn`. */
  id: string;
  /** Manifest display name. */
  name: string;
  kind: ModelKind;
  /** The most probable emotion. */
  label: Emotion;
  /** Its probability. */
  score: number;
  /** Seven probabilities in EMOTIONS order (angry, disgust, fear, happy, sad, surprise, neutral). */
  probs: number[];
}

/** A FACS action unit as estimated from MediaPipe's blendshapes (0..1). */
export interface ActionUnitEstimate {
  /** e.g. `AU12`. */
  au: string;
  /** FACS name, e.g. `Lip corner puller`. */
  name: string;
  value: number;
}

/** All models together on one face. */
export interface Consensus {
  /** Top label of the models' mean probabilities. */
  label: Emotion;
  /** The mean probabilities, EMOTIONS order. */
  probs: number[];
  /** Whether every model's own top label is `label` (true for a single model). */
  agree: boolean;
}

export interface FaceResult {
  /** Stable across video frames while the face stays in view. */
  id: number;
  box: Box;
  /** 478 points in source pixels (z: MediaPipe's relative depth), with `landmarks: true`. */
  landmarks?: { x: number; y: number; z: number }[];
  /** What the models read: the face levelled and framed like FER2013, gray in 0..1, size x size. */
  crop: { size: number; pixels: Float32Array };
  /** The 17 action-unit estimates (AU01 ... AU45). */
  actionUnits: ActionUnitEstimate[];
  /** The whole AU-style feature vector the SVMs read (src/core/features: FEATURE_NAMES order). */
  features: Float32Array;
  /** One per loaded model, in manifest order. */
  models: ModelPrediction[];
  /** null when no model is loaded. */
  consensus: Consensus | null;
}

export interface DetectResult {
  /** Faces found, in the detector's order. */
  faces: FaceResult[];
  /** The source's size in pixels. */
  width: number;
  height: number;
  /** Milliseconds per stage. */
  times: StageTimes;
}

export interface ModelInfo {
  id: string;
  name: string;
  kind: ModelKind;
  /** `ready`, or why it does not run (`missing`, `corrupt`, `unsupported` with the reason). */
  status: ModelStatus;
}

export interface LoadResult {
  /** The tfjs backend in use (null when no model was asked for). */
  backend: BackendChoice | null;
  /** Every model asked for, loaded or not. */
  models: ModelInfo[];
}

export interface LoadEvents {
  /** `done` of `total` steps, with what is happening. */
  onProgress?(step: string, done: number, total: number): void;
}
