/**
 * models/index.json: the list of models the app and scripts load. Entries are replaced by id.
 * An index.json that is not ours (someone else's file next to an --out folder) is never rewritten.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.ts';

export interface ManifestEntry {
  id: string;
  name: string;
  kind: 'cnn' | 'svm';
  path: string;
  input: Record<string, unknown>;
  report?: string;
}

export const MANIFEST_FILE = 'index.json';

/** Why `json` is not a models manifest as we write it, or undefined when it is one. */
export function notOurManifest(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'it is not a JSON object';
  const models = (json as { models?: unknown }).models;
  if (!Array.isArray(models)) return 'it has no "models" array';
  for (const [i, m] of models.entries()) {
    const e = m as Partial<Record<keyof ManifestEntry, unknown>> | null;
    const ours = typeof e === 'object' && e !== null && !Array.isArray(e) &&
      typeof e.id === 'string' && e.id !== '' && (e.kind === 'cnn' || e.kind === 'svm') && typeof e.path === 'string';
    if (!ours) return `models[${i}] is not a model entry (id, kind "cnn" or "svm", path)`;
  }
  return undefined;
}

/**
 * The entries of `dir/index.json`: [] when there is none; throws, naming the file, when it is
 * unreadable or not our manifest (it is then left untouched).
 */
export async function readManifest(dir: string): Promise<ManifestEntry[]> {
  const file = join(dir, MANIFEST_FILE);
  if (!existsSync(file)) return [];
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file} is not valid JSON (${(e as Error).message}); fix or delete it and rerun`);
  }
  const why = notOurManifest(json);
  if (why) {
    throw new Error(`${file} is not an Emotion Lens models list (${why}), so it was left untouched; ` +
      `publish into a folder whose index.json is ours or absent (e.g. --out models/my-model), or move that file away`);
  }
  return (json as { models: ManifestEntry[] }).models;
}

export async function updateManifest(modelsDir: string, entry: ManifestEntry): Promise<void> {
  const models = await readManifest(modelsDir);
  const i = models.findIndex((m) => m.id === entry.id);
  if (i >= 0) models[i] = entry; else models.push(entry);
  await writeFileAtomic(join(modelsDir, MANIFEST_FILE), JSON.stringify({ models }, null, 2) + '\n');
}
