/**
 * Reading users' folders safely (extract, finetune, predict, report). Every entry is classified
 * with lstat/stat before anything is opened: a FIFO would block a read forever, a device never
 * ends, a socket cannot be read, and a file over 2 GiB makes readFile throw (which used to abort
 * a whole run). Such files are named, listed with the reason, and skipped; the rest go on.
 */
import type { Stats } from 'node:fs';
import { constants } from 'node:fs';
import { lstat, open, readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Largest image file read (256 MiB). Far above any photo (a 20000x20000 PNG of real content is
 * a few hundred MB at worst, and images are downscaled anyway); a bigger file is not an image
 * worth decoding, and reading it would hold its bytes in memory twice (Node and the browser).
 */
export const MAX_IMAGE_BYTES = 256 * 2 ** 20;

export interface ListedFile {
  path: string;
  size: number;
  mtimeMs: number;
}

export interface SkippedPath {
  path: string;
  /** Why it was skipped, e.g. "a FIFO (named pipe), not a regular file: not read". */
  reason: string;
}

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(n % 2 ** 20 === 0 ? 0 : 1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/** Why a file with these stats must not be read (undefined: it may be). */
export function unreadableReason(s: Stats, maxBytes = MAX_IMAGE_BYTES): string | undefined {
  if (s.isFIFO()) return 'a FIFO (named pipe), not a regular file: not read';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device, not a regular file: not read';
  if (s.isSocket()) return 'a socket, not a regular file: not read';
  if (s.isDirectory()) return 'a folder, not a file';
  if (!s.isFile()) return 'not a regular file: not read';
  if (s.size > maxBytes) return `${formatBytes(s.size)}, over the ${formatBytes(maxBytes)} limit for an image file: not read`;
  return undefined;
}

function errorReason(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return 'does not exist (or is a broken link)';
  return `could not be read (${e.code ?? e.message})`;
}

/** stat (links followed) and the reason the path cannot be read as a file, if any. */
export async function checkFile(path: string, maxBytes = MAX_IMAGE_BYTES): Promise<{ file: ListedFile } | { skipped: SkippedPath }> {
  try {
    const s = await stat(path);
    const reason = unreadableReason(s, maxBytes);
    return reason ? { skipped: { path, reason } } : { file: { path, size: s.size, mtimeMs: s.mtimeMs } };
  } catch (error) {
    return { skipped: { path, reason: errorReason(error) } };
  }
}

export interface ScanOptions {
  /** Files over this many bytes are skipped (default MAX_IMAGE_BYTES). */
  maxBytes?: number;
  /** Only entries whose name passes are considered (others are passed over silently). */
  include?: (name: string) => boolean;
}

/**
 * Every file below `dir`, depth first, sorted by name; names starting with '.' are passed over.
 * Links are followed (a folder reached twice through links is listed once). Special files,
 * files over the size limit, unreadable subfolders and broken links go to `skipped` with the
 * reason. Throws only when `dir` itself cannot be listed.
 */
export async function scanFiles(dir: string, options: ScanOptions = {}): Promise<{ files: ListedFile[]; skipped: SkippedPath[] }> {
  const maxBytes = options.maxBytes ?? MAX_IMAGE_BYTES;
  const files: ListedFile[] = [];
  const skipped: SkippedPath[] = [];
  const visited = new Set<string>();
  const walk = async (folder: string, top: boolean): Promise<void> => {
    let names: string[];
    try {
      const real = await realpath(folder);
      if (visited.has(real)) {
        skipped.push({ path: folder, reason: 'a link to a folder already listed: not listed twice' });
        return;
      }
      visited.add(real);
      names = await readdir(folder);
    } catch (error) {
      if (top) throw error;
      skipped.push({ path: folder, reason: `folder ${errorReason(error)}` });
      return;
    }
    names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const path = join(folder, name);
      let s: Stats;
      try {
        s = await lstat(path);
        // A link counts as what it points at; a broken one is reported below.
        if (s.isSymbolicLink()) s = await stat(path);
      } catch (error) {
        if (!options.include || options.include(name)) skipped.push({ path, reason: errorReason(error) });
        continue;
      }
      if (s.isDirectory()) {
        await walk(path, false);
        continue;
      }
      if (options.include && !options.include(name)) continue;
      const reason = unreadableReason(s, maxBytes);
      if (reason) skipped.push({ path, reason });
      else files.push({ path, size: s.size, mtimeMs: s.mtimeMs });
    }
  };
  await walk(dir, true);
  return { files, skipped };
}

/** A file that readFileChecked refused or failed to read; the message names the file. */
export class UnreadableFileError extends Error {
  override name = 'UnreadableFileError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

/**
 * Reads a listed file, checking it again on the open handle (it may have been replaced since):
 * the open never blocks (O_NONBLOCK: a FIFO opens at once and is then refused), and nothing over
 * `maxBytes` is read. Throws UnreadableFileError (path and reason).
 */
export async function readFileChecked(path: string, maxBytes = MAX_IMAGE_BYTES): Promise<Uint8Array> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new UnreadableFileError(path, errorReason(error));
  }
  try {
    const reason = unreadableReason(await handle.stat(), maxBytes);
    if (reason) throw new UnreadableFileError(path, reason);
    return new Uint8Array(await handle.readFile());
  } catch (error) {
    throw error instanceof UnreadableFileError ? error : new UnreadableFileError(path, errorReason(error));
  } finally {
    await handle.close();
  }
}
