/**
 * Where the browser fetches its run-time files. The app serves them from its own origin (models/
 * at /models/, the rest copied into public/ by scripts/setup-assets.ts); the library (src/lib)
 * lets a page put them elsewhere on its origin.
 */
export interface AssetUrls {
  /** Folder holding index.json and the model folders (ends with '/'). */
  models: string;
  /** MediaPipe Tasks Vision's wasm folder (no trailing '/'). */
  mediapipeWasm: string;
  /** MediaPipe's face_landmarker.task. */
  faceLandmarkerTask: string;
  /** TensorFlow.js wasm backend binaries (ends with '/'). */
  tfjsWasm: string;
}

export const DEFAULT_ASSETS: Readonly<AssetUrls> = Object.freeze({
  models: '/models/',
  mediapipeWasm: '/mediapipe/wasm',
  faceLandmarkerTask: '/mediapipe/face_landmarker.task',
  tfjsWasm: '/tfjs-wasm/',
});
