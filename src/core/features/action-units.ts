/**
 * MediaPipe's 52 blendshape scores, and FACS action-unit (AU) estimates derived from them.
 *
 * The AU columns borrow OpenFace's names (`AU01_r`, ...: the 17 intensity AUs OpenFace 2 outputs)
 * so exports line up with OpenFace-style tooling, but the values are MediaPipe blendshape scores
 * in 0..1 (ARKit-style coefficients), not FACS 0..5 intensities, and the mapping is approximate:
 * ARKit blendshapes were designed for animation, not as FACS coding.
 */
import type { BlendshapeScore } from './types.ts';

/**
 * The 52 blendshape categories in MediaPipe's fixed output order (index 0 is `_neutral`), as listed
 * in the label metadata of face_blendshapes.tflite inside face_landmarker.task.
 */
export const BLENDSHAPE_NAMES = [
  '_neutral',
  'browDownLeft',
  'browDownRight',
  'browInnerUp',
  'browOuterUpLeft',
  'browOuterUpRight',
  'cheekPuff',
  'cheekSquintLeft',
  'cheekSquintRight',
  'eyeBlinkLeft',
  'eyeBlinkRight',
  'eyeLookDownLeft',
  'eyeLookDownRight',
  'eyeLookInLeft',
  'eyeLookInRight',
  'eyeLookOutLeft',
  'eyeLookOutRight',
  'eyeLookUpLeft',
  'eyeLookUpRight',
  'eyeSquintLeft',
  'eyeSquintRight',
  'eyeWideLeft',
  'eyeWideRight',
  'jawForward',
  'jawLeft',
  'jawOpen',
  'jawRight',
  'mouthClose',
  'mouthDimpleLeft',
  'mouthDimpleRight',
  'mouthFrownLeft',
  'mouthFrownRight',
  'mouthFunnel',
  'mouthLeft',
  'mouthLowerDownLeft',
  'mouthLowerDownRight',
  'mouthPressLeft',
  'mouthPressRight',
  'mouthPucker',
  'mouthRight',
  'mouthRollLower',
  'mouthRollUpper',
  'mouthShrugLower',
  'mouthShrugUpper',
  'mouthSmileLeft',
  'mouthSmileRight',
  'mouthStretchLeft',
  'mouthStretchRight',
  'mouthUpperUpLeft',
  'mouthUpperUpRight',
  'noseSneerLeft',
  'noseSneerRight',
] as const;

export type BlendshapeName = (typeof BLENDSHAPE_NAMES)[number];

export const BLENDSHAPE_COUNT = BLENDSHAPE_NAMES.length;

/**
 * How an AU is made from its blendshapes:
 * - `value`: the single blendshape's score;
 * - `mean`: the mean of the left and right scores. Mean rather than max so that a bilateral action
 *   reads the same as the blendshape and a one-sided one reads half as strong; the per-side scores
 *   stay available in the `bs_` columns for anything that needs asymmetry (e.g. unilateral AU14 in
 *   contempt);
 * - `difference`: the first score minus the second, clamped to 0..1.
 */
export type AuCombine = 'value' | 'mean' | 'difference';

export interface ActionUnit {
  /** OpenFace-style column name, e.g. `AU01_r`. */
  name: string;
  /** FACS name. */
  description: string;
  /** MediaPipe blendshapes it is computed from. */
  blendshapes: readonly BlendshapeName[];
  how: AuCombine;
  /** Caveats of the mapping, if any. */
  note?: string;
}

