import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { initWasm } from '../../src/train/kernels/backend.ts';
import { parseManifest } from '../../src/app/manifest.ts';
import { findChromium } from '../../src/train/browser/browser.ts';
import { fnv1a32, parseSvmInput, predictSvm, svmInputOf } from '../../src/core/svm/index.ts';
import { EMOTIONS, IMAGE_PIXELS } from '../../src/core/labels.ts';
import { argmaxRows } from '../../src/core/metrics.ts';
import { evaluateModelDir } from '../../src/train/cnn/evaluate.ts';
import { predictProbs } from '../../src/learn/predict.ts';
import { loadFer2013 } from '../../src/train/data/fer2013.ts';
import { loadLayersModel, readLayersModelFiles } from '../../src/train/cnn/model-io.ts';
import { readSvmModel } from '../../src/train/svm/export.ts';
import { loadFerFeatures, pixelRows } from '../../src/train/data/svm-data.ts';
import { readChunks } from '../../src/train/extract/cache.ts';
import { cacheDirFor } from '../../src/train/extract/extract.ts';
import { openFer2013 } from '../../src/train/extract/sources.ts';
import { loadPersonalData } from '../../src/train/data/personal-crops.ts';
import { FER2013_CSV, JAFFE_DIR, ROOT } from '../helpers/shared-data.ts';

const root = ROOT;
const FER = FER2013_CSV;
const manifestPath = join(root, 'models/index.json');
const haveFer = existsSync(FER);
if (!haveFer) console.warn(`skipping the committed-model accuracy check: ${FER} not found`);

const manifest = existsSync(manifestPath) ? parseManifest(JSON.parse(readFileSync(manifestPath, 'utf8'))) : { models: [] };
const reportOf = (m: { path: string }) =>
  JSON.parse(readFileSync(join(root, 'models', m.path, '..', 'report.json'), 'utf8')) as {
    accuracy: number;
    dataset: { name: string; path: string };
    extra?: { split?: { val?: string[] } };
  };
// FER2013 models are checked on PrivateTest; personal-set models on their own validation split.
const cnns = manifest.models.filter((m) => m.kind === 'cnn' && reportOf(m).dataset.name === 'FER2013');
const ferSvms = manifest.models.filter((m) => m.kind === 'svm' && reportOf(m).dataset.name === 'FER2013');
const personal = manifest.models.filter((m) => reportOf(m).dataset.name !== 'FER2013');
const JAFFE = JAFFE_DIR;
const haveJaffe = existsSync(JAFFE) && !!findChromium() && existsSync(join(root, 'public/mediapipe/face_landmarker.task'));
if (!haveJaffe) console.warn(`skipping the personal-model check: needs ${JAFFE}, Chromium and the browser assets`);

