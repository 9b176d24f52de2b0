/**
 * Personal-model folders (the shape the in-browser trainer produces) made from committed models:
 * models/fer-cnn as "my-cnn" and models/svm-au-personal as "my-svm-au", for tests of storage,
 * export and import that must not wait for a training run.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelFolder } from '../../src/core/calibration/types.ts';
import { parseManifest } from '../../src/core/contracts/manifest.ts';
import { ROOT } from './shared-data.ts';

export async function committedAsPersonal(from: string, id: string, name: string): Promise<ModelFolder> {
  const manifest = parseManifest(JSON.parse(await readFile(join(ROOT, 'models/index.json'), 'utf8')));
  const source = manifest.models.find((m) => m.id === from);
  if (!source) throw new Error(`models/index.json has no "${from}"`);
  const files: Record<string, Uint8Array> = {};
  for (const file of ['model.json', 'weights.bin', 'report.json'])
    files[file] = new Uint8Array(await readFile(join(ROOT, 'models', from, file)));
  return { entry: { ...source, id, name, path: `${id}/model.json`, report: `${id}/report.json` }, files };
}

export async function personalFolders(): Promise<ModelFolder[]> {
  return [
    await committedAsPersonal('fer-cnn', 'my-cnn', 'Yours (CNN)'),
    await committedAsPersonal('svm-au-personal', 'my-svm-au', 'Yours (AU SVM)'),
  ];
}
