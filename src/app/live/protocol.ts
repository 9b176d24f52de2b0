/** Messages between the page and the inference worker (inference-worker.ts). */
import type { ModelEntry } from '../manifest.ts';
import type { AssetUrls } from './assets.ts';
import type { ModelStatus } from './runner.ts';
import type { BackendChoice, BackendName } from './types.ts';

/** Crops of every face at one input size: count * size * size gray values in [0,1]. */
export interface CropBatch {
  size: number;
  count: number;
  pixels: Float32Array;
}

/** Every face's AU-style feature vector (src/core/features): count * dim values. */
export interface FeatureBatch {
  count: number;
  dim: number;
  values: Float32Array;
  /** Per model id: added to every face's features before that model reads them (the person's neutral face, neutral-face.ts). */
  shifts?: Record<string, number[]>;
}

export type ToWorker =
  | { type: 'init'; backend?: BackendName; entries: ModelEntry[]; assets?: Pick<AssetUrls, 'models' | 'tfjsWasm'> }
  | { type: 'predict'; seq: number; batches: CropBatch[]; features?: FeatureBatch }
  | { type: 'predict-ahead'; seq: number; frame: number; batches: CropBatch[] }
  | { type: 'predict-rest'; seq: number; frame: number; rows: number[]; features?: FeatureBatch }
  | { type: 'memory'; seq: number }
  /** Models not to run from now on (InferenceEngine.skip). */
  | { type: 'skip'; hidden: string[] };

export type FromWorker =
  | { type: 'backend'; choice: BackendChoice }
  | { type: 'status'; id: string; status: ModelStatus }
  | { type: 'ready'; models: { id: string; size: number; features: boolean }[] }
  | { type: 'fatal'; message: string }
  | { type: 'result'; seq: number; probs: Record<string, number[][]>; times: Record<string, number> }
  | { type: 'memory'; seq: number; numTensors: number; backend: string }
  | { type: 'error'; seq: number; message: string };
