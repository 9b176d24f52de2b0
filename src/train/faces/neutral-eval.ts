/**
 * The real-face evaluation with each person's neutral baseline (`npm run evaluate -- --faces DIR
 * --neutral-baseline`): what a user's captured neutral face would give each model. Every photo's
 * probabilities are moved as the app moves them (src/core/neutral-baseline.ts):
 *
 *   p' = softmax(log p + reference - captured)
 *
 * where `captured` is the mean log-probability over the SAME person's OTHER photos labelled neutral
 * (leave-one-out: a photo is never part of its own baseline, so a neutral photo is moved by the
 * person's remaining neutral photos only). The person is the first capture group of a regular
 * expression on the file's base name. A photo stays as the model gave it when its name names no
 * person, when that person has no other neutral photo with a face, or for a model without a
 * reference. A model whose reference has features (an SVM on the AU-style features) is moved at its
 * input as the app moves it: the photo's features + reference features - the mean features of the
 * same other photos, then read again by `readMoved`. With pick 'auto' (`--auto-neutral`) no label
 * is used: the baseline is the most relaxed AUTO_NEUTRAL_SHARE of the same person's other photos,
 * as the live view's automatic neutral face takes it (src/core/auto-neutral.ts). Pure: no browser,
 * no files.
 */
import { relaxedScore, relaxedShare } from '../../core/auto-neutral.ts';
import { EMOTIONS, type Emotion } from '../../core/labels.ts';
import {
  applyNeutralOffsets,
  FeatureMean,
  featureShift,
  LogProbMean,
  neutralOffsets,
  shiftFeatures,
  type NeutralReference,
} from '../../core/neutral-baseline.ts';
import { argmax } from '../../core/metrics.ts';
import { UsageError } from './deps.ts';

/** JAFFE's names: "KA.AN1.39.png" is person "KA". */
export const DEFAULT_SUBJECT = '^([^.]+)\\.';

const NEUTRAL: Emotion = 'neutral';

/** One labelled photo as the pipeline scored it: each model's probabilities for its face, or null without a face. */
export interface NeutralEvalPhoto {
  /** Relative to the folder, '/'-separated; the person is read from the base name. */
  file: string;
  label: Emotion;
  probs: Readonly<Record<string, ArrayLike<number>>> | null;
  /** The face's AU-style features (needed for models moved at their input). */
  features?: ArrayLike<number> | null;
}

/** Where each person's neutral face comes from: their photos labelled neutral, or without labels (auto-neutral.ts). */
export type NeutralPick = 'labelled' | 'auto';

/** A model moved at its input, run again on moved features: its probabilities. */
export type ReadMoved = (id: string, features: Float32Array) => ArrayLike<number>;

export interface NeutralEvalResult {
  /** Per photo: the moved answer of each model that was moved (absent: the photo or model was not moved). */
  predicted: Record<string, Emotion>[];
  /** Per photo: the other files whose mean is its baseline (empty: not moved). */
  baselineOf: string[][];
  /** Per photo: its person, or undefined when the name does not match. */
  persons: (string | undefined)[];
  /** Photos with a face moved for at least one model. */
  moved: number;
  /** Photos with a face left as they were: noSubject + noOtherNeutral + those no model with a reference answered for. */
  unmoved: number;
  noSubject: number;
  noOtherNeutral: number;
  /** Distinct persons among the photos with a face. */
  people: number;
  /** Models moved (those with a reference), in the order given. */
  models: string[];
}

/**
 * `raw` as a --subject pattern: a valid regular expression with at least one capture group.
 * UsageError saying how to fix it otherwise.
 */
export function parseSubject(raw: string): RegExp {
  const how = `give a regular expression on the file name whose first group names the person, e.g. --subject '${DEFAULT_SUBJECT}' (JAFFE's KA.AN1.39.png is person KA)`;
  if (raw === '') throw new UsageError(`--subject is empty; ${how}`);
  let re: RegExp;
  try {
    re = new RegExp(raw);
  } catch (error) {
    throw new UsageError(`--subject "${raw}" is not a regular expression (${(error as Error).message}); ${how}`);
  }
  // An alternative that matches the empty string gives one (undefined) entry per group.
  const groups = new RegExp(`${raw}|`).exec('')!.length - 1;
  if (groups < 1) throw new UsageError(`--subject "${raw}" has no capture group to name the person; ${how}`);
  return re;
}

