/**
 * The expression warp (src/learn/expression-warp.ts): landmarks moved part of the way toward a
 * fitted neutral shape, the image warped to match; its use in augmentBatch, the keypoint tables
 * from the extraction cache, the --expression-warp option and the checkpoint refusal.
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToBase64, float32ToBase64 } from '../../../src/core/batch.ts';
import { FER2013_FRAMING } from '../../../src/core/framing/index.ts';
import { LEFT_EYE_RING, MOUTH_CORNERS, RIGHT_EYE_RING } from '../../../src/core/framing/landmarks.ts';
import { IMAGE_PIXELS, IMAGE_SIZE } from '../../../src/core/labels.ts';
import { mulberry32 } from '../../../src/core/random.ts';
import { augmentBatch, NO_AUGMENTATION, REFERENCE_AUGMENTATION, type FaceShapes } from '../../../src/learn/augment.ts';
import {
  applySimilarity,
  EXPRESSION_WARP_K,
  EXPRESSION_WARP_LANDMARKS,
  expressionWarpInto,
  fitSimilarity,
  warpField,
  warpTargets,
} from '../../../src/learn/expression-warp.ts';
import { openRunCheckpoint, type CheckpointSettings } from '../../../src/train/cnn/run-checkpoint.ts';
import { savedCheckpoint, TINY_SETTINGS } from '../../helpers/checkpoint-fixture.ts';
import { parseCnnArgs } from '../../../src/train/commands/train-args.ts';
import { usageMessage } from '../../helpers/usage-error.ts';
import { neutralTemplate, requireExtractionCache, trainingKeypoints } from '../../../src/train/data/keypoints.ts';
import type { ExtractChunk } from '../../../src/train/extract/cache.ts';
import { writeSyntheticFer } from '../../helpers/synthetic-fer.ts';

const S = IMAGE_SIZE;
const NEUTRAL = 6;

/** A face-like shape of k points spread over the middle of the image, seeded. */
function shape(k: number, seed: number): Float64Array {
  const r = mulberry32(seed);
  return Float64Array.from({ length: 2 * k }, () => 12 + 24 * r());
}

function image(seed: number): Uint8Array {
  const r = mulberry32(seed);
  return Uint8Array.from({ length: IMAGE_PIXELS }, () => Math.floor(r() * 256));
}

const warp = (src: Uint8Array, kp: ArrayLike<number>, template: ArrayLike<number>, a: number): Float32Array => {
  const out = new Float32Array(IMAGE_PIXELS);
  expressionWarpInto(src, 0, S, kp, 0, template, a, out, 0);
  return out;
};

/** The template moved by a similarity (scale 1.1, 8 degrees, shifted), as a turned or nearer face would be. */
function similar(template: Float64Array): Float64Array {
  const t = 0.14;
  return applySimilarity({ a: 1.1 * Math.cos(t), b: 1.1 * Math.sin(t), tx: -2, ty: 1.5 }, template, template.length / 2);
}

