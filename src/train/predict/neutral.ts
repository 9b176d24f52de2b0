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
import { baselineOffsets, NeutralCapture, type NeutralReference } from '../../core/neutral-baseline.ts';
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
  const references = new Map<string, NeutralReference>(run.flatMap((e) => (e.neutral ? [[e.id, e.neutral] as const] : [])));
  const capture = new NeutralCapture(references);
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
  const withFace = faces.length;
  const chosen = pick === 'auto' ? relaxedShare(faces.map((f) => relaxedScore(f.readings, references) ?? -1)).map((i) => faces[i]!) : faces;
  for (const face of chosen) capture.addFrame(face.readings, face.features);
  const { offsets, featureShifts } =
    capture.frames > 0 ? baselineOffsets(capture.finish(new Date()), references) : { offsets: new Map(), featureShifts: new Map() };
  return {
    moves: { offsets: Object.fromEntries(offsets), featureShifts: Object.fromEntries(featureShifts) },
    moved: run.filter((e) => offsets.has(e.id) || featureShifts.has(e.id)).map((e) => e.id),
    photos: files.length,
    withFace,
    withoutReference: run.filter((e) => !e.neutral).map((e) => e.id),
    used: chosen.map((f) => f.file),
  };
}
