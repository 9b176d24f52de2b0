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

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The hidden siblings replaceDirAtomic makes next to `<name>`: `.<name>.new-<pid>-<8 hex>` (being
 * filled) and `.<name>.old-<pid>-<8 hex>` (the previous folder during the swap). Nothing else
 * matches, so recovery never touches a user's own files.
 */
export function dirLeftoverPattern(name: string): RegExp {
  return new RegExp(`^\\.${escapeRegExp(name)}\\.(new|old)-(\\d+)-[0-9a-f]{8}$`);
}

/** Whether `pid` is a running process (then its leftovers may be a publish still in progress). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Cleans up after a publish that was killed: if `finalDir` is missing and a `.old-*` backup exists
 * (killed between the two renames), the newest backup is put back; remaining `.old-*` backups
 * (killed after the swap) and `.new-*` folders (killed while filling or before the swap) are
 * removed. Leftovers of a process that is still running are left alone. Returns what it did.
 */
export async function recoverDirLeftovers(finalDir: string): Promise<string[]> {
  const parent = dirname(finalDir);
  const re = dirLeftoverPattern(basename(finalDir));
  let entries;
  try {
    entries = await fsp.readdir(parent, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const found = entries
    .filter((e) => e.isDirectory())
    .map((e) => ({ name: e.name, m: re.exec(e.name) }))
    .filter((x): x is { name: string; m: RegExpExecArray } => x.m !== null && !processAlive(Number(x.m[2])));
  if (found.length === 0) return [];
  const notes: string[] = [];
  const olds = found.filter((x) => x.m[1] === 'old').map((x) => x.name);
  const news = found.filter((x) => x.m[1] === 'new').map((x) => x.name);
  if (olds.length > 0 && !(await exists(finalDir))) {
    const mtimes = await Promise.all(olds.map(async (n) => (await fsp.stat(join(parent, n))).mtimeMs));
    const newest = olds[mtimes.indexOf(Math.max(...mtimes))]!;
    await fsp.rename(join(parent, newest), finalDir);
    olds.splice(olds.indexOf(newest), 1);
    notes.push(`restored ${finalDir} from ${newest}, left by an interrupted publish`);
  }
  for (const n of olds) {
    await fsp.rm(join(parent, n), { recursive: true, force: true });
    notes.push(`removed ${join(parent, n)}: the replaced version of ${basename(finalDir)}, left by an interrupted publish`);
  }
  for (const n of news) {
    await fsp.rm(join(parent, n), { recursive: true, force: true });
    notes.push(`removed ${join(parent, n)}: an unfinished new version of ${basename(finalDir)}, left by an interrupted publish`);
  }
  await fsyncDir(parent);
  return notes;
}

/**
 * Build a new version of `finalDir` in a sibling temp dir (filled by `fill`), then swap it in:
 * old -> backup, tmp -> final, remove backup. If `fill` throws, the temp dir is removed and
 * `finalDir` is untouched. A kill between the two renames leaves the old complete dir at the
 * backup path; the next call (or recoverDirLeftovers) puts it back, so no state loses the folder.
 * Callers that publish a model check the target first (see publish-model.ts): this replaces
 * whatever `finalDir` holds.
 */
export async function replaceDirAtomic(
  finalDir: string,
  fill: (tmpDir: string) => Promise<void>,
  opts: { log?: (line: string) => void } = {},
): Promise<void> {
  const parent = dirname(finalDir);
  await fsp.mkdir(parent, { recursive: true });
  for (const note of await recoverDirLeftovers(finalDir)) (opts.log ?? console.warn)(note);
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
