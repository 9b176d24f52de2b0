/**
 * Every committed CNN whose last layer was refit (report.json `refitHead`, npm run train --
 * refit-head): the PublicTest figures the refit was chosen on, recomputed from the artifacts (the
 * model's own features and last layer, both framings pooled as the command scores them), equal the
 * report's. The crops come from the FER2013 extraction cache, so this runs only where that cache is
 * complete (npm run extract), as the svm-au and fusion recomputes do.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/core/contracts/index.ts';
import { NUM_CLASSES } from '../../src/core/labels.ts';
import { argmaxRows } from '../../src/core/metrics.ts';
import { loadLayersModel } from '../../src/train/cnn/model-io.ts';
import { cropTablesFrom } from '../../src/train/data/crop-data.ts';
import { loadFer2013 } from '../../src/train/data/fer2013.ts';
import { readChunks } from '../../src/train/extract/cache.ts';
import { cacheDirFor } from '../../src/train/extract/extract.ts';
import { openFer2013 } from '../../src/train/extract/sources.ts';
import { scoresOf } from '../../src/train/fusion/command.ts';
import { initWasm } from '../../src/train/kernels/backend.ts';
import { bothFramings, headFeatures, softmaxHead } from '../../src/train/refit/command.ts';
import { FER2013_CSV, ROOT } from '../helpers/shared-data.ts';

interface RefitRecord {
  publicTestAfter: { accuracy: number; macroF1: number };
  publicTestRows: number;
}

const modelsDir = join(ROOT, 'models');
const manifest = parseManifest(JSON.parse(readFileSync(join(modelsDir, 'index.json'), 'utf8')));
const refit = manifest.models.flatMap((m) => {
  if (m.kind !== 'cnn') return [];
  const dir = join(modelsDir, m.path, '..');
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as { refitHead?: RefitRecord };
  return report.refitHead ? [{ id: m.id, dir, record: report.refitHead }] : [];
});

describe('committed CNNs with a refit last layer', () => {
  it('include fer-cnn', () => {
    expect(refit.map((r) => r.id)).toContain('fer-cnn');
  });

  describe.skipIf(!existsSync(FER2013_CSV))('PublicTest figures recomputed from the artifacts equal report.json', () => {
    beforeAll(async () => {
      await initWasm(true);
    });
    for (const r of refit) {
      it(`${r.id} (skipped unless the FER2013 extraction cache is complete)`, async (ctx) => {
        const dir = cacheDirFor(await openFer2013(FER2013_CSV));
        const chunks = await readChunks(dir).catch(() => undefined);
        if (!chunks) {
          console.warn(`${r.id}: no complete FER2013 extraction cache in ${dir}; run npm run extract -- ${FER2013_CSV} to check it`);
          ctx.skip();
          return;
        }
        const data = await loadFer2013(FER2013_CSV);
        const tables = cropTablesFrom(chunks, { train: data.train.count, val: data.val.count, test: data.test.count });
        const val = bothFramings(data.val, tables.val);
        expect(val.labels.length).toBe(r.record.publicTestRows);
        const model = await loadLayersModel(r.dir);
        const head = softmaxHead(model, r.dir);
        const body = tf.model({ inputs: model.inputs, outputs: head.input as tf.SymbolicTensor });
        const features = headFeatures(body, val.pixels, val.labels.length);
        const [kernel, bias] = head.getWeights().map((w) => w.dataSync() as Float32Array);
        const d = features[0]!.length;
        const logits = new Float32Array(features.length * NUM_CLASSES);
        features.forEach((x, i) => {
          for (let k = 0; k < NUM_CLASSES; k++) {
            let z = bias![k]!;
            for (let j = 0; j < d; j++) z += x[j]! * kernel![j * NUM_CLASSES + k]!;
            logits[i * NUM_CLASSES + k] = z;
          }
        });
        const got = scoresOf(val.labels, argmaxRows(logits, NUM_CLASSES));
        model.dispose();
        // The command scored in float64 before folding the layer into float32 weights: a near-tie may flip.
        expect(Math.abs(got.accuracy - r.record.publicTestAfter.accuracy)).toBeLessThanOrEqual(2 / val.labels.length);
        expect(got.macroF1).toBeCloseTo(r.record.publicTestAfter.macroF1, 2);
      }, 600_000);
    }
  });
});
