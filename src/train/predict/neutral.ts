/**
 * `npm run predict -- ... --neutral PHOTOS`: a person's neutral face from photos of their relaxed
 * face, as the live view's "Set my neutral face" takes it from the camera. Each photo's largest face
 * is run through the app's pipeline (unmoved); each model with a neutral reference in the manifest
 * gets the offsets reference - mean log-probability over those faces (src/core/neutral-baseline.ts),
 * which the batch page then applies to every face it reads.
 */
import type { ModelEntry } from '../../core/contracts/index.ts';
import { LogProbMean, neutralOffsets } from '../../core/neutral-baseline.ts';
import { predictImages, type PredictOptions } from './predict.ts';

export interface NeutralFromPhotos {
  /** Per model id: the offsets to give the batch page. */
  offsets: Record<string, number[]>;
  /** Photos given, and those in which a face was found (the ones averaged). */
  photos: number;
  withFace: number;
  /** Models run that have no neutral reference: read as they are. */
  withoutReference: string[];
}

/** Mean log-probabilities per model over each photo's largest face, and the offsets they give. */
export async function neutralFromPhotos(
  files: string[],
  entries: readonly ModelEntry[],
  options: Pick<PredictOptions, 'models' | 'modelsDir' | 'backend' | 'pages' | 'onConsoleError'>,
): Promise<NeutralFromPhotos> {
  const run = entries.filter((e) => !options.models || options.models.includes(e.id));
  const means = new Map<string, LogProbMean>();
  let withFace = 0;
  for (const image of await predictImages(files, options)) {
    const face = image.faces[0];
    if (!face) continue;
    withFace++;
    for (const [id, m] of Object.entries(face.models)) {
      if (!means.has(id)) means.set(id, new LogProbMean());
      means.get(id)!.add(m.probs);
    }
  }
  const offsets: Record<string, number[]> = {};
  for (const e of run) {
    const mean = means.get(e.id);
    if (e.neutral && mean) offsets[e.id] = neutralOffsets(e.neutral.logProbs, mean.mean());
  }
  return { offsets, photos: files.length, withFace, withoutReference: run.filter((e) => !e.neutral).map((e) => e.id) };
}
