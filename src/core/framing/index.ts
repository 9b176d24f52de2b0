/** Face framing: MediaPipe landmarks -> an eye-level, FER2013-framed 48x48 gray crop. */
export type * from './types.ts';
export { FER2013_FRAMING } from './canonical.ts';
export { keypointsFromLandmarks, landmarkBox, MIN_LANDMARKS } from './landmarks.ts';
export { applyAffine, cropShift, cropTransform, invertAffine, offsetSource, sourceBounds, type CropTransform } from './transform.ts';
export { flipHorizontal, LUMA, warpGray } from './warp.ts';
