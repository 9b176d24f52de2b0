/**
 * The fusion model's training rows: every FER2013 PublicTest and PrivateTest face the app's
 * pipeline found (the extraction cache: its aligned 48x48 crop and its landmarks), with the AU-style
 * features recomputed by the current src/core code and each member CNN's probabilities computed in
 * Node on that same crop, as the app feeds it (gray in [0, 1], flip TTA as the member's entry says).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IMAGE_PIXELS, NUM_CLASSES } from '../../core/labels.ts';
import type { CnnModelEntry } from '../../core/contracts/index.ts';
import { predictProbs } from '../../learn/predict.ts';
import { loadLayersModel } from '../cnn/model-io.ts';
import { currentFeatures, decodeFace, readMeta, type ExtractChunk } from '../extract/cache.ts';
import { cacheDirFor } from '../extract/extract.ts';
import { openFer2013 } from '../extract/sources.ts';

export interface FusionSplit {
  /** Images of the split, with or without a face. */
  images: number;
  /** Faces found: their crops (count * 2304 bytes), features and labels. */
  count: number;
  crops: Uint8Array;
  features: Float32Array[];
  labels: Uint8Array;
  /** Extraction ids ("val/12"), for tracing a row back to FER2013. */
  ids: string[];
}

export interface FusionData {
  /** The FER2013 file (absolute). */
  path: string;
  cacheDir: string;
  /** PublicTest: what the fusion model is fitted on (the CNNs never trained on it). */
  publicTest: FusionSplit;
  /** PrivateTest: scored once, for the report. */
  privateTest: FusionSplit;
}

function emptySplit(): { images: number; crops: Uint8Array[]; features: Float32Array[]; labels: number[]; ids: string[] } {
  return { images: 0, crops: [], features: [], labels: [], ids: [] };
}

/**
 * Reads the PublicTest and PrivateTest faces from the FER2013 extraction cache. It never runs the
 * extraction: a missing or unfinished cache is an error that says how to make it.
 */
export async function loadFusionData(ferPath: string, log: (line: string) => void): Promise<FusionData> {
  const source = await openFer2013(ferPath);
  if (source.kind !== 'fer2013') throw new Error(`${ferPath}: not a FER2013 file`);
  const dir = cacheDirFor(source);
  const meta = await readMeta(dir);
  const how = `run npm run extract -- ${ferPath} first (about 14 minutes; it resumes if interrupted)`;
  if (!meta) throw new Error(`no FER2013 extraction cache at ${dir}: ${how}`);
  // Training images come first in the cache's order; only the chunks past them are read.
  const trainCount = source.items.filter((it) => it.split === 'train').length;
  const files = (await readdir(join(dir, 'chunks'))).filter((f) => /^\d+\.json$/.test(f)).sort();
  const wanted = files.filter((f) => Number(f.slice(0, -5)) + meta.chunkSize > trainCount);
  const splits = { val: emptySplit(), test: emptySplit() };
  let records = 0;
  for (const f of wanted) {
    const chunk = JSON.parse(await readFile(join(dir, 'chunks', f), 'utf8')) as ExtractChunk;
    for (const r of chunk.records) {
      if (r.split !== 'val' && r.split !== 'test') continue;
      records++;
      const s = splits[r.split];
      s.images++;
      const face = r.status === 'face' ? decodeFace(r, chunk.blendshapeNames) : undefined;
      if (!face || r.label === undefined) continue;
      if (face.crop.length !== IMAGE_PIXELS)
        throw new Error(`${dir}: record ${r.id} has a crop of ${face.crop.length} bytes, expected ${IMAGE_PIXELS}`);
      s.crops.push(face.crop);
      s.features.push(currentFeatures(face));
      s.labels.push(r.label);
      s.ids.push(r.id);
    }
  }
  const expected = source.items.length - trainCount;
  if (records < expected)
    throw new Error(`${dir} holds ${records} of the ${expected} PublicTest and PrivateTest records: the extraction did not finish; ${how}`);
  const finish = (s: ReturnType<typeof emptySplit>): FusionSplit => {
    const crops = new Uint8Array(s.crops.length * IMAGE_PIXELS);
    s.crops.forEach((c, i) => crops.set(c, i * IMAGE_PIXELS));
    return { images: s.images, count: s.crops.length, crops, features: s.features, labels: Uint8Array.from(s.labels), ids: s.ids };
  };
  const data = { path: source.path, cacheDir: dir, publicTest: finish(splits.val), privateTest: finish(splits.test) };
  log(
    `faces found by the app pipeline (${dir}): PublicTest ${data.publicTest.count} of ${data.publicTest.images}, ` +
      `PrivateTest ${data.privateTest.count} of ${data.privateTest.images}`,
  );
  return data;
}

/**
 * Each member's probabilities on a split's crops: one [count * 7] array per member, in member
 * order. `modelsDir` holds the members' folders (their entries' paths are relative to it).
 */
export async function memberProbs(members: readonly CnnModelEntry[], modelsDir: string, split: FusionSplit): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const m of members) {
    const model = await loadLayersModel(join(modelsDir, m.path, '..'));
    try {
      if (m.input.size !== 48)
        throw new Error(`member "${m.id}" reads ${m.input.size}x${m.input.size} crops; the extraction cache holds 48x48 crops`);
      out.push(predictProbs(model, split.crops, split.count, m.input.tta === 'hflip-mean'));
    } finally {
      model.dispose();
    }
  }
  return out;
}

/** The probability row of face i of one member's output. */
export const probsRow = (probs: Float32Array, i: number): Float32Array => probs.subarray(i * NUM_CLASSES, (i + 1) * NUM_CLASSES);
