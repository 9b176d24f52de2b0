/**
 * Pose-free face geometry from the MediaPipe face mesh: the landmarks are frontalised (head
 * rotation, translation and scale removed), then reduced to named scalar measurements and to the
 * frontal x, y of a set of key points.
 *
 * ## Frontalisation
 * 1. Landmarks are made isotropic: (x * width, y * height, z * width) pixels. Axes: x right, y down,
 *    z away from the camera (MediaPipe's z is smaller for points nearer the camera).
 * 2. Rotation: a weighted rigid fit (Kabsch / Horn's quaternion method) of REFERENCE_POINTS, rigid
 *    points of the face (eye corners, nose ridge, glabella, forehead, cheekbones, temples), to the
 *    same points of MediaPipe's canonical face model. The fit's rotation turns the face to look
 *    straight at the camera, upright. It does not depend on the face's scale or position.
 * 3. Translation and scale: the origin is the midpoint of the outer eye corners (33, 263) and the
 *    unit is their 3D distance (the inter-ocular distance, IOD), which no rotation changes.
 * So a frontalised point reads: x right, y down, z away, in IODs from the eye midpoint, as if the
 * face looked straight at the camera. Its outer eye corners sit near (-0.5, 0) and (0.5, 0).
 *
 * Why the landmark fit and not MediaPipe's facial transformation matrix: the matrix comes from a
 * Procrustes fit on perspective-unprojected "metric" landmarks that gives weight to jaw points
 * (136, 365), which move with the jaw, so opening the mouth tilts its pitch; it is only there when
 * the app asks for it; and its rotation refers to the camera's optical axis, not to the line of
 * sight to the face, so for a face off the image centre it disagrees with the apparent pose in the
 * landmarks by up to the angle off-axis. The fit here uses exactly the coordinates the features are
 * measured in, so features are the same whether or not the matrix was computed.
 * `rotationFromTransform` still reads the matrix (conventions below) for callers that want it, and
 * the tests check that both agree on synthetic faces.
 *
 * ## MediaPipe's facial transformation matrix (facialTransformationMatrixes[i].data)
 * Concluded from MediaPipe's source (tasks/cc/vision/face_geometry/libs/geometry_pipeline.cc and
 * framework/formats/matrix.cc) and the tasks-vision JS bundle:
 * - `data` holds a 4x4 Eigen matrix copied with MatrixDataProtoFromMatrix: Eigen's default
 *   column-major order (the proto's layout is left at COLUMN_MAJOR), and the JS API copies
 *   `packed_data` unchanged. So M[row][col] = data[col * 4 + row]; translation is data[12..14].
 * - M maps the canonical face model (centimetres; x to the image's right, y up, z out of the face
 *   towards the viewer) into a right-handed camera space: x right, y up, z towards the viewer (the
 *   camera looks down -z; OpenGL convention). The face landmarker environment uses a TOP_LEFT
 *   origin and flips image y (y -> 1 - y) and negates z ("changes handedness") on the way in.
 * - Its upper-left 3x3 is s * R with s close to 1 (the metric landmarks are already in cm); the
 *   columns are normalised here to drop s.
 * - In this module's image axes (x right, y down, z away), with F = diag(1, -1, -1), the head
 *   rotation is F * R * F (conjugation; still a proper rotation).
 */
import { MIN_LANDMARKS } from '../framing/landmarks.ts';
import type { FaceObservation, Rotation3 } from './types.ts';

/**
 * Rigid reference points for the pose fit: [landmark index, weight, x, y, z] with x, y, z from
 * MediaPipe's canonical face model (the canonical_mesh in geometry_pipeline_metadata_landmarks of
 * face_landmarker.task, centimetres), converted to image axes (x right, y down, z away). Eye corners
 * and the nose ridge carry the fit; forehead, cheekbone and temple points (which slide a little
 * with brow raising, cheek raising and on the face contour) get less weight. Mouth, jaw, brow and
 * nostril points are left out: they move with expressions.
 */
