/**
 * `npm run predict -- ... --neutral PHOTOS`: a person's neutral face from photos of their relaxed
 * face, as the live view's "Set my neutral face" takes it from the camera; `--neutral auto`: from
 * the most relaxed of the photos being read (src/core/auto-neutral.ts), as the live view's Auto.
 * Each photo's largest face is run through the app's pipeline (unmoved) and captured as the live
 * view captures frames (NeutralCapture, src/core/neutral-baseline.ts): each model with a neutral
 * reference gets offsets for its log-probabilities, or a shift for its input features, which the
 * batch page then applies to every face it reads.
 */
import type { BatchNeutral } from '../../core/batch.ts';
import type { ModelEntry } from '../../core/contracts/index.ts';
import { relaxedScore, relaxedShare } from '../../core/auto-neutral.ts';
import {
  baselineOffsets,
  expressiveCapture,
  NeutralCapture,
  type ExpressiveCapture,
  type NeutralReference,
} from '../../core/neutral-baseline.ts';
import { predictImages, type PredictOptions } from './predict.ts';

export interface NeutralFromPhotos {
  /** What to give the batch page. */
  moves: BatchNeutral;
  /** Models moved, in manifest order. */
  moved: string[];
  /** Photos given, and those in which a face was found (the ones averaged). */
  photos: number;
  withFace: number;
  /** Models run that have no neutral reference: read as they are. */
  withoutReference: string[];
  /** The photos the baseline is the mean of (with `pick: 'auto'`, the most relaxed ones). */
  used: string[];
  /** The baseline reads as a smile or surprise. */
  expressive?: ExpressiveCapture;
}

/** One face of a person, as the batch page read it unmoved: every model's probabilities, and its features. */
export interface PersonFace {
  readings: Readonly<Record<string, ArrayLike<number>>>;
  features?: ArrayLike<number>;
}

export interface LearntNeutral {
  moves: BatchNeutral;
  /** Indices of the faces the baseline is the mean of. */
  used: number[];
  /** The baseline reads as a smile or surprise (src/core/neutral-baseline.ts): the person never relaxed. */
  expressive?: ExpressiveCapture;
}

/**
 * A person's neutral baseline from faces of them: all of them (`pick: 'all'`: photos of their
 * relaxed face), or the most relaxed share by the models' own p(neutral) (`'auto'`, as the live
 * view's Auto picks frames).
 */
export function learnNeutral(
  faces: readonly PersonFace[],
  references: ReadonlyMap<string, NeutralReference>,
  pick: 'all' | 'auto',
): LearntNeutral {
  const capture = new NeutralCapture(references);
  const used = pick === 'auto' ? relaxedShare(faces.map((f) => relaxedScore(f.readings, references) ?? -1)) : faces.map((_, i) => i);
  for (const i of used) capture.addFrame(faces[i]!.readings, faces[i]!.features);
  if (capture.frames === 0) return { moves: { offsets: {}, featureShifts: {} }, used };
  const baseline = capture.finish(new Date());
  const { offsets, featureShifts } = baselineOffsets(baseline, references);
  const expressive = expressiveCapture(baseline);
  return {
    moves: { offsets: Object.fromEntries(offsets), featureShifts: Object.fromEntries(featureShifts) },
    used,
    ...(expressive ? { expressive } : {}),
  };
}

/**
 * The neutral baseline over each photo's largest face, and how it moves each model. `pick: 'auto'`
 * takes only the most relaxed share of the photos (by the models' own p(neutral), no label), as the
 * live view's Auto does with the camera's frames: the photos are then all of one person, at rest in
 * some of them.
 */
export async function neutralFromPhotos(
  files: string[],
  entries: readonly ModelEntry[],
  options: Pick<PredictOptions, 'models' | 'modelsDir' | 'backend' | 'pages' | 'onConsoleError'> & { pick?: 'all' | 'auto' },
): Promise<NeutralFromPhotos> {
  const run = entries.filter((e) => !options.models || options.models.includes(e.id));
  const references = neutralReferences(run);
  const { pick = 'all', ...predictOptions } = options;
  const faces = (await predictImages(files, { ...predictOptions, withFeatures: true })).flatMap((image) => {
    const face = image.faces[0];
    return face
      ? [
          {
            file: image.file,
            readings: Object.fromEntries(Object.entries(face.models).map(([id, m]) => [id, m.probs])),
            features: face.features,
          },
        ]
      : [];
  });
  const learnt = learnNeutral(faces, references, pick);
  return {
    moves: learnt.moves,
    moved: movedModels(run, learnt.moves),
    photos: files.length,
    withFace: faces.length,
    withoutReference: run.filter((e) => !e.neutral).map((e) => e.id),
    used: learnt.used.map((i) => faces[i]!.file),
    ...(learnt.expressive ? { expressive: learnt.expressive } : {}),
  };
}

/** The neutral references of the models run, by id (models without one are left out). */
export function neutralReferences(run: readonly ModelEntry[]): Map<string, NeutralReference> {
  return new Map(run.flatMap((e) => (e.neutral ? [[e.id, e.neutral] as const] : [])));
}

/** The models a baseline moves, in manifest order. */
export function movedModels(run: readonly ModelEntry[], moves: BatchNeutral): string[] {
  return run.filter((e) => e.id in moves.offsets || e.id in moves.featureShifts).map((e) => e.id);
}
