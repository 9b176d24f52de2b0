/**
 * The real-face evaluation (src/train/faces) without a browser: scoring by hand, in-sample marking
 * and usage errors (exit 2 before any browser work). The run on JAFFE photos:
 * test/integration/faces-eval.test.ts.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EMOTIONS, type Emotion } from '../../../src/core/labels.ts';
import { facesCommand } from '../../../src/train/faces/command.ts';
import { bestOutOfSample, inSampleFor, scoreModel, type EvaluatedImage } from '../../../src/train/faces/evaluate-faces.ts';
import { grayPng } from '../../helpers/png.ts';

const img = (
  file: string,
  label: Emotion,
  outcome: EvaluatedImage['outcome'],
  predicted: Record<string, Emotion> = {},
): EvaluatedImage => ({
  file,
  label,
  outcome,
  faces: outcome === 'face' ? 1 : 0,
  predicted,
});

describe('scoring', () => {
  // 6 files: one unreadable (left out), one without a face (wrong), 3 of the 4 faces right for "m".
  const images = [
    img('happy/1.png', 'happy', 'face', { m: 'happy' }),
    img('happy/2.png', 'happy', 'face', { m: 'sad' }),
    img('sad/1.png', 'sad', 'face', { m: 'sad' }),
    img('sad/blank.png', 'sad', 'no-face'),
    img('angry/1.png', 'angry', 'face', { m: 'angry' }),
    img('angry/broken.jpg', 'angry', 'unreadable'),
  ];

  it('counts a photo with no face as wrong and leaves unreadable files out (hand computation)', () => {
    const s = scoreModel(images, 'm');
    expect(s.images).toBe(5);
    expect(s.correct).toBe(3);
    expect(s.noFace).toBe(1);
    expect(s.accuracy).toBeCloseTo(3 / 5, 12);
    // Recall: happy 1/2, sad 1/2 (the blank photo is a miss), angry 1/1. Precision: happy 1/1,
    // sad 1/2, angry 1/1 (no emotion is charged for the photo without a face).
    expect(s.recall).toEqual({ angry: 1, disgust: null, fear: null, happy: 0.5, sad: 0.5, surprise: null, neutral: null });
    const f1 = { happy: (2 * 1 * 0.5) / 1.5, sad: 0.5, angry: 1 };
    expect(s.macroF1).toBeCloseTo((f1.happy + f1.sad + f1.angry) / 3, 12);
    const row = (e: Emotion) => s.confusion[EMOTIONS.indexOf(e)]!;
    expect(s.confusion).toHaveLength(7);
    expect(row('happy')).toEqual([0, 0, 0, 1, 1, 0, 0, 0]);
    expect(row('sad')).toEqual([0, 0, 0, 0, 1, 0, 0, 1]);
    expect(row('angry')).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("counts a face without the model's answer as wrong too", () => {
    const s = scoreModel(images, 'other');
    expect(s.correct).toBe(0);
    expect(s.noPrediction).toBe(4);
    expect(s.accuracy).toBe(0);
    expect(s.confusion.map((r) => r[7])).toEqual([1, 0, 0, 2, 2, 0, 0]);
  });

  it('names the most accurate out-of-sample model best, never an in-sample or unknown one', () => {
    const m = (id: string, accuracy: number, inSample: boolean | null, macroF1 = 0.5) => ({ id, accuracy, macroF1, inSample });
    expect(bestOutOfSample([m('a', 0.5, false), m('tuned', 0.9, true), m('mystery', 0.8, null), m('b', 0.6, false)])).toBe('b');
    expect(bestOutOfSample([m('a', 0.6, false, 0.4), m('b', 0.6, false, 0.45)])).toBe('b');
    expect(bestOutOfSample([m('tuned', 0.9, true)])).toBeNull();
  });
});

describe('in-sample marking', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'faces-insample-'));
    await mkdir(join(root, 'set', 'happy'), { recursive: true });
    await mkdir(join(root, 'other'));
    await symlink(join(root, 'set'), join(root, 'link'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('compares real paths: the same folder, one inside the other, through a link', () => {
    const set = join(root, 'set');
    expect(inSampleFor(set, { name: 'set', path: set }).inSample).toBe(true);
    expect(inSampleFor(set, { name: 'x', path: join(root, 'link') }).inSample).toBe(true);
    expect(inSampleFor(join(set, 'happy'), { name: 'set', path: set }).inSample).toBe(true);
    expect(inSampleFor(set, { name: 'happy', path: join(set, 'happy') }).inSample).toBe(true);
    expect(inSampleFor(set, { name: 'other', path: join(root, 'other') }).inSample).toBe(false);
    // A sibling whose name starts like the folder is not inside it.
    expect(inSampleFor(set, { name: 'settle', path: join(root, 'settle') }).inSample).toBe(false);
    expect(inSampleFor(set, { name: 'FER2013', path: join(root, 'fer2013.csv.gz') }).inSample).toBe(false);
  });

  it("takes a recorded path that is not on this machine as in-sample when the set has the folder's name", () => {
    const r = inSampleFor(join(root, 'set'), { name: 'set', path: '/elsewhere/set' });
    expect(r.inSample).toBe(true);
    expect(r.reason).toMatch(/not found here/);
    expect(inSampleFor(join(root, 'set'), { name: 'FER2013', path: '/elsewhere/fer2013.csv' }).inSample).toBe(false);
  });

  it('says unknown when the report records no training data', () => {
    const r = inSampleFor(join(root, 'set'), null, 'models/x/report.json cannot be read');
    expect(r.inSample).toBeNull();
    expect(r.reason).toContain('models/x/report.json cannot be read');
  });
});

describe('usage errors exit 2 before any browser work', () => {
  let empty: string;
  beforeAll(async () => {
    empty = await mkdtemp(join(tmpdir(), 'faces-usage-'));
    await mkdir(join(empty, 'unknown'));
    await writeFile(
      join(empty, 'unknown', 'a.png'),
      grayPng(8, 8, () => 0),
    );
  });
  afterAll(() => rm(empty, { recursive: true, force: true }));

  it.each([
    ['no --faces', [], /--faces needs a folder/],
    ['an unknown option', ['--faces', '.', '--bogus'], /unknown option --bogus/],
    ['a missing folder', ['--faces', '/no/such/folder'], /\/no\/such\/folder is not a folder/],
    ['--out without .json', ['--faces', '.', '--out', 'result.txt'], /--out must name a \.json file/],
    ['a models folder without index.json', ['--faces', '.', '--models', tmpdir()], /index\.json not found/],
    [
      '--subject without --neutral-baseline',
      ['--faces', '.', '--subject', '^(..)'],
      /--subject .*add --neutral-baseline, or leave --subject out/,
    ],
    ['--auto-neutral without --neutral-baseline', ['--faces', '.', '--auto-neutral'], /--auto-neutral .*add --neutral-baseline/],
    [
      'a --subject that is no regular expression',
      ['--faces', '.', '--neutral-baseline', '--subject', '^(..'],
      /--subject "\^\(\.\." is not a regular expression/,
    ],
    ['a --subject without a group', ['--faces', '.', '--neutral-baseline', '--subject', '^..'], /--subject "\^\.\." has no capture group/],
    ['--neutral-baseline with a value', ['--faces', '.', '--neutral-baseline=yes'], /--neutral-baseline takes no value/],
  ])('%s', async (_name, argv, message) => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(await facesCommand(argv as string[])).toBe(2);
      expect(errors.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(message);
    } finally {
      errors.mockRestore();
    }
  });

  it('a folder with only unknown/ photos', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(await facesCommand(['--faces', empty])).toBe(2);
      expect(errors.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(
        /no labelled photos in .*: put them in folders named after their emotion/,
      );
    } finally {
      errors.mockRestore();
    }
  });
});
