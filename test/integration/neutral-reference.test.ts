/**
 * The neutral references in models/index.json (npm run train -- neutral-reference): every general
 * model has one and no personal model does; each recomputes from the model's artifacts and the
 * FER2013 extraction cache (skipped where that cache is incomplete, as the other cache-based
 * recomputes); the command's usage errors and its index.json writer.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/core/contracts/index.ts';
import { parseNeutralReferenceArgs } from '../../src/train/commands/train-args.ts';
import { readChunks } from '../../src/train/extract/cache.ts';
import { cacheDirFor } from '../../src/train/extract/extract.ts';
import { openFer2013 } from '../../src/train/extract/sources.ts';
import { initWasm } from '../../src/train/kernels/backend.ts';
import { runNeutralReference } from '../../src/train/neutral/command.ts';
import { loadNeutralTrainingFaces, neutralReferences } from '../../src/train/neutral/reference.ts';
import { setEntryField } from '../../src/train/util/manifest.ts';
import { FER2013_CSV, ROOT } from '../helpers/shared-data.ts';
import { usageMessage } from '../helpers/usage-error.ts';

const modelsDir = join(ROOT, 'models');
const manifest = parseManifest(JSON.parse(readFileSync(join(modelsDir, 'index.json'), 'utf8')));
const datasetOf = (report: string | undefined) =>
  report ? (JSON.parse(readFileSync(join(modelsDir, report), 'utf8')) as { dataset: { name: string } }).dataset.name : undefined;

describe('committed neutral references', () => {
  it('every FER2013 model has one, no personal model does', () => {
    const general = manifest.models.filter((m) => datasetOf(m.report) === 'FER2013');
    expect(general.length).toBeGreaterThanOrEqual(6);
    for (const m of manifest.models) expect(m.neutral !== undefined, m.id).toBe(general.includes(m));
    // FER2013's neutral faces read as neutral, on average, for every model.
    for (const m of general) {
      const lp = m.neutral!.logProbs;
      expect(lp.indexOf(Math.max(...lp)), m.id).toBe(6);
    }
  });

  describe.skipIf(!existsSync(FER2013_CSV))('recomputed from the artifacts and the extraction cache', () => {
    it('equal what index.json holds (skipped unless the FER2013 extraction cache is complete)', { timeout: 600_000 }, async (ctx) => {
      const dir = cacheDirFor(await openFer2013(FER2013_CSV));
      const complete = await readChunks(dir).then(
        () => true,
        () => false,
      );
      if (!complete) {
        console.warn(
          `neutral references: no complete FER2013 extraction cache in ${dir}; run npm run extract -- ${FER2013_CSV} to check them`,
        );
        ctx.skip();
      }
      await initWasm(true);
      const faces = await loadNeutralTrainingFaces(FER2013_CSV, () => undefined);
      const entries = manifest.models.filter((m) => m.neutral);
      const refs = await neutralReferences(entries, manifest.models, modelsDir, faces, () => undefined);
      for (const m of entries) {
        const got = refs.get(m.id)!;
        expect(got.faces, m.id).toBe(m.neutral!.faces);
        got.logProbs.forEach((v, k) => expect(v, `${m.id}[${k}]`).toBeCloseTo(m.neutral!.logProbs[k]!, 4));
        // Feature means: for the SVMs on the AU-style features only (moved at their input).
        expect(got.features !== undefined, m.id).toBe(m.kind === 'svm' && m.input.type === 'au-features');
        expect(m.neutral!.features !== undefined, m.id).toBe(got.features !== undefined);
        got.features?.forEach((v, k) => expect(v, `${m.id}.features[${k}]`).toBeCloseTo(m.neutral!.features![k]!, 5));
      }
    });
  });
});

describe('npm run train -- neutral-reference', () => {
  it('parses its options and names the bad one', () => {
    expect(parseNeutralReferenceArgs(['--help'])).toBe('help');
    const o = parseNeutralReferenceArgs(['--models', 'fer-cnn,svm-au', '--models-dir', 'x']);
    expect(o).toMatchObject({ models: ['fer-cnn', 'svm-au'] });
    expect(usageMessage(() => parseNeutralReferenceArgs(['--models', 'a b']))).toMatch(/--models: "a b" is not a model id/);
    expect(usageMessage(() => parseNeutralReferenceArgs(['--nope']))).toMatch(/nope/);
  });

  it('refuses an unknown model before reading any data, listing the ones there are', async () => {
    await expect(runNeutralReference({ models: ['nope'], modelsDir, data: '/nonexistent.csv', log: () => undefined })).rejects.toThrow(
      /--models: no model "nope" in .*index\.json \(it lists fer-cnn,/,
    );
  });

  it('writes one field of the named entries and keeps every other byte of the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'neutral-ref-'));
    try {
      const before = readFileSync(join(modelsDir, 'index.json'), 'utf8');
      await writeFile(join(dir, 'index.json'), before);
      const ref = { logProbs: [-3, -4, -3, -3, -2, -4, -0.5], faces: 12 };
      await setEntryField(dir, 'neutral', new Map([['fer-cnn-seed', ref]]));
      const after = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { models: { id: string }[] };
      const old = JSON.parse(before) as { models: { id: string }[] };
      after.models.forEach((m, i) => expect(m).toEqual(m.id === 'fer-cnn-seed' ? { ...old.models[i], neutral: ref } : old.models[i]));
      await expect(setEntryField(dir, 'neutral', new Map([['nope', ref]]))).rejects.toThrow(/has no model "nope"/);
      await expect(setEntryField(dir, 'neutral', new Map([['fer-cnn-seed', { logProbs: [1], faces: 1 }]]))).rejects.toThrow(
        /neutral\.logProbs/,
      );
      expect(JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'))).toEqual(after);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