export const REFERENCE_POINTS: readonly (readonly [index: number, weight: number, x: number, y: number, z: number])[] = [
  [33, 1, -4.446, -2.664, -3.173], // outer eye corners
  [263, 1, 4.446, -2.664, -3.173],
  [133, 1, -1.856, -2.585, -3.758], // inner eye corners
  [362, 1, 1.856, -2.585, -3.758],
  [168, 1, 0, -3.271, -5.236], // nose ridge, bridge to tip
  [6, 1, 0, -2.473, -5.789],
  [197, 1, 0, -1.728, -6.317],
  [195, 1, 0, -1.059, -6.775],
  [5, 1, 0, -0.366, -7.243],
  [4, 1, 0, 0.463, -7.587],
  [9, 0.5, 0, -4.886, -5.385], // glabella, forehead
  [151, 0.5, 0, -6.545, -5.027],
  [10, 0.3, 0, -8.262, -4.482],
  [143, 0.5, -6.408, -2.236, -1.561], // cheekbones below the outer eye corners
  [372, 0.5, 6.408, -2.236, -1.561],
  [121, 0.5, -1.821, -1.468, -4.224], // beside the nose, below the inner eye corners
  [350, 0.5, 1.821, -1.468, -4.224],
  [127, 0.3, -7.743, -2.365, 2.005], // temples (face contour)
  [356, 0.3, 7.743, -2.365, 2.005],
];

/** Landmarks that anchor the frame: outer eye corners. */
export const EYE_OUTER_R = 33;
export const EYE_OUTER_L = 263;

/** Points frontalised (the mesh without irises). */
const MESH_POINTS = MIN_LANDMARKS;

// ---- scratch (module-level so that computeFeatures allocates nothing per call) ----
const X = new Float64Array(MESH_POINTS);
const Y = new Float64Array(MESH_POINTS);
const Z = new Float64Array(MESH_POINTS);
const ROT = new Float64Array(9); // observed -> frontal
const N4 = new Float64Array(16);
const V4 = new Float64Array(16);

const REF_COUNT = REFERENCE_POINTS.length;
const REF_INDEX = new Int32Array(REF_COUNT);
const REF_W = new Float64Array(REF_COUNT);
const REF_X = new Float64Array(REF_COUNT);
const REF_Y = new Float64Array(REF_COUNT);
const REF_Z = new Float64Array(REF_COUNT);
{
  let sw = 0;
  let cx = 0;
  let cy = 0;
  let cz = 0;
  for (const [, w, x, y, z] of REFERENCE_POINTS) {
    sw += w;
    cx += w * x;
    cy += w * y;
    cz += w * z;
  }
  REFERENCE_POINTS.forEach(([i, w, x, y, z], k) => {
    REF_INDEX[k] = i;
    REF_W[k] = w;
    // Stored relative to the weighted centroid.
    REF_X[k] = x - cx / sw;
    REF_Y[k] = y - cy / sw;
    REF_Z[k] = z - cz / sw;
  });
}

/**
 * Eigenvector of the largest eigenvalue of the symmetric 4x4 `a` (destroyed), by cyclic Jacobi
 * rotations; written to out[0..3].
 */
