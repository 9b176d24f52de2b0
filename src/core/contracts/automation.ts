/**
 * The live view's read-only automation hook (the `__emotionLens` global that
 * src/app/live/automation.ts installs): what `npm run bench:live` and the e2e tests read through
 * Playwright. Timings and memory counters only, never frames.
 */

/** Milliseconds spent per stage for one frame. */
export interface StageTimes {
  landmarker: number;
  crop: number;
  /** AU-style features (0 when no loaded model reads them). */
  features: number;
  /** Per model id. */
  models: Record<string, number>;
  /** Whole frame: landmarker + crop + models + bookkeeping. */
  total: number;
  /** The crop models started on early crops while the landmarker ran (pipeline.ts, read ahead). */
  readAhead?: boolean;
  /** The landmarker was skipped: the faces held still, their last landmarks were used (pipeline.ts). */
  reused?: boolean;
}

export interface Snapshot {
  frames: number;
  log: StageTimes[];
  numTensors: number;
  /** performance.memory.usedJSHeapSize where the browser has it (Chromium). */
  heapBytes: number | null;
  backend: string;
}
