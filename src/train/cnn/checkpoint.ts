/**
 * Training checkpoints, one verifiable unit per epoch:
 *
 *   <dir>/epoch-NNN/<files>       e.g. weights.bin, optimizer.bin (each written atomically)
 *   <dir>/epoch-NNN/state.json    written last: the run's state + size and sha256 of every file
 *   <dir>/latest.json             replaced atomically last: { epoch, dir, size + sha256 of state.json }
 *
 * A kill at any point leaves latest.json naming a complete epoch folder (a half-written newer one is
 * never referenced, and is removed when that epoch is written again). Reading checks every size and
 * hash, so files mixed from two epochs are refused. The last two epochs and the best one are kept.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.ts';

export const LATEST_FILE = 'latest.json';
export const STATE_FILE = 'state.json';
const EPOCH_DIR = /^epoch-(\d{3,})$/;
/** Files of the one-folder format used before epoch folders: unverifiable, so never resumed. */
const LEGACY_FILES = ['state.json', 'last.weights.bin', 'last.optimizer.bin', 'best.weights.bin'];
/** writeFileAtomic's temp files for our names, left by a kill mid-write. */
const OUR_TEMP = /^\.(latest\.json|state\.json|last\.weights\.bin|last\.optimizer\.bin|best\.weights\.bin)\.tmp-\d+-[0-9a-f]{8}$/;

export interface FileRecord {
  bytes: number;
  sha256: string;
}

interface Pointer {
  version: 2;
  epoch: number;
  dir: string;
  state: FileRecord;
}

/** What an epoch's state.json holds besides the caller's state. */
interface Recorded {
  epoch: number;
  files: Record<string, FileRecord>;
}

/** A checkpoint that cannot be used as it is; the message names the file and what to do. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

const FIX = 'the checkpoint is damaged or mixed from different epochs; start over with --fresh (deletes the checkpoint)';

export function epochDirName(epoch: number): string {
  return `epoch-${String(epoch).padStart(3, '0')}`;
}

function record(bytes: Uint8Array): FileRecord {
  return { bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Reads `file` and checks it against `rec` (recorded in `recordedIn`). */
async function readVerified(file: string, rec: FileRecord, recordedIn: string): Promise<Buffer> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    throw new CheckpointError(
      `${file} is missing or unreadable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}) although ${recordedIn} lists it; ${FIX}`,
    );
  }
  if (buf.byteLength !== rec.bytes) {
    throw new CheckpointError(`${file} has ${buf.byteLength} bytes but ${recordedIn} records ${rec.bytes}; ${FIX}`);
  }
  if (record(buf).sha256 !== rec.sha256) {
    throw new CheckpointError(`${file} does not match the sha256 recorded in ${recordedIn}; ${FIX}`);
  }
  return buf;
}

function isRecord(v: unknown): v is FileRecord {
  return typeof v === 'object' && v !== null && Number.isInteger((v as FileRecord).bytes) && typeof (v as FileRecord).sha256 === 'string';
}

/**
 * A short description of what `dir` holds if it has a checkpoint (current or old format), else
 * undefined. Cheap: reads only latest.json.
 */
export async function describeCheckpoint(dir: string): Promise<string | undefined> {
  if (!existsSync(dir)) return undefined;
  const names = await readdir(dir);
  if (names.includes(LATEST_FILE)) {
    try {
      const p = JSON.parse(await readFile(join(dir, LATEST_FILE), 'utf8')) as Pointer;
      return `a checkpoint after epoch ${p.epoch}`;
    } catch {
      return `a checkpoint whose ${LATEST_FILE} is unreadable`;
    }
  }
  // Epoch folders without latest.json: a first epoch killed before it completed; nothing to keep.
  if (names.some((n) => LEGACY_FILES.includes(n))) return 'a checkpoint in the old format (state.json + *.weights.bin)';
  return undefined;
}

/** Deletes our checkpoint files in `dir` (never anything else), and `dir` itself if that empties it. */
export async function clearCheckpoint(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const n of await readdir(dir)) {
    if (n === LATEST_FILE || EPOCH_DIR.test(n) || LEGACY_FILES.includes(n) || OUR_TEMP.test(n)) {
      await rm(join(dir, n), { recursive: true, force: true });
    }
  }
  if ((await readdir(dir)).length === 0) await rm(dir, { recursive: true, force: true });
}

/**
 * Writes epoch `epoch` as one unit (files, then state.json with their hashes), points latest.json
 * at it, then deletes epoch folders other than this one and `keep`.
 */