/** The person of a file: the first group of `subject` on its base name; undefined when it does not match (or the group is empty). */
export function personOf(file: string, subject: RegExp): string | undefined {
  const base = file.split('/').pop() ?? file;
  subject.lastIndex = 0;
  const person = subject.exec(base)?.[1];
  return person === undefined || person === '' ? undefined : person;
}

/**
 * Each photo's answers with its person's neutral baseline, leave-one-out. `references`: each
 * model's neutral reference (models not in it are never moved); `readMoved` reads the photos of the
 * models whose reference has features.
 */
export function neutralBaselineAnswers(
  photos: readonly NeutralEvalPhoto[],
  references: ReadonlyMap<string, NeutralReference>,
  subject: RegExp,
  readMoved?: ReadMoved,
  /** 'auto': no labels; the baseline is the most relaxed AUTO_NEUTRAL_SHARE of the person's other photos (auto-neutral.ts). */
  pick: NeutralPick = 'labelled',
): NeutralEvalResult {
  const persons = photos.map((p) => personOf(p.file, subject));
  // The candidate photos with a face, by person: those labelled neutral, or with 'auto' all of them.
  const neutralByPerson = new Map<string, number[]>();
  photos.forEach((p, i) => {
    const person = persons[i];
    if (person === undefined || p.probs === null || (pick === 'labelled' && p.label !== NEUTRAL)) return;
    const list = neutralByPerson.get(person) ?? [];
    list.push(i);
    neutralByPerson.set(person, list);
  });
  const scores = photos.map((p) => (p.probs === null ? -1 : (relaxedScore(p.probs, references) ?? -1)));
  /** The photos whose mean moves photo i: never itself; with 'auto', the most relaxed share of the rest. */
  const baselineFor = (i: number, person: string): number[] => {
    const others = (neutralByPerson.get(person) ?? []).filter((j) => j !== i);
    if (pick === 'labelled') return others;
    return relaxedShare(others.map((j) => scores[j]!)).map((k) => others[k]!);
  };

  const result: NeutralEvalResult = {
    predicted: photos.map(() => ({})),
    baselineOf: photos.map(() => []),
    persons,
    moved: 0,
    unmoved: 0,
    noSubject: 0,
    noOtherNeutral: 0,
    people: new Set(persons.filter((s, i) => s !== undefined && photos[i]!.probs !== null)).size,
    models: [...references.keys()],
  };
  photos.forEach((photo, i) => {
    if (photo.probs === null) return;
    const person = persons[i];
    if (person === undefined) {
      result.noSubject++;
      result.unmoved++;
      return;
    }
    const others = baselineFor(i, person);
    if (others.length === 0) {
      result.noOtherNeutral++;
      result.unmoved++;
      return;
    }
    let moved = false;
    for (const [id, reference] of references) {
      const probs = photo.probs[id];
      if (probs === undefined) continue;
      if (reference.features) {
        if (!readMoved) throw new Error(`model "${id}" is moved at its input features: give readMoved`);
        const own = photo.features;
        const mean = new FeatureMean();
        for (const j of others) {
          const theirs = photos[j]!.features;
          if (theirs) mean.add(theirs);
        }
        if (!own || mean.count === 0) continue;
        const shifted = shiftFeatures(own, featureShift(reference.features, mean.mean()));
        result.predicted[i]![id] = EMOTIONS[argmax(readMoved(id, shifted))]!;
        moved = true;
        continue;
      }
      const mean = new LogProbMean();
      for (const j of others) {
        const theirs = photos[j]!.probs![id];
        if (theirs !== undefined) mean.add(theirs);
      }
      if (mean.count === 0) continue;
      result.predicted[i]![id] = EMOTIONS[argmax(applyNeutralOffsets(probs, neutralOffsets(reference.logProbs, mean.mean())))]!;
      moved = true;
    }
    if (moved) {
      result.moved++;
      result.baselineOf[i] = others.map((j) => photos[j]!.file);
    } else result.unmoved++; // no model with a reference answered for this face or its baseline
  });
  return result;
}