describe('expressionWarpInto', () => {
  const template = shape(20, 1);
  const kp = Float64Array.from(template, (v, i) => v + (mulberry32(100 + i)() - 0.5) * 6);
  const src = image(3);

  it('a = 1 is the identity, exactly', () => {
    expect(Array.from(warp(src, kp, template, 1))).toEqual(Array.from(src));
  });

  it('keypoints on the template (up to scale, rotation and shift) give the identity, exactly', () => {
    expect(Array.from(warp(src, similar(template), template, 0.3))).toEqual(Array.from(src));
    // ...while the same a with an expression does change the image.
    expect(Array.from(warp(src, kp, template, 0.3))).not.toEqual(Array.from(src));
  });

  it('moves a feature at a landmark toward its place on the fitted template by about (1 - a) of the way', () => {
    // 16 points on a ring; 3 neighbours at the bottom ("the mouth") dropped by 6 px in the face.
    const k = 16;
    const tpl = new Float64Array(2 * k);
    for (let i = 0; i < k; i++) {
      tpl[2 * i] = 23.5 + 12 * Math.cos((2 * Math.PI * i) / k);
      tpl[2 * i + 1] = 20 + 12 * Math.sin((2 * Math.PI * i) / k);
    }
    const face = Float64Array.from(tpl);
    for (const i of [3, 4, 5]) face[2 * i + 1] += 6;
    const j = 4;
    const dot = new Uint8Array(IMAGE_PIXELS);
    const [lx, ly] = [Math.round(face[2 * j]!), Math.round(face[2 * j + 1]!)];
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) dot[(ly + dy) * S + lx + dx] = 255;
    const centroid = (img: Float32Array): [number, number] => {
      let w = 0;
      let x = 0;
      let y = 0;
      for (let p = 0; p < IMAGE_PIXELS; p++) {
        w += img[p]!;
        x += img[p]! * (p % S);
        y += img[p]! * Math.floor(p / S);
      }
      return [x / w, y / w];
    };
    const [x0, y0] = centroid(warp(dot, face, tpl, 1));
    for (const a of [0.2, 0.5, 0.7]) {
      const fitted = applySimilarity(fitSimilarity(tpl, face, 0, k), tpl, k);
      const wanted = Math.hypot(face[2 * j]! - fitted[2 * j]!, face[2 * j + 1]! - fitted[2 * j + 1]!) * (1 - a);
      const target = warpTargets(face, 0, tpl, a, k);
      const [x, y] = centroid(warp(dot, face, tpl, a));
      const moved = Math.hypot(x - x0, y - y0);
      expect(wanted).toBeGreaterThan(1);
      expect(moved / wanted).toBeGreaterThan(0.8);
      expect(moved / wanted).toBeLessThan(1.25);
      // Toward the template: the dot ends within a pixel of its target.
      expect(Math.hypot(x - (x0 + target[2 * j]! - face[2 * j]!), y - (y0 + target[2 * j + 1]! - face[2 * j + 1]!))).toBeLessThan(1);
    }
  });

  it('never folds the image: a wild landmark is scaled back until every local area ratio is >= 0.3', () => {
    const wild = Float64Array.from(kp);
    wild[0] += 14; // one point dragged far from its neighbours
    const f = warpField(wild, 0, template, 0.1, S)!;
    let minDet = Infinity;
    let moved = 0;
    for (let y = 0; y < S - 1; y++) {
      for (let x = 0; x < S - 1; x++) {
        const p = y * S + x;
        const det = (1 + f.dx[p + 1]! - f.dx[p]!) * (1 + f.dy[p + S]! - f.dy[p]!) - (f.dx[p + S]! - f.dx[p]!) * (f.dy[p + 1]! - f.dy[p]!);
        minDet = Math.min(minDet, det);
        moved = Math.max(moved, Math.hypot(f.dx[p]!, f.dy[p]!));
      }
    }
    expect(minDet).toBeGreaterThanOrEqual(0.3 - 1e-6);
    expect(moved).toBeGreaterThan(1); // scaled back, not switched off
  });

  it('leaves the border pixels as they are', () => {
    const out = warp(src, kp, template, 0.1);
    let changed = 0;
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const border = x === 0 || y === 0 || x === S - 1 || y === S - 1;
        if (border) expect(out[y * S + x], `pixel ${x},${y}`).toBe(src[y * S + x]);
        else if (out[y * S + x] !== src[y * S + x]) changed++;
      }
    }
    expect(changed).toBeGreaterThan(IMAGE_PIXELS / 4);
  });
});

