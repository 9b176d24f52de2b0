/**
 * npm run evaluate -- --app-crops on a fake extraction cache: a tiny synthetic fer2013.csv, its
 * cache folder (meta.json + chunks in the format src/train/extract/cache.ts writes, with random
 * crops and landmarks) and the untrained fixture CNNs. The scores must equal a hand computation
 * from each model's own predictProbs on the same crops, with TTA as its index.json entry says.
 */
import * as tf from '@tensorflow/tfjs';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToBase64, float32ToBase64 } from '../../src/core/batch.ts';
import { BLENDSHAPE_NAMES } from '../../src/core/features/action-units.ts';
import { FEATURE_NAMES, FEATURE_VERSION } from '../../src/core/features/index.ts';
import { EMOTIONS, IMAGE_PIXELS, NUM_CLASSES } from '../../src/core/labels.ts';
import { predictProbs } from '../../src/learn/predict.ts';
import { makeFixtureModels } from '../../src/train/browser/fixture-models.ts';
import { evaluateAppCrops, scoreAppCrops, type AppCropsResult } from '../../src/train/cnn/evaluate-app-crops.ts';
import { loadLayersModel, saveLayersModel } from '../../src/train/cnn/model-io.ts';
import { EXTRACT_VERSION, writeChunk, writeMeta, type ExtractRecord } from '../../src/train/extract/cache.ts';
import { DEFAULT_CACHE_ROOT } from '../../src/train/extract/extract.ts';
import { defaultCacheName, openFer2013 } from '../../src/train/extract/sources.ts';
import { initWasm } from '../../src/train/kernels/backend.ts';
import { writeSyntheticFer } from '../helpers/synthetic-fer.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const EVALUATE = join(ROOT, 'src/train/commands/evaluate.ts');

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The evaluate CLI in `cwd` (the cache location is relative to it, as for npm run extract). */
function run(cwd: string, args: string[]): Promise<Ran> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', EVALUATE, ...args],
      { cwd, encoding: 'utf8', timeout: 110_000 },
      (error, stdout, stderr) => {
        done({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      },
    );
  });
}

let seed = 7;
const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;

/** A crop whose left half is much brighter than its right: its mirror image reads differently. */
function asymmetricCrop(): Uint8Array {
  return Uint8Array.from({ length: IMAGE_PIXELS }, (_, i) => Math.floor((i % 48 < 24 ? 150 : 0) + rnd() * 100));
}

let work: string;
let emptyCwd: string;
let models: string;
let fer: string;
/** The crops and labels written for each split, faces only, in cache order. */
const written = {
  val: { crops: [] as Uint8Array[], labels: [] as number[], images: 0 },
  test: { crops: [] as Uint8Array[], labels: [] as number[], images: 0 },
};
const cwd0 = process.cwd();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'app-crops-'));
  emptyCwd = await mkdtemp(join(tmpdir(), 'app-crops-nocache-'));
  // `node --import tsx` resolves tsx from the working directory.
  for (const d of [work, emptyCwd]) await symlink(join(ROOT, 'node_modules'), join(d, 'node_modules'), 'dir');
  fer = await writeSyntheticFer(work, { Training: 6, PublicTest: 24, PrivateTest: 10 });
  const source = await openFer2013(fer);
  if (source.kind !== 'fer2013') throw new Error('not fer2013');
  const dir = join(work, DEFAULT_CACHE_ROOT, defaultCacheName(source));
  const chunkSize = 4;
  await writeMeta(dir, {
    version: EXTRACT_VERSION,
    input: { kind: 'fer2013', path: source.path, key: source.key },
    total: source.items.length,
    chunkSize,
    upscale: 4,
    pad: 0.5,
    featureVersion: FEATURE_VERSION,
    featureNames: [...FEATURE_NAMES],
    createdAt: new Date(0).toISOString(),
  });
  const records: ExtractRecord[] = source.items.map((item, i) => {
    const base = { id: item.id, label: item.label, split: item.split };
    if (item.split === 'train') return { ...base, status: 'no-face', faces: 0, width: 192, height: 192 };
    const s = written[item.split];
    s.images++;
    // Every fourth image of the test splits has no face.
    if (i % 4 === 3) return { ...base, status: 'no-face', faces: 0, width: 192, height: 192 };
    const crop = asymmetricCrop();
    s.crops.push(crop);
    s.labels.push(item.label);
    const landmarks = Array.from({ length: 478 * 3 }, () => 0.3 + 0.4 * rnd());
    return {
      ...base,
      status: 'face',
      faces: 1,
      width: 192,
      height: 192,
      face: {
        box: [40, 40, 110, 110],
        crop: bytesToBase64(crop),
        landmarks: float32ToBase64(landmarks),
        blendshapes: float32ToBase64(BLENDSHAPE_NAMES.map(() => 0.1)),
        transform: null,
        features: float32ToBase64([]),
      },
    };
  });
  for (let start = 0; start < records.length; start += chunkSize)
    await writeChunk(dir, { start, blendshapeNames: [...BLENDSHAPE_NAMES], records: records.slice(start, start + chunkSize) });

  models = await makeFixtureModels({ extras: false });
  const index = JSON.parse(await readFile(join(models, 'index.json'), 'utf8')) as { models: object[] };
  index.models.push({
    id: 'fixture-svm-au',
    name: 'Fixture SVM',
    kind: 'svm',
    path: 'fixture-svm-au/model.json',
    input: { type: 'au-features', featureVersion: FEATURE_VERSION, dim: FEATURE_NAMES.length },
  });
  await writeFile(join(models, 'index.json'), JSON.stringify(index));
  await initWasm(true);
  // An untrained CNN gives nearly the same probabilities to every crop (one class wins them all):
  // its output bias is shifted by minus the mean log-probability of each class on these crops, so
  // that which class wins depends on the crop, and on which way it faces.
  const cnn = await loadLayersModel(join(models, 'fixture-cnn'));
  const probs = predictProbs(cnn, concat(written.val.crops), written.val.crops.length, false);
  const meanLog = EMOTIONS.map((_, k) => {
    let sum = 0;
    for (let i = 0; i < written.val.crops.length; i++) sum += Math.log(probs[i * NUM_CLASSES + k]!);
    return sum / written.val.crops.length;
  });
  const last = cnn.layers[cnn.layers.length - 1]!;
  const [kernel, bias] = last.getWeights();
  last.setWeights([kernel!, tf.sub(bias!, tf.tensor1d(meanLog))]);
  await saveLayersModel(cnn, join(models, 'fixture-cnn'));
  cnn.dispose();
});

