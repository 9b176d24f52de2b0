/**
 * What `npm run extract` reads: a FER2013 CSV (48x48 gray rows) or a folder of image files.
 * Each item gets a stable id (FER2013: split/index; folder: path relative to the folder).
 */
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, relative, resolve, sep } from 'node:path';
import { labelFromFolderName } from '../../core/label-aliases.ts';
import { loadFer2013 } from '../fer2013.ts';

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
}

export type Source =
  | { kind: 'fer2013'; path: string; key: string; items: GrayItem[]; pixels: Uint8Array }
  | { kind: 'folder'; path: string; key: string; items: FileItem[] };

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.bmp', '.gif', '.avif']);

/** Cache key: changes when the input's files change (path, size, modification time). */
function keyOf(parts: string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 12);
}

export function isFer2013File(path: string): boolean {
  return /\.csv(\.gz)?$/i.test(path);
}

export async function openFer2013(path: string, onProgress?: (rows: number) => void): Promise<Source> {
  const info = await stat(path);
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
  return { kind: 'fer2013', path: resolve(path), key: keyOf([resolve(path), String(info.size), String(info.mtimeMs)]), items, pixels };
}

/** Every file below `dir` (dot files and folders skipped), sorted by path, depth first. */
export async function listFiles(dir: string, out: string[] = []): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = join(dir, e.name);
    if (e.isDirectory()) await listFiles(full, out);
    else if (e.isFile()) out.push(full);
  }
  return out;
}

export async function openFolder(dir: string): Promise<Source> {
  const root = resolve(dir);
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) throw new Error(`${dir} is not a folder`);
  const files = await listFiles(root);
  const items: FileItem[] = [];
  const keyParts = [root];
  for (const path of files) {
    const rel = relative(root, path).split(sep).join('/');
    const s = await stat(path);
    keyParts.push(`${rel} ${s.size} ${s.mtimeMs}`);
    const folder = rel.includes('/') ? rel.slice(0, rel.indexOf('/')) : undefined;
    const label = folder === undefined ? undefined : labelFromFolderName(folder);
    items.push({ id: rel, path, ...(label !== undefined ? { label } : {}), notImage: !IMAGE_EXTENSIONS.has(extname(path).toLowerCase()) });
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
  const name = basename(source.path).replace(/\.csv(\.gz)?$/i, '').replace(/[^A-Za-z0-9_-]+/g, '_');
  return `${name}-${source.key}`;
}
