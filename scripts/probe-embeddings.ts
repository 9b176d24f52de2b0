/**
 * npm run probe:embeddings -- --faces DIR [--models fer-cnn,fer-cnn-robust] [--subject REGEX]
 *
 * A diagnosis for real-face accuracy, not a model: is what a FER2013 CNN gets wrong on a labelled
 * photo folder missing from its features, or only from its last layer's decision? On the folder's
 * extraction cache (the app's own crops: npm run extract -- DIR) it prints, per CNN:
 *   1. the CNN as shipped (flip TTA): what npm run evaluate -- --faces reports;
 *   2. a linear probe on its penultimate features (flip-averaged), trained on the folder itself,
 *      leave-one-subject-out: what a last layer could get from these features on unseen people
 *      (in-sample to the folder, so never a general model's figure);
 *   3. a per-person neutral baseline: each photo's features moved by (the FER2013 Training neutral
 *      mean - the mean of the same person's other neutral photos), then the shipped last layer: what
 *      a user's neutral face, captured once, would give the general model.
 * Subjects come from file names: the first capture group of --subject (default: the name up to its
 * first dot, as JAFFE's "KA.AN1.39.png").
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { EMOTIONS, IMAGE_PIXELS, IMAGE_SIZE, NUM_CLASSES } from '../src/core/labels.ts';
import { argmaxRows, confusionMatrix } from '../src/core/metrics.ts';
import { cacheDirFor } from '../src/train/extract/extract.ts';
import { openFolder } from '../src/train/extract/sources.ts';
import { decodeFace, readChunks } from '../src/train/extract/cache.ts';
import { loadFer2013, resolveFer2013Path } from '../src/train/data/fer2013.ts';
import { loadLayersModel } from '../src/train/cnn/model-io.ts';
import { initWasm } from '../src/train/kernels/backend.ts';
import { fitLogreg, fitStandardizer, predictLogreg, standardize } from '../src/train/fusion/logreg.ts';

const USAGE = `usage: npm run probe:embeddings -- --faces DIR [--models fer-cnn,fer-cnn-robust] [--subject REGEX] [--l2 0.01]

  --faces    a labelled photo folder (<dir>/<emotion>/*) already extracted (npm run extract -- DIR)
  --models   CNN folders under models/ (default fer-cnn,fer-cnn-robust)
  --subject  regular expression on the file name; its first group names the person (default ^([^.]+)\\.)
  --l2       L2 strength of the linear probe (default 0.01)`;

export const NEUTRAL = EMOTIONS.indexOf('neutral');

/** The person of each file name (the first group of `pattern`); undefined where it does not match. */
export function subjectsOf(ids: readonly string[], pattern: RegExp): (string | undefined)[] {
  return ids.map((id) => pattern.exec(id.split('/').pop() ?? id)?.[1]);
}

/**
 * Each row moved by (target - the mean of the same person's other neutral rows); a row whose person
 * has no other neutral row is left as it is. Returns the rows and how many were moved.
 */
export function neutralBaseline(
  rows: readonly Float32Array[],
  labels: ArrayLike<number>,
  subjects: readonly (string | undefined)[],
  target: Float32Array,
): { rows: Float32Array[]; moved: number } {
  let moved = 0;
  const out = rows.map((row, i) => {
    const others = rows.filter((_, j) => j !== i && labels[j] === NEUTRAL && subjects[j] !== undefined && subjects[j] === subjects[i]);
    if (others.length === 0) return Float32Array.from(row);
    moved++;
    return Float32Array.from(row, (v, k) => v + target[k]! - others.reduce((s, o) => s + o[k]!, 0) / others.length);
  });
  return { rows: out, moved };
}

interface Scores {
  acc: number;
  recall: string;
}

