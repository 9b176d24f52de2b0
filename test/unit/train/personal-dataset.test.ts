import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EMOTIONS } from '../../../src/core/labels.ts';
import { LABEL_ALIASES, labelFromFolderName } from '../../../src/core/label-aliases.ts';
import {
  expectedLayout,
  leaveOneSubjectOutFolds,
  parseUnknownLabels,
  repeatedStratifiedSplits,
  scanPersonalFolder,
  stratifiedSplit,
  subjectFromFileName,
} from '../../../src/train/data/personal-dataset.ts';

describe('labelFromFolderName', () => {
  const expected: [string, number][] = [
    ['angry', 0],
    ['anger', 0],
    ['disgust', 1],
    ['disgusted', 1],
    ['fear', 2],
    ['fearful', 2],
    ['afraid', 2],
    ['scared', 2],
    ['happy', 3],
    ['happiness', 3],
    ['joy', 3],
    ['sad', 4],
    ['sadness', 4],
    ['surprise', 5],
    ['surprised', 5],
    ['neutral', 6],
    ['calm', 6],
  ];
  it.each(expected)('%s -> %i', (name, label) => {
    expect(labelFromFolderName(name)).toBe(label);
    expect(labelFromFolderName(name.toUpperCase())).toBe(label);
    expect(labelFromFolderName(name[0]!.toUpperCase() + name.slice(1))).toBe(label);
  });

  it('covers every alias in the table and each canonical name first', () => {
    expect(expected.length).toBe(Object.values(LABEL_ALIASES).flat().length);
    EMOTIONS.forEach((e, i) => {
      expect(LABEL_ALIASES[e][0]).toBe(e);
      expect(labelFromFolderName(e)).toBe(i);
    });
  });

  it('ignores surrounding white space; unknown names give undefined', () => {
    expect(labelFromFolderName('  Happy ')).toBe(3);
    for (const name of ['unknown', 'Unknown', '', 'happy1', 'hap py', 'contempt', '3', 'angry/']) {
      expect(labelFromFolderName(name), name).toBeUndefined();
    }
  });
});

describe('subjectFromFileName', () => {
  it('reads the subject of JAFFE names', () => {
    expect(subjectFromFileName('KA.AN1.39.tiff')).toBe('KA');
    expect(subjectFromFileName('KA.AN2.40.png')).toBe('KA');
    expect(subjectFromFileName('YM.SU3.60.jpg')).toBe('YM');
    expect(subjectFromFileName('NM.FE1.110')).toBe('NM');
    expect(subjectFromFileName('angry/KL.AN2.168.png')).toBe('KL');
  });

  it('gives undefined for other names', () => {
    for (const name of [
      'IMG_0042.jpg',
      'me.smile.png',
      'unknown_01.png',
      'KA.AN.39.png',
      'KA.ANG1.39.png',
      'K1.AN1.39.png',
      '.AN1.39.png',
      'KA.AN1.png',
    ]) {
      expect(subjectFromFileName(name), name).toBeUndefined();
    }
  });
});

