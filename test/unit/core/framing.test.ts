import { describe, expect, it } from 'vitest';
import {
  applyAffine,
  cropShift,
  cropTransform,
  FER2013_FRAMING,
  flipHorizontal,
  invertAffine,
  keypointsFromLandmarks,
  landmarkBox,
  offsetSource,
  sourceBounds,
  warpGray,
  type Affine,
  type FaceKeypoints,
  type Point,
} from '../../../src/core/framing/index.ts';
import { LEFT_EYE_RING, MOUTH_CORNERS, RIGHT_EYE_RING } from '../../../src/core/framing/landmarks.ts';

const F = FER2013_FRAMING;
const close = (p: Point, q: Point, digits = 6) => {
  expect(p.x).toBeCloseTo(q.x, digits);
  expect(p.y).toBeCloseTo(q.y, digits);
};

/** Canonical keypoints mapped into a source image by scale s, rotation r (radians) and offset t. */
function placedFace(s: number, r: number, t: Point): FaceKeypoints {
  const place = (p: Point): Point => {
    const x = (p.x - F.eyeMid.x) * s;
    const y = (p.y - F.eyeMid.y) * s;
    return { x: t.x + x * Math.cos(r) - y * Math.sin(r), y: t.y + x * Math.sin(r) + y * Math.cos(r) };
  };
  return {
    leftEye: place({ x: F.eyeMid.x - F.interocular / 2, y: F.eyeMid.y }),
    rightEye: place({ x: F.eyeMid.x + F.interocular / 2, y: F.eyeMid.y }),
    mouth: place({ x: F.eyeMid.x, y: F.eyeMid.y + F.mouthDrop }),
  };
}

describe('canonical framing', () => {
  it('is plausible for a 48x48 FER2013 face', () => {
    expect(F.size).toBe(48);
    expect(F.eyeMid.x).toBeGreaterThan(20);
    expect(F.eyeMid.x).toBeLessThan(28);
    expect(F.eyeMid.y).toBeGreaterThan(12);
    expect(F.eyeMid.y + F.mouthDrop).toBeLessThan(48);
    expect(F.interocular).toBeGreaterThan(10);
  });
});

describe('keypointsFromLandmarks', () => {
  it('averages the eye outlines and mouth corners and scales to pixels', () => {
    const lm: Point[] = Array.from({ length: 478 }, () => ({ x: 0.5, y: 0.5 }));
    for (const i of LEFT_EYE_RING) lm[i] = { x: 0.3, y: 0.4 };
    for (const i of RIGHT_EYE_RING) lm[i] = { x: 0.7, y: 0.4 };
    lm[MOUTH_CORNERS[0]] = { x: 0.4, y: 0.8 };
    lm[MOUTH_CORNERS[1]] = { x: 0.6, y: 0.8 };
    const k = keypointsFromLandmarks(lm, 640, 480);
    close(k.leftEye, { x: 192, y: 192 });
    close(k.rightEye, { x: 448, y: 192 });
    close(k.mouth, { x: 320, y: 384 });
    const box = landmarkBox(lm, 640, 480);
    for (const [key, want] of Object.entries({ x: 192, y: 192, width: 256, height: 192 })) {
      expect(box[key as keyof typeof box]).toBeCloseTo(want, 6);
    }
  });

  it('rejects a list that is not a face mesh', () => {
    expect(() => keypointsFromLandmarks([{ x: 0, y: 0 }], 1, 1)).toThrow(/468-point/);
  });
});

describe('cropTransform', () => {
  it('maps an upright face onto the canonical points', () => {
    const k = placedFace(5, 0, { x: 320, y: 200 });
    const t = cropTransform(k);
    close(applyAffine(t.toCrop, k.leftEye), { x: F.eyeMid.x - F.interocular / 2, y: F.eyeMid.y });
    close(applyAffine(t.toCrop, k.rightEye), { x: F.eyeMid.x + F.interocular / 2, y: F.eyeMid.y });
    close(applyAffine(t.toCrop, k.mouth), { x: F.eyeMid.x, y: F.eyeMid.y + F.mouthDrop });
    expect(t.scale).toBeCloseTo(1 / 5, 9);
    expect(t.roll).toBeCloseTo(0, 9);
  });

  it('levels the eyes of a tilted face and undoes its scale and position', () => {
    for (const deg of [-40, -12, 25, 60]) {
      const r = (deg * Math.PI) / 180;
      const k = placedFace(3.2, r, { x: 150, y: 310 });
      const t = cropTransform(k);
      expect(t.roll).toBeCloseTo(r, 9);
      const l = applyAffine(t.toCrop, k.leftEye);
      const rr = applyAffine(t.toCrop, k.rightEye);
      expect(l.y).toBeCloseTo(rr.y, 9);
      close(l, { x: F.eyeMid.x - F.interocular / 2, y: F.eyeMid.y });
      close(applyAffine(t.toCrop, k.mouth), { x: F.eyeMid.x, y: F.eyeMid.y + F.mouthDrop });
      // toSource is the exact inverse.
      close(applyAffine(t.toSource, applyAffine(t.toCrop, { x: 7, y: -3 })), { x: 7, y: -3 });
    }
  });

  it('keeps an upside-down face upright in the crop', () => {
    const k = placedFace(2, Math.PI, { x: 100, y: 100 });
    const t = cropTransform(k);
    expect(applyAffine(t.toCrop, k.mouth).y).toBeGreaterThan(applyAffine(t.toCrop, k.leftEye).y);
  });

  it('uses eyes + mouth for scale, so turning the head changes the crop less', () => {
    const k = placedFace(4, 0, { x: 200, y: 200 });
    // A head turned ~40 degrees: eyes 25 % closer together, mouth unchanged.
    const turned = { ...k, leftEye: { x: k.leftEye.x * 0.75 + k.rightEye.x * 0.25, y: k.leftEye.y } };
    const ratio = cropTransform(turned).scale / cropTransform(k).scale;
    expect(ratio).toBeGreaterThan(1);
    expect(ratio).toBeLessThan(1 / 0.75);
  });

  it('rejects coincident eyes', () => {
    const p = { x: 1, y: 1 };
    expect(() => cropTransform({ leftEye: p, rightEye: p, mouth: { x: 1, y: 5 } })).toThrow(/eyes coincide/);
  });
});

