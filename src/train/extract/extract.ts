/**
 * `npm run extract`: every image of a source through the app's face pipeline in headless
 * Chromium, into a resumable cache (cache.ts). Work is split into chunks; each page takes the next
 * chunk that is not on disk yet.
 */
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { BatchImageResult } from '../../core/batch.ts';
import { FEATURE_NAMES, FEATURE_VERSION } from '../../core/features/index.ts';
import { readFileChecked, UnreadableFileError } from '../data/file-scan.ts';
import { formatDuration } from '../util/progress.ts';
import { BatchPages } from '../browser/batch-page.ts';
import { EXTRACT_VERSION, hasChunk, readChunks, readMeta, writeChunk, writeMeta, type ExtractMeta, type ExtractRecord } from './cache.ts';
import { defaultCacheName, type FileItem, type Source } from './sources.ts';

export const DEFAULT_CACHE_ROOT = 'cache/extract';
export const FER_UPSCALE = 4;
export const FER_PAD = 0.5;

export interface ExtractOptions {
  /** Cache folder; default cache/extract/<input name>-<key>. */
  outDir?: string;
  /** Browser pages working in parallel (default 2: this machine's cores). */
  pages?: number;
  chunkSize?: number;
  /** Only the first N items (quick looks and tests). */
  limit?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface ExtractSummary {
  dir: string;
  total: number;
  faces: number;
  noFace: number;
  severalFaces: number;
  corrupt: number;
  notImage: number;
  /** Files not read at all: special files, over the size limit, unreadable. */
  skipped: number;
  /** Items without a usable face, with why. */
  problems: { id: string; status: string; error?: string }[];
  /** Items processed by this run (the rest came from the cache). */
  processed: number;
  seconds: number;
}

export class ExtractionInterrupted extends Error {
  constructor(readonly dir: string) {
    super(`extraction interrupted; finished chunks are kept in ${dir}: run the same command to resume`);
  }
}

export function cacheDirFor(source: Source, options: Pick<ExtractOptions, 'outDir' | 'limit'> = {}): string {
  if (options.outDir) return resolve(options.outDir);
  const suffix = options.limit !== undefined ? `-first${options.limit}` : '';
  return resolve(DEFAULT_CACHE_ROOT, defaultCacheName(source) + suffix);
}

function toRecord(item: { id: string; label?: number; split?: ExtractRecord['split'] }, r: BatchImageResult): ExtractRecord {
  const base = { id: item.id, ...(item.label !== undefined ? { label: item.label } : {}), ...(item.split ? { split: item.split } : {}) };
  if (r.status === 'not-image') return { ...base, status: 'corrupt', faces: 0, error: r.error ?? 'could not be decoded' };
  const face = r.faces[0];
  if (!face) return { ...base, status: 'no-face', faces: 0, width: r.width, height: r.height };
  const { blendshapeNames: _names, predictions: _p, ...stored } = face;
  return { ...base, status: 'face', faces: r.faces.length, face: stored, width: r.width, height: r.height };
}

export async function runExtraction(source: Source, options: ExtractOptions = {}): Promise<ExtractSummary> {
  const log = options.log ?? (() => undefined);
  const dir = cacheDirFor(source, options);
  const items = options.limit !== undefined ? source.items.slice(0, options.limit) : source.items;
  const chunkSize = options.chunkSize ?? (source.kind === 'fer2013' ? 250 : 40);
  const meta: ExtractMeta = {
    version: EXTRACT_VERSION,
    input: { kind: source.kind, path: source.path, key: source.key },
    total: items.length,
    chunkSize,
    ...(source.kind === 'fer2013' ? { upscale: FER_UPSCALE, pad: FER_PAD } : {}),
    featureVersion: FEATURE_VERSION,
    featureNames: [...FEATURE_NAMES],
    createdAt: new Date().toISOString(),
  };
  const old = await readMeta(dir);
  if (
    old &&
    (old.version !== meta.version || old.input.key !== meta.input.key || old.chunkSize !== chunkSize || old.total !== meta.total)
  ) {
    log(`cache ${dir} is from another input or pipeline version: starting over`);
    await rm(dir, { recursive: true, force: true });
  }
  await writeMeta(dir, old && old.version === meta.version && old.input.key === meta.input.key && old.total === meta.total ? old : meta);

  const starts: number[] = [];
  for (let s = 0; s < items.length; s += chunkSize) if (!hasChunk(dir, s)) starts.push(s);
  const todo = starts.reduce((n, s) => n + Math.min(chunkSize, items.length - s), 0);
  const began = Date.now();
  let done = 0;
  if (todo < items.length) log(`resuming: ${items.length - todo} of ${items.length} already in ${dir}`);

  if (starts.length > 0) {
    const pages = await BatchPages.open({
      numFaces: source.kind === 'fer2013' ? 1 : 4,
      models: false,
      pages: Math.min(options.pages ?? 2, starts.length),
      onConsoleError: (t) => log(`  page: ${t}`),
    });
    try {
      let next = 0;
      const worker = async (page: number): Promise<void> => {
        while (next < starts.length) {
          if (options.signal?.aborted) throw new ExtractionInterrupted(dir);
          const start = starts[next++]!;
          const slice = items.slice(start, start + chunkSize);
          const results = await processSlice(pages, page, source, slice);
          const blendshapeNames =
            results.find((r): r is BatchImageResult => 'faces' in r && r.faces[0] !== undefined)?.faces[0]?.blendshapeNames ?? [];
          await writeChunk(dir, {
            start,
            blendshapeNames,
            records: slice.map((item, i) => {
              const r = results[i]!;
              return 'record' in r ? r.record : toRecord(item, r);
            }),
          });
          done += slice.length;
          const elapsed = (Date.now() - began) / 1000;
          const rate = done / Math.max(elapsed, 1e-3);
          log(
            `extract: ${items.length - todo + done}/${items.length} (${((100 * (items.length - todo + done)) / items.length).toFixed(1)}%) | ${rate.toFixed(1)} img/s | ETA ${formatDuration((todo - done) / rate)}`,
          );
        }
      };
      await Promise.all(Array.from({ length: pages.size }, (_, p) => worker(p)));
    } finally {
      await pages.close();
    }
  }
  return summarise(dir, items.length, todo, (Date.now() - began) / 1000);
}

type AnyItem = Source['items'][number];

/** A file item that is never sent to the page (not an image type, or not to be read at all). */
function offPageRecord(item: AnyItem): ExtractRecord | undefined {
  if (!('notImage' in item)) return undefined;
  const base = { id: item.id, ...(item.label !== undefined ? { label: item.label } : {}), faces: 0 };
  if (item.skip !== undefined) return { ...base, status: 'skipped', error: item.skip };
  if (item.notImage) return { ...base, status: 'not-image', error: 'not an image file type' };
  return undefined;
}

const GRAY_CALL = 50;
const FILE_CALL = 8;

/**
 * Results in item order: the page's, or a finished record for files the page never sees (see
 * offPageRecord, and files that fail to read: each is named and skipped, the others go on).
 */
async function processSlice(
  pages: BatchPages,
  page: number,
  source: Source,
  slice: AnyItem[],
): Promise<(BatchImageResult | { record: ExtractRecord })[]> {
  const out: (BatchImageResult | { record: ExtractRecord })[] = [];
  if (source.kind === 'fer2013') {
    for (let i = 0; i < slice.length; i += GRAY_CALL) {
      const part = slice.slice(i, i + GRAY_CALL) as { index: number }[];
      const pixels = new Uint8Array(part.length * 2304);
      part.forEach((it, k) => pixels.set(source.pixels.subarray(it.index * 2304, (it.index + 1) * 2304), k * 2304));
      out.push(...(await pages.processGray(page, pixels, part.length, 48, FER_UPSCALE, FER_PAD)));
    }
    return out;
  }
  for (let i = 0; i < slice.length; i += FILE_CALL) {
    const part = slice.slice(i, i + FILE_CALL) as FileItem[];
    const loaded = await Promise.all(
      part.map(async (item): Promise<{ record: ExtractRecord } | { bytes: Uint8Array }> => {
        const off = offPageRecord(item);
        if (off) return { record: off };
        try {
          return { bytes: await readFileChecked(item.path) };
        } catch (error) {
          if (!(error instanceof UnreadableFileError)) throw error;
          const reason = error.reason;
          return {
            record: { id: item.id, ...(item.label !== undefined ? { label: item.label } : {}), status: 'skipped', faces: 0, error: reason },
          };
        }
      }),
    );
    const files = part.flatMap((item, k) => {
      const l = loaded[k]!;
      return 'bytes' in l ? [{ name: item.id, bytes: l.bytes }] : [];
    });
    const results = files.length > 0 ? await pages.processFiles(page, files) : [];
    let k = 0;
    for (const l of loaded) out.push('bytes' in l ? results[k++]! : l);
  }
  return out;
}

async function summarise(dir: string, total: number, processed: number, seconds: number): Promise<ExtractSummary> {
  const chunks = await readChunks(dir);
  const s: ExtractSummary = {
    dir,
    total,
    faces: 0,
    noFace: 0,
    severalFaces: 0,
    corrupt: 0,
    notImage: 0,
    skipped: 0,
    problems: [],
    processed,
    seconds,
  };
  for (const c of chunks) {
    for (const r of c.records) {
      if (r.status === 'face') {
        s.faces++;
        if (r.faces > 1) s.severalFaces++;
      } else {
        if (r.status === 'no-face') s.noFace++;
        else if (r.status === 'corrupt') s.corrupt++;
        else if (r.status === 'skipped') s.skipped++;
        else s.notImage++;
        s.problems.push({ id: r.id, status: r.status, ...(r.error ? { error: r.error } : {}) });
      }
    }
  }
  return s;
}
