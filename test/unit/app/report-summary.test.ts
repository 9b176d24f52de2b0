/**
 * The Reports view's summary (summaryColumns in src/app/report.ts): one column per evaluation set,
 * named with its size, and a figure only ever under the set it was measured on.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRealFaces } from '../../../src/core/contracts/index.ts';
import { buildComparison } from '../../../src/train/report/comparison.ts';
import { fmtCount, parseReportView, summaryColumns, type RealFacesResult } from '../../../src/app/report.ts';
import { ROOT } from '../../helpers/shared-data.ts';

const EMO = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
const report = (accuracy: number, dataset: object, supportEach: number) =>
  parseReportView({
    accuracy,
    macroAvg: { f1: accuracy - 0.05 },
    dataset,
    perClass: EMO.map((label) => ({ label, precision: accuracy, recall: accuracy, f1: accuracy, support: supportEach })),
  });
const FER = { name: 'FER2013', path: '/d/fer2013.csv.gz', evaluatedOn: 'PrivateTest' };
const PERSONAL = { name: 'jaffe', path: '/d/jaffe', evaluatedOn: 'validation split (20%, stratified, seed 42)' };

describe("summaryColumns from the models' own reports", () => {
  const reports = {
    fer: report(0.66, FER, 500), // 3,500 images
    ferFace: report(0.61, { ...FER, evaluatedOn: 'PrivateTest (images with a face found)' }, 480),
    personal: report(0.89, PERSONAL, 5), // 35 images
  };
  const cols = summaryColumns({ reports });

  it('a model with only a personal figure shows it under that set, not under FER2013', () => {
    expect(cols.map((c) => c.name)).toEqual(['FER2013 PrivateTest', 'jaffe validation split']);
    const [fer, personal] = cols;
    expect(Object.keys(fer!.cells).sort()).toEqual(['fer', 'ferFace']);
    expect(fer!.cells.personal).toBeUndefined();
    expect(personal!.cells.personal).toMatchObject({ accuracy: 0.89, images: 35, note: '20%, stratified, seed 42' });
    expect(Object.keys(personal!.cells)).toEqual(['personal']);
  });

  it('names each set with its size, each figure with its own image count', () => {
    expect(cols.map((c) => c.size)).toEqual([3500, 35]);
    expect(cols[0]!.cells.ferFace).toMatchObject({ images: 3360, note: 'images with a face found' });
    expect(fmtCount(3589)).toBe('3,589');
    expect(fmtCount(38)).toBe('38');
  });

  it('a report that records no data set gets a column saying so', () => {
    const c = summaryColumns({ reports: { x: parseReportView({ accuracy: 0.5 }) } });
    expect(c.map((col) => [col.name, col.size])).toEqual([['Test split (set not recorded)', null]]);
  });
});

describe('summaryColumns with the comparison and the real-face evaluation', () => {
  const perSet = (accuracy: number, images: number) => ({
    accuracy,
    macroAvg: { f1: accuracy },
    perClass: EMO.map((label) => ({ label, f1: accuracy, support: images / 7 })),
  });
  const { json: comparison } = buildComparison({
    models: [
      {
        id: 'fer',
        name: 'FER',
        kind: 'cnn',
        sizeBytes: 1,
        reports: { 'FER2013 PrivateTest': perSet(0.66, 3584), 'jaffe validation split': perSet(0.42, 35) },
      },
      { id: 'tuned', name: 'Tuned', kind: 'cnn', sizeBytes: 1, reports: { 'jaffe validation split': perSet(0.89, 35) } },
    ],
    generatedAt: '2026-01-01T00:00:00.000Z',
  });
  const realFaces = parseRealFaces({
    version: 1,
    set: 'jaffe',
    counts: { labelled: 192, scored: 192, withFace: 192, noFace: 0, severalFaces: 0, unreadable: 0 },
    models: [
      {
        id: 'fer',
        name: 'FER',
        inSample: false,
        inSampleReason: 'trained on FER2013',
        images: 192,
        correct: 100,
        accuracy: 0.52,
        macroF1: 0.49,
      },
      {
        id: 'tuned',
        name: 'Tuned',
        inSample: true,
        inSampleReason: 'trained on jaffe',
        images: 192,
        correct: 183,
        accuracy: 0.95,
        macroF1: 0.95,
      },
    ],
    best: 'fer',
    notes: [],
  });
  // The fine-tuned model's own report (its validation split) must not be shown under FER2013.
  const cols = summaryColumns({ reports: { fer: report(0.66, FER, 512), tuned: report(0.89, PERSONAL, 5) }, comparison, realFaces });
  const byName = Object.fromEntries(cols.map((c) => [c.name, c]));

  it("one column per set: the comparison's, then the real faces", () => {
    expect(cols.map((c) => c.name)).toEqual(['FER2013 PrivateTest', 'jaffe validation split', 'Real faces: jaffe']);
    expect(cols.map((c) => c.size)).toEqual([3584, 35, 192]);
    expect(byName['FER2013 PrivateTest']!.cells.tuned).toBeUndefined();
    expect(byName['jaffe validation split']!.cells.tuned!.accuracy).toBe(0.89);
  });

  it("the same photos read against each person's neutral face get a column of their own, after the plain one", () => {
    const moved = { ...realFaces, models: realFaces.models.map((m) => (m.id === 'fer' ? { ...m, accuracy: 0.6 } : m)) };
    const auto = { ...realFaces, models: realFaces.models.map((m) => (m.id === 'fer' ? { ...m, accuracy: 0.58 } : m)) };
    const both = summaryColumns({ reports: {}, realFaces, realFacesNeutral: moved, realFacesNeutralAuto: auto });
    expect(both.map((c) => [c.name, c.source])).toEqual([
      ['Real faces: jaffe', 'models/real-faces.json'],
      ['Real faces: jaffe, own neutral face', 'models/real-faces-neutral.json'],
      ['Real faces: jaffe, own neutral face, no labels', 'models/real-faces-neutral-auto.json'],
    ]);
    expect(both[1]!.cells.fer).toMatchObject({ accuracy: 0.6, best: true });
    expect(both[2]!.cells.fer).toMatchObject({ accuracy: 0.58, best: true });
    expect(both[0]!.cells.fer!.accuracy).toBe(0.52);
  });

  it('the real-face column marks in-sample models and never names one best', () => {
    const rf = byName['Real faces: jaffe']!;
    expect(rf.cells.tuned).toMatchObject({ accuracy: 0.95, inSample: true, best: false, note: 'trained on jaffe' });
    expect(rf.cells.fer).toMatchObject({ accuracy: 0.52, inSample: false, best: true });
    // Even a file that names an in-sample model best does not make it best here.
    const bad = summaryColumns({ reports: {}, realFaces: { ...realFaces, best: 'tuned' } as RealFacesResult });
    expect(bad[0]!.cells.tuned!.best).toBe(false);
  });

  it("the comparison's leader is best in its column (several on a tie)", () => {
    expect(byName['jaffe validation split']!.cells.tuned!.best).toBe(true);
    expect(byName['jaffe validation split']!.cells.fer!.best).toBe(false);
    // Alone in its column: nothing to be best against.
    expect(byName['FER2013 PrivateTest']!.cells.fer!.best).toBe(false);
  });
});

describe('parseRealFaces', () => {
  it('reads the committed models/real-faces.json', () => {
    const file = join(ROOT, 'models/real-faces.json');
    const rf = parseRealFaces(JSON.parse(readFileSync(file, 'utf8')), file);
    expect(rf.counts.scored).toBeGreaterThan(0);
    expect(rf.models.length).toBeGreaterThan(0);
  });

  it('reads the committed models/real-faces-neutral.json: the same photos, the general models moved, the in-sample ones as they were', () => {
    const plain = parseRealFaces(JSON.parse(readFileSync(join(ROOT, 'models/real-faces.json'), 'utf8')));
    const file = join(ROOT, 'models/real-faces-neutral.json');
    const rf = parseRealFaces(JSON.parse(readFileSync(file, 'utf8')), file);
    expect(rf.neutralBaseline).toBeDefined();
    expect(rf.counts).toEqual(plain.counts);
    const moved = new Set(rf.neutralBaseline!.models);
    for (const m of rf.models) {
      const before = plain.models.find((p) => p.id === m.id)!;
      // In-sample models have no reference and are scored as they are.
      if (!moved.has(m.id)) expect(m.accuracy, m.id).toBe(before.accuracy);
      else expect(m.inSample, m.id).toBe(false);
    }
    expect(moved.size).toBeGreaterThanOrEqual(6);
  });

  it('names the file and the field at fault, and how to fix it', () => {
    const ok = { version: 1, set: 'jaffe', counts: { labelled: 1, scored: 1, withFace: 1, noFace: 0 }, models: [], best: null, notes: [] };
    expect(parseRealFaces(ok, 'x.json').set).toBe('jaffe');
    expect(() => parseRealFaces({ ...ok, version: 2 }, 'x.json')).toThrow(/^x\.json: not a version 1.*npm run evaluate -- --faces/);
    expect(() => parseRealFaces({ ...ok, counts: { scored: -1 } }, 'x.json')).toThrow(/x\.json: "counts"/);
    const model = { id: 'm', name: 'M', inSample: 'yes', images: 1, correct: 1, accuracy: 1, macroF1: 1 };
    expect(() => parseRealFaces({ ...ok, models: [model] }, 'x.json')).toThrow(/models\[0\] \(m\): "inSample"/);
    expect(() => parseRealFaces({ ...ok, models: [{ ...model, inSample: false, accuracy: 1.5 }] }, 'x.json')).toThrow(/"accuracy"/);
    expect(() => parseRealFaces({ ...ok, best: 'ghost' }, 'x.json')).toThrow(/"best" must be null or one of/);
  });
});
