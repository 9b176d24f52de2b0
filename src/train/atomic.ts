/**
 * Crash-safe file and directory replacement: an interrupted write (Ctrl-C, crash) leaves
 * either the old complete content or the new complete content, never a half-written one.
 */
import { promises as fsp, constants as fsConstants } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

function tmpName(target: string, tag: string): string {
  return join(dirname(target), `.${basename(target)}.${tag}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

async function fsyncDir(dir: string): Promise<void> {
  // Persist the rename itself. Not supported everywhere (e.g. Windows): best effort.
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, fsConstants.O_RDONLY);
    await fh.sync();
  } catch {
    /* ignore */
  } finally {
    await fh?.close().catch(() => {});
  }
}

/** Write `data` to `path` via a temp file in the same directory + fsync + rename. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tmpName(path, 'tmp');
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(tmp, 'wx');
    await fh.writeFile(data);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await fsp.rename(tmp, path);
  } catch (e) {
    await fh?.close().catch(() => {});
    await fsp.rm(tmp, { force: true }).catch(() => {});
    throw e;
  }
  await fsyncDir(dirname(path));
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.lstat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Build a new version of `finalDir` in a sibling temp dir (filled by `fill`), then swap it in:
 * old -> backup, tmp -> final, remove backup. If `fill` throws, the temp dir is removed and
 * `finalDir` is untouched. At every instant either the old or the new complete dir exists at
 * `finalDir` or (during the two-rename window) at the backup path, never a partial one.
 */
export async function replaceDirAtomic(finalDir: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  const parent = dirname(finalDir);
  await fsp.mkdir(parent, { recursive: true });
  const tmp = tmpName(finalDir, 'new');
  await fsp.mkdir(tmp);
  try {
    await fill(tmp);
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => {});
    throw e;
  }

  await fsyncDir(tmp);
  const backup = tmpName(finalDir, 'old');
  const hadOld = await exists(finalDir);
  try {
    if (hadOld) await fsp.rename(finalDir, backup);
    try {
      await fsp.rename(tmp, finalDir);
    } catch (e) {
      if (hadOld) await fsp.rename(backup, finalDir).catch(() => {}); // put the old one back
      throw e;
    }
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => {});
    throw e;
  }
  await fsyncDir(parent);
  if (hadOld) await fsp.rm(backup, { recursive: true, force: true });
}
