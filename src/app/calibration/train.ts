/**
 * The calibration flow's one call into the in-browser trainer (trainer.ts, which trains in a worker):
 * the trained folders and their held-out scores are all the flow keeps.
 */
import type { CalibrationSet } from '../../core/calibration/types.ts';
import { trainPersonalModels, type TrainedPersonalModels, type TrainPersonalOptions } from './trainer.ts';

export type Trained = Pick<TrainedPersonalModels, 'cnn' | 'svm' | 'heldOut'>;

export function trainPersonal(
  set: CalibrationSet,
  options: Pick<TrainPersonalOptions, 'seed' | 'signal' | 'onProgress' | 'finetune'>,
): Promise<Trained> {
  return trainPersonalModels(set, options);
}
