/**
 * Everything this folder takes from the rest of src/train, in one place: when src/train's files
 * move, only these paths change.
 */
export { writeFileAtomic } from '../util/atomic.ts';
export { parseOptions, UsageError, wantsHelp } from '../util/cli-args.ts';
export { openFolder, type FileItem } from '../extract/sources.ts';
export { CorruptModelError, predictImages, type PredictedImage } from '../predict/predict.ts';
export { readSvmModel } from '../svm/export.ts';