describe('scanPersonalFolder on a fixture tree', () => {
  let dir: string;
  const touch = (rel: string, body = 'x') => {
    const p = join(dir, rel);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, body);
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'personal-'));
    touch('Happiness/b.JPG');
    touch('Happiness/a.png');
    touch('Happiness/notes.txt');
    touch('Happiness/.DS_Store');
    touch('sad/KA.SA1.33.jpeg');
    touch('sad/deeper/c.png');
    touch('happy/z.jpg'); // two folders for one class: both count
    touch('unknown/u2.png');
    touch('unknown/u1.JPEG');
    touch('unknown/readme.md');
    touch('misc/m.png');
    touch('stray.png');
    touch('README.md');
    touch('unknown_labels.csv', 'file,label\r\nu1.JPEG,Joy\r\nunknown/u2.png,4\r\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists labelled images, other folders, unknown/ and skipped files', async () => {
    const scan = await scanPersonalFolder(dir);
    expect(scan.dir).toBe(resolve(dir));
    expect(scan.items).toEqual([
      { path: join(dir, 'Happiness', 'a.png'), label: 3 },
      { path: join(dir, 'Happiness', 'b.JPG'), label: 3 },
      { path: join(dir, 'happy', 'z.jpg'), label: 3 },
      { path: join(dir, 'sad', 'KA.SA1.33.jpeg'), label: 4, subject: 'KA' },
    ]);
    expect(scan.classesPresent).toEqual([3, 4]); // the other five classes are missing
    expect(scan.ignoredFolders).toEqual(['misc', 'unknown']);
    expect(scan.unknown).toEqual([join(dir, 'unknown', 'u1.JPEG'), join(dir, 'unknown', 'u2.png')]);
    expect(scan.unknownLabels).toEqual(
      new Map([
        ['u1.JPEG', 3],
        ['u2.png', 4],
      ]),
    );
    expect(scan.skippedFiles.map((s) => s.path).sort()).toEqual(
      [join(dir, 'Happiness', 'notes.txt'), join(dir, 'sad', 'deeper'), join(dir, 'stray.png'), join(dir, 'unknown', 'readme.md')].sort(),
    );
    expect(scan.skippedFiles.find((s) => s.path.endsWith('notes.txt'))!.reason).toMatch(/not an image/);
    expect(scan.skippedFiles.find((s) => s.path.endsWith('deeper'))!.reason).toMatch(/subfolder/);
  });

  it('has no unknownLabels without the CSV', async () => {
    const d = mkdtempSync(join(tmpdir(), 'personal-'));
    try {
      mkdirSync(join(d, 'calm'));
      writeFileSync(join(d, 'calm', 'x.png'), 'x');
      const scan = await scanPersonalFolder(d);
      expect(scan.unknownLabels).toBeUndefined();
      expect(scan.unknown).toEqual([]);
      expect(scan.items).toEqual([{ path: join(d, 'calm', 'x.png'), label: 6 }]);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('names the folder and shows the layout when it is missing', async () => {
    const missing = join(dir, 'nope');
    const err = await scanPersonalFolder(missing).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(missing);
    expect((err as Error).message).toContain('Expected layout');
    expect((err as Error).message).toContain('unknown/');
  });

  it('names the folder and shows the layout when nothing is labelled', async () => {
    const d = mkdtempSync(join(tmpdir(), 'personal-'));
    try {
      mkdirSync(join(d, 'unknown'));
      writeFileSync(join(d, 'unknown', 'a.png'), 'x');
      mkdirSync(join(d, 'happy'));
      writeFileSync(join(d, 'happy', 'a.gif'), 'x');
      const err = await scanPersonalFolder(d).catch((e: Error) => e);
      expect((err as Error).message).toContain(`No labelled images in ${resolve(d)}`);
      expect((err as Error).message).toContain('unknown/');
      expect((err as Error).message).toContain(expectedLayout(resolve(d)));
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('rejects a bad unknown_labels.csv line with its line number', () => {
    expect(() => parseUnknownLabels('file,label\na.png,fear\nb.png,contempt\n', 'k.csv')).toThrow(/k\.csv:3/);
    expect(() => parseUnknownLabels('a.png,7')).toThrow(/:1/);
    expect(parseUnknownLabels('"a,1.png", Surprised\n')).toEqual(new Map([['a,1.png', 5]]));
  });
});

describe('splits', () => {
  // 7 classes with uneven counts, one class with a single item.
  const labels = [...Array(20).fill(0), ...Array(9).fill(3), ...Array(2).fill(4), 6, ...Array(5).fill(5)].map(Number);
  // Interleave so that indices of a class are not contiguous.
  const mixed = labels.map((_, i) => labels[(i * 7) % labels.length]!);

  it('is deterministic for a seed and changes with the seed', () => {
    const a = stratifiedSplit(mixed, 0.25, 42);
    expect(stratifiedSplit(mixed, 0.25, 42)).toEqual(a);
    const others = [1, 2, 3, 4].map((s) => stratifiedSplit(mixed, 0.25, s));
    expect(others.some((o) => JSON.stringify(o) !== JSON.stringify(a))).toBe(true);
  });

  it('is disjoint, covers every index, sorted', () => {
    const { train, val } = stratifiedSplit(mixed, 0.3, 7);
    expect(new Set([...train, ...val]).size).toBe(mixed.length);
    expect(train.length + val.length).toBe(mixed.length);
    expect([...train].sort((x, y) => x - y)).toEqual(train);
    expect([...val].sort((x, y) => x - y)).toEqual(val);
  });

  it('is per-class proportional, at least one per part for classes with >= 2 items', () => {
    for (const seed of [0, 1, 99]) {
      const { train, val } = stratifiedSplit(mixed, 0.25, seed);
      const count = (idx: number[], c: number) => idx.filter((i) => mixed[i] === c).length;
      expect(count(val, 0)).toBe(5); // round(20 * 0.25)
      expect(count(val, 3)).toBe(2); // round(9 * 0.25) = 2
      expect(count(val, 4)).toBe(1); // 2 items: one each side
      expect(count(train, 4)).toBe(1);
      expect(count(val, 5)).toBe(1); // round(1.25)
      expect(count(val, 6)).toBe(0); // a single item stays in train
      expect(count(train, 6)).toBe(1);
    }
    // A large fraction still leaves one item of each class in train.
    const { train } = stratifiedSplit([1, 1, 1, 2, 2], 0.9, 3);
    expect(train.map((i) => [1, 1, 1, 2, 2][i]).sort()).toEqual([1, 2]);
  });

  it('rejects a fraction outside (0, 1)', () => {
    expect(() => stratifiedSplit([0, 1], 0, 1)).toThrow(RangeError);
    expect(() => stratifiedSplit([0, 1], 1, 1)).toThrow(RangeError);
  });

  it('repeated splits are deterministic, each stratified, and differ from each other', () => {
    const a = repeatedStratifiedSplits(mixed, 0.25, 5, 123);
    expect(a).toHaveLength(5);
    expect(repeatedStratifiedSplits(mixed, 0.25, 5, 123)).toEqual(a);
    expect(new Set(a.map((s) => JSON.stringify(s.val))).size).toBeGreaterThan(1);
    for (const s of a) {
      expect(s.val.filter((i) => mixed[i] === 0)).toHaveLength(5);
      expect(s.train.length + s.val.length).toBe(mixed.length);
    }
    expect(() => repeatedStratifiedSplits(mixed, 0.25, 0, 1)).toThrow(RangeError);
  });

  it('leave-one-subject-out holds out exactly one subject per fold', () => {
    const subjects = ['KA', 'KL', undefined, 'KA', 'YM', 'KL'];
    const folds = leaveOneSubjectOutFolds(subjects);
    expect(folds.map((f) => f.subject)).toEqual(['KA', 'KL', 'YM']);
    expect(folds[0]).toEqual({ subject: 'KA', train: [1, 2, 4, 5], val: [0, 3] });
    for (const f of folds) {
      expect(f.val.every((i) => subjects[i] === f.subject)).toBe(true);
      expect(f.train.some((i) => subjects[i] === f.subject)).toBe(false);
      expect(f.train).toContain(2);
    }
    expect(() => leaveOneSubjectOutFolds(['KA', 'KA', undefined])).toThrow(/at least 2 subjects/);
  });
});
