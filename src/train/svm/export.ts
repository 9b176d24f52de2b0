/**
 * Writes and reads the app's SVM model files (model.json + weights.bin) with node:fs. Building them
 * from a libsvm model is src/learn/svm-export.ts (shared with the browser), re-exported here.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.ts';
import { parseSvmModel } from '../../core/svm/model.ts';
import { SVM_MODEL_FILE, SVM_WEIGHTS_FILE, type SvmModel } from '../../core/svm/types.ts';
import type { ModelFiles } from '../../learn/svm-export.ts';

export { libsvmToModelFiles, parseLibsvmText, type ExportOptions, type LibsvmTextModel, type ModelFiles } from '../../learn/svm-export.ts';

/**
 * Writes `dir/weights.bin` then `dir/model.json`, each atomically (temp file + fsync + rename).
 * model.json records weights.bin's length and hash, so a reader never silently pairs a new
 * model.json with an old weights.bin.
 */
export async function writeSvmModel(dir: string, files: ModelFiles): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, files.json.weights.file), files.weights);
  await writeFileAtomic(join(dir, SVM_MODEL_FILE), JSON.stringify(files.json, null, 1) + '\n');
}

/** Reads and parses `dir/model.json` + its weights file. */
export async function readSvmModel(dir: string): Promise<SvmModel> {
  const json: unknown = JSON.parse(await fsp.readFile(join(dir, SVM_MODEL_FILE), 'utf8'));
  const file = (json as { weights?: { file?: unknown } })?.weights?.file;
  const name = typeof file === 'string' && /^[\w.-]+$/.test(file) ? file : SVM_WEIGHTS_FILE;
  const buf = await fsp.readFile(join(dir, name));
  return parseSvmModel(json, buf);
}
