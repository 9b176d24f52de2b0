import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../../src/core/contracts/manifest.ts';
import { FEATURE_COUNT } from '../../../src/core/features/index.ts';
import {
  applyNeutralOffsets,
  baselineOffsets,
  expressiveCapture,
  FeatureMean,
  featureShift,
  LogProbMean,
  logProbs,
  NEUTRAL_EPS,
  NeutralCapture,
  neutralOffsets,
  parseNeutralBaseline,
  parseNeutralReference,
  shiftFeatures,
  type NeutralReference,
} from '../../../src/core/neutral-baseline.ts';

const uniform = Array<number>(7).fill(1 / 7);
const ref = (logProbs: number[]): NeutralReference => ({ logProbs, faces: 10 });
/** A person whose neutral face reads 60 % sad (index 4), 30 % neutral. */
const sadLooking = [0.02, 0.02, 0.02, 0.02, 0.6, 0.02, 0.3];
/** FER2013's neutral faces read 80 % neutral. */
const ferNeutral = logProbs([0.03, 0.03, 0.04, 0.03, 0.04, 0.03, 0.8]);

describe('neutral baseline math', () => {
  it('floors probabilities before the log', () => {
    expect(logProbs([0, 1, 0, 0, 0, 0, 0])[0]).toBeCloseTo(Math.log(NEUTRAL_EPS), 12);
    expect(() => logProbs([1])).toThrow(/7 probabilities/);
  });

  it('averages log-probabilities', () => {
    const m = new LogProbMean();
    m.add([0.5, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05]);
    m.add([0.125, 0.1, 0.1, 0.1, 0.1, 0.2, 0.275]);
    expect(m.count).toBe(2);
    expect(m.mean()[0]).toBeCloseTo((Math.log(0.5) + Math.log(0.125)) / 2, 12);
    expect(() => new LogProbMean().mean()).toThrow(/no rows/);
  });

  it('moves the captured neutral face onto the reference exactly', () => {
    const offsets = neutralOffsets(ferNeutral, logProbs(sadLooking));
    const moved = applyNeutralOffsets(sadLooking, offsets);
    const expected = ferNeutral.map(Math.exp);
    const total = expected.reduce((a, b) => a + b, 0);
    moved.forEach((p, k) => expect(p).toBeCloseTo(expected[k]! / total, 9));
    expect(moved.indexOf(Math.max(...moved))).toBe(6);
  });

  it('keeps probabilities a distribution and leaves them as they are with zero offsets', () => {
    const p = [0.1, 0.05, 0.05, 0.5, 0.1, 0.1, 0.1];
    const same = applyNeutralOffsets(p, Array<number>(7).fill(0));
    same.forEach((v, k) => expect(v).toBeCloseTo(p[k]!, 12));
    const moved = applyNeutralOffsets(p, [3, -2, 0, 1, 0, 0, -1]);
    expect(moved.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(moved.every((v) => v > 0)).toBe(true);
  });

  it('reads a mild sad face of that person as less sad than without the baseline', () => {
    const offsets = neutralOffsets(ferNeutral, logProbs(sadLooking));
    const mildSad = [0.02, 0.02, 0.02, 0.02, 0.7, 0.02, 0.2];
    expect(applyNeutralOffsets(sadLooking, offsets)[4]!).toBeLessThan(sadLooking[4]!);
    // Sadder than their neutral face: still the top class once moved.
    const moved = applyNeutralOffsets(mildSad, offsets);
    expect(moved[4]! / moved[6]!).toBeGreaterThan(
      applyNeutralOffsets(sadLooking, offsets)[4]! / applyNeutralOffsets(sadLooking, offsets)[6]!,
    );
  });
});

describe('NeutralCapture and stored baselines', () => {
  const references = new Map([
    ['cnn', ref(ferNeutral)],
    ['svm', ref(logProbs(uniform))],
  ]);

  it('captures only the models with a reference and counts frames', () => {
    const c = new NeutralCapture(references);
    c.addFrame({ cnn: sadLooking, personal: uniform });
    c.addFrame({ cnn: sadLooking, svm: uniform });
    c.addFrame({ personal: uniform });
    const b = c.finish(new Date('2026-12-02T10:00:00Z'));
    expect(b.frames).toBe(2);
    expect(Object.keys(b.models).sort()).toEqual(['cnn', 'svm']);
    b.models.cnn!.captured.forEach((v, k) => expect(v).toBeCloseTo(Math.log(sadLooking[k]!), 12));
    expect(b.models.cnn!.reference).toEqual(ferNeutral);
    expect(parseNeutralBaseline(JSON.parse(JSON.stringify(b)))).toEqual(b);
  });

  it('drops a model whose reference changed since the capture, and one without a reference now', () => {
    const c = new NeutralCapture(references);
    c.addFrame({ cnn: sadLooking, svm: uniform });
    const b = c.finish(new Date());
    const now = new Map([['cnn', ref(ferNeutral.map((v) => v - 0.1))]]);
    const { offsets, stale } = baselineOffsets(b, now);
    expect(stale).toEqual(['cnn']);
    expect(offsets.size).toBe(0);
    const same = baselineOffsets(b, references);
    expect(same.stale).toEqual([]);
    expect([...same.offsets.keys()].sort()).toEqual(['cnn', 'svm']);
  });

  it('flags a capture that shows a smile or a surprised face, not a resting face that reads sad', () => {
    const captured = (probs: number[]) => {
      const c = new NeutralCapture(references);
      c.addFrame({ cnn: probs, svm: probs });
      return c.finish(new Date());
    };
    expect(expressiveCapture(captured(sadLooking))).toBeUndefined();
    expect(expressiveCapture(captured([0.02, 0.02, 0.02, 0.8, 0.04, 0.05, 0.05]))).toEqual({
      emotion: 'happy',
      share: expect.closeTo(0.8, 6),
    });
    expect(expressiveCapture(captured([0.02, 0.02, 0.15, 0.02, 0.04, 0.7, 0.05]))?.emotion).toBe('surprise');
    expect(expressiveCapture(captured([0.02, 0.02, 0.02, 0.45, 0.04, 0.0, 0.45]))).toBeUndefined();
  });

  it('refuses stored baselines that are not one', () => {
    expect(() => parseNeutralBaseline({ version: 2 })).toThrow(/version 1/);
    expect(() => parseNeutralBaseline({ version: 1, capturedAt: 'yesterday', frames: 3, models: {} })).toThrow(/capturedAt/);
    expect(() => parseNeutralBaseline({ version: 1, capturedAt: '2026-12-02T10:00:00Z', frames: 0, models: {} })).toThrow(/frames/);
    expect(() =>
      parseNeutralBaseline({
        version: 1,
        capturedAt: '2026-12-02T10:00:00Z',
        frames: 3,
        models: { cnn: { captured: [1, 2], reference: [] } },
      }),
    ).toThrow(/models\["cnn"\]/);
  });
});

describe('the manifest\'s "neutral" field', () => {
  const entry = (neutral: unknown) => ({
    models: [{ id: 'fer-cnn', kind: 'cnn', path: 'fer-cnn/model.json', neutral }],
  });

  it('is parsed into the entry', () => {
    const m = parseManifest(entry({ logProbs: [-3, -3, -3, -3, -3, -3, -0.2], faces: 4824 }));
    expect(m.models[0]!.neutral).toEqual({ logProbs: [-3, -3, -3, -3, -3, -3, -0.2], faces: 4824 });
  });

  it('names the entry and field at fault', () => {
    expect(() => parseManifest(entry({ logProbs: [-1, -1], faces: 3 }))).toThrow(
      /models\[0\] \(fer-cnn\)\.neutral\.logProbs must be 7 log-probabilities/,
    );
    expect(() => parseManifest(entry({ logProbs: Array(7).fill(0.5), faces: 3 }))).toThrow(/<= 0/);
    expect(() => parseManifest(entry({ logProbs: Array(7).fill(-1), faces: 0 }))).toThrow(/neutral\.faces must be a positive integer/);
    expect(() => parseManifest(entry({ logProbs: Array(7).fill(-1), faces: 3, extra: 1 }))).toThrow(/unknown field "extra"/);
    expect(() => parseNeutralReference('x', 'here')).toThrow(/^here must be/);
  });
});

describe('models moved at their input features', () => {
  const ferFeatures = Array.from({ length: FEATURE_COUNT }, (_, k) => k / FEATURE_COUNT);
  /** A person whose resting face has every feature 0.25 higher than FER2013's neutral mean. */
  const theirs = ferFeatures.map((v) => v + 0.25);
  const references = new Map<string, NeutralReference>([
    ['cnn', ref(ferNeutral)],
    ['svm-au', { ...ref(logProbs(uniform)), features: ferFeatures }],
  ]);

  it('captures the mean features for a reference with features, log-probabilities for the rest', () => {
    const c = new NeutralCapture(references);
    c.addFrame(
      { cnn: sadLooking, 'svm-au': uniform },
      theirs.map((v) => v + 0.1),
    );
    c.addFrame(
      { cnn: sadLooking, 'svm-au': uniform },
      theirs.map((v) => v - 0.1),
    );
    const b = c.finish(new Date('2026-12-02T10:00:00Z'));
    expect(b.models['svm-au']!.input).toBe('features');
    b.models['svm-au']!.captured.forEach((v, k) => expect(v).toBeCloseTo(theirs[k]!, 9));
    expect(b.models.cnn!.input).toBeUndefined();
    expect(parseNeutralBaseline(JSON.parse(JSON.stringify(b)))).toEqual(b);
    // The resting face itself is moved exactly onto FER2013's neutral mean.
    const { offsets, featureShifts, stale } = baselineOffsets(b, references);
    expect(stale).toEqual([]);
    expect([...offsets.keys()]).toEqual(['cnn']);
    shiftFeatures(theirs, featureShifts.get('svm-au')!).forEach((v, k) => expect(v).toBeCloseTo(ferFeatures[k]!, 6));
    // Smiles and surprise are judged on the models that captured probabilities only.
    expect(expressiveCapture(b)).toBeUndefined();
  });

  it('falls back to the output when a frame came without features', () => {
    const c = new NeutralCapture(references);
    c.addFrame({ 'svm-au': sadLooking }, theirs);
    c.addFrame({ 'svm-au': sadLooking });
    const b = c.finish(new Date());
    expect(b.models['svm-au']!.input).toBeUndefined();
    expect(baselineOffsets(b, references).offsets.has('svm-au')).toBe(true);
  });

  it('is stale when the reference features changed, and a baseline captured before features still moves the output', () => {
    const c = new NeutralCapture(references);
    c.addFrame({ 'svm-au': uniform }, theirs);
    const b = c.finish(new Date());
    const retrained = new Map([['svm-au', { ...ref(logProbs(uniform)), features: ferFeatures.map((v) => v + 1) }]]);
    expect(baselineOffsets(b, retrained)).toMatchObject({ stale: ['svm-au'] });
    const old = { ...b, models: { 'svm-au': { captured: logProbs(sadLooking), reference: logProbs(uniform) } } };
    const moves = baselineOffsets(old, references);
    expect([...moves.offsets.keys()]).toEqual(['svm-au']);
    expect(moves.featureShifts.size).toBe(0);
  });

  it('checks vector lengths', () => {
    expect(() => featureShift([1, 2], [1])).toThrow(RangeError);
    expect(() => shiftFeatures([1, 2], [1])).toThrow(RangeError);
    const m = new FeatureMean();
    m.add([1, 2]);
    expect(() => m.add([1])).toThrow(RangeError);
    expect(m.mean()).toEqual([1, 2]);
    expect(() => new FeatureMean().mean()).toThrow(/no rows/);
    expect(() =>
      parseNeutralBaseline({
        version: 1,
        capturedAt: '2026-12-02T10:00:00Z',
        frames: 3,
        models: { 'svm-au': { captured: Array(7).fill(0), reference: Array(7).fill(0), input: 'features' } },
      }),
    ).toThrow(/168 numbers each/);
  });

  it('the manifest allows reference features only on an SVM that reads the AU-style features', () => {
    const neutral = { logProbs: Array(7).fill(-2), faces: 5, features: ferFeatures };
    const au = { id: 'svm-au', kind: 'svm', path: 'svm-au/model.json', input: { type: 'au-features', featureVersion: 1 }, neutral };
    expect(parseManifest({ models: [au] }).models[0]!.neutral?.features).toHaveLength(FEATURE_COUNT);
    expect(() => parseManifest({ models: [{ id: 'fer-cnn', kind: 'cnn', path: 'fer-cnn/model.json', neutral }] })).toThrow(
      /fer-cnn\)\.neutral\.features is only for an SVM that reads the AU-style features/,
    );
    expect(() => parseManifest({ models: [{ ...au, neutral: { ...neutral, features: [1, 2] } }] })).toThrow(
      /neutral\.features must be 168/,
    );
  });
});