export async function writeCheckpoint(
  dir: string,
  epoch: number,
  files: Record<string, Uint8Array>,
  state: object,
  keep: number[] = [],
): Promise<void> {
  const name = epochDirName(epoch);
  const epochDir = join(dir, name);
  // A folder for this epoch can only be an unreferenced one from a killed run: start it afresh.
  await rm(epochDir, { recursive: true, force: true });
  await mkdir(epochDir, { recursive: true });
  const records: Record<string, FileRecord> = {};
  for (const [file, bytes] of Object.entries(files)) {
    await writeFileAtomic(join(epochDir, file), bytes);
    records[file] = record(bytes);
  }
  const stateBytes = new TextEncoder().encode(JSON.stringify({ ...state, epoch, files: records } satisfies Recorded, null, 1));
  await writeFileAtomic(join(epochDir, STATE_FILE), stateBytes);
  const pointer: Pointer = { version: 2, epoch, dir: name, state: record(stateBytes) };
  await writeFileAtomic(join(dir, LATEST_FILE), JSON.stringify(pointer, null, 1));
  const kept = new Set([name, ...keep.map(epochDirName)]);
  for (const n of await readdir(dir)) {
    if (EPOCH_DIR.test(n) && !kept.has(n)) await rm(join(dir, n), { recursive: true, force: true });
  }
}

export interface LoadedEpoch<S> {
  epoch: number;
  state: S;
  /** Every file of the epoch, verified. */
  files: Record<string, Buffer>;
}

async function loadEpochDir<S>(dir: string, name: string, stateRecord?: FileRecord): Promise<LoadedEpoch<S>> {
  const stateFile = join(dir, name, STATE_FILE);
  let raw: Buffer;
  if (stateRecord) {
    raw = await readVerified(stateFile, stateRecord, join(dir, LATEST_FILE));
  } else {
    try {
      raw = await readFile(stateFile);
    } catch {
      throw new CheckpointError(`${stateFile} is missing: that epoch was not written completely; ${FIX}`);
    }
  }
  let state: S & Recorded;
  try {
    state = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw new CheckpointError(`${stateFile} is not valid JSON (${(e as Error).message}); ${FIX}`);
  }
  if (typeof state.files !== 'object' || state.files === null || !Object.values(state.files).every(isRecord)) {
    throw new CheckpointError(`${stateFile} has no valid "files" record; ${FIX}`);
  }
  const files: Record<string, Buffer> = {};
  for (const [file, rec] of Object.entries(state.files)) files[file] = await readVerified(join(dir, name, file), rec, stateFile);
  return { epoch: state.epoch, state, files };
}

/**
 * The latest complete epoch of the checkpoint in `dir`, every file verified against the recorded
 * sizes and hashes; undefined when `dir` has no checkpoint. Throws CheckpointError naming the file
 * when something does not match, or when the checkpoint is in the old, unverifiable format.
 */
export async function readCheckpoint<S>(dir: string): Promise<LoadedEpoch<S> | undefined> {
  const latest = join(dir, LATEST_FILE);
  if (!existsSync(latest)) {
    const what = await describeCheckpoint(dir);
    if (what === undefined) return undefined;
    throw new CheckpointError(
      `${dir} holds ${what} but no ${LATEST_FILE}, so it cannot be verified; start over with --fresh (deletes the checkpoint)`,
    );
  }
  let p: Pointer;
  try {
    p = JSON.parse(await readFile(latest, 'utf8'));
  } catch (e) {
    throw new CheckpointError(`${latest} is not valid JSON (${(e as Error).message}); ${FIX}`);
  }
  if (p?.version !== 2 || !Number.isInteger(p.epoch) || p.dir !== epochDirName(p.epoch) || !isRecord(p.state)) {
    throw new CheckpointError(`${latest} is not a checkpoint pointer ({ version: 2, epoch, dir, state }); ${FIX}`);
  }
  const loaded = await loadEpochDir<S>(dir, p.dir, p.state);
  if (loaded.epoch !== p.epoch)
    throw new CheckpointError(`${join(dir, p.dir, STATE_FILE)} is for epoch ${loaded.epoch}, ${latest} says ${p.epoch}; ${FIX}`);
  return loaded;
}

/** Another kept epoch of the checkpoint (e.g. the best one), verified against its own state.json. */
export async function readCheckpointEpoch<S>(dir: string, epoch: number): Promise<LoadedEpoch<S>> {
  return loadEpochDir<S>(dir, epochDirName(epoch));
}

export interface DataFingerprint {
  path: string;
  bytes: number;
  /** sha256 of the first and the last MiB: cheap, and changes when the file is replaced. */
  headTailSha256: string;
}

export async function dataFingerprint(path: string): Promise<DataFingerprint> {
  const { size } = await stat(path);
  const MiB = 1 << 20;
  const fh = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    const chunk = Buffer.alloc(Math.min(MiB, size));
    await fh.read(chunk, 0, chunk.length, 0);
    hash.update(chunk);
    if (size > MiB) {
      const tail = Buffer.alloc(Math.min(MiB, size - MiB));
      await fh.read(tail, 0, tail.length, size - tail.length);
      hash.update(tail);
    }
    return { path, bytes: size, headTailSha256: hash.digest('hex') };
  } finally {
    await fh.close();
  }
}
