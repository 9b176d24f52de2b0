/** Fusion inference (src/core/fusion.ts): the math, the file format and its errors. */
import { describe, expect, it } from 'vitest';
import { FEATURE_COUNT, FEATURE_VERSION } from '../../../src/core/features/index.ts';
import {
  fusionRow,
  fusionWeightCount,
  parseFusionModel,
  predictFusion,
  serializeFusionModel,
  type FusionModel,
} from '../../../src/core/fusion.ts';
import { NUM_CLASSES } from '../../../src/core/labels.ts';
import { mulberry32 } from '../../../src/core/random.ts';

/** A model with seeded random parameters; `f` features, one member. */
function randomModel(f = 4, seed = 1): FusionModel {
  const r = mulberry32(seed);
  const d = NUM_CLASSES + f;
  const rand = (n: number, lo: number, hi: number) => Float64Array.from({ length: n }, () => lo + (hi - lo) * r());
  return {
    members: ['m'],
    featureVersion: FEATURE_VERSION,
    featureCount: f,
    eps: 1e-4,
    inputDim: d,
    mean: rand(d, -1, 1),
    scale: rand(d, 0.5, 2),
    weights: rand(NUM_CLASSES * d, -1, 1),
    bias: rand(NUM_CLASSES, -0.5, 0.5),
  };
}

const buffer = (bytes: Uint8Array): ArrayBuffer => bytes.slice().buffer;

/** The model's output written out the long way: softmax(W (x - mean) / scale + b). */
function reference(m: FusionModel, probs: number[], features: number[]): number[] {
  const x = [...probs.map((p) => Math.log(Math.max(p, m.eps))), ...features].map((v, i) => (v - m.mean[i]!) / m.scale[i]!);
  const logits = Array.from(
    { length: NUM_CLASSES },
    (_, k) => m.bias[k]! + x.reduce((s, v, i) => s + m.weights[k * m.inputDim + i]! * v, 0),
  );
  const e = logits.map((l) => Math.exp(l));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

describe('fusion inference', () => {
  const probs = [0.5, 0.1, 0.05, 0.2, 0.1, 0.05, 0];
  const features = [0.3, -1.2, 2, 0];

  it('is softmax(W z + b) on the standardized [log p, features] row', () => {
    const m = randomModel();
    const out = predictFusion(m, [probs], features);
    expect(out).toHaveLength(NUM_CLASSES);
    expect(out.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    reference(m, probs, features).forEach((p, k) => expect(out[k]).toBeCloseTo(p, 12));
  });

  it('floors a zero probability at eps before the log', () => {
    expect(Array.from(fusionRow([probs], features, 1e-4)).slice(0, NUM_CLASSES)).toEqual(probs.map((p) => Math.log(Math.max(p, 1e-4))));
  });

  it('reads a non-finite feature as its training mean', () => {
    const m = randomModel();
    const atMean = [...features];
    atMean[1] = m.mean[NUM_CLASSES + 1]!;
    expect(predictFusion(m, [probs], [0.3, NaN, 2, 0])).toEqual(predictFusion(m, [probs], atMean));
  });

  it('does not overflow on large logits', () => {
    const m = randomModel();
    m.bias[3] = 1e4;
    const out = predictFusion(m, [probs], features);
    expect(out.every(Number.isFinite)).toBe(true);
    expect(out[3]).toBeCloseTo(1, 12);
  });

  it('refuses inputs of the wrong shape', () => {
    const m = randomModel();
    expect(() => predictFusion(m, [probs], [1, 2, 3])).toThrow(/got 3 features, the model reads 4/);
    expect(() => predictFusion(m, [], features)).toThrow(/got 0 member outputs, expected 1/);
    expect(() => predictFusion(m, [[0.5, 0.5]], features)).toThrow(/a member gave 2 probabilities, expected 7/);
  });
});

describe('fusion model files', () => {
  it('round-trips through serialize and parse, bit for bit', () => {
    const m = randomModel(FEATURE_COUNT, 7);
    const { json, weights } = serializeFusionModel(m, { training: { l2: 0.01 } });
    expect(weights.byteLength).toBe(fusionWeightCount(m.inputDim) * 8);
    expect(json.inputDim).toBe(NUM_CLASSES + FEATURE_COUNT);
    const back = parseFusionModel(JSON.parse(JSON.stringify(json)), buffer(weights));
    expect(back).toEqual(m);
  });

  it('names what is wrong with a damaged or mismatched model', () => {
    const { json, weights } = serializeFusionModel(randomModel());
    const ok = () => JSON.parse(JSON.stringify(json)) as Record<string, unknown>;
    const flipped = weights.slice();
    flipped[10] ^= 1;
    expect(() => parseFusionModel(ok(), buffer(flipped))).toThrow(/weights\.bin does not match the hash model\.json records/);
    expect(() => parseFusionModel(ok(), buffer(weights.slice(0, 80)))).toThrow(
      /weights\.bin has 80 bytes, a model of input length 11 needs/,
    );
    expect(() => parseFusionModel({ ...ok(), format: 'emotion-svm' }, buffer(weights))).toThrow(/format must be "emotion-fusion"/);
    expect(() => parseFusionModel({ ...ok(), version: 2 }, buffer(weights))).toThrow(/version 2 is not supported/);
    expect(() => parseFusionModel({ ...ok(), members: [] }, buffer(weights))).toThrow(/members must be a non-empty list/);
    expect(() => parseFusionModel({ ...ok(), inputDim: 12 }, buffer(weights))).toThrow(
      /inputDim 12 does not match 1 member\(s\) x 7 \+ 4 features = 11/,
    );
    expect(() => parseFusionModel({ ...ok(), labels: ['happy'] }, buffer(weights))).toThrow(/labels must be/);
    expect(() => parseFusionModel({ ...ok(), eps: 0 }, buffer(weights))).toThrow(/eps must be a number in \(0, 1\)/);
  });

  it('refuses a zero scale and non-finite values', () => {
    const m = randomModel();
    m.scale[2] = 0;
    const a = serializeFusionModel(m);
    expect(() => parseFusionModel(JSON.parse(JSON.stringify(a.json)), buffer(a.weights))).toThrow(/scale\[2\] is 0, must be > 0/);
    const n = randomModel();
    n.weights[5] = NaN;
    const b = serializeFusionModel(n);
    expect(() => parseFusionModel(JSON.parse(JSON.stringify(b.json)), buffer(b.weights))).toThrow(/value \d+ is NaN/);
  });
});
