/**
 * The real-face evaluation (src/train/faces): one run of the command through the app's pipeline in
 * headless Chromium on a small folder of JAFFE photos from the shared data (labels from folder names
 * and aliases, a corrupt file, a photo with no face, unknown/ and a non-emotion folder skipped), and
 * one run with each person's neutral baseline (--neutral-baseline) on five photos.
 * Scoring, in-sample marking and usage errors: test/unit/train/evaluate-faces.test.ts; the
 * leave-one-out by hand: test/unit/train/neutral-eval.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseRealFaces } from '../../src/core/contracts/index.ts';
import { EMOTIONS } from '../../src/core/labels.ts';
import { logProbs } from '../../src/core/neutral-baseline.ts';
import { findChromium } from '../../src/train/browser/browser.ts';
import { facesCommand } from '../../src/train/faces/command.ts';
import type { RealFacesResult } from '../../src/train/faces/evaluate-faces.ts';
import { renderRealFacesTable } from '../../src/train/faces/render.ts';
import { grayPng } from '../helpers/png.ts';
import { JAFFE_DIR, missingShared } from '../helpers/shared-data.ts';

const JAFFE = JAFFE_DIR;
const MEDIAPIPE_MODEL = resolve('public/mediapipe/face_landmarker.task');
const missing = [
  missingShared(JAFFE),
  !findChromium() && 'Chromium (apt-get install chromium)',
  !existsSync(MEDIAPIPE_MODEL) && `${MEDIAPIPE_MODEL} (npm run setup-assets)`,
].filter(Boolean);
if (missing.length > 0) console.warn(`skipping the real-face evaluation on JAFFE photos: missing ${missing.join(', ')}`);

describe.skipIf(missing.length > 0)('npm run evaluate -- --faces on a few JAFFE photos', () => {
  let work: string;
  let faces: string;
  let models: string;
  let result: RealFacesResult;
  let printed: string;
  let code: number;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'faces-eval-'));
    faces = join(work, 'faces');
    const put = async (from: string, to: string) => {
      await mkdir(join(faces, to, '..'), { recursive: true });
      await copyFile(join(JAFFE, from), join(faces, to));
    };
    await put('happy/KA.HA2.30.png', 'Happiness/KA.HA2.30.png');
    await put('happy/KM.HA1.4.png', 'Happiness/KM.HA1.4.png');
    await put('sad/KA.SA1.33.png', 'sad/KA.SA1.33.png');
    await put('angry/KA.AN2.40.png', 'anger/KA.AN2.40.png');
    await put('unknown/unknown_01.png', 'unknown/unknown_01.png');
    await put('unknown/unknown_01.png', 'misc/unknown_01.png');
    await writeFile(
      join(faces, 'sad/blank.png'),
      grayPng(64, 64, () => 128),
    );
    await writeFile(join(faces, 'sad/broken.jpg'), Buffer.from('this is not a jpeg at all'));
    await writeFile(join(faces, 'README.md'), 'not a photo');
    await writeFile(
      join(faces, 'stray.png'),
      grayPng(8, 8, () => 0),
    );
    // Never opened: reading a FIFO would block the run.
    expect(spawnSync('mkfifo', [join(faces, 'sad/pipe.png')]).status).toBe(0);

    // Three committed models: fer-cnn (FER2013), svm-au-personal (trained on JAFFE: another
    // folder) and fer-cnn-finetuned with a report saying it was trained on this folder (through
    // a link, so only real paths match).
    models = join(work, 'models');
    const manifest = JSON.parse(await readFile('models/index.json', 'utf8')) as { models: { id: string }[] };
    const ids = ['fer-cnn', 'fer-cnn-finetuned', 'svm-au-personal'];
    for (const id of ids) await cp(join('models', id), join(models, id), { recursive: true });
    await writeFile(join(models, 'index.json'), JSON.stringify({ models: manifest.models.filter((m) => ids.includes(m.id)) }));
    await symlink(faces, join(work, 'faces-link'));
    const reportFile = join(models, 'fer-cnn-finetuned', 'report.json');
    const report = JSON.parse(await readFile(reportFile, 'utf8')) as { dataset: { name: string; path: string } };
    report.dataset = { ...report.dataset, name: 'faces', path: join(work, 'faces-link') };
    await writeFile(reportFile, JSON.stringify(report));

    const out = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      code = await facesCommand(['--faces', faces, '--models', models, '--out', join(work, 'out', 'result.json')]);
      printed = out.mock.calls.map((c) => String(c[0])).join('\n');
      if (code !== 0) throw new Error(err.mock.calls.map((c) => String(c[0])).join('\n'));
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    result = JSON.parse(await readFile(join(work, 'out', 'result.json'), 'utf8')) as RealFacesResult;
  }, 180_000);
  afterAll(() => rm(work, { recursive: true, force: true }));

  it('labels photos by folder name and alias, and skips unknown/, other folders and non-images', () => {
    expect(code).toBe(0);
    const labels = Object.fromEntries(result.images.map((i) => [i.file, i.label]));
    expect(labels).toEqual({
      'Happiness/KA.HA2.30.png': 'happy',
      'Happiness/KM.HA1.4.png': 'happy',
      'anger/KA.AN2.40.png': 'angry',
      'sad/KA.SA1.33.png': 'sad',
      'sad/blank.png': 'sad',
      'sad/broken.jpg': 'sad',
    });
    expect(result.skipped.folders.map((f) => [f.folder, f.files])).toEqual([
      ['misc', 1],
      ['unknown', 1],
    ]);
    expect(result.skipped.folders[0]!.reason).toMatch(/not an emotion name or alias/);
    // Top-level files other than images (the README) are passed over silently.
    expect(result.skipped.files.map((f) => f.file)).toEqual(['sad/pipe.png', 'stray.png']);
    expect(result.skipped.files[0]!.reason).toMatch(/FIFO|pipe|special/i);
    expect(result.skipped.files[1]!.reason).toBe('image outside a class folder');
    expect(result.support).toEqual({ angry: 1, disgust: 0, fear: 0, happy: 2, sad: 2, surprise: 0, neutral: 0 });
  });

  it('reports the corrupt file and the photo with no face, and counts them', () => {
    expect(result.counts).toEqual({ labelled: 6, scored: 5, withFace: 4, noFace: 1, severalFaces: 0, unreadable: 1 });
    expect(result.noFace).toEqual(['sad/blank.png']);
    expect(result.unreadable.map((u) => u.file)).toEqual(['sad/broken.jpg']);
    expect(result.notes.join('\n')).toMatch(/no face found count as wrong for every model \(1 of 5\)/);
    for (const m of result.models) {
      expect(m.images).toBe(5);
      expect(m.noFace).toBe(1);
      expect(m.confusion[EMOTIONS.indexOf('sad')]![7]).toBe(1);
    }
    expect(printed).toMatch(/no face: sad\/blank\.png/);
    expect(printed).toMatch(/unreadable sad\/broken\.jpg/);
  });

  it('marks the model trained on this folder in-sample and never names it best', () => {
    const byId = Object.fromEntries(result.models.map((m) => [m.id, m]));
    expect(Object.keys(byId).sort()).toEqual(['fer-cnn', 'fer-cnn-finetuned', 'svm-au-personal']);
    expect(byId['fer-cnn-finetuned']!.inSample).toBe(true);
    expect(byId['fer-cnn']!.inSample).toBe(false);
    expect(byId['svm-au-personal']!.inSample).toBe(false);
    const outOfSample = result.models.filter((m) => m.inSample === false);
    const top = Math.max(...outOfSample.map((m) => m.accuracy));
    expect(result.best).not.toBe('fer-cnn-finetuned');
    expect(byId[result.best!]!.accuracy).toBe(top);
    expect(printed).toMatch(/\| fer-cnn-finetuned \| cnn \|.*\| \*\*yes\*\* \(trained on faces\) \|/);
  });

  it('gives figures equal to a hand count of the per-photo answers', () => {
    const scored = result.images.filter((i) => i.outcome !== 'unreadable');
    for (const m of result.models) {
      const right = scored.filter((i) => i.predicted[m.id] === i.label).length;
      expect(m.correct).toBe(right);
      expect(m.accuracy).toBeCloseTo(right / 5, 12);
      for (const e of EMOTIONS) {
        const ofClass = scored.filter((i) => i.label === e);
        const recall = ofClass.length ? ofClass.filter((i) => i.predicted[m.id] === e).length / ofClass.length : null;
        expect(m.recall[e]).toBe(recall);
      }
      // Macro F1 over the emotions that occur as truth or answer.
      const occurring = EMOTIONS.filter((e) => scored.some((i) => i.label === e || i.predicted[m.id] === e));
      const f1 = occurring.map((e) => {
        const tp = scored.filter((i) => i.label === e && i.predicted[m.id] === e).length;
        const predicted = scored.filter((i) => i.predicted[m.id] === e).length;
        const actual = scored.filter((i) => i.label === e).length;
        const p = predicted ? tp / predicted : 0;
        const r = actual ? tp / actual : 0;
        return p + r ? (2 * p * r) / (p + r) : 0;
      });
      expect(m.macroF1).toBeCloseTo(f1.reduce((a, b) => a + b, 0) / f1.length, 12);
      // Every photo with a face got an answer from every model.
      expect(m.noPrediction).toBe(0);
    }
  });

  it('prints the table and records the command', () => {
    expect(result.command).toBe(`npm run evaluate -- --faces ${faces} --models ${models} --out ${join(work, 'out', 'result.json')}`);
    expect(printed).toContain(
      '| model | kind | accuracy | macro F1 | angry | disgust | fear | happy | sad | surprise | neutral | in-sample |',
    );
    expect(renderRealFacesTable(result)).toContain(`**${result.best}**`);
    expect(printed).toMatch(/true \\ predicted +angry/);
  });
});

describe.skipIf(missing.length > 0)('npm run evaluate -- --faces --neutral-baseline on a few JAFFE photos', () => {
  let work: string;
  let faces: string;
  let models: string;
  let result: RealFacesResult;
  let printed: string;
  const SUBJECT = '^([A-Z]{2})\\.';

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'faces-neutral-'));
    faces = join(work, 'faces');
    const put = async (from: string, to: string) => {
      await mkdir(join(faces, to, '..'), { recursive: true });
      await copyFile(join(JAFFE, from), join(faces, to));
    };
    // KA: two neutral photos and an angry one (all moved); KM: no neutral photo (unmoved); a name
    // that names no person under SUBJECT (unmoved).
    await put('neutral/KA.NE2.27.png', 'neutral/KA.NE2.27.png');
    await put('neutral/KA.NE3.28.png', 'neutral/KA.NE3.28.png');
    await put('angry/KA.AN2.40.png', 'angry/KA.AN2.40.png');
    await put('happy/KM.HA1.4.png', 'happy/KM.HA1.4.png');
    await put('happy/KA.HA2.30.png', 'happy/photo-of-ka.png');

    // fer-cnn with a neutral reference (a fixed one: this checks the mechanics, not the committed
    // reference), svm-au-personal without.
    models = join(work, 'models');
    const manifest = JSON.parse(await readFile('models/index.json', 'utf8')) as { models: { id: string; neutral?: unknown }[] };
    const ids = ['fer-cnn', 'svm-au-personal'];
    for (const id of ids) await cp(join('models', id), join(models, id), { recursive: true });
    const reference = { logProbs: logProbs([0.08, 0.02, 0.08, 0.04, 0.13, 0.03, 0.62]).map((v) => Math.round(v * 1e6) / 1e6), faces: 1 };
    const entries = manifest.models
      .filter((m) => ids.includes(m.id))
      .map(({ neutral: _, ...m }) => (m.id === 'fer-cnn' ? { ...m, neutral: reference } : m));
    await writeFile(join(models, 'index.json'), JSON.stringify({ models: entries }));

    const out = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const argv = ['--faces', faces, '--models', models, '--neutral-baseline', '--subject', SUBJECT, '--out', join(work, 'result.json')];
      const code = await facesCommand(argv);
      printed = out.mock.calls.map((c) => String(c[0])).join('\n');
      if (code !== 0) throw new Error(err.mock.calls.map((c) => String(c[0])).join('\n'));
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    result = parseRealFaces(JSON.parse(await readFile(join(work, 'result.json'), 'utf8')), 'result.json');
  }, 180_000);
  afterAll(() => rm(work, { recursive: true, force: true }));

  it('records the option and who was moved', () => {
    expect(result.neutralBaseline).toEqual({
      subject: SUBJECT,
      people: 2,
      moved: 3,
      unmoved: 2,
      noSubject: 1,
      noOtherNeutral: 1,
      models: ['fer-cnn'],
      withoutReference: ['svm-au-personal'],
    });
    expect(result.counts.withFace).toBe(5);
    expect(result.notes.join('\n')).toMatch(/No neutral reference: svm-au-personal/);
    expect(printed).toMatch(/^\*\*faces\*\* with each person's neutral baseline \(leave-one-out\): 5 labelled photos/);
  });

  it("moves each photo by the person's OTHER neutral photos only, and leaves the rest as the models gave them", () => {
    const byFile = Object.fromEntries(result.images.map((i) => [i.file, i]));
    expect(byFile['neutral/KA.NE2.27.png']!.baselineOf).toEqual(['neutral/KA.NE3.28.png']);
    expect(byFile['neutral/KA.NE3.28.png']!.baselineOf).toEqual(['neutral/KA.NE2.27.png']);
    expect(byFile['angry/KA.AN2.40.png']!.baselineOf).toEqual(['neutral/KA.NE2.27.png', 'neutral/KA.NE3.28.png']);
    expect(byFile['happy/KM.HA1.4.png']!.baselineOf).toEqual([]);
    expect(byFile['happy/photo-of-ka.png']!.baselineOf).toEqual([]);
    for (const im of result.images) {
      expect(im.plain, im.file).toBeDefined();
      expect(im.predicted['svm-au-personal'], im.file).toBe(im.plain!['svm-au-personal']);
      if (im.baselineOf!.length === 0) expect(im.predicted, im.file).toEqual(im.plain);
    }
    // The figures are those of the moved answers.
    const ferCnn = result.models.find((m) => m.id === 'fer-cnn')!;
    expect(ferCnn.correct).toBe(result.images.filter((i) => i.predicted['fer-cnn'] === i.label).length);
  });
});
