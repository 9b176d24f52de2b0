/**
 * Calibration (personal models trained in the browser): the captured samples and the trained
 * model folders, shared by the capture UI, the in-browser trainer, IndexedDB storage and export.
 */
import type { ModelEntry } from '../contracts/manifest.ts';

/** One kept frame of the calibrated face. */
export interface CalibrationSample {
  /** Capture time in ms (camera clock, or video time for files); the held-out split is by time. */
  t: number;
  /** Index in EMOTIONS. */
  label: number;
  /** The pipeline's aligned 48x48 gray crop, 2304 bytes 0..255 (the layout of a FER2013 row). */
  crop: Uint8Array;
  /** The AU-style feature vector (FEATURE_COUNT values, src/core/features). */
  features: Float32Array;
}

export interface CalibrationSet {
  samples: CalibrationSample[];
  /** ISO time the capture started. */
  capturedAt: string;
}

/**
 * A trained model as the files of a model folder (what `npm run train -- finetune` writes and what
 * `npm run predict -- --models DIR` reads): model.json, weights.bin, report.json (+ optional SVGs),
 * and the manifest entry whose paths are relative to the models folder ("<id>/model.json").
 */
export interface ModelFolder {
  entry: ModelEntry;
  files: Record<string, Uint8Array>;
}

/** Progress of a long calibration step, for a bar with ETA. */
export interface CalibrationProgress {
  stage: 'cnn' | 'svm' | 'evaluate';
  /** 0..1 over the whole training. */
  fraction: number;
  /** Seconds left, when it can be estimated. */
  etaSec?: number;
  message: string;
}

/** Held-out accuracy (the last 20 % of each emotion's frames by time), per model id. */
export interface HeldOutScores {
  count: number;
  general: Record<string, number>;
  personal: Record<string, number>;
}
