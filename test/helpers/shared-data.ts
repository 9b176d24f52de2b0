/**
 * Where tests find the repository and the data beside it. The data (FER2013, JAFFE) lives in
 * ../shared, read-only and never committed; SHARED_DIR points elsewhere. Tests that need it skip,
 * naming what is missing (`missingShared`), so a fresh clone without it still passes.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../..');

/** The shared data folder: $SHARED_DIR, else ../shared beside the repository. */
export const SHARED_DIR = process.env.SHARED_DIR ? resolve(process.env.SHARED_DIR) : resolve(ROOT, '../shared');

/** A path inside the shared data folder. */
export const sharedPath = (...parts: string[]): string => join(SHARED_DIR, ...parts);

/** FER2013 as distributed (gzipped CSV). */
export const FER2013_CSV = sharedPath('data/fer2013/fer2013.csv.gz');

/** The JAFFE photos in one folder per emotion. */
export const JAFFE_DIR = sharedPath('data/faces/jaffe');

/**
 * For skip messages: the path and where it should come from when it is missing, false when it
 * exists (so it drops out of `[...].filter(Boolean)` lists of missing things).
 */
export function missingShared(path: string): string | false {
  return !existsSync(path) && `${path} (the shared data folder: ../shared beside the repository, or set SHARED_DIR)`;
}
