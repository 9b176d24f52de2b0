/** models/index.json: the list of models the app and scripts load. Entries are replaced by id. */
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

export async function updateManifest(modelsDir: string, entry: ManifestEntry): Promise<void> {
  const file = join(modelsDir, 'index.json');
  let models: ManifestEntry[] = [];
  if (existsSync(file)) {
    try {
      models = (JSON.parse(await readFile(file, 'utf8')) as { models: ManifestEntry[] }).models ?? [];
    } catch (e) {
      throw new Error(`${file} is not valid JSON (${(e as Error).message}); fix or delete it and rerun`);
    }
  }
  const i = models.findIndex((m) => m.id === entry.id);
  if (i >= 0) models[i] = entry; else models.push(entry);
  await writeFileAtomic(file, JSON.stringify({ models }, null, 2) + '\n');
}
