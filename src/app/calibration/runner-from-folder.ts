/**
 * A live Runner from a model folder held in memory (a personal model just trained, read back from
 * IndexedDB, or imported): no fetch. The files get the checks a fetched model gets (weights'
 * byte length and sha256 against model.json's weightsIntegrity, sizes, finite weights, a finite
 * warm-up) and then run exactly as the served models do (ModelRunner: BatchNorm folded, flip TTA;
 * SvmRunner: the shared SVM inference).
 */
import type { ModelFolder } from '../../core/calibration/types.ts';
import { layersModelFromFiles } from '../../learn/cnn-artifacts.ts';
import { ModelLoadError, type Runner } from '../live/model-load.ts';
import { ModelRunner } from '../live/runner.ts';
import { SvmRunner } from '../live/svm-runner.ts';

/** The folder's file named by a path relative to the models folder ("my-cnn/model.json" -> "model.json"). */
function fileOf(folder: ModelFolder, path: string): { name: string; bytes: Uint8Array } {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const bytes = folder.files[name];
  if (!bytes) throw new ModelLoadError({ state: 'missing', message: `${folder.entry.id}: ${name} is not in the model folder` });
  return { name, bytes };
}

/** Loads one folder as a Runner; failures are ModelLoadErrors ('missing', 'corrupt', 'unsupported') naming the model. */
export async function runnerFromFolder(folder: ModelFolder): Promise<Runner> {
  const { entry } = folder;
  const where = `${entry.id} (${entry.name})`;
  const json = fileOf(folder, entry.path);
  if (entry.kind === 'svm') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(json.bytes));
    } catch (error) {
      throw new ModelLoadError({ state: 'corrupt', message: `${where}: ${json.name} is not JSON (${(error as Error).message})` });
    }
    const weightsName = (parsed as { weights?: { file?: unknown } }).weights?.file;
    const weights = fileOf(folder, typeof weightsName === 'string' ? weightsName : 'weights.bin');
    return SvmRunner.fromFiles(entry, parsed, weights.bytes, where);
  }
  if (entry.kind !== 'cnn')
    throw new ModelLoadError({ state: 'unsupported', reason: `${where}: a ${entry.kind} model cannot be loaded from a folder in memory` });
  let model;
  try {
    model = await layersModelFromFiles(folder.files, where);
  } catch (error) {
    throw new ModelLoadError({ state: 'corrupt', message: (error as Error).message });
  }
  return ModelRunner.fromModel(entry, model, where);
}