afterAll(async () => {
  process.chdir(cwd0);
  for (const d of [work, emptyCwd, models]) if (d) await rm(d, { recursive: true, force: true });
});

/** Accuracy, macro F1 (over classes that occur) and per-class n/total, counted by hand. */
function byHand(probs: Float32Array, labels: number[]) {
  const pred = labels.map((_, i) => {
    const row = Array.from(probs.subarray(i * NUM_CLASSES, (i + 1) * NUM_CLASSES));
    return row.indexOf(Math.max(...row));
  });
  const f1s: number[] = [];
  const recall = EMOTIONS.map((label, k) => {
    const total = labels.filter((t) => t === k).length;
    const correct = labels.filter((t, i) => t === k && pred[i] === k).length;
    const predicted = pred.filter((p) => p === k).length;
    if (total + predicted > 0) {
      const p = predicted ? correct / predicted : 0;
      const r = total ? correct / total : 0;
      f1s.push(p + r ? (2 * p * r) / (p + r) : 0);
    }
    return { label, correct, total };
  });
  const accuracy = pred.filter((p, i) => p === labels[i]).length / labels.length;
  return { accuracy, macroF1: f1s.reduce((a, b) => a + b, 0) / f1s.length, recall, pred };
}

function concat(crops: Uint8Array[]): Uint8Array {
  const pixels = new Uint8Array(crops.length * IMAGE_PIXELS);
  crops.forEach((c, i) => pixels.set(c, i * IMAGE_PIXELS));
  return pixels;
}

async function probsOf(id: string, crops: Uint8Array[], tta: boolean): Promise<Float32Array> {
  const pixels = concat(crops);
  const model = await loadLayersModel(join(models, id));
  try {
    return predictProbs(model, pixels, crops.length, tta);
  } finally {
    model.dispose();
  }
}