describe('affine helpers', () => {
  const m: Affine = { a: 2, b: 0.5, c: -1, d: 3, e: 10, f: -4 };
  it('inverts', () => {
    const inv = invertAffine(m);
    close(applyAffine(inv, applyAffine(m, { x: 3, y: 8 })), { x: 3, y: 8 });
    expect(() => invertAffine({ a: 1, b: 2, c: 2, d: 4, e: 0, f: 0 })).toThrow(/invertible/);
  });
  it('bounds the crop in the source and offsets a cut-out', () => {
    const toSource: Affine = { a: 2, b: 0, c: 0, d: 2, e: 100, f: 50 };
    expect(sourceBounds(toSource, 48)).toEqual({ x: 100, y: 50, width: 96, height: 96 });
    close(applyAffine(offsetSource(toSource, 100, 50), { x: 0, y: 0 }), { x: 0, y: 0 });
  });
  it('measures how far a crop moved, in crop pixels', () => {
    // 2 source pixels per crop pixel.
    const toSource: Affine = { a: 2, b: 0, c: 0, d: 2, e: 100, f: 50 };
    expect(cropShift(toSource, toSource, 48)).toBe(0);
    // 3 source pixels right = 1.5 crop pixels at every corner.
    expect(cropShift(toSource, { ...toSource, e: 103 }, 48)).toBeCloseTo(1.5, 9);
    // 1 % larger: the far corner moves most (48 * sqrt(2) * 0.01 / 1.01).
    const grown: Affine = { ...toSource, a: 2.02, d: 2.02 };
    expect(cropShift(toSource, grown, 48)).toBeCloseTo((48 * Math.SQRT2 * 0.02) / 2.02, 9);
  });
});

describe('warpGray', () => {
  const identity: Affine = { a: 1, b: 0, c: 0, d: 1, e: 0, f: 0 };

  it('copies a gray image through the identity map, scaled to [0,1]', () => {
    const data = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
    const out = warpGray({ data, width: 4, height: 4, channels: 1 }, identity, 4);
    expect(Array.from(out).map((v) => Math.round(v * 255))).toEqual(Array.from(data));
  });

  it('converts RGBA with BT.601 luma', () => {
    const data = Uint8Array.from([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255]);
    const out = warpGray({ data, width: 2, height: 2, channels: 4 }, identity, 2);
    expect(out[0]).toBeCloseTo(0.299, 5);
    expect(out[1]).toBeCloseTo(0.587, 5);
    expect(out[2]).toBeCloseTo(0.114, 5);
    expect(out[3]).toBeCloseTo(1, 5);
  });

  it('averages when shrinking (no aliasing of a fine checkerboard)', () => {
    const w = 96;
    const data = Uint8Array.from({ length: w * w }, (_, i) => (((i % w) + Math.floor(i / w)) % 2) * 255);
    const out = warpGray({ data, width: w, height: w, channels: 1 }, { a: 2, b: 0, c: 0, d: 2, e: 0, f: 0 }, 48);
    for (const v of out) expect(v).toBeCloseTo(0.5, 2);
  });

  it("rotates: a dot at a tilted face's eye lands at the canonical eye", () => {
    const w = 200;
    const k = placedFace(3, (30 * Math.PI) / 180, { x: 100, y: 90 });
    const data = new Uint8Array(w * w);
    const ex = Math.floor(k.leftEye.x);
    const ey = Math.floor(k.leftEye.y);
    for (let y = ey - 2; y <= ey + 2; y++) for (let x = ex - 2; x <= ex + 2; x++) data[y * w + x] = 255;
    const t = cropTransform(k);
    const out = warpGray({ data, width: w, height: w, channels: 1 }, t.toSource, 48);
    let best = 0;
    for (let i = 1; i < out.length; i++) if (out[i]! > out[best]!) best = i;
    const expected = { x: F.eyeMid.x - F.interocular / 2, y: F.eyeMid.y };
    expect(Math.abs((best % 48) + 0.5 - expected.x)).toBeLessThanOrEqual(1.2);
    expect(Math.abs(Math.floor(best / 48) + 0.5 - expected.y)).toBeLessThanOrEqual(1.2);
  });

  it('clamps outside the source to the edge and checks its buffers', () => {
    const data = Uint8Array.from([0, 255]);
    const out = warpGray({ data, width: 2, height: 1, channels: 1 }, { a: 1, b: 0, c: 0, d: 1, e: -5, f: -5 }, 1);
    expect(out[0]).toBe(0);
    expect(() => warpGray({ data, width: 2, height: 1, channels: 1 }, identity, 2, new Float32Array(1))).toThrow(/output/);
    expect(() => warpGray({ data, width: 3, height: 1, channels: 1 }, identity, 1)).toThrow(/shorter/);
  });

  it('flips a crop horizontally', () => {
    expect(Array.from(flipHorizontal(Float32Array.from([1, 2, 3, 4]), 2))).toEqual([2, 1, 4, 3]);
  });
});
