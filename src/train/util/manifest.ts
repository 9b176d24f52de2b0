/**
 * models/index.json: the list of models the app and scripts load. Entries are replaced by id.
 * The file is checked with the contract's parser (src/core/contracts/manifest.ts) before it is
 * rewritten: an index.json that is not ours (someone else's file next to an --out folder) or that
 * no reader would accept is never rewritten. Other entries are written back as they were read.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest, serializeManifest, upsertEntry, type ModelEntry } from '../../core/contracts/index.ts';
import { writeFileAtomic } from './atomic.ts';

export const MANIFEST_FILE = 'index.json';

/** What the writers put in "$schema": the schema beside the committed models/index.json. */
export const MANIFEST_SCHEMA = './index.schema.json';

/** A manifest that passed parseManifest, as read: entries are written back unchanged, byte for byte. */
interface RawManifest {
  $schema?: string;
  models: { id: string }[];
}

/**
 * `dir/index.json` as read: undefined when there is none; throws, naming the file, when it is
 * unreadable, not JSON or not a models list parseManifest accepts (it is then left untouched).
 */
async function readRawManifest(dir: string): Promise<RawManifest | undefined> {
  const file = join(dir, MANIFEST_FILE);
  if (!existsSync(file)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file} is not valid JSON (${(e as Error).message}); fix or delete it and rerun`, { cause: e });
  }
  try {
    parseManifest(json, file);
  } catch (e) {
    const why = (e as Error).message.replace(`${file}: `, '');
    throw new Error(
      `${file} is not an Emotion Lens models list (${why}), so it was left untouched; ` +
        `publish into a folder whose index.json is ours or absent (e.g. --out models/my-model), or move that file away`,
      { cause: e },
    );
  }
  return json as RawManifest;
}

/** The entries of `dir/index.json` (parsed and complete): [] when there is none; throws like readRawManifest. */
export async function readManifest(dir: string): Promise<ModelEntry[]> {
  const raw = await readRawManifest(dir);
  return raw ? parseManifest(raw, join(dir, MANIFEST_FILE)).models : [];
}

/** Adds `entry` to `modelsDir/index.json` or replaces the entry with its id; the file is written atomically. */
export async function updateManifest(modelsDir: string, entry: ModelEntry): Promise<void> {
  const raw = await readRawManifest(modelsDir);
  const models = upsertEntry<{ id: string }>(raw?.models ?? [], entry);
  // Checked as a whole before writing: the file we leave must pass the readers' parser.
  const text = serializeManifest({ $schema: raw?.$schema ?? MANIFEST_SCHEMA, models });
  parseManifest(JSON.parse(text), join(modelsDir, MANIFEST_FILE));
  await writeFileAtomic(join(modelsDir, MANIFEST_FILE), text);
}

/**
 * Sets one field of existing entries of `modelsDir/index.json` (by id), every other byte of each
 * entry kept; the file is checked as a whole and written atomically. Throws naming an unknown id.
 */
export async function setEntryField(modelsDir: string, field: string, values: ReadonlyMap<string, unknown>): Promise<void> {
  const file = join(modelsDir, MANIFEST_FILE);
  const raw = await readRawManifest(modelsDir);
  if (!raw) throw new Error(`${file} does not exist`);
  for (const id of values.keys()) if (!raw.models.some((m) => m.id === id)) throw new Error(`${file} has no model "${id}"`);
  const models = raw.models.map((m) => (values.has(m.id) ? { ...m, [field]: values.get(m.id) } : m));
  const text = serializeManifest({ ...(raw.$schema !== undefined ? { $schema: raw.$schema } : {}), models });
  parseManifest(JSON.parse(text), file);
  await writeFileAtomic(file, text);
}