describe('augmentBatch with the expression warp', () => {
  const K = 20;
  const template = shape(K, 1);
  const rows = 6;
  const pixels = new Uint8Array(rows * IMAGE_PIXELS);
  for (let r = 0; r < rows; r++) pixels.set(image(10 + r), r * IMAGE_PIXELS);
  // Rows 0, 1: expressive with keypoints; 2: neutral with keypoints; 3: expressive without; 4, 5: expressive.
  const labels = Uint8Array.from([3, 5, NEUTRAL, 0, 4, 2]);
  const keypoints = new Float32Array(rows * 2 * K);
  for (let r = 0; r < rows; r++) {
    const rand = mulberry32(50 + r);
    for (let i = 0; i < 2 * K; i++) keypoints[r * 2 * K + i] = r === 3 ? NaN : template[i]! + (rand() - 0.5) * 8;
  }
  const shapes: FaceShapes = { keypoints, labels, template };
  const always = { ...NO_AUGMENTATION, expressionWarp: { low: 0.3, high: 0.6, prob: 1 } };
  const all = [0, 1, 2, 3, 4, 5];

  it('warps only non-neutral rows that have keypoints; shape and [0, 1] range kept', () => {
    const plain = augmentBatch(pixels, all, NO_AUGMENTATION, mulberry32(1));
    const out = augmentBatch(pixels, all, always, mulberry32(1), undefined, shapes);
    expect(out.length).toBe(rows * IMAGE_PIXELS);
    for (const v of out) expect(v >= 0 && v <= 1).toBe(true);
    const img = (b: Float32Array, i: number) => Array.from(b.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS));
    for (const i of [0, 1, 4, 5]) expect(img(out, i), `row ${i}`).not.toEqual(img(plain, i));
    for (const i of [2, 3]) expect(img(out, i), `row ${i}`).toEqual(img(plain, i));
  });

  it('is seeded, warps about prob of the eligible rows, and needs the shapes', () => {
    const opts = { ...REFERENCE_AUGMENTATION, expressionWarp: { low: 0.3, high: 1, prob: 0.5 } };
    const a = augmentBatch(pixels, all, opts, mulberry32(7), undefined, shapes);
    const b = augmentBatch(pixels, all, opts, mulberry32(7), undefined, shapes);
    expect(Array.from(a)).toEqual(Array.from(b));
    const many = Array.from({ length: 400 }, (_, i) => [0, 1, 4, 5][i % 4]!);
    const none = { ...always, expressionWarp: { ...always.expressionWarp, prob: 0 } };
    const plain = augmentBatch(pixels, many, none, mulberry32(2), undefined, shapes);
    const half = augmentBatch(
      pixels,
      many,
      { ...always, expressionWarp: { ...always.expressionWarp, prob: 0.5 } },
      mulberry32(2),
      undefined,
      shapes,
    );
    let warped = 0;
    for (let i = 0; i < many.length; i++) {
      const off = i * IMAGE_PIXELS;
      if (half.subarray(off, off + IMAGE_PIXELS).some((v, p) => v !== plain[off + p])) warped++;
    }
    expect(warped).toBeGreaterThan(160);
    expect(warped).toBeLessThan(240);
    expect(() => augmentBatch(pixels, all, always, mulberry32(1))).toThrow(/expressionWarp needs/);
  });
});

/** A FER2013 extraction record whose 478 landmarks sit on three spots: the two eyes and the mouth. */
function record(i: number, side: number, eyes: [number, number, number, number], mouth: [number, number]) {
  const lm = new Float32Array(478 * 3).fill(0.5);
  const put = (idx: number, x: number, y: number) => {
    lm[3 * idx] = x / side;
    lm[3 * idx + 1] = y / side;
  };
  for (const idx of LEFT_EYE_RING) put(idx, eyes[0], eyes[1]);
  for (const idx of RIGHT_EYE_RING) put(idx, eyes[2], eyes[3]);
  for (const idx of MOUTH_CORNERS) put(idx, mouth[0], mouth[1]);
  return {
    id: `train/${i}`,
    label: 3,
    split: 'train' as const,
    status: 'face' as const,
    faces: 1,
    width: side,
    height: side,
    face: {
      box: [0, 0, 1, 1] as [number, number, number, number],
      crop: bytesToBase64(new Uint8Array(IMAGE_PIXELS)),
      landmarks: float32ToBase64(lm),
      blendshapes: '',
      transform: null,
      features: '',
    },
  };
}

