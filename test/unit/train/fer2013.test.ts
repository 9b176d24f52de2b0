import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadFer2013, resolveFer2013Path, describeLoad, Fer2013NotFoundError } from '../../../src/train/data/fer2013.ts';
import { IMAGE_PIXELS } from '../../../src/core/labels.ts';

const HEADER = 'emotion,pixels,Usage';

/** Deterministic pixel row: value at i = (seed * 31 + i * 7) % 256. */
function pixelValues(seed: number): number[] {
  return Array.from({ length: IMAGE_PIXELS }, (_, i) => (seed * 31 + i * 7) % 256);
}
function row(emotion: number | string, seed: number, usage: string): string {
  return `${emotion},${pixelValues(seed).join(' ')},${usage}`;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fer2013-test-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, lines: string[], gzip = false): string {
  const p = join(dir, name);
  const text = lines.join('\n') + '\n';
  writeFileSync(p, gzip ? gzipSync(text) : text);
  return p;
}

/** n good rows cycling through splits and emotions. */
function goodRows(n: number): string[] {
  const usages = ['Training', 'PublicTest', 'PrivateTest'];
  return Array.from({ length: n }, (_, i) => row(i % 7, i, usages[i % 3]!));
}

describe('loadFer2013: good rows', () => {
  it('packs pixels, labels and splits', async () => {
    const p = write('good.csv', [HEADER, row(3, 1, 'Training'), row(0, 2, 'PublicTest'), row(6, 3, 'Training'), row(5, 4, 'PrivateTest')]);
    const r = await loadFer2013(p);
    expect(r.totalRows).toBe(4);
    expect(r.badRows).toBe(0);
    expect(r.badLines).toEqual([]);
    expect(r.train.count).toBe(2);
    expect(r.val.count).toBe(1);
    expect(r.test.count).toBe(1);
    expect([...r.train.labels]).toEqual([3, 6]);
    expect([...r.val.labels]).toEqual([0]);
    expect([...r.test.labels]).toEqual([5]);
    expect(r.train.pixels.length).toBe(2 * IMAGE_PIXELS);
    expect([...r.train.pixels.subarray(0, IMAGE_PIXELS)]).toEqual(pixelValues(1));
    expect([...r.train.pixels.subarray(IMAGE_PIXELS)]).toEqual(pixelValues(3));
    expect([...r.val.pixels]).toEqual(pixelValues(2));
    expect([...r.test.pixels]).toEqual(pixelValues(4));
    // Extremes survive.
    expect(r.train.pixels).toContain(0);
    expect(r.train.pixels).toContain(255);
  });

  it('grows buffers past the initial capacity and honours limitPerSplit', async () => {
    const rows = goodRows(3300); // 1100 per split > initial capacity 1024
    const p = write('many.csv', [HEADER, ...rows]);
    const progress: number[] = [];
    const r = await loadFer2013(p, { onProgress: (n) => progress.push(n) });
    expect(r.train.count).toBe(1100);
    expect(r.val.count).toBe(1100);
    expect(r.test.count).toBe(1100);
    expect(r.train.pixels.length).toBe(1100 * IMAGE_PIXELS);
    // Row 3297 (0-based) is Training (3297 % 3 == 0), the 1100th training row, label 3297 % 7.
    expect(r.train.labels[1099]).toBe(3297 % 7);
    expect([...r.train.pixels.subarray(1099 * IMAGE_PIXELS, 1100 * IMAGE_PIXELS)]).toEqual(pixelValues(3297));
    expect(progress[progress.length - 1]).toBe(3300);

    const lim = await loadFer2013(p, { limitPerSplit: 5 });
    expect([lim.train.count, lim.val.count, lim.test.count]).toEqual([5, 5, 5]);
    expect(lim.totalRows).toBe(3300);
    expect([...lim.val.labels]).toEqual([1, 4, 0, 3, 6]); // rows 1,4,7,10,13 mod 7
  });

  it('names a truncated or corrupt .csv.gz and says what is wrong (not just "unexpected end of file")', async () => {
    const lines = [HEADER, ...Array.from({ length: 40 }, (_, i) => row(i % 7, i, 'Training'))];
    const whole = gzipSync(lines.join('\n') + '\n');
    const truncated = join(dir, 'truncated.csv.gz');
    writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
    await expect(loadFer2013(truncated)).rejects.toThrow(
      `${truncated}: could not be decompressed (unexpected end of file): the gzip file looks truncated or corrupt`,
    );
    const garbage = join(dir, 'garbage.csv.gz');
    writeFileSync(garbage, Buffer.concat([whole.subarray(0, 10), Buffer.alloc(200, 0xab)]));
    const error = (await loadFer2013(garbage).catch((e: Error) => e)) as Error;
    expect(error.message.startsWith(`${garbage}: could not be decompressed (`)).toBe(true);
    expect(error.message).toMatch(/the gzip file looks truncated or corrupt/);
  });

  it('refuses a path that is not a regular file (a folder, a FIFO) instead of blocking on it', async () => {
    await expect(loadFer2013(dir)).rejects.toThrow(`${dir} is not a regular file`);
    const fifo = join(dir, 'pipe.csv');
    if (process.platform !== 'win32' && spawnSync('mkfifo', [fifo]).status === 0) {
      await expect(loadFer2013(fifo)).rejects.toThrow(`${fifo} is not a regular file`);
    }
  });

  it('reads .gz (by extension and by magic bytes) and CRLF line endings', async () => {
    const lines = [HEADER, row(2, 9, 'Training'), row(4, 10, 'PrivateTest')];
    const plain = await loadFer2013(write('a.csv', lines));
    const gz = await loadFer2013(write('a.csv.gz', lines, true));
    const gzNoExt = await loadFer2013(write('a-gz-without-ext.csv', lines, true));
    const crlf = join(dir, 'crlf.csv');
    writeFileSync(crlf, lines.join('\r\n') + '\r\n');
    const crlfR = await loadFer2013(crlf);
    for (const r of [gz, gzNoExt, crlfR]) {
      expect(r.badRows).toBe(0);
      expect([...r.train.labels]).toEqual([...plain.train.labels]);
      expect([...r.test.labels]).toEqual([...plain.test.labels]);
      expect(Buffer.from(r.train.pixels).equals(Buffer.from(plain.train.pixels))).toBe(true);
      expect(Buffer.from(r.test.pixels).equals(Buffer.from(plain.test.pixels))).toBe(true);
    }
  });
});

