import { describe, expect, it } from 'vitest';
import {
  ACTION_UNITS,
  AU_NAMES,
  BLENDSHAPE_NAMES,
  computeFeatures,
  estimateRotation,
  FEATURE_COUNT,
  FEATURE_GROUPS,
  FEATURE_NAMES,
  FEATURE_VERSION,
  REFERENCE_POINTS,
  rotationFromTransform,
  type FaceObservation,
  type LandmarkPoint,
} from '../../../src/core/features/index.ts';

type Vec3 = [number, number, number];

/**
 * Points of MediaPipe's canonical face model (cm; x to the image's right, y up, z towards the
 * viewer) for the landmarks the geometric features read; converted to image axes below.
 */
const CANONICAL: Record<number, Vec3> = {
  0: [0, -3.41, 5.98], 1: [0, -1.13, 7.48], 2: [0, -2.09, 6.06], 13: [0, -3.99, 5.22], 14: [0, -4.54, 5.4],
  17: [0, -5.37, 5.54], 37: [-0.71, -3.33, 5.88], 46: [-5.25, 3.88, 3.36], 50: [-4.77, -0.7, 3.53],
  52: [-3.73, 4.51, 4.55], 55: [-1.22, 4.14, 5.11], 61: [-2.46, -4.34, 4.28], 70: [-5.72, 4.25, 2.83],
  84: [-0.7, -5.29, 5.45], 98: [-1.41, -1.71, 5.24], 105: [-3.99, 5.11, 4.47], 107: [-1.4, 5.01, 5.32],
  144: [-3.67, 2.36, 3.64], 145: [-3.18, 2.29, 3.78], 152: [0, -9.4, 4.26], 153: [-2.72, 2.32, 3.78],
  158: [-2.72, 2.96, 3.87], 159: [-3.18, 2.96, 3.88], 160: [-3.67, 2.93, 3.72], 267: [0.71, -3.33, 5.88],
  276: [5.25, 3.88, 3.36], 280: [4.77, -0.7, 3.53], 282: [3.73, 4.51, 4.55], 285: [1.22, 4.14, 5.11],
  291: [2.46, -4.34, 4.28], 300: [5.72, 4.25, 2.83], 314: [0.7, -5.29, 5.45], 327: [1.41, -1.71, 5.24],
  334: [3.99, 5.11, 4.47], 336: [1.4, 5.01, 5.32], 373: [3.67, 2.36, 3.64], 374: [3.18, 2.29, 3.78],
  380: [2.72, 2.32, 3.78], 385: [2.72, 2.96, 3.87], 386: [3.18, 2.96, 3.88], 387: [3.67, 2.93, 3.72],
}; // prettier-ignore

/** Deterministic pseudo-random numbers in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * A 478-point face in image axes (x right, y down, z away; cm): canonical positions for the named
 * points and the rigid reference points, every point jittered a little (an individual face, so the
 * pose fit is not trivially exact), and pseudo-random points elsewhere.
 */
function syntheticFace(): Vec3[] {
  const rnd = lcg(12345);
  const jitter = () => (rnd() - 0.5) * 0.12;
  const pts: Vec3[] = Array.from({ length: 478 }, () => [(rnd() - 0.5) * 14, (rnd() - 0.5) * 17, -rnd() * 8 + 1]);
  for (const [i, , x, y, z] of REFERENCE_POINTS) pts[i] = [x, y, z];
  for (const [k, [x, y, z]] of Object.entries(CANONICAL)) pts[Number(k)] = [x, -y, -z];
  return pts.map(([x, y, z]) => [x + jitter(), y + jitter(), z + jitter()]);
}

interface Pose {
  /** Degrees, in image axes: roll about z, yaw about y, pitch about x; R = Rz(roll) Ry(yaw) Rx(pitch). */
  roll?: number;
  yaw?: number;
  pitch?: number;
  /** Pixels per cm. */
  scale?: number;
  /** Face origin in pixels. */
  tx?: number;
  ty?: number;
  width?: number;
  height?: number;
}

const deg = Math.PI / 180;

function matMul(a: number[], b: number[]): number[] {
  const out = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) out[i * 3 + j] += a[i * 3 + k] * b[k * 3 + j];
  return out;
}

