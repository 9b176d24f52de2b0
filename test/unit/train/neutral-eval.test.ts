/**
 * The real-face evaluation with each person's neutral baseline (src/train/faces/neutral-eval.ts),
 * without a browser: leave-one-out by hand, who is left unmoved and why, the --subject checks, the
 * result's contract and the default output file. The run through the pipeline:
 * test/integration/faces-eval.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parseRealFaces } from '../../../src/core/contracts/index.ts';
import { EMOTIONS, type Emotion } from '../../../src/core/labels.ts';
import { applyNeutralOffsets, logProbs, neutralOffsets, type NeutralReference } from '../../../src/core/neutral-baseline.ts';
import { defaultFacesOut } from '../../../src/train/faces/command.ts';
import {
  DEFAULT_SUBJECT,
  neutralBaselineAnswers,
  parseSubject,
  personOf,
  type NeutralEvalPhoto,
} from '../../../src/train/faces/neutral-eval.ts';
import { UsageError } from '../../../src/train/util/cli-args.ts';

/** Probabilities with `top` values set and the rest shared equally. */
function probs(top: Partial<Record<Emotion, number>>): number[] {
  const given = Object.values(top).reduce((a, b) => a + b, 0);
  const rest = (1 - given) / (EMOTIONS.length - Object.keys(top).length);
  return EMOTIONS.map((e) => top[e] ?? rest);
}

const argmaxLabel = (p: readonly number[]): Emotion => EMOTIONS[p.indexOf(Math.max(...p))]!;

// A reference that strongly favours neutral, as FER2013's neutral faces give: with it, putting a
// photo into its own baseline changes the answer (with a uniform reference it would only sharpen
// or soften the same argmax).
const REFERENCE: NeutralReference = { logProbs: logProbs(probs({ neutral: 0.7 })), faces: 100 };
const subject = new RegExp(DEFAULT_SUBJECT);

const photo = (file: string, label: Emotion, m: number[] | null, other?: number[]): NeutralEvalPhoto => ({
  file,
  label,
  probs: m === null ? null : { m, ...(other ? { other } : {}) },
});

