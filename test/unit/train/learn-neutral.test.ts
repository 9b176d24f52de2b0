/**
 * learnNeutral (src/train/predict/neutral.ts): the neutral face `npm run predict --neutral` makes
 * from photos, or, with `auto`, from a video's own frames: which faces it takes and the moves it
 * gives the batch page.
 */
import { describe, expect, it } from 'vitest';
import { FEATURE_COUNT } from '../../../src/core/features/index.ts';
import { logProbs, neutralOffsets, type NeutralReference } from '../../../src/core/neutral-baseline.ts';
import { learnNeutral } from '../../../src/train/predict/neutral.ts';

const probs = (neutral: number, happy = 0): number[] => {
  const rest = (1 - neutral - happy) / 5;
  return [rest, rest, rest, happy, rest, rest, neutral];
};
const ref: NeutralReference = { logProbs: logProbs(probs(0.6)), faces: 100 };
const featRef: NeutralReference = { logProbs: logProbs(probs(0.5)), faces: 100, features: new Array<number>(FEATURE_COUNT).fill(0.25) };
const references = new Map([
  ['cnn', ref],
  ['svm', featRef],
]);
const feats = (v: number): number[] => new Array<number>(FEATURE_COUNT).fill(v);

describe('learnNeutral', () => {
  // Twenty frames; p(neutral) of the CNN rises with the index, the SVM's falls (it does not vote).
  const faces = Array.from({ length: 20 }, (_, i) => ({
    readings: { cnn: probs(0.02 * i), svm: probs(0.5 - 0.02 * i), personal: probs(0.9) },
    features: feats(i),
  }));

  it('auto takes the most relaxed 10 % by the models moved at their output, most relaxed first', () => {
    const learnt = learnNeutral(faces, references, 'auto');
    expect(learnt.used).toEqual([19, 18]);
    // Offsets: reference minus the mean log-probabilities of the faces taken.
    const mean = logProbs(probs(0.38)).map((_, k) => (logProbs(probs(0.38))[k]! + logProbs(probs(0.36))[k]!) / 2);
    const expected = neutralOffsets(ref.logProbs, mean);
    learnt.moves.offsets.cnn!.forEach((v, k) => expect(v).toBeCloseTo(expected[k]!, 12));
    // The features model is moved at its input, by its reference minus the mean features taken.
    expect(learnt.moves.featureShifts.svm).toEqual(feats(0.25 - 18.5));
    // A model without a reference (a personal model) is not moved.
    expect(Object.keys(learnt.moves.offsets)).toEqual(['cnn']);
    expect(learnt.expressive).toBeUndefined();
  });

  it('all takes every face', () => {
    expect(learnNeutral(faces, references, 'all').used).toEqual(faces.map((_, i) => i));
  });

  it('says when even the most relaxed faces smile', () => {
    const smiling = Array.from({ length: 10 }, () => ({ readings: { cnn: probs(0.1, 0.8) } }));
    expect(learnNeutral(smiling, references, 'auto').expressive).toMatchObject({ emotion: 'happy' });
  });

  it('moves nothing when there is no face, or no model with a reference read one', () => {
    expect(learnNeutral([], references, 'auto')).toEqual({ moves: { offsets: {}, featureShifts: {} }, used: [] });
    const none = learnNeutral([{ readings: { personal: probs(0.9) } }], references, 'auto');
    expect(none.moves).toEqual({ offsets: {}, featureShifts: {} });
  });
});
