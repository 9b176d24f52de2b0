/**
 * What `npm run extract` reads: a FER2013 CSV (48x48 gray rows) or a folder of image files.
 * Each item gets a stable id (FER2013: split/index; folder: path relative to the folder).
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename, extname, relative, resolve, sep } from 'node:path';
import { labelFromFolderName } from '../../core/label-aliases.ts';
import { loadFer2013 } from '../data/fer2013.ts';
import { scanFiles } from '../data/file-scan.ts';

export type Split = 'train' | 'val' | 'test';

export interface GrayItem {
  id: string;
  label: number;
  split: Split;
  /** Offset of its 2304 bytes in `pixels`. */
  index: number;
}

export interface FileItem {
  id: string;
  path: string;
  /** From the first folder of its relative path, when that folder names an emotion. */
  label?: number;
  /** Not a file type browsers decode as an image: listed, never sent to the page. */
  notImage: boolean;
  /** Why the file is not read at all (a FIFO, a device, over the size limit...): listed, never opened. */
  skip?: string;
}

export type Source =
  | { kind: 'fer2013'; path: string; key: string; items: GrayItem[]; pixels: Uint8Array }
  | { kind: 'folder'; path: string; key: string; items: FileItem[] };

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.bmp', '.gif', '.avif']);

/** Cache key: changes when the input changes (for folders: its files' paths, sizes and modification times). */
function keyOf(parts: string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 12);
}

export function isFer2013File(path: string): boolean {
  return /\.csv(\.gz)?$/i.test(path);
}

export async function openFer2013(path: string, onProgress?: (rows: number) => void): Promise<Source> {
  const data = await loadFer2013(path, onProgress ? { onProgress } : {});
  const items: GrayItem[] = [];
  const parts: Uint8Array[] = [];
  let index = 0;
  for (const split of ['train', 'val', 'test'] as const) {
    const s = data[split];
    parts.push(s.pixels);
    for (let i = 0; i < s.count; i++) items.push({ id: `${split}/${i}`, label: s.labels[i]!, split, index: index++ });
  }
  const pixels = new Uint8Array(index * 2304);
  let o = 0;
  for (const p of parts) {
    pixels.set(p, o);
    o += p.length;
  }
  // Keyed by content, not path or modification time: a copied or re-laid file (same rows) keeps its
  // ~14-minute extraction; a changed row or label makes a new one.
  const labels = Uint8Array.from(items, (item) => item.label);
  const content = createHash('sha256').update(pixels).update(labels).digest('hex');
  return { kind: 'fer2013', path: resolve(path), key: keyOf(['fer2013', content]), items, pixels };
}

/**
 * Every file below the folder (see scanFiles: dot files passed over, links followed), depth
 * first, by name in each folder. Files that must not be read (special files, over MAX_IMAGE_BYTES, unreadable) are items
 * too, with `skip` saying why, so they show up in the summary instead of aborting the run.
 */
export async function openFolder(dir: string): Promise<Source> {
  const root = resolve(dir);
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) throw new Error(`${dir} is not a folder`);
  const scan = await scanFiles(root);
  const entries = [
    ...scan.files.map((f) => ({ path: f.path, key: `${f.size} ${f.mtimeMs}`, skip: undefined as string | undefined })),
    ...scan.skipped.map((s) => ({ path: s.path, key: 'skipped', skip: s.reason })),
  ];
  // Listed and skipped entries in one order, the listing's: depth first, by name in each folder.
  const relOf = (path: string) => relative(root, path).split(sep);
  const depthFirst = (a: string[], b: string[]): number => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
    return a.length - b.length;
  };
  entries.sort((a, b) => depthFirst(relOf(a.path), relOf(b.path)));
  const items: FileItem[] = [];
  // Same key as before skipped entries existed, for folders without any (existing caches stay valid).
  const keyParts = [root];
  for (const e of entries) {
    const rel = relOf(e.path).join('/');
    keyParts.push(`${rel} ${e.key}`);
    const folder = rel.includes('/') ? rel.slice(0, rel.indexOf('/')) : undefined;
    const label = folder === undefined ? undefined : labelFromFolderName(folder);
    items.push({
      id: rel,
      path: e.path,
      ...(label !== undefined ? { label } : {}),
      notImage: !IMAGE_EXTENSIONS.has(extname(e.path).toLowerCase()),
      ...(e.skip !== undefined ? { skip: e.skip } : {}),
    });
  }
  return { kind: 'folder', path: root, key: keyOf(keyParts), items };
}

export async function openSource(input: string, onProgress?: (rows: number) => void): Promise<Source> {
  const info = await stat(input).catch(() => undefined);
  if (!info) throw new Error(`${input} does not exist: pass a FER2013 CSV (fer2013.csv or fer2013.csv.gz) or a folder of images`);
  if (info.isDirectory()) return openFolder(input);
  if (isFer2013File(input)) return openFer2013(input, onProgress);
  throw new Error(`${input} is neither a folder nor a FER2013 CSV (.csv or .csv.gz)`);
}

export function defaultCacheName(source: Source): string {
  const name = basename(source.path)
    .replace(/\.csv(\.gz)?$/i, '')
    .replace(/[^A-Za-z0-9_-]+/g, '_');
  return `${name}-${source.key}`;
}
