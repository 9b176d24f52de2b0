/**
 * The crop transform: rotate so the eyes are level, then scale and translate so the eyes and mouth
 * land where FER2013 faces have them (see canonical.ts).
 */
import { FER2013_FRAMING } from './canonical.ts';
import type { Affine, Box, CanonicalFraming, FaceKeypoints, Point } from './types.ts';

export function applyAffine(m: Affine, p: Point): Point {
  return { x: m.a * p.x + m.c * p.y + m.e, y: m.b * p.x + m.d * p.y + m.f };
}

export function invertAffine(m: Affine): Affine {
  const det = m.a * m.d - m.b * m.c;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) throw new RangeError('affine map is not invertible');
  const a = m.d / det;
  const b = -m.b / det;
  const c = -m.c / det;
  const d = m.a / det;
  return { a, b, c, d, e: -(a * m.e + c * m.f), f: -(b * m.e + d * m.f) };
}

export interface CropTransform {
  /** Source pixels -> crop pixels. */
  toCrop: Affine;
  /** Crop pixels -> source pixels (what a sampler needs). */
  toSource: Affine;
  /** Roll of the eye line in the source, radians (positive = clockwise on screen). */
  roll: number;
  /** Crop pixels per source pixel. */
  scale: number;
}

/**
 * Similarity transform from source keypoints to the canonical framing. The scale uses the sum of
 * interocular distance and eye-to-mouth drop: turning the head (yaw) shrinks the first but hardly
 * the second, nodding (pitch) the reverse, so the sum changes less than either alone.
 */
export function cropTransform(k: FaceKeypoints, framing: CanonicalFraming = FER2013_FRAMING): CropTransform {
  const dx = k.rightEye.x - k.leftEye.x;
  const dy = k.rightEye.y - k.leftEye.y;
  const iod = Math.hypot(dx, dy);
  if (!(iod > 1e-6)) throw new RangeError('eyes coincide: cannot frame the face');
  const ux = dx / iod;
  const uy = dy / iod;
  const mid = { x: (k.leftEye.x + k.rightEye.x) / 2, y: (k.leftEye.y + k.rightEye.y) / 2 };
  // Mouth drop perpendicular to the eye line; never below 0 so a bad mesh cannot flip the face.
  const drop = Math.max(0, -(k.mouth.x - mid.x) * uy + (k.mouth.y - mid.y) * ux);
  const scale = (framing.interocular + framing.mouthDrop) / (iod + drop);
  // toCrop(p) = scale * R(-roll) * (p - mid) + eyeMid, with R(-roll) = [[ux, uy], [-uy, ux]].
  const a = scale * ux;
  const c = scale * uy;
  const b = -scale * uy;
  const d = scale * ux;
  const toCrop: Affine = {
    a,
    b,
    c,
    d,
    e: framing.eyeMid.x - (a * mid.x + c * mid.y),
    f: framing.eyeMid.y - (b * mid.x + d * mid.y),
  };
  return { toCrop, toSource: invertAffine(toCrop), roll: Math.atan2(dy, dx), scale };
}

/** Axis-aligned source-pixel box covering the whole crop (for reading back only that region). */
export function sourceBounds(toSource: Affine, size: number): Box {
  const corners = [
    applyAffine(toSource, { x: 0, y: 0 }),
    applyAffine(toSource, { x: size, y: 0 }),
    applyAffine(toSource, { x: 0, y: size }),
    applyAffine(toSource, { x: size, y: size }),
  ];
  const xs = corners.map((p) => p.x);
  const ys = corners.map((p) => p.y);
  const x = Math.floor(Math.min(...xs));
  const y = Math.floor(Math.min(...ys));
  return { x, y, width: Math.ceil(Math.max(...xs)) - x, height: Math.ceil(Math.max(...ys)) - y };
}

/** The same map for a source that was cut out at (ox, oy) of the original. */
export function offsetSource(toSource: Affine, ox: number, oy: number): Affine {
  return { ...toSource, e: toSource.e - ox, f: toSource.f - oy };
}

/**
 * How far apart two crops of one face are: the largest distance, in crop pixels of a `size` crop,
 * between where a corner of the crop made with `previous` lands and the same corner of the crop
 * made with `current` (both crop -> source maps). 0 for the same map.
 */
export function cropShift(previous: Affine, current: Affine, size: number): number {
  const back = invertAffine(current);
  let worst = 0;
  for (const corner of [
    { x: 0, y: 0 },
    { x: size, y: 0 },
    { x: 0, y: size },
    { x: size, y: size },
  ]) {
    const p = applyAffine(back, applyAffine(previous, corner));
    worst = Math.max(worst, Math.hypot(p.x - corner.x, p.y - corner.y));
  }
  return worst;
}
