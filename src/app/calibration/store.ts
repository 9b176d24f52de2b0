/**
 * The personal models on this device: one IndexedDB record (database "emotion-lens", store
 * "personal", key "models") holding their ModelFolders and the held-out scores of their training.
 * Nothing here talks to a network; "Forget my models" deletes the record.
 *
 * The record's shape and its validation (toStored / fromStored) are plain functions, tested without
 * IndexedDB; the IndexedDB calls below them are kept to the minimum (open, get, put, delete).
 */
import type { HeldOutScores, ModelFolder } from '../../core/calibration/types.ts';
import { parseManifest, type ModelEntry } from '../../core/contracts/manifest.ts';
import { checkModelFolder } from './model-zip.ts';

export const STORED_FORMAT = 'emotion-lens.personal-models.v1';
const DB_NAME = 'emotion-lens';
const STORE = 'personal';
const KEY = 'models';

export interface StoredPersonal {
  format: typeof STORED_FORMAT;
  savedAt: string;
  folders: { entry: ModelEntry; files: Record<string, Uint8Array> }[];
  heldOut?: HeldOutScores;
}

export interface PersonalModels {
  folders: ModelFolder[];
  savedAt: string;
  heldOut?: HeldOutScores;
}

/** The record for IndexedDB (structured clone keeps the Uint8Arrays as they are). */
export function toStored(folders: readonly ModelFolder[], heldOut: HeldOutScores | undefined, savedAt: Date = new Date()): StoredPersonal {
  return {
    format: STORED_FORMAT,
    savedAt: savedAt.toISOString(),
    // Plain copies: Svelte's reactive proxies cannot be cloned into IndexedDB.
    folders: folders.map((f) => ({
      entry: JSON.parse(JSON.stringify(f.entry)) as ModelEntry,
      files: Object.fromEntries(Object.entries(f.files).map(([k, v]) => [k, new Uint8Array(v)])),
    })),
    ...(heldOut ? { heldOut: JSON.parse(JSON.stringify(heldOut)) as HeldOutScores } : {}),
  };
}

const WHERE = 'the personal models stored in this browser';

/**
 * Validates a record read back (another version of the app, or damaged storage): the entries with
 * the manifest parser, each folder's files with the same integrity check as an import.
 */
export async function fromStored(raw: unknown): Promise<PersonalModels> {
  const r = raw as Partial<StoredPersonal> | null;
  if (!r || typeof r !== 'object' || r.format !== STORED_FORMAT || !Array.isArray(r.folders) || typeof r.savedAt !== 'string')
    throw new Error(`${WHERE} are not in the format this app reads (${STORED_FORMAT}): press "Forget my models" and calibrate again`);
  const entries = parseManifest({ models: r.folders.map((f) => (f as { entry?: unknown } | null)?.entry) }, WHERE).models;
  const folders: ModelFolder[] = [];
  for (const [i, entry] of entries.entries()) {
    const files = (r.folders[i] as { files?: unknown }).files;
    if (!files || typeof files !== 'object' || !Object.values(files).every((v) => v instanceof Uint8Array))
      throw new Error(`${WHERE}: model "${entry.id}" has no readable files: press "Forget my models" and calibrate again`);
    const folder: ModelFolder = { entry, files: files as Record<string, Uint8Array> };
    await checkModelFolder(folder, WHERE);
    folders.push(folder);
  }
  return { folders, savedAt: r.savedAt, ...(r.heldOut ? { heldOut: r.heldOut } : {}) };
}

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === 'undefined') {
      reject(new Error('this browser has no IndexedDB (a private window may disable it): personal models cannot be kept'));
      return;
    }
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(new Error(`IndexedDB "${DB_NAME}" could not be opened: ${request.error?.message ?? 'unknown error'}`));
    request.onblocked = () => reject(new Error(`IndexedDB "${DB_NAME}" is blocked by another tab of this app: close it and retry`));
  });
}

async function withStore<T>(mode: IDBTransactionMode, run: (store: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = run(tx.objectStore(STORE));
      let value: T;
      request.onsuccess = () => (value = request.result as T);
      // Resolved when the transaction commits, so a write is on disk before we say so.
      tx.oncomplete = () => resolve(value);
      tx.onerror = () => reject(new Error(`IndexedDB ${mode}: ${tx.error?.message ?? request.error?.message ?? 'unknown error'}`));
      tx.onabort = () => reject(new Error(`IndexedDB ${mode} aborted: ${tx.error?.message ?? 'quota exceeded or storage cleared'}`));
    });
  } finally {
    db.close();
  }
}

/** The stored personal models, or undefined when there are none; rejects when they are unreadable. */
export async function loadPersonal(): Promise<PersonalModels | undefined> {
  const raw = await withStore<unknown>('readonly', (s) => s.get(KEY));
  return raw === undefined ? undefined : fromStored(raw);
}

export async function savePersonal(folders: readonly ModelFolder[], heldOut?: HeldOutScores): Promise<void> {
  await withStore('readwrite', (s) => s.put(toStored(folders, heldOut), KEY));
}

export async function forgetPersonal(): Promise<void> {
  await withStore('readwrite', (s) => s.delete(KEY));
}