describe('keypoints from the extraction cache', () => {
  it('maps landmarks into the FER2013 image and through the crop transform into the crop (pixel centres at integers)', () => {
    // 384-px canvas: the 48-px image drawn 4x at a 96-px border. Eyes level, 80 px apart.
    const chunk: ExtractChunk = { start: 0, blendshapeNames: [], records: [record(1, 384, [152, 170, 232, 170], [192, 250])] };
    const kp = trainingKeypoints(chunk.records.length ? [chunk] : [], { upscale: 4, pad: 0.5 }, 2, true);
    const K = EXPRESSION_WARP_K;
    expect(kp.length).toBe(4 * 2 * K);
    expect(Number.isNaN(kp[0])).toBe(true); // row 0: no record
    expect(Number.isNaN(kp[2 * 2 * K])).toBe(true); // its crop row neither
    const at = (row: number, landmark: number) => {
      const j = EXPRESSION_WARP_LANDMARKS.indexOf(landmark);
      return [kp[row * 2 * K + 2 * j]!, kp[row * 2 * K + 2 * j + 1]!];
    };
    // FER2013 row 1: (x - 96) / 4 - 0.5.
    expect(at(1, 33)[0]).toBeCloseTo((152 - 96) / 4 - 0.5, 4);
    expect(at(1, 61)[1]).toBeCloseTo((250 - 96) / 4 - 0.5, 4);
    // Crop row 1 + 2: the eyes and the mouth land on the canonical framing.
    const f = FER2013_FRAMING;
    const scale = (f.interocular + f.mouthDrop) / (80 + 80);
    expect(at(3, 33)[0]).toBeCloseTo(f.eyeMid.x - 40 * scale - 0.5, 3);
    expect(at(3, 33)[1]).toBeCloseTo(f.eyeMid.y - 0.5, 3);
    expect(at(3, 263)[0]).toBeCloseTo(f.eyeMid.x + 40 * scale - 0.5, 3);
    expect(at(3, 291)[1]).toBeCloseTo(f.eyeMid.y + 80 * scale - 0.5, 3);
  });

  it("the neutral template is the neutral rows' common shape, whatever their pose", () => {
    const K = EXPRESSION_WARP_K;
    const base = shape(K, 4);
    const rows = 5;
    const kp = new Float32Array(rows * 2 * K);
    const sims = [
      { a: 1, b: 0, tx: 0, ty: 0 },
      { a: 0.9, b: 0.1, tx: 3, ty: -1 },
      { a: 1.2, b: -0.15, tx: -4, ty: 2 },
    ];
    sims.forEach((s, r) => kp.set(applySimilarity(s, base, K), r * 2 * K));
    kp.set(shape(K, 99), 3 * 2 * K); // an expressive row: left out
    kp.fill(NaN, 4 * 2 * K); // a neutral row without landmarks: left out
    const t = neutralTemplate(kp, [NEUTRAL, NEUTRAL, NEUTRAL, 3, NEUTRAL]);
    const back = applySimilarity(fitSimilarity(base, t, 0, K), base, K);
    for (let i = 0; i < 2 * K; i++) expect(t[i]).toBeCloseTo(back[i]!, 3);
    expect(() => neutralTemplate(kp, [0, 1, 2, 3, NEUTRAL])).toThrow(/no neutral training image/);
  });

  it('a FER2013 file without an extraction cache is refused, saying how to make one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ew-'));
    try {
      const fer = await writeSyntheticFer(dir, { Training: 3, PublicTest: 1, PrivateTest: 1 });
      await expect(requireExtractionCache(fer)).rejects.toThrow(/--expression-warp needs .* run npm run extract -- .*fer2013\.csv first/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('--expression-warp', () => {
  const usage = (args: string[]): string => usageMessage(() => parseCnnArgs(args));

  it('parses LO-HI and refuses anything else, naming the option', () => {
    const o = parseCnnArgs(['--expression-warp', '0.3-1']);
    expect(o !== 'help' && o.expressionWarp).toEqual({ low: 0.3, high: 1 });
    const none = parseCnnArgs([]);
    expect(none !== 'help' && none.expressionWarp).toBeUndefined();
    for (const bad of ['1-0.3', '0-1', '0.3-1.5', '0.5', 'abc', '-0.3-1'])
      expect(usage(['--expression-warp', bad]), bad).toMatch(/^--expression-warp: .* e\.g\. --expression-warp 0\.3-1$/);
    expect(usage(['--expression-warp', '0.3-1', '--no-augment'])).toMatch(/--expression-warp and --no-augment contradict/);
  });

  it('a resume with another value (or none) is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ew-ck-'));
    try {
      const settings: CheckpointSettings = { ...TINY_SETTINGS, expressionWarp: { low: 0.3, high: 1 } };
      const o = await savedCheckpoint(dir, settings);
      await expect(openRunCheckpoint(o, settings)).resolves.toMatchObject({ clearOld: false });
      await expect(openRunCheckpoint(o, { ...settings, expressionWarp: { low: 0.5, high: 1 } })).rejects.toThrow(
        /different settings \(--expression-warp 0\.3-1 -> 0\.5-1\)/,
      );
      const { expressionWarp: _, ...without } = settings;
      await expect(openRunCheckpoint(o, without)).rejects.toThrow(/--expression-warp 0\.3-1 -> unset/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
