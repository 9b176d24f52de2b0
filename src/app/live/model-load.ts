/**
 * What every model runner shares: the Runner interface, the load statuses, and the fetch and
 * warm-up steps that turn a failure into a ModelLoadError. Its own module so runner.ts (CNNs, which
 * loads svm-runner.ts on demand) and svm-runner.ts both build on it without importing each other.
 */
import type { ModelEntry } from '../manifest.ts';
import { nonFiniteOutputMessage } from '../../core/weights-integrity.ts';

export type ModelStatus =
  | { state: 'loading' }
  | { state: 'ready' }
  | { state: 'unsupported'; reason: string }
  | { state: 'missing'; message: string }
  | { state: 'corrupt'; message: string };

/** Outputs already computed for this frame's crops, per runner (InferenceEngine.predict makes one per call). */
export type FrameMemo = Map<Runner, number[][]>;

/** One loaded model of any kind, as the inference engine runs it. */
export interface Runner {
  readonly entry: ModelEntry;
  /** Side of the square crop it reads (also the preview size for feature-only models). */
  readonly cropSize: number;
  /** Reads the AU-style feature vectors instead of (or besides) the crops. */
  readonly needsFeatures: boolean;
  /**
   * Probabilities (EMOTIONS order) per face. `memo`, one per frame, lets a model that two runners
   * read on the same crops (a fusion model's member CNN) run once per frame.
   */
  predict(crops: readonly Float32Array[], features: readonly Float32Array[], memo?: FrameMemo): Promise<number[][]>;
  dispose(): void;
}

export class ModelLoadError extends Error {
  constructor(readonly status: Exclude<ModelStatus, { state: 'loading' } | { state: 'ready' }>) {
    super('reason' in status ? status.reason : status.message);
  }
}

/** Runs one warm-up prediction; outputs that are not all finite make the model 'corrupt'. */
export async function warmUpOrReject(runner: Runner, crops: Float32Array[], features: Float32Array[], url: string): Promise<void> {
  const rows = await runner.predict(crops, features);
  const problem = nonFiniteOutputMessage(rows.flat(), `${runner.entry.name} (${url})`);
  if (problem) {
    runner.dispose();
    throw new ModelLoadError({ state: 'corrupt', message: problem });
  }
}

/** Fetches one of a model's files; a network error or an HTTP error is a 'missing' ModelLoadError. */
export async function fetchModelFile(url: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { cache: 'no-cache' });
  } catch (error) {
    throw new ModelLoadError({ state: 'missing', message: `${url}: ${(error as Error).message}` });
  }
  if (!response.ok) throw new ModelLoadError({ state: 'missing', message: `${url}: HTTP ${response.status}` });
  return response;
}
