/** Input to the feature extractor: one face as MediaPipe FaceLandmarker reports it. */

export interface LandmarkPoint {
  x: number;
  y: number;
  z: number;
}

/** One blendshape score, as in MediaPipe's `faceBlendshapes[i].categories`. */
export interface BlendshapeScore {
  categoryName: string;
  score: number;
}

export interface FaceObservation {
  /** 478 MediaPipe landmarks: x, y normalised to image width/height; z in roughly x's scale (MediaPipe NormalizedLandmark). */
  landmarks: readonly LandmarkPoint[];
  /** Source image size in pixels, so x and y can be made isotropic (x*width, y*height, z*width). */
  width: number;
  height: number;
  /** MediaPipe faceBlendshapes[i].categories: 52 entries {categoryName, score}; '_neutral' included. */
  blendshapes: readonly { categoryName: string; score: number }[];
  /** MediaPipe facialTransformationMatrixes[i].data (16 numbers, 4x4), when available. */
  transform?: readonly number[];
}

/** A 3x3 rotation, row-major: `[r00, r01, r02, r10, ..., r22]`. */
export type Rotation3 = Float64Array;