describe('evaluate --app-crops (in process)', () => {
  let result: AppCropsResult;
  beforeAll(async () => {
    process.chdir(work);
    try {
      result = await evaluateAppCrops({ modelsDir: models, data: fer, split: 'public', log: () => {} });
    } finally {
      process.chdir(cwd0);
    }
  });

  it('counts the PublicTest images and faces, scores the CNNs and skips the SVM with why', () => {
    expect(result.split).toBe('PublicTest');
    expect(result.images).toBe(written.val.images);
    expect(result.faces).toBe(written.val.crops.length);
    expect(result.faces).toBeLessThan(result.images);
    expect(result.models.map((m) => [m.id, m.tta])).toEqual([
      ['fixture-cnn', 'hflip-mean'],
      ['fixture-seed', 'none'],
    ]);
    expect(result.skipped).toEqual([{ id: 'fixture-svm-au', kind: 'svm', reason: expect.stringMatching(/kind "svm".*CNNs only/) }]);
  });

  it('equals a hand computation from each model predictProbs on the same crops, TTA as its entry says', async () => {
    for (const m of result.models) {
      const tta = m.tta === 'hflip-mean';
      const hand = byHand(await probsOf(m.id, written.val.crops, tta), written.val.labels);
      expect(m.accuracy).toBeCloseTo(hand.accuracy, 10);
      expect(m.macroF1).toBeCloseTo(hand.macroF1, 10);
      expect(m.recall.map(({ label, correct, total }) => ({ label, correct, total }))).toEqual(hand.recall);
      expect(m.recall.reduce((n, c) => n + c.total, 0)).toBe(result.faces);
    }
    // The fixture can tell TTA from none: the flip-TTA model's predictions change without it.
    const cnn = result.models[0]!;
    const noTta = byHand(await probsOf(cnn.id, written.val.crops, false), written.val.labels);
    const withTta = byHand(await probsOf(cnn.id, written.val.crops, true), written.val.labels);
    expect(noTta.pred).not.toEqual(withTta.pred);
    expect(cnn.recall.map((c) => c.correct)).toEqual(withTta.recall.map((c) => c.correct));
  });

  it('scoreAppCrops: metrics of given probabilities', () => {
    // Two angry (one right), one happy (right): accuracy 2/3.
    const probs = new Float32Array(3 * NUM_CLASSES);
    probs[0] = 1;
    probs[NUM_CLASSES + 3] = 1;
    probs[2 * NUM_CLASSES + 3] = 1;
    const s = scoreAppCrops(probs, [0, 0, 3]);
    expect(s.accuracy).toBeCloseTo(2 / 3, 10);
    expect(s.recall[0]).toEqual({ label: 'angry', correct: 1, total: 2, recall: 0.5 });
    expect(s.recall[3]).toEqual({ label: 'happy', correct: 1, total: 1, recall: 1 });
    // F1: angry 2/3, happy 2/3 (precision 1/2, recall 1); the other classes never occur.
    expect(s.macroF1).toBeCloseTo(2 / 3, 10);
  });

  it('a missing extraction cache is an error that says to run npm run extract', async () => {
    process.chdir(emptyCwd);
    try {
      await expect(evaluateAppCrops({ modelsDir: models, data: fer, split: 'public', log: () => {} })).rejects.toThrow(
        /no FER2013 extraction cache at .*run npm run extract/,
      );
    } finally {
      process.chdir(cwd0);
    }
  });
});

describe('evaluate --app-crops (the CLI)', () => {
  it('prints the faces count and one line per model, writes --json atomically', async () => {
    const out = join(work, 'out', 'app-crops.json');
    const r = await run(work, ['--app-crops', '--models', models, '--data', fer, '--json', out]);
    expect(r.stderr).toMatch(/wrote /);
    expect(r.status).toBe(0);
    const faces = written.val.crops.length;
    expect(r.stdout).toContain(`PublicTest: ${faces} of ${written.val.images} images have a face`);
    expect(r.stdout).not.toMatch(/warning/);
    expect(r.stdout).toMatch(new RegExp(`^fixture-cnn +\\d\\.\\d{4} +\\d\\.\\d{4}  (\\d+/\\d+ ){6}\\d+/\\d+$`, 'm'));
    expect(r.stdout).toMatch(/^fixture-seed +\d\.\d{4}/m);
    expect(r.stdout).toMatch(/^skipped fixture-svm-au: kind "svm": this command scores CNNs only$/m);
    const json = JSON.parse(await readFile(out, 'utf8')) as AppCropsResult;
    expect(json.faces).toBe(faces);
    expect(json.models.map((m) => m.id)).toEqual(['fixture-cnn', 'fixture-seed']);
    const line = r.stdout.split('\n').find((l) => l.startsWith('fixture-seed'))!;
    expect(line).toContain(json.models[1]!.accuracy.toFixed(4));
    expect(line).toContain(json.models[1]!.recall.map((c) => `${c.correct}/${c.total}`).join(' '));
  });

  it('--split private scores PrivateTest with a warning line', async () => {
    const r = await run(work, ['--app-crops', '--models', models, '--data', fer, '--split', 'private']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^warning: scoring PrivateTest.*never for choosing/m);
    expect(r.stdout).toContain(`PrivateTest: ${written.test.crops.length} of ${written.test.images} images have a face`);
  });

  it('usage errors exit 2 naming the option', async () => {
    const [bad, split] = await Promise.all([
      run(work, ['--app-crops', '--modles', models]),
      run(work, ['--app-crops', '--split', 'train']),
    ]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown option --modles/);
    expect(split.status).toBe(2);
    expect(split.stderr).toMatch(/--split must be public or private, got "train"/);
  });
});
