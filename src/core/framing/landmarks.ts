/**
 * MediaPipe FaceLandmarker (478-point face mesh) indices used for framing, and the reduction of a
 * landmark list to FaceKeypoints and a bounding box.
 */
import type { Box, FaceKeypoints, Point } from './types.ts';

/** Outline of the eye on the image's left (subject's right eye): corners 33 and 133 plus lids. */
export const LEFT_EYE_RING = [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246] as const;
/** Outline of the eye on the image's right (subject's left eye): corners 263 and 362 plus lids. */
export const RIGHT_EYE_RING = [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466] as const;
/** Mouth corners. */
export const MOUTH_CORNERS = [61, 291] as const;

/** The mesh has 468 points (478 with irises); anything shorter is not a face mesh. */
export const MIN_LANDMARKS = 468;

function meanOf(landmarks: readonly Point[], indices: readonly number[], sx: number, sy: number): Point {
  let x = 0;
  let y = 0;
  for (const i of indices) {
    const p = landmarks[i];
    if (!p) throw new RangeError(`landmark ${i} missing (got ${landmarks.length} points)`);
    x += p.x;
    y += p.y;
  }
  return { x: (x / indices.length) * sx, y: (y / indices.length) * sy };
}

/**
 * Eye centres (mean of each eye's outline: steadier than the iris, which moves with gaze) and mouth
 * centre. MediaPipe landmarks are normalised to 0..1; `width`/`height` scale them to pixels (pass
 * 1, 1 for landmarks already in pixels).
 */
export function keypointsFromLandmarks(landmarks: readonly Point[], width: number, height: number): FaceKeypoints {
  if (landmarks.length < MIN_LANDMARKS) throw new RangeError(`expected a ${MIN_LANDMARKS}-point face mesh, got ${landmarks.length} points`);
  return {
    leftEye: meanOf(landmarks, LEFT_EYE_RING, width, height),
    rightEye: meanOf(landmarks, RIGHT_EYE_RING, width, height),
    mouth: meanOf(landmarks, MOUTH_CORNERS, width, height),
  };
}

/** Axis-aligned bounding box of the landmarks, in pixels. */
export function landmarkBox(landmarks: readonly Point[], width: number, height: number): Box {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const p of landmarks) {
    if (p.x < x0) x0 = p.x;
    if (p.x > x1) x1 = p.x;
    if (p.y < y0) y0 = p.y;
    if (p.y > y1) y1 = p.y;
  }
  return { x: x0 * width, y: y0 * height, width: (x1 - x0) * width, height: (y1 - y0) * height };
}
