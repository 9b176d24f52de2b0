/** Shared types of the face-framing math (pure TypeScript). */

export interface Point {
  x: number;
  y: number;
}

/**
 * 2D affine map p -> (a*x + c*y + e, b*x + d*y + f), the same layout as Canvas2D's setTransform
 * and DOMMatrix (a, b, c, d, e, f).
 */
export interface Affine {
  a: number;
  b: number;
  c: number;
  d: number;
  e: number;
  f: number;
}

/** The three points the framing is computed from, in source-image pixels. */
export interface FaceKeypoints {
  /** The eye on the image's left (the subject's right eye). */
  leftEye: Point;
  /** The eye on the image's right (the subject's left eye). */
  rightEye: Point;
  /** Centre of the mouth (mean of its corners). */
  mouth: Point;
}

/** Where those points sit in a model crop, in crop pixels, once the eyes are level. */
export interface CanonicalFraming {
  /** Crop side in pixels (48 for FER2013). */
  size: number;
  /** Midpoint between the eye centres. */
  eyeMid: Point;
  /** Distance between the eye centres. */
  interocular: number;
  /** Distance from the eye midpoint down to the mouth centre, perpendicular to the eye line. */
  mouthDrop: number;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A gray or RGBA image in row-major order (e.g. ImageData.data with channels = 4). */
export interface PixelSource {
  data: ArrayLike<number>;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}
