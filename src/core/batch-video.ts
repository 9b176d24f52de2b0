/**
 * The batch page's video calls (src/app/batch), beside the still-image contract of batch.ts: a Node
 * job opens a video file the page fetches from its own origin, then asks for frames at given times
 * in chunks (so it can report progress and write rows as they come), then closes it.
 */

import type { BatchNeutral } from './batch.ts';

/** Where the batch page exposes its video API (beside BATCH_GLOBAL). */
export const BATCH_VIDEO_GLOBAL = 'emotionBatchVideo';

export interface VideoOpenRequest {
  /** The file name, for messages. */
  name: string;
  /** A same-origin URL the page fetches the file's bytes from. */
  url: string;
  /** Time constant of the per-face probability smoothing, in ms of video time (0: off). */
  smoothingMs: number;
  /**
   * A person's neutral face for this video, in place of the page's own until the video is closed;
   * `{ offsets: {}, featureShifts: {} }` reads it unmoved. Absent: the page's own (from init).
   */
  neutral?: BatchNeutral;
  /** Also give each face its AU-style feature vector (VideoFace.features), as learning a neutral face from the frames needs. */
  withFeatures?: boolean;
}

export interface VideoOpenResult {
  status: 'ok' | 'not-video';
  /** Seconds (finite: files without a duration in their header are scanned to the end). */
  duration: number;
  width: number;
  height: number;
  /** Why the file cannot be used (names the file). */
  error?: string;
}

export interface VideoFace {
  /** Tracked face number within the video, 1 for the first face seen. */
  face: number;
  /** x, y, width, height in video pixels. */
  box: [number, number, number, number];
  /** Per model id: smoothed probabilities in EMOTIONS order. */
  predictions: Record<string, number[]>;
  /** The face's AU-style features (FEATURE_NAMES order), when the video was opened withFeatures. */
  features?: number[];
}

export interface VideoFrame {
  /** The time asked for, in seconds. */
  t: number;
  faces: VideoFace[];
  /** Why this frame has no result (seek failed, detector error). */
  error?: string;
}

export interface BatchVideoApi {
  open(request: VideoOpenRequest): Promise<VideoOpenResult>;
  /** Seeks to each time in order and runs the detect stage in video mode (faces tracked and smoothed). */
  frames(times: number[]): Promise<VideoFrame[]>;
  close(): void;
}

/** Sample times k / fps for every k with k / fps < duration (at least the first frame). */
export function sampleTimes(duration: number, fps: number): number[] {
  if (!(fps > 0)) throw new RangeError(`fps must be positive, got ${fps}`);
  const count = Math.max(1, Math.ceil(duration * fps - 1e-9));
  return Array.from({ length: count }, (_, k) => Math.round((k / fps) * 1e6) / 1e6);
}
