/**
 * Every committed fusion model (models/index.json kind "fusion"): its files parse with the app's
 * code, and its PrivateTest accuracy recomputed from its artifacts (model.json + weights.bin, the
 * members' own artifacts, the FER2013 extraction cache) equals its report.json. The recompute
 * needs every PrivateTest face's crop and landmarks, so it runs only where that cache is complete
 * (npm run extract), as for svm-au in committed-models.test.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseManifest, type CnnModelEntry, type FusionModelEntry } from '../../src/core/contracts/index.ts';
import { FEATURE_COUNT, FEATURE_VERSION } from '../../src/core/features/index.ts';
import { parseFusionModel, predictFusion } from '../../src/core/fusion.ts';
import { initWasm } from '../../src/train/kernels/backend.ts';
import { loadFusionData, memberProbs, probsRow } from '../../src/train/fusion/data.ts';
import { readChunks } from '../../src/train/extract/cache.ts';
import { cacheDirFor } from '../../src/train/extract/extract.ts';
import { openFer2013 } from '../../src/train/extract/sources.ts';
import { FER2013_CSV, ROOT } from '../helpers/shared-data.ts';

const modelsDir = join(ROOT, 'models');
const manifest = parseManifest(JSON.parse(readFileSync(join(modelsDir, 'index.json'), 'utf8')));
const fusions = manifest.models.filter((m): m is FusionModelEntry => m.kind === 'fusion');
const dirOf = (m: { path: string }) => join(modelsDir, m.path, '..');

function readModel(m: FusionModelEntry) {
  const bytes = readFileSync(join(dirOf(m), 'weights.bin'));
  return parseFusionModel(
    JSON.parse(readFileSync(join(dirOf(m), 'model.json'), 'utf8')),
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  );
}

describe.skipIf(fusions.length === 0)('committed fusion models', () => {
  it('have their files, parse with the app code and match their entries and the app features', () => {
    for (const m of fusions) {
      for (const f of ['model.json', 'weights.bin', 'report.json', 'confusion.svg'])
        expect(existsSync(join(dirOf(m), f)), `${m.id}/${f}`).toBe(true);
      const model = readModel(m);
      expect(model.members).toEqual(m.members);
      expect([model.featureVersion, model.featureCount]).toEqual([FEATURE_VERSION, FEATURE_COUNT]);
      expect([m.input.featureVersion, m.input.dim]).toEqual([FEATURE_VERSION, FEATURE_COUNT]);
    }
  });

  describe.skipIf(!existsSync(FER2013_CSV))('PrivateTest accuracy recomputed from the artifacts equals report.json', () => {
    beforeAll(async () => {
      await initWasm(true);
    });
    for (const m of fusions) {
      it(`${m.id} (skipped unless the FER2013 extraction cache is complete)`, async (ctx) => {
        const dir = cacheDirFor(await openFer2013(FER2013_CSV));
        const complete = await readChunks(dir).then(
          () => true,
          () => false,
        );
        if (!complete) {
          console.warn(`${m.id}: no complete FER2013 extraction cache in ${dir}; run npm run extract -- ${FER2013_CSV} to check it`);
          ctx.skip();
        }
        const report = JSON.parse(readFileSync(join(dirOf(m), 'report.json'), 'utf8')) as {
          accuracy: number;
          dataset: { splits: { test: number } };
        };
        const model = readModel(m);
        const data = await loadFusionData(FER2013_CSV, () => undefined);
        const members = m.members.map((id) => manifest.models.find((e) => e.id === id) as CnnModelEntry);
        const probs = await memberProbs(members, modelsDir, data.privateTest);
        const pt = data.privateTest;
        expect(pt.count).toBe(report.dataset.splits.test);
        let hits = 0;
        for (let i = 0; i < pt.count; i++) {
          const p = predictFusion(
            model,
            probs.map((q) => probsRow(q, i)),
            pt.features[i]!,
          );
          hits += p.indexOf(Math.max(...p)) === pt.labels[i] ? 1 : 0;
        }
        expect(hits / pt.count).toBeCloseTo(report.accuracy, 6);
      }, 900_000);
    }
  });
});