function rotationOf({ roll = 0, yaw = 0, pitch = 0 }: Pose): number[] {
  const [cr, sr, cy, sy, cp, sp] = [
    Math.cos(roll * deg),
    Math.sin(roll * deg),
    Math.cos(yaw * deg),
    Math.sin(yaw * deg),
    Math.cos(pitch * deg),
    Math.sin(pitch * deg),
  ];
  const rz = [cr, -sr, 0, sr, cr, 0, 0, 0, 1];
  const ry = [cy, 0, sy, 0, 1, 0, -sy, 0, cy];
  const rx = [1, 0, 0, 0, cp, -sp, 0, sp, cp];
  return matMul(rz, matMul(ry, rx));
}

/**
 * MediaPipe's facial transformation matrix for a pose: canonical model (y up, z to the viewer) ->
 * camera space (y up, z to the viewer), 4x4 column-major. In image axes the rotation is R; in
 * MediaPipe's axes it is F R F with F = diag(1, -1, -1).
 */
function transformOf(pose: Pose): number[] {
  const r = rotationOf(pose);
  const f = [1, -1, -1];
  const data = new Array<number>(16).fill(0);
  for (let row = 0; row < 3; row++) for (let col = 0; col < 3; col++) data[col * 4 + row] = f[row] * f[col] * r[row * 3 + col];
  data[12] = 1.5;
  data[13] = -2;
  data[14] = -55;
  data[15] = 1;
  return data;
}

const zeroBlendshapes = () => BLENDSHAPE_NAMES.map((categoryName) => ({ categoryName, score: 0 }));

/** Rotates, scales and places the face, projects it orthographically and normalises like MediaPipe. */
function observe(face: Vec3[], pose: Pose = {}, withTransform = false): FaceObservation {
  const { scale = 20, tx = 320, ty = 250, width = 640, height = 480 } = pose;
  const r = rotationOf(pose);
  const landmarks: LandmarkPoint[] = face.map(([x, y, z]) => {
    const X = scale * (r[0] * x + r[1] * y + r[2] * z) + tx;
    const Y = scale * (r[3] * x + r[4] * y + r[5] * z) + ty;
    const Z = scale * (r[6] * x + r[7] * y + r[8] * z);
    return { x: X / width, y: Y / height, z: Z / width };
  });
  return { landmarks, width, height, blendshapes: zeroBlendshapes(), ...(withTransform ? { transform: transformOf(pose) } : {}) };
}

const group = (name: string) => {
  const g = FEATURE_GROUPS.find((x) => x.name === name);
  if (!g) throw new Error(name);
  return g;
};
const featureIndex = (name: string) => {
  const i = FEATURE_NAMES.indexOf(name);
  if (i < 0) throw new Error(`no feature ${name}`);
  return i;
};

