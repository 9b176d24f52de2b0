/**
 * Batch extraction (npm run extract) and npm run predict over the app's pipeline in headless
 * Chromium, on a few real JAFFE photos from the shared data plus images with no face, a corrupt file,
 * a file that is not an image, and files never to be opened: a FIFO and a 3 GiB sparse file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, truncateSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium } from '../../src/train/browser/browser.ts';
import { FEATURE_COUNT } from '../../src/core/features/index.ts';
import { EMOTIONS } from '../../src/core/labels.ts';
import { currentFeatures, decodeFace, readChunks } from '../../src/train/extract/cache.ts';
import { runExtraction } from '../../src/train/extract/extract.ts';
import { openFolder } from '../../src/train/extract/sources.ts';
import { predictImages } from '../../src/train/predict/predict.ts';
import { grayPng } from '../helpers/png.ts';
import { JAFFE_DIR, missingShared } from '../helpers/shared-data.ts';

const JAFFE = JAFFE_DIR;
const MEDIAPIPE_MODEL = resolve('public/mediapipe/face_landmarker.task');
const missing = [
  missingShared(JAFFE),
  !findChromium() && 'Chromium (apt-get install chromium)',
  !existsSync(MEDIAPIPE_MODEL) && `${MEDIAPIPE_MODEL} (npm run setup-assets)`,
].filter(Boolean);
if (missing.length > 0) console.warn(`skipping extraction/predict tests: missing ${missing.join(', ')}`);

describe.skipIf(missing.length > 0)('browser batch jobs on real photos', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'extract-'));
    await mkdir(join(dir, 'Happiness'), { recursive: true });
    await mkdir(join(dir, 'sad'), { recursive: true });
    await mkdir(join(dir, 'unknown'), { recursive: true });
    await copyFile(join(JAFFE, 'happy/KA.HA2.30.png'), join(dir, 'Happiness/KA.HA2.30.png'));
    await copyFile(join(JAFFE, 'sad/KA.SA1.33.png'), join(dir, 'sad/KA.SA1.33.png'));
    await copyFile(join(JAFFE, 'unknown/unknown_01.png'), join(dir, 'unknown/unknown_01.png'));
    await writeFile(
      join(dir, 'sad/blank.png'),
      grayPng(64, 64, () => 128),
    );
    await writeFile(join(dir, 'sad/broken.jpg'), Buffer.from('this is not a jpeg at all'));
    await writeFile(join(dir, 'notes.txt'), 'hello');
    // Named and skipped, never read: a read of the FIFO would block forever, readFile of the
    // sparse file (no disk used) would throw past 2 GiB and end the whole run.
    expect(spawnSync('mkfifo', [join(dir, 'sad/pipe.png')]).status).toBe(0);
    await writeFile(join(dir, 'Happiness/huge.jpg'), '');
    truncateSync(join(dir, 'Happiness/huge.jpg'), 3 * 2 ** 30);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('extracts crops and features, and counts no-face, corrupt and non-image files', async () => {
    const out = join(dir, '.cache');
    const source = await openFolder(dir);
    const summary = await runExtraction(source, { outDir: out, pages: 1 });
    expect(summary.total).toBe(8);
    expect(summary.faces).toBe(3);
    expect(summary.noFace).toBe(1);
    expect(summary.corrupt).toBe(1);
    expect(summary.notImage).toBe(1);
    expect(summary.skipped).toBe(2);
    expect(summary.problems.map((p) => p.id).sort()).toEqual([
      'Happiness/huge.jpg',
      'notes.txt',
      'sad/blank.png',
      'sad/broken.jpg',
      'sad/pipe.png',
    ]);
    expect(summary.problems.find((p) => p.id === 'sad/pipe.png')).toEqual({
      id: 'sad/pipe.png',
      status: 'skipped',
      error: 'a FIFO (named pipe), not a regular file: not read',
    });
    expect(summary.problems.find((p) => p.id === 'Happiness/huge.jpg')!.error).toMatch(/^3\.0 GiB, over the 256 MiB limit/);
    const chunks = await readChunks(out);
    const records = chunks.flatMap((c) => c.records.map((r) => ({ r, names: c.blendshapeNames })));
    const happy = records.find(({ r }) => r.id === 'Happiness/KA.HA2.30.png')!;
    expect(happy.r.label).toBe(EMOTIONS.indexOf('happy'));
    const face = decodeFace(happy.r, happy.names)!;
    expect(face.crop.length).toBe(48 * 48);
    expect(face.features.length).toBe(FEATURE_COUNT);
    expect(face.observation.landmarks.length).toBe(478);
    // Features recomputed in Node from the stored landmarks equal the page's.
    const again = currentFeatures(face);
    for (let i = 0; i < FEATURE_COUNT; i++) expect(again[i]).toBeCloseTo(face.features[i]!, 4);
    // A smiling face: the smile AU is clearly on.
    expect(face.features[8]).toBeGreaterThan(0.3);
    // Resumable: a second run finds every chunk on disk and processes nothing.
    const second = await runExtraction(source, { outDir: out, pages: 1 });
    expect(second.processed).toBe(0);
    expect(second.faces).toBe(3);
  });

  it('predict: every model on every face, in the JSON shape, with errors for unreadable files', async () => {
    const files = [
      join(dir, 'Happiness/KA.HA2.30.png'),
      join(dir, 'sad/blank.png'),
      join(dir, 'sad/broken.jpg'),
      join(dir, 'sad/pipe.png'),
    ];
    const results = await predictImages(files, { pages: 1 });
    expect(results.map((r) => r.file)).toEqual(files);
    const [happy, blank, broken, pipe] = results;
    expect(pipe).toEqual({ file: files[3], faces: [], error: `${files[3]}: a FIFO (named pipe), not a regular file: not read` });
    expect(happy!.faces).toHaveLength(1);
    const face = happy!.faces[0]!;
    expect(face.box).toHaveLength(4);
    expect(face.box.every((v) => Number.isInteger(v))).toBe(true);
    const ids = Object.keys(face.models);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) {
      const m = face.models[id]!;
      expect(m.probs).toHaveLength(7);
      expect(m.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 2);
      expect(EMOTIONS).toContain(m.label);
    }
    expect(face.models['fer-cnn']?.label).toBe('happy');
    expect(blank).toEqual({ file: files[1], faces: [] });
    expect(broken!.faces).toEqual([]);
    expect(broken!.error).toMatch(/broken\.jpg could not be decoded/);
  });
});