describe('neutralBaselineAnswers', () => {
  // KA has two neutral photos: each is moved by the other one only.
  const ne1 = probs({ sad: 0.5, neutral: 0.1 });
  const ne2 = probs({ sad: 0.05, neutral: 0.6 });
  const angry = probs({ neutral: 0.5, angry: 0.3 });

  it("moves each photo by the mean of the same person's OTHER neutral photos (leave-one-out, by hand)", () => {
    const photos = [
      photo('neutral/KA.NE1.26.png', 'neutral', ne1),
      photo('neutral/KA.NE2.27.png', 'neutral', ne2),
      photo('angry/KA.AN1.39.png', 'angry', angry),
    ];
    const r = neutralBaselineAnswers(photos, new Map([['m', REFERENCE]]), subject);
    const moved = (p: number[], others: number[][]) => {
      const captured = others.map(logProbs).reduce((s, l) => s.map((v, k) => v + l[k]! / others.length), new Array<number>(7).fill(0));
      return argmaxLabel(applyNeutralOffsets(p, neutralOffsets(REFERENCE.logProbs, captured)));
    };
    expect(r.predicted[0]).toEqual({ m: moved(ne1, [ne2]) });
    expect(r.predicted[1]).toEqual({ m: moved(ne2, [ne1]) });
    expect(r.predicted[2]).toEqual({ m: moved(angry, [ne1, ne2]) });
    // The photo's own probabilities never enter its baseline: with them, NE1 would read neutral.
    expect(r.predicted[0]!.m).toBe('sad');
    expect(moved(ne1, [ne1, ne2])).toBe('neutral');
    expect(r.baselineOf).toEqual([
      ['neutral/KA.NE2.27.png'],
      ['neutral/KA.NE1.26.png'],
      ['neutral/KA.NE1.26.png', 'neutral/KA.NE2.27.png'],
    ]);
    expect(r.persons).toEqual(['KA', 'KA', 'KA']);
    expect(r).toMatchObject({ moved: 3, unmoved: 0, noSubject: 0, noOtherNeutral: 0, people: 1, models: ['m'] });
  });

  it("never uses another person's neutral photos", () => {
    const photos = [photo('neutral/KA.NE1.26.png', 'neutral', ne1), photo('angry/KM.AN1.1.png', 'angry', angry)];
    const r = neutralBaselineAnswers(photos, new Map([['m', REFERENCE]]), subject);
    expect(r.predicted[1]).toEqual({});
    expect(r.baselineOf[1]).toEqual([]);
    expect(r).toMatchObject({ moved: 0, unmoved: 2, noOtherNeutral: 2, people: 2 });
  });

  it("leaves a person's only neutral photo unmoved (it would be its own baseline) while moving their other photos", () => {
    const photos = [photo('neutral/KA.NE1.26.png', 'neutral', ne1), photo('angry/KA.AN1.39.png', 'angry', angry)];
    const r = neutralBaselineAnswers(photos, new Map([['m', REFERENCE]]), subject);
    expect(r.predicted[0]).toEqual({});
    expect(r.baselineOf[0]).toEqual([]);
    expect(r.predicted[1]).toHaveProperty('m');
    expect(r.baselineOf[1]).toEqual(['neutral/KA.NE1.26.png']);
    expect(r).toMatchObject({ moved: 1, unmoved: 1, noOtherNeutral: 1 });
  });

  it('leaves models without a reference unmoved', () => {
    const photos = [
      photo('neutral/KA.NE1.26.png', 'neutral', ne1, ne1),
      photo('neutral/KA.NE2.27.png', 'neutral', ne2, ne2),
      photo('angry/KA.AN1.39.png', 'angry', angry, angry),
    ];
    const r = neutralBaselineAnswers(photos, new Map([['m', REFERENCE]]), subject);
    expect(r.models).toEqual(['m']);
    for (const p of r.predicted) expect(Object.keys(p)).toEqual(['m']);
    // No reference at all: nothing moves, and the photos are not blamed on missing neutral photos.
    const none = neutralBaselineAnswers(photos, new Map(), subject);
    expect(none.predicted).toEqual([{}, {}, {}]);
    expect(none).toMatchObject({ moved: 0, unmoved: 3, noOtherNeutral: 0, noSubject: 0, models: [] });
  });

  it('leaves photos whose name names no person unmoved, counts them, and keeps their neutral photos out of every baseline', () => {
    const twoLetters = /^([A-Z]{2})\./;
    const photos = [
      photo('neutral/KA.NE1.26.png', 'neutral', ne1),
      photo('neutral/snapshot-1.png', 'neutral', ne2),
      photo('neutral/KA.NE2.27.png', 'neutral', ne2),
      photo('angry/snapshot-2.png', 'angry', angry),
    ];
    const r = neutralBaselineAnswers(photos, new Map([['m', REFERENCE]]), twoLetters);
    expect(r.persons).toEqual(['KA', undefined, 'KA', undefined]);
    expect(r.predicted[1]).toEqual({});
    expect(r.predicted[3]).toEqual({});
    expect(r.baselineOf[0]).toEqual(['neutral/KA.NE2.27.png']);
    expect(r).toMatchObject({ moved: 2, unmoved: 2, noSubject: 2, noOtherNeutral: 0, people: 1 });
  });

  it('takes no baseline from a neutral photo without a face, and does not count photos without a face', () => {
    const photos = [photo('neutral/KA.NE1.26.png', 'neutral', null), photo('angry/KA.AN1.39.png', 'angry', angry)];
    const r = neutralBaselineAnswers(photos, new Map([['m', REFERENCE]]), subject);
    expect(r.predicted).toEqual([{}, {}]);
    expect(r).toMatchObject({ moved: 0, unmoved: 1, noOtherNeutral: 1, people: 1 });
  });
});

describe('--subject', () => {
  it('reads the person from the base name with the first group', () => {
    expect(personOf('neutral/KA.NE1.26.png', subject)).toBe('KA');
    expect(personOf('KA.NE1.26.png', /^[A-Z]+\.([A-Z]+)/)).toBe('NE');
    expect(personOf('neutral/README', subject)).toBeUndefined();
    expect(personOf('neutral/.png', /^([^.]*)\./)).toBeUndefined();
  });

  it('refuses a pattern that is no regular expression, has no group or is empty, saying what to give', () => {
    expect(parseSubject('^(\\w+)_').source).toBe('^(\\w+)_');
    expect(() => parseSubject('^([^.]+\\.')).toThrow(UsageError);
    expect(() => parseSubject('^([^.]+\\.')).toThrow(
      /--subject "\^\(\[\^\.\]\+\\\." is not a regular expression .*first group names the person/,
    );
    expect(() => parseSubject('^[^.]+\\.')).toThrow(/has no capture group/);
    expect(() => parseSubject('^(?:[^.]+)\\.')).toThrow(/has no capture group/);
    expect(() => parseSubject('')).toThrow(/--subject is empty/);
  });
});

