/**
 * The neutral reference of each general model (src/core/neutral-baseline.ts): its mean
 * log-probabilities over the FER2013 Training neutral faces the app's pipeline found (the extraction
 * cache: the app's own crops and features), each model run as the app runs it (TTA as its entry
 * says, a fusion model on its members' outputs); for an SVM on the AU-style features also the mean
 * feature vector over those faces (it is moved at its input).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelEntry } from '../../core/contracts/index.ts';
import { parseFusionModel, predictFusion } from '../../core/fusion.ts';
import { EMOTIONS, IMAGE_PIXELS, NUM_CLASSES } from '../../core/labels.ts';
import { FeatureMean, LogProbMean, type NeutralReference } from '../../core/neutral-baseline.ts';
import { parseSvmInput, predictSvm, svmInputOf } from '../../core/svm/index.ts';
import { currentFeatures, decodeFace, readMeta, type ExtractChunk } from '../extract/cache.ts';
import { cacheDirFor } from '../extract/extract.ts';
import { openFer2013 } from '../extract/sources.ts';
import { memberProbs, probsRow, type FusionSplit } from '../fusion/data.ts';
import { readSvmModel } from '../svm/export.ts';

const NEUTRAL = EMOTIONS.indexOf('neutral');

/**
 * The FER2013 Training neutral faces of the extraction cache. It never runs the extraction: a
 * missing or unfinished cache is an error that says how to make it.
 */
export async function loadNeutralTrainingFaces(ferPath: string, log: (line: string) => void): Promise<FusionSplit> {
  const source = await openFer2013(ferPath);
  if (source.kind !== 'fer2013') throw new Error(`${ferPath}: not a FER2013 file`);
  const dir = cacheDirFor(source);
  const how = `run npm run extract -- ${ferPath} first (about 14 minutes; it resumes if interrupted)`;
  const meta = await readMeta(dir);
  if (!meta) throw new Error(`no FER2013 extraction cache at ${dir}: ${how}`);
  const train = source.items.filter((it) => it.split === 'train');
  const files = (await readdir(join(dir, 'chunks'))).filter((f) => /^\d+\.json$/.test(f)).sort();
  // Training images come first in the cache's order: only the chunks that hold them are read.
  const wanted = files.filter((f) => Number(f.slice(0, -5)) < train.length);
  const crops: Uint8Array[] = [];
  const features: Float32Array[] = [];
  const ids: string[] = [];
  let images = 0;
  let records = 0;
  for (const f of wanted) {
    const chunk = JSON.parse(await readFile(join(dir, 'chunks', f), 'utf8')) as ExtractChunk;
    for (const r of chunk.records) {
      if (r.split !== 'train') continue;
      records++;
      if (r.label !== NEUTRAL) continue;
      images++;
      const face = r.status === 'face' ? decodeFace(r, chunk.blendshapeNames) : undefined;
      if (!face) continue;
      if (face.crop.length !== IMAGE_PIXELS)
        throw new Error(`${dir}: record ${r.id} has a crop of ${face.crop.length} bytes, expected ${IMAGE_PIXELS}`);
      crops.push(face.crop);
      features.push(currentFeatures(face));
      ids.push(r.id);
    }
  }
  if (records < train.length)
    throw new Error(`${dir} holds ${records} of the ${train.length} Training records: the extraction did not finish; ${how}`);
  const pixels = new Uint8Array(crops.length * IMAGE_PIXELS);
  crops.forEach((c, i) => pixels.set(c, i * IMAGE_PIXELS));
  log(`FER2013 Training neutral faces found by the app pipeline (${dir}): ${crops.length} of ${images}`);
  return { images, count: crops.length, crops: pixels, features, labels: new Uint8Array(crops.length).fill(NEUTRAL), ids };
}

/** The mean log-probabilities of one [count * 7] probability array. */
function referenceOf(probs: Float32Array, count: number): NeutralReference {
  const mean = new LogProbMean();
  for (let i = 0; i < count; i++) mean.add(probsRow(probs, i));
  return { logProbs: mean.mean().map((v) => Number(v.toFixed(6))), faces: count };
}

/**
 * Every entry's output on `faces`, as the app computes it: one [count * 7] array per id. A fusion
 * entry's members must be among `all` (they are run once and shared).
 */
export async function outputsOn(
  entries: readonly ModelEntry[],
  all: readonly ModelEntry[],
  modelsDir: string,
  faces: FusionSplit,
  log: (line: string) => void,
): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  const cnnOutput = async (id: string): Promise<Float32Array> => {
    const known = out.get(id);
    if (known) return known;
    const entry = all.find((e) => e.id === id);
    if (entry?.kind !== 'cnn') throw new Error(`no CNN "${id}" in ${join(modelsDir, 'index.json')}`);
    const [probs] = await memberProbs([entry], modelsDir, faces);
    out.set(id, probs!);
    return probs!;
  };
  for (const e of entries) {
    const started = performance.now();
    if (e.kind === 'cnn') await cnnOutput(e.id);
    else if (e.kind === 'svm') {
      const model = await readSvmModel(join(modelsDir, e.path, '..'));
      const spec = parseSvmInput(model.input);
      const probs = new Float32Array(faces.count * NUM_CLASSES);
      for (let i = 0; i < faces.count; i++) {
        const crop = Float32Array.from(faces.crops.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS), (v) => v / 255);
        probs.set(predictSvm(model, svmInputOf(spec, crop, faces.features[i]!)).probs, i * NUM_CLASSES);
      }
      out.set(e.id, probs);
    } else {
      const dir = join(modelsDir, e.path, '..');
      const bytes = await readFile(join(dir, 'weights.bin'));
      const model = parseFusionModel(
        JSON.parse(await readFile(join(modelsDir, e.path), 'utf8')),
        bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      );
      const members: Float32Array[] = [];
      for (const id of e.members) members.push(await cnnOutput(id));
      const probs = new Float32Array(faces.count * NUM_CLASSES);
      for (let i = 0; i < faces.count; i++)
        probs.set(
          predictFusion(
            model,
            members.map((m) => probsRow(m, i)),
            faces.features[i]!,
          ),
          i * NUM_CLASSES,
        );
      out.set(e.id, probs);
    }
    log(`  ${e.id}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  return out;
}

/** Each entry's neutral reference on `faces`. */
export async function neutralReferences(
  entries: readonly ModelEntry[],
  all: readonly ModelEntry[],
  modelsDir: string,
  faces: FusionSplit,
  log: (line: string) => void,
): Promise<Map<string, NeutralReference>> {
  const outputs = await outputsOn(entries, all, modelsDir, faces, log);
  // An SVM on the AU-style features is moved at its input: its reference also holds their mean.
  let features: number[] | undefined;
  const featuresMean = () => {
    if (features) return features;
    const mean = new FeatureMean();
    for (const f of faces.features) mean.add(f);
    return (features = mean.mean().map((v) => Number(v.toFixed(6))));
  };
  return new Map(
    entries.map((e) => {
      const ref = referenceOf(outputs.get(e.id)!, faces.count);
      return [e.id, e.kind === 'svm' && e.input.type === 'au-features' ? { ...ref, features: featuresMean() } : ref];
    }),
  );
}