/** Largest absolute difference over the geometry and point groups. */
function geometryDiff(a: Float32Array, b: Float32Array): number {
  const start = group('geometry').offset;
  let worst = 0;
  for (let i = start; i < FEATURE_COUNT; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** Angle of the rotation a^T b, degrees. */
function angleBetween(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let trace = 0;
  for (let i = 0; i < 3; i++) for (let k = 0; k < 3; k++) trace += a[k * 3 + i] * b[k * 3 + i];
  return Math.acos(Math.min(1, Math.max(-1, (trace - 1) / 2))) / deg;
}

describe('feature layout', () => {
  it('has unique names, FEATURE_COUNT of them, in contiguous groups', () => {
    expect(FEATURE_VERSION).toBe(1);
    expect(new Set(FEATURE_NAMES).size).toBe(FEATURE_NAMES.length);
    expect(FEATURE_NAMES.length).toBe(FEATURE_COUNT);
    expect(FEATURE_GROUPS.map((g) => [g.name, g.count])).toEqual([
      ['au', 17],
      ['blendshape', 52],
      ['geometry', 37],
      ['point', 62],
    ]);
    expect(FEATURE_COUNT).toBe(168);
    let offset = 0;
    for (const g of FEATURE_GROUPS) {
      expect(g.offset).toBe(offset);
      offset += g.count;
    }
    expect(offset).toBe(FEATURE_COUNT);
    const names = (name: string) => FEATURE_NAMES.slice(group(name).offset, group(name).offset + group(name).count);
    expect(names('geometry').every((n) => n.startsWith('geo_'))).toBe(true);
    expect(names('point').every((n) => /^pt_[a-z_]+_[xy]$/.test(n))).toBe(true);
  });

  it('keeps the OpenFace-style AU names in a fixed order', () => {
    const expected = ['AU01_r', 'AU02_r', 'AU04_r', 'AU05_r', 'AU06_r', 'AU07_r', 'AU09_r', 'AU10_r', 'AU12_r', 'AU14_r', 'AU15_r', 'AU17_r', 'AU20_r', 'AU23_r', 'AU25_r', 'AU26_r', 'AU45_r']; // prettier-ignore
    expect(AU_NAMES).toEqual(expected);
    expect(ACTION_UNITS.map((a) => a.name)).toEqual(expected);
    expect(FEATURE_NAMES.slice(0, 17)).toEqual(expected);
    for (const au of ACTION_UNITS) for (const b of au.blendshapes) expect(BLENDSHAPE_NAMES).toContain(b);
  });

  it("lists MediaPipe's 52 blendshapes in its order as bs_ columns", () => {
    expect(BLENDSHAPE_NAMES).toHaveLength(52);
    expect(new Set(BLENDSHAPE_NAMES).size).toBe(52);
    expect(BLENDSHAPE_NAMES.slice(0, 4)).toEqual(['_neutral', 'browDownLeft', 'browDownRight', 'browInnerUp']);
    expect(BLENDSHAPE_NAMES.indexOf('jawOpen')).toBe(25);
    expect(BLENDSHAPE_NAMES.indexOf('mouthSmileLeft')).toBe(44);
    expect(BLENDSHAPE_NAMES[51]).toBe('noseSneerRight');
    const bs = group('blendshape');
    expect(FEATURE_NAMES.slice(bs.offset, bs.offset + bs.count)).toEqual(BLENDSHAPE_NAMES.map((n) => `bs_${n}`));
  });
});

describe('action units from blendshapes', () => {
  const face = syntheticFace();

  it('maps a smile to AU12 and nothing else', () => {
    const obs = observe(face);
    obs.blendshapes = zeroBlendshapes().map((b) => (b.categoryName.startsWith('mouthSmile') ? { ...b, score: 0.8 } : b));
    const f = computeFeatures(obs);
    expect(f[featureIndex('AU12_r')]).toBeCloseTo(0.8, 6);
    expect(f[featureIndex('AU04_r')]).toBe(0);
    for (const name of AU_NAMES) if (name !== 'AU12_r') expect(f[featureIndex(name)]).toBe(0);
    expect(f[featureIndex('bs_mouthSmileLeft')]).toBeCloseTo(0.8, 6);
    expect(f[featureIndex('bs_mouthSmileRight')]).toBeCloseTo(0.8, 6);
    expect(f.every(Number.isFinite)).toBe(true);
  });

  it('averages left and right, and matches blendshapes by name, not position', () => {
    const obs = observe(face);
    const scores: Record<string, number> = {
      browDownLeft: 0.2,
      browDownRight: 0.6,
      browInnerUp: 0.3,
      jawOpen: 0.7,
      mouthClose: 0.2,
      eyeBlinkRight: 1,
    };
    obs.blendshapes = zeroBlendshapes()
      .map((b) => ({ ...b, score: scores[b.categoryName] ?? 0 }))
      .reverse();
    const f = computeFeatures(obs);
    expect(f[featureIndex('AU04_r')]).toBeCloseTo(0.4, 6);
    expect(f[featureIndex('AU01_r')]).toBeCloseTo(0.3, 6);
    expect(f[featureIndex('AU26_r')]).toBeCloseTo(0.7, 6);
    expect(f[featureIndex('AU25_r')]).toBeCloseTo(0.5, 6);
    expect(f[featureIndex('AU45_r')]).toBeCloseTo(0.5, 6);
    expect(f[featureIndex('bs_browDownRight')]).toBeCloseTo(0.6, 6);
    expect(f[featureIndex('bs_jawOpen')]).toBeCloseTo(0.7, 6);
  });

  it('clamps AU25 at 0 when the lips are held closed', () => {
    const obs = observe(face);
    obs.blendshapes = zeroBlendshapes().map((b) => ({
      ...b,
      score: b.categoryName === 'mouthClose' ? 0.5 : b.categoryName === 'jawOpen' ? 0.1 : 0,
    }));
    expect(computeFeatures(obs)[featureIndex('AU25_r')]).toBe(0);
  });
});

describe('geometric features', () => {
  const face = syntheticFace();
  const base = computeFeatures(observe(face));

  it('are plausible for a frontal face', () => {
    const g = (name: string) => base[featureIndex(name)];
    expect(g('pt_eye_outer_r_x')).toBeCloseTo(-0.5, 1);
    expect(g('pt_eye_outer_l_x')).toBeCloseTo(0.5, 1);
    expect(Math.abs(g('pt_eye_outer_r_y'))).toBeLessThan(0.05);
    expect(g('geo_brow_mid_r')).toBeGreaterThan(0.1);
    expect(g('geo_eye_open_r')).toBeGreaterThan(0.03);
    expect(g('geo_jaw_drop')).toBeGreaterThan(1);
    expect(g('geo_mouth_width')).toBeGreaterThan(0.4);
    expect(g('pt_chin_y')).toBeGreaterThan(g('pt_lip_bottom_y'));
    expect(g('pt_brow_mid_r_y')).toBeLessThan(0);
  });

  const poses: [string, Pose, boolean][] = [
    ['rolled +25 deg', { roll: 25 }, false],
    ['rolled -25 deg', { roll: -25 }, false],
    ['scaled 0.5x', { scale: 10 }, false],
    ['scaled 2x and moved', { scale: 40, tx: 700, ty: 420, width: 1280, height: 720 }, false],
    ['moved', { tx: 150, ty: 330 }, false],
    ['in a different image aspect', { width: 480, height: 640, tx: 240, ty: 300 }, false],
    ['yawed 20 deg', { yaw: 20 }, true],
    ['pitched -18 deg', { pitch: -18 }, true],
    [
      'yawed, pitched, rolled, scaled and moved',
      { yaw: -17, pitch: 15, roll: 12, scale: 33, tx: 500, ty: 200, width: 1280, height: 720 },
      true,
    ],
  ];

  for (const [label, pose, withTransform] of poses) {
    it(`do not change when the face is ${label}`, () => {
      const f = computeFeatures(observe(face, pose, withTransform));
      expect(geometryDiff(f, base)).toBeLessThan(1e-4);
    });
  }

  it('would change under a turn if the pose were not removed (the check has teeth)', () => {
    // The same turned face, reported as if it had been seen frontally: features differ.
    const turned = observe(face, { yaw: 20, pitch: 15 });
    const turnedPoints = turned.landmarks.map(({ x, y, z }) => [x * 640, y * 480, z * 640] as Vec3);
    const frontal = observe(face);
    // Keep the frontal reference points (the pose fit sees a frontal face), turn the rest.
    const mixed: FaceObservation = {
      ...frontal,
      landmarks: frontal.landmarks.map((p, i) =>
        REFERENCE_POINTS.some(([r]) => r === i)
          ? p
          : { x: turnedPoints[i][0] / 640, y: turnedPoints[i][1] / 480, z: turnedPoints[i][2] / 640 },
      ),
    };
    expect(geometryDiff(computeFeatures(mixed), base)).toBeGreaterThan(0.05);
  });

  it('change with the expression: mouth corners up', () => {
    const smiling = face.map((p, i) => (i === 61 || i === 291 ? ([p[0] * 1.05, p[1] - 0.5, p[2]] as Vec3) : p));
    for (const pose of [{}, { yaw: 15, pitch: -10, roll: 20, scale: 30 }]) {
      const before = computeFeatures(observe(face, pose));
      const after = computeFeatures(observe(smiling, pose));
      const delta = (name: string) => after[featureIndex(name)] - before[featureIndex(name)];
      // 0.5 cm up on an ~8.9 cm inter-ocular distance.
      expect(delta('geo_mouth_corner_raise_r')).toBeGreaterThan(0.04);
      expect(delta('geo_mouth_corner_raise_l')).toBeGreaterThan(0.04);
      expect(delta('geo_mouth_corner_angle_r')).toBeGreaterThan(0.1);
      expect(delta('geo_mouth_corner_angle_l')).toBeGreaterThan(0.1);
      expect(delta('geo_mouth_width')).toBeGreaterThan(0.02);
      expect(delta('geo_eye_mouth_r')).toBeLessThan(-0.03);
      expect(delta('pt_mouth_corner_r_y')).toBeLessThan(-0.04);
      expect(delta('pt_mouth_corner_l_y')).toBeLessThan(-0.04);
      // Features away from the mouth stay put.
      for (const name of ['geo_brow_inner_r', 'geo_eye_open_l', 'geo_jaw_drop', 'pt_brow_mid_l_y', 'pt_nose_tip_x']) {
        expect(Math.abs(delta(name))).toBeLessThan(1e-5);
      }
    }
  });

  it('change with the expression: brows raised, jaw dropped', () => {
    const raised = face.map((p, i) => ([70, 105, 107, 46, 52, 55].includes(i) ? ([p[0], p[1] - 0.6, p[2]] as Vec3) : p));
    const f = computeFeatures(observe(raised, { roll: -10, yaw: 10 }));
    expect(f[featureIndex('geo_brow_inner_r')] - base[featureIndex('geo_brow_inner_r')]).toBeGreaterThan(0.05);
    expect(f[featureIndex('geo_brow_inner_l')] - base[featureIndex('geo_brow_inner_l')]).toBeCloseTo(0, 5);
    const dropped = face.map((p, i) => ([14, 17, 84, 314, 152].includes(i) ? ([p[0], p[1] + 1.2, p[2]] as Vec3) : p));
    const g = computeFeatures(observe(dropped));
    expect(g[featureIndex('geo_lip_gap')] - base[featureIndex('geo_lip_gap')]).toBeGreaterThan(0.1);
    expect(g[featureIndex('geo_jaw_drop')] - base[featureIndex('geo_jaw_drop')]).toBeGreaterThan(0.1);
  });
});

describe('head rotation', () => {
  const face = syntheticFace();
  const pose: Pose = { yaw: 18, pitch: -12, roll: 9 };

  it('reads the transform matrix as column-major, MediaPipe axes converted to image axes', () => {
    const r = rotationFromTransform(transformOf(pose));
    const expected = rotationOf(pose);
    for (let i = 0; i < 9; i++) expect(r[i]).toBeCloseTo(expected[i], 9);
    // Scale in the matrix is ignored.
    const scaled = transformOf(pose).map((v, i) => (i < 12 && i % 4 !== 3 ? v * 1.3 : v));
    const r2 = rotationFromTransform(scaled);
    for (let i = 0; i < 9; i++) expect(r2[i]).toBeCloseTo(expected[i], 9);
    // Read as row-major, the same data would give the inverse rotation.
    expect(
      angleBetween(
        Array.from({ length: 9 }, (_, k) => r[(k % 3) * 3 + Math.floor(k / 3)]),
        expected,
      ),
    ).toBeGreaterThan(20);
  });

  it('agrees between the landmark fit and the transform matrix', () => {
    const obs = observe(face, pose, true);
    const fitted = estimateRotation(obs);
    expect(angleBetween(fitted, rotationFromTransform(obs.transform!))).toBeLessThan(1.5);
    expect(angleBetween(estimateRotation(observe(face)), [1, 0, 0, 0, 1, 0, 0, 0, 1])).toBeLessThan(1.5);
  });

  it('rejects a malformed transform', () => {
    expect(() => rotationFromTransform([1, 2, 3])).toThrow(/16/);
  });
});

describe('errors and output buffer', () => {
  const face = syntheticFace();

  it('rejects a short landmark list, naming the count', () => {
    const obs = observe(face);
    expect(() => computeFeatures({ ...obs, landmarks: obs.landmarks.slice(0, 467) })).toThrow(/467.*468/);
    expect(() => computeFeatures({ ...obs, landmarks: [] })).toThrow(/landmarks/);
  });

  it('accepts the 468-point mesh without irises', () => {
    const obs = observe(face);
    const f = computeFeatures({ ...obs, landmarks: obs.landmarks.slice(0, 468) });
    expect(geometryDiff(f, computeFeatures(obs))).toBe(0);
  });

  it('rejects missing blendshapes, naming the one missing', () => {
    const obs = observe(face);
    expect(() => computeFeatures({ ...obs, blendshapes: obs.blendshapes.filter((b) => b.categoryName !== 'jawOpen') })).toThrow(/jawOpen/);
    expect(() => computeFeatures({ ...obs, blendshapes: [] })).toThrow(/blendshapes/);
    expect(() => computeFeatures({ ...obs, blendshapes: undefined as unknown as FaceObservation['blendshapes'] })).toThrow(/blendshapes/);
  });

  it('rejects a bad image size and a short output buffer', () => {
    const obs = observe(face);
    expect(() => computeFeatures({ ...obs, width: 0 })).toThrow(/width/);
    expect(() => computeFeatures(obs, new Float32Array(FEATURE_COUNT - 1))).toThrow(RangeError);
  });

  it('writes into the given buffer', () => {
    const buf = new Float32Array(FEATURE_COUNT);
    expect(computeFeatures(observe(face), buf)).toBe(buf);
    expect(buf[featureIndex('geo_mouth_width')]).toBeGreaterThan(0);
  });
});