describe('the result of a --neutral-baseline run', () => {
  const base = {
    version: 1,
    set: 'jaffe',
    counts: { labelled: 1, scored: 1, withFace: 1, noFace: 0 },
    models: [{ id: 'm', name: 'm', inSample: false, images: 1, correct: 1, accuracy: 1, macroF1: 1 }],
    best: 'm',
    notes: [],
  };
  const neutralBaseline = {
    subject: DEFAULT_SUBJECT,
    people: 1,
    moved: 1,
    unmoved: 0,
    noSubject: 0,
    noOtherNeutral: 0,
    models: ['m'],
    withoutReference: [],
  };

  it('is accepted by the parser, as are files without it', () => {
    expect(parseRealFaces(base, 'x.json').neutralBaseline).toBeUndefined();
    expect(parseRealFaces({ ...base, neutralBaseline }, 'x.json').neutralBaseline).toEqual(neutralBaseline);
    expect(() => parseRealFaces({ ...base, neutralBaseline: { ...neutralBaseline, moved: -1 } }, 'x.json')).toThrow(
      /"neutralBaseline" must hold/,
    );
    expect(() => parseRealFaces({ ...base, neutralBaseline: { ...neutralBaseline, models: 'm' } }, 'x.json')).toThrow(/"neutralBaseline"/);
  });

  it('records an --auto-neutral pick, which the parser accepts only as "auto", and writes it to its own file', () => {
    expect(parseRealFaces({ ...base, neutralBaseline: { ...neutralBaseline, pick: 'auto' } }, 'x.json').neutralBaseline?.pick).toBe('auto');
    expect(() => parseRealFaces({ ...base, neutralBaseline: { ...neutralBaseline, pick: 'labels' } }, 'x.json')).toThrow(
      /"pick" only as "auto"/,
    );
    expect(defaultFacesOut('../shared/data/faces/jaffe', true, true)).toBe('runs/faces/jaffe-neutral-auto.json');
  });

  it("goes to its own file by default, never the plain run's", () => {
    expect(defaultFacesOut('../shared/data/faces/jaffe')).toBe('runs/faces/jaffe.json');
    expect(defaultFacesOut('../shared/data/faces/jaffe', true)).toBe('runs/faces/jaffe-neutral.json');
  });

  it('moves a model with reference features at its input: own features + reference - the mean of the OTHER neutral photos', () => {
    const withFeatures: NeutralReference = { ...REFERENCE, features: [0, 0] };
    const at = (file: string, label: Emotion, features: number[]): NeutralEvalPhoto => ({
      file,
      label,
      probs: { svm: probs({}) },
      features,
    });
    const photos = [
      at('neutral/KA.NE1.26.png', 'neutral', [1, 1]),
      at('neutral/KA.NE2.27.png', 'neutral', [3, 1]),
      at('angry/KA.AN1.39.png', 'angry', [2, 5]),
      { file: 'sad/KA.SA1.33.png', label: 'sad' as const, probs: { svm: probs({}) }, features: null },
    ];
    const seen: number[][] = [];
    // A stand-in model: angry when the second moved feature is above 2, else neutral.
    const readMoved = (_id: string, f: Float32Array) => {
      seen.push([...f]);
      return probs(f[1]! > 2 ? { angry: 0.9 } : { neutral: 0.9 });
    };
    const r = neutralBaselineAnswers(photos, new Map([['svm', withFeatures]]), subject, readMoved);
    // NE1 by NE2 alone, NE2 by NE1 alone, the angry photo by their mean [2, 1].
    expect(seen).toEqual([
      [-2, 0],
      [2, 0],
      [0, 4],
    ]);
    expect(r.predicted.slice(0, 3)).toEqual([{ svm: 'neutral' }, { svm: 'neutral' }, { svm: 'angry' }]);
    // A face without features cannot be moved at its input: left as it is.
    expect(r.predicted[3]).toEqual({});
    expect(() => neutralBaselineAnswers(photos, new Map([['svm', withFeatures]]), subject)).toThrow(/give readMoved/);
  });
});

describe('--auto-neutral: the baseline picked without labels', () => {
  it("moves each photo by the most relaxed 10 % of the same person's OTHER photos, whatever their labels", () => {
    // KA: eleven photos; the most relaxed other photo (highest p(neutral)) is a "sad" one, by design.
    const relaxed = probs({ neutral: 0.9 });
    const angry = probs({ neutral: 0.05, angry: 0.8 });
    const photos = [
      photo('sad/KA.SA1.33.png', 'sad', relaxed),
      ...Array.from({ length: 9 }, (_, k) => photo(`happy/KA.HA${k}.1.png`, 'happy', probs({ happy: 0.5, neutral: 0.1 + k / 100 }))),
      photo('angry/KA.AN1.39.png', 'angry', angry),
      photo('angry/KM.AN1.1.png', 'angry', angry),
    ];
    const r = neutralBaselineAnswers(photos, new Map([['m', REFERENCE]]), subject, undefined, 'auto');
    // 10 others each: round(10 * 0.1) = 1 photo, the most relaxed one that is not the photo itself.
    expect(r.baselineOf[10]).toEqual(['sad/KA.SA1.33.png']);
    expect(r.baselineOf[0]).toEqual(['happy/KA.HA8.1.png']);
    // KM has no other photo: left as it is.
    expect(r.baselineOf[11]).toEqual([]);
    expect(r).toMatchObject({ moved: 11, unmoved: 1, noOtherNeutral: 1 });
    const labelled = neutralBaselineAnswers(photos, new Map([['m', REFERENCE]]), subject);
    expect(labelled).toMatchObject({ moved: 0, noOtherNeutral: 12 });
  });
});