/** The AU estimates, in feature-vector order. Names and order are part of the feature layout. */
export const ACTION_UNITS: readonly ActionUnit[] = [
  { name: 'AU01_r', description: 'Inner brow raiser', blendshapes: ['browInnerUp'], how: 'value' },
  { name: 'AU02_r', description: 'Outer brow raiser', blendshapes: ['browOuterUpLeft', 'browOuterUpRight'], how: 'mean' },
  { name: 'AU04_r', description: 'Brow lowerer', blendshapes: ['browDownLeft', 'browDownRight'], how: 'mean' },
  { name: 'AU05_r', description: 'Upper lid raiser', blendshapes: ['eyeWideLeft', 'eyeWideRight'], how: 'mean' },
  { name: 'AU06_r', description: 'Cheek raiser', blendshapes: ['cheekSquintLeft', 'cheekSquintRight'], how: 'mean' },
  { name: 'AU07_r', description: 'Lid tightener', blendshapes: ['eyeSquintLeft', 'eyeSquintRight'], how: 'mean' },
  { name: 'AU09_r', description: 'Nose wrinkler', blendshapes: ['noseSneerLeft', 'noseSneerRight'], how: 'mean' },
  { name: 'AU10_r', description: 'Upper lip raiser', blendshapes: ['mouthUpperUpLeft', 'mouthUpperUpRight'], how: 'mean' },
  { name: 'AU12_r', description: 'Lip corner puller', blendshapes: ['mouthSmileLeft', 'mouthSmileRight'], how: 'mean' },
  { name: 'AU14_r', description: 'Dimpler', blendshapes: ['mouthDimpleLeft', 'mouthDimpleRight'], how: 'mean' },
  { name: 'AU15_r', description: 'Lip corner depressor', blendshapes: ['mouthFrownLeft', 'mouthFrownRight'], how: 'mean' },
  { name: 'AU17_r', description: 'Chin raiser', blendshapes: ['mouthShrugLower'], how: 'value' },
  { name: 'AU20_r', description: 'Lip stretcher', blendshapes: ['mouthStretchLeft', 'mouthStretchRight'], how: 'mean' },
  {
    name: 'AU23_r',
    description: 'Lip tightener',
    blendshapes: ['mouthPressLeft', 'mouthPressRight'],
    how: 'mean',
    note: 'MediaPipe has no lip tightener; mouthPress is closer to AU24 (lip pressor), which OpenFace does not output, so it stands in for AU23.',
  },
  {
    name: 'AU25_r',
    description: 'Lips part',
    blendshapes: ['jawOpen', 'mouthClose'],
    how: 'difference',
    note: 'mouthClose is "lips together while the jaw is open", so the lips are apart by about jawOpen - mouthClose; lips parted with the jaw closed are not seen here (the geo_lip_gap feature measures the gap directly).',
  },
  { name: 'AU26_r', description: 'Jaw drop', blendshapes: ['jawOpen'], how: 'value' },
  { name: 'AU45_r', description: 'Blink', blendshapes: ['eyeBlinkLeft', 'eyeBlinkRight'], how: 'mean' },
];

export const AU_NAMES: readonly string[] = ACTION_UNITS.map((au) => au.name);

/** For each AU, its blendshapes as indices into BLENDSHAPE_NAMES (resolved once). */
const AU_SOURCES: readonly (readonly number[])[] = ACTION_UNITS.map((au) =>
  au.blendshapes.map((name) => {
    const i = (BLENDSHAPE_NAMES as readonly string[]).indexOf(name);
    if (i < 0) throw new Error(`action unit ${au.name}: unknown blendshape ${name}`);
    return i;
  }),
);

/**
 * Writes the 52 scores in BLENDSHAPE_NAMES order into `out[offset ...]`, matching the incoming
 * categories by name (MediaPipe emits them in this order, which is checked first; any other order is
 * looked up). Throws if the list is missing or lacks a name.
 */
export function writeBlendshapeScores(
  blendshapes: readonly BlendshapeScore[] | undefined,
  out: Float32Array | Float64Array,
  offset: number,
): void {
  if (!blendshapes || blendshapes.length === 0) {
    throw new Error('face.blendshapes is missing or empty: run FaceLandmarker with outputFaceBlendshapes: true');
  }
  const n = blendshapes.length;
  for (let k = 0; k < BLENDSHAPE_COUNT; k++) {
    const name = BLENDSHAPE_NAMES[k];
    const direct = k < n ? blendshapes[k] : undefined;
    if (direct !== undefined && direct.categoryName === name) {
      out[offset + k] = direct.score;
      continue;
    }
    let found = -1;
    for (let j = 0; j < n; j++) {
      if (blendshapes[j].categoryName === name) {
        found = j;
        break;
      }
    }
    if (found < 0) throw new Error(`face.blendshapes lacks blendshape "${name}" (got ${n} categories)`);
    out[offset + k] = blendshapes[found].score;
  }
}

/** AU estimates from the 52 scores at `scores[scoresOffset ...]` (BLENDSHAPE_NAMES order) into `out[offset ...]`. */
export function writeActionUnits(
  scores: Float32Array | Float64Array,
  scoresOffset: number,
  out: Float32Array | Float64Array,
  offset: number,
): void {
  for (let a = 0; a < ACTION_UNITS.length; a++) {
    const src = AU_SOURCES[a];
    let v: number;
    switch (ACTION_UNITS[a].how) {
      case 'value':
        v = scores[scoresOffset + src[0]];
        break;
      case 'mean':
        v = (scores[scoresOffset + src[0]] + scores[scoresOffset + src[1]]) / 2;
        break;
      case 'difference': {
        const d = scores[scoresOffset + src[0]] - scores[scoresOffset + src[1]];
        v = d < 0 ? 0 : d > 1 ? 1 : d;
        break;
      }
    }
    out[offset + a] = v;
  }
}