describe('committed models', () => {
  it('models/index.json lists the FER2013 CNNs and each has its artifacts and report', () => {
    expect(cnns.map((m) => m.id)).toEqual(expect.arrayContaining(['fer-cnn', 'fer-cnn-seed']));
    for (const m of cnns) {
      const dir = join(root, 'models', m.path, '..');
      for (const f of ['model.json', 'weights.bin', 'report.json', 'confusion.svg', 'curves.svg'])
        expect(existsSync(join(dir, f)), `${m.id}/${f}`).toBe(true);
    }
  });

  it("every model records its weight files' byte length and hash in model.json, and they match", async () => {
    expect(manifest.models.length).toBeGreaterThan(0);
    for (const m of manifest.models) {
      const dir = join(root, 'models', m.path, '..');
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
      if (m.kind === 'svm' || m.kind === 'fusion') {
        const bytes = readFileSync(join(dir, json.weights.file));
        expect(json.weights.byteLength, `${m.id}: weights.byteLength`).toBe(bytes.byteLength);
        expect(json.weights.fnv1a32, `${m.id}: weights.fnv1a32`).toBe(fnv1a32(bytes));
      } else {
        const paths: string[] = json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths);
        const expected = paths.map((p) => {
          const bytes = readFileSync(join(dir, p));
          return { path: p, byteLength: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
        });
        expect(json.weightsIntegrity, `${m.id}: weightsIntegrity (npm run models:stamp)`).toEqual(expected);
        // The loader's own checks (sizes against the weight specs, finite weights) pass without a warning.
        expect((await readLayersModelFiles(dir)).warnings, m.id).toEqual([]);
      }
    }
  });

  it("every SVM has its model files and report, and parses with the app's code", async () => {
    for (const m of manifest.models.filter((x) => x.kind === 'svm')) {
      const dir = join(root, 'models', m.path, '..');
      for (const f of ['model.json', 'weights.bin', 'report.json', 'confusion.svg'])
        expect(existsSync(join(dir, f)), `${m.id}/${f}`).toBe(true);
      const model = await readSvmModel(dir);
      expect(model.totalSV).toBeGreaterThan(0);
    }
  });

  describe.skipIf(!haveFer || ferSvms.length === 0)(
    'FER2013 SVMs: PrivateTest accuracy recomputed from the artifacts equals report.json',
    () => {
      for (const m of ferSvms) {
        const input = m.input as { type?: string };
        // svm-au needs every PrivateTest face's features: a 14-minute browser extraction, so it is
        // recomputed only where that cache is complete (npm run extract); svm-pixels reads pixels.
        it(`${m.id}${input.type !== 'pixels' ? ' (skipped unless the FER2013 extraction cache is complete)' : ''}`, async (ctx) => {
          const model = await readSvmModel(join(root, 'models', m.path, '..'));
          const spec = parseSvmInput(model.input);
          let rows: ArrayLike<number>[];
          let labels: ArrayLike<number>;
          if (input.type === 'pixels') {
            const data = await loadFer2013(FER);
            rows = pixelRows(data.test.pixels, data.test.count).map((x) => svmInputOf(spec, x, []));
            labels = data.test.labels;
          } else {
            const dir = cacheDirFor(await openFer2013(FER));
            const complete = await readChunks(dir).then(
              () => true,
              () => false,
            );
            if (!complete) {
              console.warn(`${m.id}: no complete FER2013 extraction cache in ${dir}; run npm run extract -- ${FER} to check it`);
              ctx.skip();
            }
            const features = await loadFerFeatures(FER, () => undefined);
            rows = features.test.rows;
            labels = features.test.labels;
          }
          let hit = 0;
          for (let i = 0; i < rows.length; i++) hit += predictSvm(model, rows[i]!).top === labels[i] ? 1 : 0;
          expect(hit / rows.length).toBeCloseTo(reportOf(m).accuracy, 6);
          // svm-au: 21,306 support vectors x 3,382 faces in plain JS, ~2 minutes on 2 busy cores.
        }, 600_000);
      }
    },
  );

  describe.skipIf(!haveJaffe || personal.length === 0)(
    'personal-set models: validation accuracy recomputed through the browser pipeline',
    () => {
      beforeAll(async () => {
        await initWasm(true);
      });
      it('matches report.json within one image (crops are recomputed on this machine)', async () => {
        const data = await loadPersonalData(JAFFE);
        const index = new Map(data.samples.map((s, i) => [s.file, i]));
        for (const m of personal) {
          const report = reportOf(m);
          const val = report.extra?.split?.val ?? [];
          expect(val.length, `${m.id} lists its validation files`).toBeGreaterThan(0);
          const rows = val.map((f) => index.get(f));
          expect(
            rows.every((r) => r !== undefined),
            `${m.id}: every validation file has a face`,
          ).toBe(true);
          const labels = rows.map((r) => data.samples[r!]!.label);
          let pred: number[];
          if (m.kind === 'cnn') {
            const pixels = new Uint8Array(rows.length * IMAGE_PIXELS);
            rows.forEach((r, i) => pixels.set(data.pixels.subarray(r! * IMAGE_PIXELS, (r! + 1) * IMAGE_PIXELS), i * IMAGE_PIXELS));
            const model = await loadLayersModel(join(root, 'models', m.path, '..'));
            pred = Array.from(argmaxRows(predictProbs(model, pixels, rows.length, true), EMOTIONS.length));
            model.dispose();
          } else {
            const model = await readSvmModel(join(root, 'models', m.path, '..'));
            pred = rows.map((r) => predictSvm(model, data.features[r!]!).top);
          }
          const acc = pred.filter((p, i) => p === labels[i]).length / labels.length;
          expect(Math.abs(acc - report.accuracy), `${m.id}: recomputed ${acc}, report ${report.accuracy}`).toBeLessThanOrEqual(
            1 / labels.length + 1e-9,
          );
        }
      });
    },
  );

  describe.skipIf(!haveFer)('accuracy recomputed from the artifacts equals report.json', () => {
    beforeAll(async () => {
      await initWasm(true);
    });
    for (const m of cnns) {
      it(m.id, async () => {
        const r = await evaluateModelDir(join(root, 'models', m.path, '..'), FER);
        expect(r.count).toBe(3589);
        expect(r.recomputed.accuracy).toBeCloseTo(r.reported, 6);
      });
    }
  });
});
