/** Messages between the page and the landmarker worker (landmarker-worker.ts). */
import type { FaceLandmarkerOptions, FaceLandmarkerResult } from '@mediapipe/tasks-vision';
import type { AssetUrls } from './assets.ts';
import type { RunningMode } from './landmarker.ts';

/** A frame as it travels: RGBA pixels (a grabbed video frame) or a bitmap (stills). */
export type WireImage =
  { kind: 'pixels'; width: number; height: number; data: Uint8ClampedArray<ArrayBuffer> } | { kind: 'bitmap'; bitmap: ImageBitmap };

export type ToLandmarker =
  | {
      type: 'create';
      seq: number;
      task: number;
      numFaces: number;
      mode: RunningMode;
      assets: Pick<AssetUrls, 'mediapipeWasm' | 'faceLandmarkerTask'>;
    }
  | { type: 'detect'; seq: number; task: number; mode: RunningMode; image: WireImage; timestampMs: number }
  | { type: 'set-options'; seq: number; task: number; options: FaceLandmarkerOptions }
  | { type: 'close'; seq: number; task: number };

export type FromLandmarker =
  { type: 'done'; seq: number; result?: FaceLandmarkerResult } | { type: 'error'; seq: number; message: string; name: string };
