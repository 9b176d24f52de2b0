/** Messages between the calibration trainer (trainer.ts, page side) and its worker (trainer-worker.ts). */
import type { CalibrationProgress, CalibrationSample, HeldOutScores, ModelFolder } from '../../core/calibration/types.ts';
import type { CalibrationFinetune } from '../../learn/personal.ts';
import type { BackendName } from '../live/types.ts';

export interface TrainRequest {
  type: 'train';
  samples: CalibrationSample[];
  capturedAt: string;
  seed: number;
  /** The general CNN to fine-tune and score (model.json URL). */
  baseModelUrl: string;
  /** The general AU SVM to score (model.json URL); its failure to load only drops its score. */
  svmAuUrl: string;
  /** tfjs backend; default: the app's automatic choice (WebGPU, WebGL, wasm). */
  backend?: BackendName;
  /** Fine-tuning settings other than CALIBRATION_FINETUNE's (benches). */
  finetune?: Partial<CalibrationFinetune>;
}

/** Wall-clock seconds of each part of a training run. */
export interface TrainTimings {
  /** Loading the general models and scoring them on the held-out frames. */
  general: number;
  cnn: number;
  svm: number;
  total: number;
}

export type FromTrainer =
  | { type: 'progress'; progress: CalibrationProgress }
  | { type: 'done'; cnn: ModelFolder; svm: ModelFolder; heldOut: HeldOutScores; timings: TrainTimings; backend: string }
  | { type: 'error'; message: string };