function score(probs: readonly ArrayLike<number>[], labels: ArrayLike<number>): Scores {
  const predicted = probs.map((p) => argmaxRows(Array.from(p), NUM_CLASSES)[0]!);
  const cm = confusionMatrix(labels, predicted, NUM_CLASSES);
  const right = cm.reduce((sum, row, k) => sum + row[k]!, 0);
  return {
    acc: right / probs.length,
    recall: EMOTIONS.map((e, k) => `${e.slice(0, 2)} ${cm[k]![k]}/${cm[k]!.reduce((a, b) => a + b, 0)}`).join(', '),
  };
}

/** A crop's penultimate features, as the image and its mirror image give them. */
interface Views {
  plain: Float32Array[];
  mirror: Float32Array[];
}

const average = (v: Views): Float32Array[] => v.plain.map((r, i) => Float32Array.from(r, (x, k) => (x + v.mirror[i]![k]!) / 2));

/** The penultimate features of a Sequential CNN whose last layer is a softmax Dense, and that layer. */
function splitModel(model: tf.LayersModel) {
  const dense = model.layers[model.layers.length - 1]!;
  if (dense.getClassName() !== 'Dense') throw new Error(`the last layer is ${dense.getClassName()}, expected Dense`);
  // The input of the last Dense layer (after its dropout, an identity at inference).
  const body = tf.model({ inputs: model.inputs, outputs: dense.input as tf.SymbolicTensor });
  const features = (crops: Uint8Array, n: number): Views => {
    const views: Views = { plain: [], mirror: [] };
    for (let s = 0; s < n; s += 256) {
      const m = Math.min(256, n - s);
      const [a, b] = tf.tidy(() => {
        const x = tf.tensor4d(
          Float32Array.from(crops.subarray(s * IMAGE_PIXELS, (s + m) * IMAGE_PIXELS), (v) => v / 255),
          [m, IMAGE_SIZE, IMAGE_SIZE, 1],
        );
        return [body.predict(x) as tf.Tensor, body.predict(tf.reverse(x, 2)) as tf.Tensor];
      });
      for (const [t, into] of [
        [a!, views.plain],
        [b!, views.mirror],
      ] as const) {
        const d = t.shape[1]!;
        const data = t.dataSync() as Float32Array;
        for (let i = 0; i < m; i++) into.push(data.slice(i * d, (i + 1) * d));
        t.dispose();
      }
    }
    return views;
  };
  const probs = (rows: readonly Float32Array[]): number[][] =>
    tf
      .tidy(() => dense.apply(tf.tensor2d(Float32Array.from(rows.flatMap((r) => [...r])), [rows.length, rows[0]!.length])) as tf.Tensor)
      .arraySync() as number[][];
  /** Flip TTA as the app runs it: the mean of both views' probabilities. */
  const head = (v: Views): number[][] => {
    const a = probs(v.plain);
    const b = probs(v.mirror);
    return a.map((row, i) => row.map((p, k) => (p + b[i]![k]!) / 2));
  };
  return { features, head };
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        faces: { type: 'string' },
        models: { type: 'string', default: 'fer-cnn,fer-cnn-robust' },
        subject: { type: 'string', default: '^([^.]+)\\.' },
        l2: { type: 'string', default: '0.01' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    console.error(`probe:embeddings: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const l2 = Number(values.l2);
  if (!values.faces || !(l2 > 0)) {
    console.error(`probe:embeddings: ${values.faces ? '--l2 must be a positive number' : '--faces DIR is required'}\n${USAGE}`);
    return 2;
  }
  if (!statSync(values.faces, { throwIfNoEntry: false })?.isDirectory()) {
    console.error(`probe:embeddings: --faces ${values.faces}: not a folder\n${USAGE}`);
    return 2;
  }
  const root = resolve(import.meta.dirname, '..');
  const source = await openFolder(values.faces);
  const dir = cacheDirFor(source);
  if (!existsSync(join(dir, 'meta.json'))) {
    console.error(`probe:embeddings: no extraction cache for ${values.faces} at ${dir}: run npm run extract -- ${values.faces} first`);
    return 1;
  }
  const ids: string[] = [];
  const labels: number[] = [];
  const crops: number[] = [];
  for (const chunk of await readChunks(dir))
    for (const r of chunk.records) {
      if (r.label === undefined || r.status !== 'face') continue;
      const face = decodeFace(r, chunk.blendshapeNames);
      if (!face) continue;
      ids.push(r.id);
      labels.push(r.label);
      crops.push(...face.crop);
    }
  const subjects = subjectsOf(ids, new RegExp(values.subject));
  const people = [...new Set(subjects.filter((s) => s !== undefined))];
  console.log(
    `${values.faces}: ${ids.length} labelled faces of ${people.length} people (${subjects.filter((s) => s === undefined).length} names without a subject)`,
  );
  const fer = await loadFer2013(resolveFer2013Path(undefined, root));
  const neutralIdx = [...fer.train.labels.keys()].filter((i) => fer.train.labels[i] === NEUTRAL);
  const neutralPixels = new Uint8Array(neutralIdx.length * IMAGE_PIXELS);
  neutralIdx.forEach((i, j) => neutralPixels.set(fer.train.pixels.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS), j * IMAGE_PIXELS));
  await initWasm(true);
  const pixels = Uint8Array.from(crops);
  for (const id of values.models.split(',')) {
    const model = await loadLayersModel(join(root, 'models', id), () => {});
    const { features, head } = splitModel(model);
    const views = features(pixels, ids.length);
    const rows = average(views);
    const shipped = score(head(views), labels);
    // Leave one person out: standardize and fit on the others.
    const probe: Float64Array[] = new Array(ids.length);
    for (const person of people) {
      const train = rows.map((_, i) => i).filter((i) => subjects[i] !== person);
      const test = rows.map((_, i) => i).filter((i) => subjects[i] === person);
      const st = fitStandardizer(train.map((i) => Float64Array.from(rows[i]!)));
      const fit = fitLogreg(
        standardize(
          train.map((i) => Float64Array.from(rows[i]!)),
          st,
        ),
        train.map((i) => labels[i]!),
        { l2 },
      );
      predictLogreg(
        fit,
        standardize(
          test.map((i) => Float64Array.from(rows[i]!)),
          st,
        ),
      ).forEach((p, j) => (probe[test[j]!] = p));
    }
    const probed = score(
      probe.filter((p) => p !== undefined),
      labels.filter((_, i) => probe[i] !== undefined),
    );
    const ferNeutral = average(features(neutralPixels, neutralIdx.length));
    const target = new Float32Array(rows[0]!.length);
    for (const r of ferNeutral) for (let k = 0; k < target.length; k++) target[k] = target[k]! + r[k]! / ferNeutral.length;
    // Both views move by the offset their mean needs.
    const offsets = neutralBaseline(rows, labels, subjects, target).rows.map((r, i) => Float32Array.from(r, (x, k) => x - rows[i]![k]!));
    const moved = offsets.filter((o) => o.some((x) => x !== 0)).length;
    const shift = (list: Float32Array[]) => list.map((r, i) => Float32Array.from(r, (x, k) => x + offsets[i]![k]!));
    const baseline = score(head({ plain: shift(views.plain), mirror: shift(views.mirror) }), labels);
    console.log(`\n${id}`);
    console.log(`  as shipped (flip TTA)                          ${shipped.acc.toFixed(3)}  ${shipped.recall}`);
    console.log(`  linear probe, leave one person out (in-sample) ${probed.acc.toFixed(3)}  ${probed.recall}`);
    console.log(`  per-person neutral baseline (${moved} of ${rows.length} moved) ${baseline.acc.toFixed(3)}  ${baseline.recall}`);
    model.dispose();
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`)
  process.exitCode = await main().catch((error: unknown) => {
    // A folder that is not one, a bad --subject pattern, an unknown model: one line, no stack.
    console.error(`probe:embeddings: ${(error as Error).message}`);
    return 1;
  });
