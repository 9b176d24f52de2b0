/**
 * FER2013 loader (Kaggle CSV: header `emotion,pixels,Usage`, one image per row).
 *
 * Streams the file (plain or gzip), validates every row and packs each split into
 * flat Uint8Arrays (count * 2304 pixels, row-major 48x48, plus one label per image).
 */
import { createReadStream, existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { IMAGE_PIXELS, NUM_CLASSES, EMOTIONS } from '../../core/labels.ts';

export interface Fer2013Split {
  /** count * 2304 gray values, row-major, image after image. */
  pixels: Uint8Array;
  /** One label (0..6, see EMOTIONS) per image. */
  labels: Uint8Array;
  count: number;
}

export interface BadLine {
  /** 1-based line number in the file (the header is line 1). */
  line: number;
  reason: string;
}

export interface Fer2013Data {
  path: string;
  /** Usage = Training */
  train: Fer2013Split;
  /** Usage = PublicTest */
  val: Fer2013Split;
  /** Usage = PrivateTest */
  test: Fer2013Split;
  /** Data rows seen (header and empty lines excluded), good and bad. */
  totalRows: number;
  badRows: number;
  /** The first 20 bad rows. */
  badLines: BadLine[];
}

export interface LoadFer2013Options {
  /** Called every few thousand rows and once at the end with the number of data rows read. */
  onProgress?: (rows: number) => void;
  /** Abort if more than this fraction of data rows is bad (default 0.01). */
  maxBadFraction?: number;
  /** Keep at most this many rows per split (the rest is still read and validated). */
  limitPerSplit?: number;
}

export const FER2013_HEADER = 'emotion,pixels,Usage';
export const FER2013_USAGES = ['Training', 'PublicTest', 'PrivateTest'] as const;
export type Fer2013Usage = (typeof FER2013_USAGES)[number];

const MAX_BAD_LINES_KEPT = 20;
const PROGRESS_EVERY = 2000;

/** Candidate locations, relative to the working directory, in lookup order. */
export const FER2013_CANDIDATES = [
  './data/fer2013.csv',
  './data/fer2013.csv.gz',
  '../shared/data/fer2013/fer2013.csv',
  '../shared/data/fer2013/fer2013.csv.gz',
] as const;

export class Fer2013NotFoundError extends Error {
  readonly tried: string[];
  constructor(tried: string[], explicit?: string) {
    const lines: string[] = [];
    if (explicit !== undefined) {
      lines.push(`FER2013 data file not found: ${explicit}`);
    } else {
      lines.push('FER2013 data file not found. Looked in:');
      for (const p of tried) lines.push(`  - ${p}`);
    }
    lines.push(
      '',
      'FER2013 comes from the Kaggle competition "Challenges in Representation Learning: Facial',
      'Expression Recognition Challenge" (file fer2013.csv, also accepted gzipped as fer2013.csv.gz).',
      'Expected format: a CSV with header `emotion,pixels,Usage`, then one row per 48x48 image:',
      '  emotion  integer 0..6 (' + EMOTIONS.map((e, i) => `${i} ${e}`).join(', ') + ')',
      '  pixels   2304 space-separated integers 0..255 (row-major 48x48 gray)',
      '  Usage    Training, PublicTest or PrivateTest',
      'Put it at ./data/fer2013.csv (or .csv.gz), or pass its location with --data PATH.',
    );
    super(lines.join('\n'));
    this.name = 'Fer2013NotFoundError';
    this.tried = tried;
  }
}

/**
 * Find the FER2013 CSV. An explicit path must exist; otherwise the standard candidates are
 * tried in order. Throws Fer2013NotFoundError (listing the paths tried) when nothing is found.
 */
export function resolveFer2013Path(explicit?: string, cwd: string = process.cwd()): string {
  if (explicit !== undefined && explicit !== '') {
    const abs = resolve(cwd, explicit);
    if (!existsSync(abs) || !statSync(abs).isFile()) throw new Fer2013NotFoundError([abs], explicit);
    return abs;
  }
  const tried: string[] = [];
  for (const rel of FER2013_CANDIDATES) {
    const abs = resolve(cwd, rel);
    tried.push(abs);
    if (existsSync(abs) && statSync(abs).isFile()) return abs;
  }
  throw new Fer2013NotFoundError(tried);
}

function isGzip(path: string): boolean {
  if (path.toLowerCase().endsWith('.gz')) return true;
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(2);
    const n = readSync(fd, buf, 0, 2, 0);
    return n === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/** Growable split buffer (capacity doubles). */
class SplitBuilder {
  pixels = new Uint8Array(IMAGE_PIXELS * 1024);
  labels = new Uint8Array(1024);
  count = 0;

  /** Returns the offset where the next image's pixels must be written, growing if needed. */
  reserve(): number {
    if (this.count === this.labels.length) {
      const cap = this.labels.length * 2;
      const labels = new Uint8Array(cap);
      labels.set(this.labels);
      this.labels = labels;
      const pixels = new Uint8Array(cap * IMAGE_PIXELS);
      pixels.set(this.pixels);
      this.pixels = pixels;
    }
    return this.count * IMAGE_PIXELS;
  }

  commit(label: number): void {
    this.labels[this.count] = label;
    this.count++;
  }

  finish(): Fer2013Split {
    // Copy (not subarray) so the oversized backing buffer can be freed.
    return {
      pixels: this.pixels.slice(0, this.count * IMAGE_PIXELS),
      labels: this.labels.slice(0, this.count),
      count: this.count,
    };
  }
}

/**
 * Parse 2304 space-separated integers 0..255 from line[start..end) into out[offset..].
 * Returns null on success, else the reason the field is invalid.
 */
function parsePixels(line: string, start: number, end: number, out: Uint8Array, offset: number): string | null {
  let n = 0;
  let i = start;
  // Tolerate surrounding quotes (some CSV writers quote the pixel field).
  if (end - start >= 2 && line.charCodeAt(start) === 34 && line.charCodeAt(end - 1) === 34) {
    i = start + 1;
    end = end - 1;
  }
  while (i < end) {
    let c = line.charCodeAt(i);
    if (c === 32) {
      i++;
      continue;
    }
    let v = 0;
    const tokStart = i;
    while (i < end && (c = line.charCodeAt(i)) !== 32) {
      if (c < 48 || c > 57) {
        let tokEnd = i;
        while (tokEnd < end && line.charCodeAt(tokEnd) !== 32) tokEnd++;
        const tok = line.slice(tokStart, tokEnd);
        if (/^-\d+$/.test(tok)) return `pixel ${n + 1} is out of range 0..255: ${tok.slice(0, 20)}`;
        return `pixel ${n + 1} is not an integer: ${JSON.stringify(line.slice(tokStart, Math.min(tokEnd, tokStart + 20)))}`;
      }
      v = v * 10 + (c - 48);
      i++;
    }
    if (v > 255) return `pixel ${n + 1} is out of range 0..255: ${line.slice(tokStart, Math.min(i, tokStart + 20))}`;
    if (n >= IMAGE_PIXELS) {
      // Count the rest for a helpful message.
      let total = n + 1;
      while (i < end) {
        while (i < end && line.charCodeAt(i) === 32) i++;
        if (i < end) total++;
        while (i < end && line.charCodeAt(i) !== 32) i++;
      }
      return `expected ${IMAGE_PIXELS} pixels, got ${total}`;
    }
    out[offset + n] = v;
    n++;
  }
  if (n !== IMAGE_PIXELS) return `expected ${IMAGE_PIXELS} pixels, got ${n}`;
  return null;
}

function usageIndex(s: string): number {
  switch (s) {
    case 'Training':
      return 0;
    case 'PublicTest':
      return 1;
    case 'PrivateTest':
      return 2;
    default:
      return -1;
  }
}

/** Stream, validate and pack FER2013. See Fer2013Data for the result. */
export async function loadFer2013(path: string, opts: LoadFer2013Options = {}): Promise<Fer2013Data> {
  const maxBadFraction = opts.maxBadFraction ?? 0.01;
  const limit = opts.limitPerSplit ?? Infinity;
  if (!existsSync(path)) throw new Fer2013NotFoundError([path], path);
  // A FIFO or device would block the reads below forever.
  if (!statSync(path).isFile()) throw new Error(`${path} is not a regular file: pass the FER2013 CSV (fer2013.csv or fer2013.csv.gz)`);

  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  const source: Readable = isGzip(path) ? file.pipe(createGunzip({ chunkSize: 1 << 20 })) : file;
  file.on('error', (e) => source.destroy(e));
  const rl = createInterface({ input: source, crlfDelay: Infinity });

  const builders = [new SplitBuilder(), new SplitBuilder(), new SplitBuilder()];
  const badLines: BadLine[] = [];
  let badRows = 0;
  let totalRows = 0;
  let lineNo = 0;
  let sawHeader = false;

  const bad = (line: number, reason: string): void => {
    badRows++;
    if (badLines.length < MAX_BAD_LINES_KEPT) badLines.push({ line, reason });
  };

  try {
    for await (const raw of rl) {
      lineNo++;
      let line = raw;
      if (line.length > 0 && line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
      if (!sawHeader) {
        if (lineNo === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1); // BOM
        const header = line.trim().replace(/"/g, '');
        if (header !== FER2013_HEADER) {
          throw new Error(
            `${path}: line 1 should be the FER2013 header "${FER2013_HEADER}" but is ` +
              `${JSON.stringify(line.slice(0, 80))}${line.length > 80 ? '...' : ''}. ` +
              'Is this the Kaggle fer2013.csv?',
          );
        }
        sawHeader = true;
        continue;
      }
      if (line.length === 0 || line.trim().length === 0) continue; // blank lines (e.g. trailing) are ignored
      totalRows++;
      if (opts.onProgress && totalRows % PROGRESS_EVERY === 0) opts.onProgress(totalRows);

      const c1 = line.indexOf(',');
      const c2 = c1 < 0 ? -1 : line.indexOf(',', c1 + 1);
      if (c1 < 0 || c2 < 0 || line.indexOf(',', c2 + 1) >= 0) {
        const fields = line.split(',').length;
        bad(lineNo, `expected 3 fields (emotion,pixels,Usage), got ${fields}`);
        continue;
      }
      const emoStr = line.slice(0, c1).trim().replace(/^"(.*)"$/, '$1');
      if (!/^\d+$/.test(emoStr)) {
        bad(lineNo, `emotion is not an integer: ${JSON.stringify(emoStr.slice(0, 20))}`);
        continue;
      }
      const emotion = Number(emoStr);
      if (emotion >= NUM_CLASSES) {
        bad(lineNo, `emotion ${emotion} is out of range 0..${NUM_CLASSES - 1}`);
        continue;
      }
      const usageStr = line.slice(c2 + 1).trim().replace(/^"(.*)"$/, '$1');
      const split = usageIndex(usageStr);
      if (split < 0) {
        bad(lineNo, `unknown Usage ${JSON.stringify(usageStr.slice(0, 30))} (expected Training, PublicTest or PrivateTest)`);
        continue;
      }
      const b = builders[split]!;
      // Parse into the builder's next slot; it only counts once committed. Rows over the
      // limit are still validated (into a scratch buffer) so bad-row accounting is complete.
      let target: Uint8Array;
      let offset: number;
      if (b.count < limit) {
        offset = b.reserve();
        target = b.pixels;
      } else {
        offset = 0;
        target = scratch;
      }
      const err = parsePixels(line, c1 + 1, c2, target, offset);
      if (err !== null) {
        bad(lineNo, err);
        continue;
      }
      if (target !== scratch) b.commit(emotion);
    }
  } catch (error) {
    throw readError(path, error);
  } finally {
    rl.close();
    file.destroy();
  }

  if (!sawHeader) throw new Error(`${path}: file is empty (expected the header "${FER2013_HEADER}" and data rows)`);
  opts.onProgress?.(totalRows);

  if (totalRows === 0) throw new Error(`${path}: no data rows after the header`);
  if (badRows > maxBadFraction * totalRows) {
    const first = badLines.map((b) => `  line ${b.line}: ${b.reason}`).join('\n');
    throw new Error(
      `${path}: ${badRows} of ${totalRows} rows are invalid (${((100 * badRows) / totalRows).toFixed(2)}%, ` +
        `limit ${(100 * maxBadFraction).toFixed(2)}%); the file looks corrupt or is not FER2013.\n` +
        `First bad rows:\n${first}`,
    );
  }

  return {
    path,
    train: builders[0]!.finish(),
    val: builders[1]!.finish(),
    test: builders[2]!.finish(),
    totalRows,
    badRows,
    badLines,
  };
}

const scratch = new Uint8Array(IMAGE_PIXELS);

/** Stream errors (gunzip, file system) reworded to name the file; our own messages pass through. */
function readError(path: string, error: unknown): Error {
  const e = error as NodeJS.ErrnoException;
  if (typeof e.code !== 'string') return e;
  if (e.code.startsWith('Z_')) {
    return new Error(
      `${path}: could not be decompressed (${e.message}): the gzip file looks truncated or corrupt. ` +
        'Download it again, or check that the copy finished (gzip -t tells).',
    );
  }
  return new Error(`${path}: could not be read (${e.code}: ${e.message})`);
}

function classCounts(split: Fer2013Split): string {
  const counts = new Array<number>(NUM_CLASSES).fill(0);
  for (let i = 0; i < split.count; i++) counts[split.labels[i]!]!++;
  return counts.map((c, i) => `${EMOTIONS[i]} ${c}`).join(', ');
}

/** Human-readable summary of a load: counts per split (and per class), bad rows. */
export function describeLoad(result: Fer2013Data): string {
  const lines = [
    `FER2013 ${result.path}: ${result.totalRows} rows`,
    `  train (Training):    ${result.train.count}  [${classCounts(result.train)}]`,
    `  val   (PublicTest):  ${result.val.count}  [${classCounts(result.val)}]`,
    `  test  (PrivateTest): ${result.test.count}  [${classCounts(result.test)}]`,
  ];
  if (result.badRows === 0) {
    lines.push('  bad rows: none');
  } else {
    const shown = result.badLines.map((b) => `line ${b.line} (${b.reason})`);
    lines.push(
      `  bad rows: ${result.badRows} skipped; first: ${shown.slice(0, 5).join('; ')}` +
        (result.badRows > 5 ? ` ... (lines ${result.badLines.map((b) => b.line).join(', ')}${result.badRows > result.badLines.length ? ', ...' : ''})` : ''),
    );
  }
  return lines.join('\n');
}
