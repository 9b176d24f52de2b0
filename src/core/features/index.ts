/**
 * AU-style feature vector from one MediaPipe FaceLandmarker face (landmarks + blendshapes).
 *
 * Layout (FEATURE_NAMES; names are unique and stable; bump FEATURE_VERSION on any change to names,
 * order or definitions):
 *   1. `AU01_r` ... `AU45_r` (17): FACS action-unit estimates from blendshapes, 0..1
 *      (ACTION_UNITS in action-units.ts documents each mapping).
 *   2. `bs_<categoryName>` (52): MediaPipe's raw blendshape scores, in its fixed order
 *      (BLENDSHAPE_NAMES, `bs__neutral` first), matched to the input by name.
 *   3. `geo_*` (37): scalar measurements on the frontalised mesh (GEOMETRIC_FEATURES in geometry.ts):
 *      brow heights, eye and lid openings, nose-wrinkle proxies, mouth shape and corner heights,
 *      lip gap and thickness, jaw drop, cheek height. Distances in inter-ocular distances (IOD),
 *      angles in radians.
 *   4. `pt_<name>_x`, `pt_<name>_y` (31 points, 62 values): frontal coordinates of key points
 *      (KEY_POINTS in geometry.ts), origin at the outer-eye-corner midpoint, IOD units, y down.
 * Groups 3 and 4 do not change when the head is moved, scaled, rolled or (within reason) turned; see
 * geometry.ts for how (a rigid fit of stable landmarks to MediaPipe's canonical face). `face.transform`
 * is not read, so features are the same whether or not the landmarker output the matrix
 * (`rotationFromTransform` converts it for callers that want MediaPipe's head pose).
 */
import { AU_NAMES, BLENDSHAPE_NAMES, writeActionUnits, writeBlendshapeScores } from './action-units.ts';
import { GEOMETRIC_NAMES, KEY_POINT_NAMES, writeGeometry } from './geometry.ts';
import type { FaceObservation } from './types.ts';

export type * from './types.ts';
export {
  ACTION_UNITS,
  AU_NAMES,
  BLENDSHAPE_COUNT,
  BLENDSHAPE_NAMES,
  type ActionUnit,
  type AuCombine,
  type BlendshapeName,
} from './action-units.ts';
export {
  estimateRotation,
  GEOMETRIC_FEATURES,
  GEOMETRIC_NAMES,
  KEY_POINT_NAMES,
  KEY_POINTS,
  REFERENCE_POINTS,
  rotationFromTransform,
} from './geometry.ts';

/** Version of the layout and definitions; bump on any change so stored features are not mixed. */
export const FEATURE_VERSION = 1;

export interface FeatureGroup {
  name: 'au' | 'blendshape' | 'geometry' | 'point';
  offset: number;
  count: number;
}

const BS_NAMES: readonly string[] = BLENDSHAPE_NAMES.map((n) => `bs_${n}`);

export const FEATURE_GROUPS: readonly FeatureGroup[] = (() => {
  const sizes: [FeatureGroup['name'], number][] = [
    ['au', AU_NAMES.length],
    ['blendshape', BS_NAMES.length],
    ['geometry', GEOMETRIC_NAMES.length],
    ['point', KEY_POINT_NAMES.length],
  ];
  let offset = 0;
  return sizes.map(([name, count]) => {
    const g = { name, offset, count };
    offset += count;
    return g;
  });
})();

export const FEATURE_NAMES: readonly string[] = [...AU_NAMES, ...BS_NAMES, ...GEOMETRIC_NAMES, ...KEY_POINT_NAMES];

export const FEATURE_COUNT = FEATURE_NAMES.length;

if (new Set(FEATURE_NAMES).size !== FEATURE_COUNT) throw new Error('feature names are not unique');

const [AU_GROUP, BS_GROUP, GEO_GROUP] = FEATURE_GROUPS;

/**
 * The feature vector of one face (layout above), written into `out` (allocated if not given; must
 * hold FEATURE_COUNT values). Throws an Error naming the problem if the face has fewer than 468
 * landmarks, no blendshapes or lacks a blendshape, a non-positive image size, or coincident eye
 * corners. Allocates nothing besides `out`; not reentrant across threads (module scratch), which
 * JS's single thread per realm makes moot.
 */
export function computeFeatures(face: FaceObservation, out: Float32Array = new Float32Array(FEATURE_COUNT)): Float32Array {
  if (out.length < FEATURE_COUNT) throw new RangeError(`output holds ${out.length} values; the feature vector has ${FEATURE_COUNT}`);
  // Blendshapes first (cheap checks), straight into their slots; AUs are read back from there.
  writeBlendshapeScores(face.blendshapes, out, BS_GROUP.offset);
  writeActionUnits(out, BS_GROUP.offset, out, AU_GROUP.offset);
  writeGeometry(face, out, GEO_GROUP.offset);
  return out;
}