function maxEigenvector4(a: Float64Array, v: Float64Array, out: Float64Array): void {
  v.fill(0);
  v[0] = v[5] = v[10] = v[15] = 1;
  for (let sweep = 0; sweep < 30; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < 4; p++) {
      diag += a[p * 5] * a[p * 5];
      for (let q = p + 1; q < 4; q++) off += a[p * 4 + q] * a[p * 4 + q];
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < 3; p++) {
      for (let q = p + 1; q < 4; q++) {
        const apq = a[p * 4 + q];
        if (apq === 0) continue;
        const theta = (a[q * 5] - a[p * 5]) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // a <- J^T a J with J = I except J[p][p] = J[q][q] = c, J[p][q] = s, J[q][p] = -s.
        for (let k = 0; k < 4; k++) {
          const akp = a[k * 4 + p];
          const akq = a[k * 4 + q];
          a[k * 4 + p] = c * akp - s * akq;
          a[k * 4 + q] = s * akp + c * akq;
        }
        for (let k = 0; k < 4; k++) {
          const apk = a[p * 4 + k];
          const aqk = a[q * 4 + k];
          a[p * 4 + k] = c * apk - s * aqk;
          a[q * 4 + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < 4; k++) {
          const vkp = v[k * 4 + p];
          const vkq = v[k * 4 + q];
          v[k * 4 + p] = c * vkp - s * vkq;
          v[k * 4 + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  let best = 0;
  for (let k = 1; k < 4; k++) if (a[k * 5] > a[best * 5]) best = k;
  for (let k = 0; k < 4; k++) out[k] = v[k * 4 + best];
}

const Q = new Float64Array(4);

/**
 * Fits the rotation taking the observed reference points (isotropic pixels, read from X, Y, Z) onto
 * the canonical ones (Horn 1987: the unit quaternion is the top eigenvector of a 4x4 matrix built
 * from the weighted cross-covariance), and writes it row-major to `rot` (observed -> frontal).
 */
function fitRotation(rot: Float64Array): void {
  let sw = 0;
  let mx = 0;
  let my = 0;
  let mz = 0;
  for (let k = 0; k < REF_COUNT; k++) {
    const i = REF_INDEX[k];
    const w = REF_W[k];
    sw += w;
    mx += w * X[i];
    my += w * Y[i];
    mz += w * Z[i];
  }
  mx /= sw;
  my /= sw;
  mz /= sw;
  // S[a][b] = sum w * observed_a * reference_b (both centred).
  let sxx = 0, sxy = 0, sxz = 0, syx = 0, syy = 0, syz = 0, szx = 0, szy = 0, szz = 0; // prettier-ignore
  for (let k = 0; k < REF_COUNT; k++) {
    const i = REF_INDEX[k];
    const w = REF_W[k];
    const ax = w * (X[i] - mx);
    const ay = w * (Y[i] - my);
    const az = w * (Z[i] - mz);
    const bx = REF_X[k];
    const by = REF_Y[k];
    const bz = REF_Z[k];
    sxx += ax * bx;
    sxy += ax * by;
    sxz += ax * bz;
    syx += ay * bx;
    syy += ay * by;
    syz += ay * bz;
    szx += az * bx;
    szy += az * by;
    szz += az * bz;
  }
  const n = N4;
  n[0] = sxx + syy + szz;
  n[1] = n[4] = syz - szy;
  n[2] = n[8] = szx - sxz;
  n[3] = n[12] = sxy - syx;
  n[5] = sxx - syy - szz;
  n[6] = n[9] = sxy + syx;
  n[7] = n[13] = szx + sxz;
  n[10] = -sxx + syy - szz;
  n[11] = n[14] = syz + szy;
  n[15] = -sxx - syy + szz;
  maxEigenvector4(n, V4, Q);
  const w = Q[0];
  const x = Q[1];
  const y = Q[2];
  const z = Q[3];
  rot[0] = w * w + x * x - y * y - z * z;
  rot[1] = 2 * (x * y - w * z);
  rot[2] = 2 * (x * z + w * y);
  rot[3] = 2 * (x * y + w * z);
  rot[4] = w * w - x * x + y * y - z * z;
  rot[5] = 2 * (y * z - w * x);
  rot[6] = 2 * (x * z - w * y);
  rot[7] = 2 * (y * z + w * x);
  rot[8] = w * w - x * x - y * y + z * z;
}

function checkFace(face: FaceObservation): void {
  const n = face.landmarks?.length ?? 0;
  if (n < MIN_LANDMARKS) {
    throw new Error(`face.landmarks has ${n} points; expected a ${MIN_LANDMARKS}- or 478-point MediaPipe face mesh`);
  }
  const { width, height } = face;
  if (!(width > 0 && height > 0 && Number.isFinite(width) && Number.isFinite(height))) {
    throw new Error(`face.width and face.height must be positive image sizes in pixels (got ${width} x ${height})`);
  }
}

/** Loads the mesh into X, Y, Z as isotropic pixels. */
function loadIsotropic(face: FaceObservation): void {
  const { landmarks, width, height } = face;
  for (let i = 0; i < MESH_POINTS; i++) {
    const p = landmarks[i];
    X[i] = p.x * width;
    Y[i] = p.y * height;
    Z[i] = p.z * width;
  }
}

/**
 * Frontalises the mesh in place in X, Y, Z (see the module comment). Leaves the observed -> frontal
 * rotation in ROT. Throws if the eye corners coincide or are not finite.
 */
function frontalise(face: FaceObservation): void {
  checkFace(face);
  loadIsotropic(face);
  const cx = (X[EYE_OUTER_R] + X[EYE_OUTER_L]) / 2;
  const cy = (Y[EYE_OUTER_R] + Y[EYE_OUTER_L]) / 2;
  const cz = (Z[EYE_OUTER_R] + Z[EYE_OUTER_L]) / 2;
  const iod = Math.hypot(X[EYE_OUTER_L] - X[EYE_OUTER_R], Y[EYE_OUTER_L] - Y[EYE_OUTER_R], Z[EYE_OUTER_L] - Z[EYE_OUTER_R]);
  if (!(iod > 1e-9) || !Number.isFinite(iod)) {
    throw new Error(`face.landmarks: outer eye corners ${EYE_OUTER_R} and ${EYE_OUTER_L} coincide or are not finite`);
  }
  fitRotation(ROT);
  const r = ROT;
  const k = 1 / iod;
  for (let i = 0; i < MESH_POINTS; i++) {
    const dx = X[i] - cx;
    const dy = Y[i] - cy;
    const dz = Z[i] - cz;
    X[i] = (r[0] * dx + r[1] * dy + r[2] * dz) * k;
    Y[i] = (r[3] * dx + r[4] * dy + r[5] * dz) * k;
    Z[i] = (r[6] * dx + r[7] * dy + r[8] * dz) * k;
  }
}

/**
 * The head rotation the landmarks show, in image axes (x right, y down, z away): the rotation
 * taking the frontal, upright face to the observed one (transpose of the frontalising rotation).
 * Row-major 3x3.
 */
export function estimateRotation(face: FaceObservation, out: Rotation3 = new Float64Array(9)): Rotation3 {
  checkFace(face);
  loadIsotropic(face);
  fitRotation(ROT);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) out[i * 3 + j] = ROT[j * 3 + i];
  return out;
}

/**
 * The head rotation in MediaPipe's facial transformation matrix, converted to this module's image
 * axes (x right, y down, z away; see the module comment): the rotation taking the frontal, upright
 * face to the observed one, comparable with `estimateRotation`. Row-major 3x3. Throws unless
 * `transform` is 16 finite numbers.
 */
export function rotationFromTransform(transform: readonly number[], out: Rotation3 = new Float64Array(9)): Rotation3 {
  if (!transform || transform.length !== 16 || !transform.every(Number.isFinite)) {
    throw new Error(`face.transform must be 16 finite numbers (a 4x4 column-major matrix), got ${transform?.length ?? 'none'}`);
  }
  // Column-major: M[row][col] = data[col * 4 + row]. Normalise each column to drop the scale.
  for (let c = 0; c < 3; c++) {
    const norm = Math.hypot(transform[c * 4], transform[c * 4 + 1], transform[c * 4 + 2]);
    if (!(norm > 1e-12)) throw new Error('face.transform has a degenerate rotation part');
    for (let r = 0; r < 3; r++) {
      // F * R * F with F = diag(1, -1, -1): flip the sign where exactly one of row, col is 1 or 2.
      const sign = (r === 0) === (c === 0) ? 1 : -1;
      out[r * 3 + c] = (sign * transform[c * 4 + r]) / norm;
    }
  }
  return out;
}

// ---- measurements on the frontalised mesh (X, Y, Z; IOD units; y down, so "height" is -y) ----

const dist = (i: number, j: number) => Math.hypot(X[i] - X[j], Y[i] - Y[j]);
const midY = (i: number, j: number) => (Y[i] + Y[j]) / 2;
const midX = (i: number, j: number) => (X[i] + X[j]) / 2;
const midZ = (i: number, j: number) => (Z[i] + Z[j]) / 2;
const mean3Y = (i: number, j: number, k: number) => (Y[i] + Y[j] + Y[k]) / 3;
/** Vertical level of each eye: mean of its corners (the corners hardly move with expressions). */
const eyeR = () => midY(33, 133);
const eyeL = () => midY(263, 362);
/** Mouth centre: midpoint of the outer lip midpoints. */
const mouthY = () => midY(0, 17);
const mouthX = () => midX(0, 17);
/** Angle at landmark c between the directions to a and b, radians (frontal plane). */
function angleAt(c: number, a: number, b: number): number {
  const ax = X[a] - X[c];
  const ay = Y[a] - Y[c];
  const bx = X[b] - X[c];
  const by = Y[b] - Y[c];
  return Math.atan2(Math.abs(ax * by - ay * bx), ax * bx + ay * by);
}

/**
 * Scalar geometric features, in layout order. Sides: `_r` is the side of landmark 33 (the subject's
 * right in an unmirrored camera image, on the image's left), `_l` the side of landmark 263.
 * Distances are in the frontal plane (x, y), in IODs; angles in radians.
 */
export const GEOMETRIC_FEATURES: readonly (readonly [name: string, description: string, compute: () => number])[] = [
  // Brows (AU1, AU2, AU4): height above the eye's corner line.
  ['geo_brow_inner_r', 'inner brow (107, 55) height above the eye corners (33, 133)', () => eyeR() - midY(107, 55)],
  ['geo_brow_mid_r', 'mid brow (105, 52) height above the eye corners', () => eyeR() - midY(105, 52)],
  ['geo_brow_outer_r', 'outer brow (70, 46) height above the eye corners', () => eyeR() - midY(70, 46)],
  ['geo_brow_inner_l', 'inner brow (336, 285) height above the eye corners (263, 362)', () => eyeL() - midY(336, 285)],
  ['geo_brow_mid_l', 'mid brow (334, 282) height above the eye corners', () => eyeL() - midY(334, 282)],
  ['geo_brow_outer_l', 'outer brow (300, 276) height above the eye corners', () => eyeL() - midY(300, 276)],
  ['geo_brow_inner_gap', 'horizontal gap between the inner brows (AU4 pulls them together)', () => midX(336, 285) - midX(107, 55)],
  // Eyes (AU5, AU6, AU7, AU45).
  ['geo_eye_open_r', 'eye opening: lower minus upper lid, mean of 3 lid pairs', () => mean3Y(145, 153, 144) - mean3Y(159, 158, 160)],
  ['geo_eye_open_l', 'eye opening: lower minus upper lid, mean of 3 lid pairs', () => mean3Y(374, 380, 373) - mean3Y(386, 385, 387)],
  ['geo_upper_lid_r', 'upper lid (158-160) height above the eye corners', () => eyeR() - mean3Y(159, 158, 160)],
  ['geo_upper_lid_l', 'upper lid (385-387) height above the eye corners', () => eyeL() - mean3Y(386, 385, 387)],
  ['geo_lower_lid_r', 'lower lid (144, 145, 153) depth below the eye corners', () => mean3Y(145, 153, 144) - eyeR()],
  ['geo_lower_lid_l', 'lower lid (373, 374, 380) depth below the eye corners', () => mean3Y(374, 380, 373) - eyeL()],
  // Nose (AU9, AU10).
  ['geo_nose_lip', 'nose base (2) to upper lip top (0): shortened by nose wrinkling / upper lip raising', () => dist(2, 0)],
  ['geo_nostril_width', 'distance between the nostril wings (98, 327)', () => dist(98, 327)],
  ['geo_nose_eye_r', 'inner eye corner (133) to nostril wing (98): shortened by nose wrinkling', () => dist(133, 98)],
  ['geo_nose_eye_l', 'inner eye corner (362) to nostril wing (327)', () => dist(362, 327)],
  // Mouth (AU12, AU15, AU20, AU23/24, AU25, AU26, AU18).
  ['geo_mouth_width', 'mouth corner (61) to mouth corner (291)', () => dist(61, 291)],
  ['geo_mouth_height', 'upper lip top (0) to lower lip bottom (17)', () => dist(0, 17)],
  ['geo_mouth_aspect', 'mouth height / mouth width', () => dist(0, 17) / dist(61, 291)],
  ['geo_lip_gap', 'inner lip gap: lower (14) minus upper (13) inner lip midpoint', () => Y[14] - Y[13]],
  ['geo_upper_lip', 'upper lip thickness at the midline (0 to 13)', () => dist(0, 13)],
  ['geo_lower_lip', 'lower lip thickness at the midline (14 to 17)', () => dist(14, 17)],
  ['geo_mouth_corner_raise_r', 'mouth corner (61) height above the mouth centre (mid 0, 17): smile > 0, frown < 0', () => mouthY() - Y[61]],
  ['geo_mouth_corner_raise_l', 'mouth corner (291) height above the mouth centre', () => mouthY() - Y[291]],
  [
    'geo_mouth_corner_angle_r',
    'elevation angle of mouth centre -> corner (61), radians',
    () => Math.atan2(mouthY() - Y[61], mouthX() - X[61]),
  ],
  [
    'geo_mouth_corner_angle_l',
    'elevation angle of mouth centre -> corner (291), radians',
    () => Math.atan2(mouthY() - Y[291], X[291] - mouthX()),
  ],
  [
    'geo_mouth_corner_opening_r',
    'angle at the corner (61) between upper (0) and lower (17) lip midpoints, radians',
    () => angleAt(61, 0, 17),
  ],
  [
    'geo_mouth_corner_opening_l',
    'angle at the corner (291) between upper (0) and lower (17) lip midpoints, radians',
    () => angleAt(291, 0, 17),
  ],
  ['geo_lip_protrusion', 'depth of the mouth corners behind the lip midpoints (pucker/funnel > 0)', () => midZ(61, 291) - midZ(0, 17)],
  ['geo_mouth_drop', 'mouth centre (mid 0, 17) below the eye midpoint', () => mouthY()],
  ['geo_eye_mouth_r', 'outer eye corner (33) to mouth corner (61)', () => dist(33, 61)],
  ['geo_eye_mouth_l', 'outer eye corner (263) to mouth corner (291)', () => dist(263, 291)],
  // Jaw and chin (AU17, AU26).
  ['geo_jaw_drop', 'chin (152) below the eye midpoint', () => Y[152]],
  ['geo_lip_chin', 'lower lip bottom (17) to chin (152)', () => dist(17, 152)],
  // Cheeks (AU6).
  ['geo_cheek_raise_r', 'cheek (50) height relative to the eye midpoint', () => -Y[50]],
  ['geo_cheek_raise_l', 'cheek (280) height relative to the eye midpoint', () => -Y[280]],
];

/** Key points whose frontal x, y are features (`pt_<name>_x`, `pt_<name>_y`), in layout order. */
export const KEY_POINTS: readonly (readonly [name: string, index: number])[] = [
  ['brow_outer_r', 70],
  ['brow_mid_r', 105],
  ['brow_inner_r', 107],
  ['brow_outer_l', 300],
  ['brow_mid_l', 334],
  ['brow_inner_l', 336],
  ['eye_outer_r', 33],
  ['eye_inner_r', 133],
  ['eye_top_r', 159],
  ['eye_bottom_r', 145],
  ['eye_outer_l', 263],
  ['eye_inner_l', 362],
  ['eye_top_l', 386],
  ['eye_bottom_l', 374],
  ['nose_tip', 1],
  ['nose_base', 2],
  ['nostril_r', 98],
  ['nostril_l', 327],
  ['mouth_corner_r', 61],
  ['mouth_corner_l', 291],
  ['lip_top', 0],
  ['lip_bottom', 17],
  ['lip_inner_top', 13],
  ['lip_inner_bottom', 14],
  ['lip_top_r', 37],
  ['lip_top_l', 267],
  ['lip_bottom_r', 84],
  ['lip_bottom_l', 314],
  ['cheek_r', 50],
  ['cheek_l', 280],
  ['chin', 152],
];

export const GEOMETRIC_NAMES: readonly string[] = GEOMETRIC_FEATURES.map(([name]) => name);
export const KEY_POINT_NAMES: readonly string[] = KEY_POINTS.flatMap(([name]) => [`pt_${name}_x`, `pt_${name}_y`]);

/**
 * Frontalises the face and writes GEOMETRIC_FEATURES then the KEY_POINTS' frontal x, y into
 * `out[offset ...]` (GEOMETRIC_NAMES.length + KEY_POINT_NAMES.length values).
 */
export function writeGeometry(face: FaceObservation, out: Float32Array | Float64Array, offset: number): void {
  frontalise(face);
  let o = offset;
  for (let f = 0; f < GEOMETRIC_FEATURES.length; f++) out[o++] = GEOMETRIC_FEATURES[f][2]();
  for (let p = 0; p < KEY_POINTS.length; p++) {
    const i = KEY_POINTS[p][1];
    out[o++] = X[i];
    out[o++] = Y[i];
  }
}