describe('loadFer2013: bad rows', () => {
  const shortPixels = pixelValues(0)
    .slice(0, IMAGE_PIXELS - 1)
    .join(' ');
  const longPixels = [...pixelValues(0), 5].join(' ');
  const withPixel = (v: string): string => {
    const px = pixelValues(0).map(String);
    px[100] = v;
    return px.join(' ');
  };
  // [row, expected reason fragment]
  const badCases: [string, RegExp][] = [
    [`3,${pixelValues(0).join(' ')}`, /expected 3 fields.*got 2/],
    [`3,${pixelValues(0).join(' ')},Training,extra`, /expected 3 fields.*got 4/],
    [row(7, 0, 'Training'), /emotion 7 is out of range/],
    [row(-1, 0, 'Training'), /emotion is not an integer/],
    [row('2.5', 0, 'Training'), /emotion is not an integer/],
    [row('x', 0, 'Training'), /emotion is not an integer/],
    [`1,${shortPixels},Training`, /expected 2304 pixels, got 2303/],
    [`1,${longPixels},Training`, /expected 2304 pixels, got 2305/],
    [`1,,Training`, /expected 2304 pixels, got 0/],
    [`1,${withPixel('256')},Training`, /pixel 101 is out of range/],
    [`1,${withPixel('-3')},Training`, /pixel 101 is out of range/],
    [`1,${withPixel('12.5')},Training`, /pixel 101 is not an integer/],
    [`1,${withPixel('abc')},Training`, /pixel 101 is not an integer/],
    [row(1, 0, 'Validation'), /unknown Usage "Validation"/],
    [row(1, 0, ''), /unknown Usage/],
  ];

  it('skips each kind of bad row and reports it with its line number', async () => {
    const good = goodRows(2000);
    // Interleave: bad case k goes right after good row 100*k.
    const lines = [HEADER];
    const expected: { line: number; re: RegExp }[] = [];
    let k = 0;
    for (let i = 0; i < good.length; i++) {
      lines.push(good[i]!);
      if (i % 100 === 50 && k < badCases.length) {
        lines.push(badCases[k]![0]);
        expected.push({ line: lines.length, re: badCases[k]![1] });
        k++;
      }
    }
    expect(k).toBe(badCases.length);
    const p = write('bad.csv', lines);
    // 15 bad of 2015 rows is 0.74% < 1%.
    const r = await loadFer2013(p);
    expect(r.totalRows).toBe(2000 + badCases.length);
    expect(r.badRows).toBe(badCases.length);
    expect(r.train.count + r.val.count + r.test.count).toBe(2000);
    expect(r.badLines.map((b) => b.line)).toEqual(expected.map((e) => e.line));
    r.badLines.forEach((b, i) => expect(b.reason).toMatch(expected[i]!.re));
    // The good rows around bad ones are intact.
    expect([...r.train.labels.subarray(0, 3)]).toEqual([0, 3, 6]);
    const d = describeLoad(r);
    expect(d).toMatch(/bad rows: 15 skipped/);
    expect(d).toContain(`line ${expected[0]!.line}`);
  });

  it('keeps only the first 20 bad lines', async () => {
    const lines = [HEADER, ...goodRows(3000)];
    for (let i = 0; i < 25; i++) lines.push(row(9, i, 'Training'));
    const r = await loadFer2013(write('many-bad.csv', lines));
    expect(r.badRows).toBe(25);
    expect(r.badLines).toHaveLength(20);
    expect(r.badLines[0]!.line).toBe(3002);
  });

  it('aborts when more than 1% of rows are bad, naming count and first lines', async () => {
    const lines = [HEADER, ...goodRows(97), row(8, 0, 'Training'), row(1, 0, 'Nope'), `1,2,3,4`];
    const p = write('too-bad.csv', lines);
    const err = await loadFer2013(p).then(
      () => null,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toMatch(/3 of 100 rows are invalid/);
    expect(err!.message).toContain('line 99: emotion 8 is out of range');
    expect(err!.message).toContain('line 100: unknown Usage');
    expect(err!.message).toContain('line 101: expected 3 fields');
    // A higher threshold lets it through.
    const r = await loadFer2013(p, { maxBadFraction: 0.05 });
    expect(r.badRows).toBe(3);
  });

  it('rejects a wrong header with a clear error', async () => {
    const p = write('noheader.csv', [row(1, 0, 'Training')]);
    await expect(loadFer2013(p)).rejects.toThrow(/line 1 should be the FER2013 header "emotion,pixels,Usage"/);
    const p2 = write('otherheader.csv', ['label,image,split', row(1, 0, 'Training')]);
    await expect(loadFer2013(p2)).rejects.toThrow(/"label,image,split"/);
    const empty = join(dir, 'empty.csv');
    writeFileSync(empty, '');
    await expect(loadFer2013(empty)).rejects.toThrow(/empty/);
  });
});

describe('resolveFer2013Path', () => {
  it('returns an explicit path that exists and rejects one that does not', () => {
    const p = write('explicit.csv', [HEADER]);
    expect(resolveFer2013Path(p)).toBe(p);
    const missing = join(dir, 'nope', 'fer.csv');
    expect(() => resolveFer2013Path(missing)).toThrow(Fer2013NotFoundError);
    expect(() => resolveFer2013Path(missing)).toThrow(missing);
  });

  it('finds candidates in order', () => {
    const root = join(dir, 'proj');
    const repo = join(root, 'repo');
    mkdirSync(join(repo, 'data'), { recursive: true });
    mkdirSync(join(root, 'shared', 'data', 'fer2013'), { recursive: true });
    const shared = join(root, 'shared', 'data', 'fer2013', 'fer2013.csv.gz');
    writeFileSync(shared, gzipSync(HEADER + '\n'));
    expect(resolveFer2013Path(undefined, repo)).toBe(shared);
    const local = join(repo, 'data', 'fer2013.csv.gz');
    writeFileSync(local, gzipSync(HEADER + '\n'));
    expect(resolveFer2013Path(undefined, repo)).toBe(local);
    const localPlain = join(repo, 'data', 'fer2013.csv');
    writeFileSync(localPlain, HEADER + '\n');
    expect(resolveFer2013Path(undefined, repo)).toBe(localPlain);
  });

  it('explains where to get FER2013 when nothing is found', () => {
    const empty = join(dir, 'emptyproj', 'repo');
    mkdirSync(empty, { recursive: true });
    let err: unknown;
    try {
      resolveFer2013Path(undefined, empty);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Fer2013NotFoundError);
    const msg = (err as Error).message;
    for (const rel of [
      'data/fer2013.csv',
      'data/fer2013.csv.gz',
      'shared/data/fer2013/fer2013.csv',
      'shared/data/fer2013/fer2013.csv.gz',
    ]) {
      expect(msg).toContain(join(resolve(empty, rel.startsWith('shared') ? '..' : '.'), rel));
    }
    expect(msg).toContain('Kaggle');
    expect(msg).toContain('Challenges in Representation Learning: Facial');
    expect(msg).toContain('fer2013.csv');
    expect(msg).toContain('emotion,pixels,Usage');
    expect(msg).toContain('2304');
    expect(msg).toContain('0..255');
    expect(msg).toContain('0..6');
    expect(msg).toMatch(/Training, PublicTest or PrivateTest/);
    expect(msg).toContain('--data PATH');
  });
});
