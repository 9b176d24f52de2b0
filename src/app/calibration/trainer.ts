/**
 * Personal models from a calibration set, trained in the browser (issue 14): the general CNN
 * fine-tuned (`my-cnn`) and an AU-feature SVM (`my-svm-au`), by the same code as `npm run train --
 * finetune` (src/learn), in a Web Worker so the live view keeps its frame rate. Held out: the last
 * 20 % of each emotion's frames by time (src/core/calibration/split.ts), on which both the general
 * and the personal models are scored. Nothing is fetched but the app's own /models/ files.
 */
import type { CalibrationProgress, CalibrationSet, HeldOutScores, ModelFolder } from '../../core/calibration/types.ts';
import { MODELS_BASE } from '../manifest.ts';
import type { CalibrationFinetune } from '../../learn/personal.ts';
import type { BackendName } from '../live/types.ts';
import type { FromTrainer, TrainRequest, TrainTimings } from './trainer-protocol.ts';

export type { TrainTimings } from './trainer-protocol.ts';

export interface TrainPersonalOptions {
  seed: number;
  /** Aborting terminates the worker at once and rejects with an AbortError; nothing is kept. */
  signal?: AbortSignal;
  onProgress?: (p: CalibrationProgress) => void;
  /** The general CNN to start from; default /models/fer-cnn/model.json. */
  baseModelUrl?: string;
  /** The general AU SVM scored beside it; default /models/svm-au/model.json. */
  svmAuUrl?: string;
  /** tfjs backend for training; default the app's automatic choice. */
  backend?: BackendName;
  /** Fine-tuning settings other than CALIBRATION_FINETUNE's (src/learn/personal.ts), e.g. for benches. */
  finetune?: Partial<CalibrationFinetune>;
}

export interface TrainedPersonalModels {
  cnn: ModelFolder;
  svm: ModelFolder;
  heldOut: HeldOutScores;
  /** Seconds per part of the run (bench:calibrate prints them). */
  timings: TrainTimings;
  /** The tfjs backend the CNN trained on. */
  backend: string;
}

const abortError = (signal: AbortSignal): unknown => signal.reason ?? new DOMException('calibration training cancelled', 'AbortError');

export function trainPersonalModels(set: CalibrationSet, options: TrainPersonalOptions): Promise<TrainedPersonalModels> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  if (!Number.isInteger(options.seed))
    return Promise.reject(new RangeError(`trainPersonalModels: seed must be an integer, got ${options.seed}`));
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./trainer-worker.ts', import.meta.url), { type: 'module', name: 'calibration-trainer' });
    const finish = () => {
      worker.terminate();
      signal?.removeEventListener('abort', onAbort);
    };
    // The worker holds the only copy of anything half-trained: terminating it discards it.
    const onAbort = () => {
      finish();
      reject(abortError(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.onmessage = (event: MessageEvent<FromTrainer>) => {
      const m = event.data;
      if (m.type === 'progress') options.onProgress?.(m.progress);
      else if (m.type === 'done') {
        finish();
        resolve({ cnn: m.cnn, svm: m.svm, heldOut: m.heldOut, timings: m.timings, backend: m.backend });
      } else {
        finish();
        reject(new Error(`calibration training failed: ${m.message}`));
      }
    };
    worker.onerror = (event) => {
      finish();
      reject(new Error(`calibration training worker failed: ${event.message || 'it could not start (see the console)'}`));
    };
    const request: TrainRequest = {
      type: 'train',
      samples: set.samples,
      capturedAt: set.capturedAt,
      seed: options.seed,
      baseModelUrl: options.baseModelUrl ?? `${MODELS_BASE}fer-cnn/model.json`,
      svmAuUrl: options.svmAuUrl ?? `${MODELS_BASE}svm-au/model.json`,
      ...(options.backend ? { backend: options.backend } : {}),
      ...(options.finetune ? { finetune: options.finetune } : {}),
    };
    worker.postMessage(request);
  });
}
