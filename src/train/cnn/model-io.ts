/**
 * tfjs LayersModel <-> a folder with model.json + weights.bin (the layout the app fetches from
 * /models/), using node:fs. Writes are atomic per file. model.json records each weight file's byte
 * length and sha256 (src/core/weights-integrity.ts); loading checks them, the weights' finiteness
 * and a warm-up inference, so a damaged model fails here, naming the folder, not later with NaNs.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  checkFiniteWeights,
  INTEGRITY_KEY,
  parseLayersModelJson,
  verifyWeightFiles,
  type ParsedLayersModelJson,
  type WeightsFileActual,
  type WeightsFileRecord,
} from '../../core/weights-integrity.ts';
import { concatWeightFiles, layersModelFromWeights, MODEL_JSON, saveModelFolderFiles } from '../../learn/cnn-artifacts.ts';
import { writeFileAtomic } from '../util/atomic.ts';

export { MODEL_JSON, WEIGHTS_BIN } from '../../learn/cnn-artifacts.ts';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Saves into `dir` (which must exist), each file atomically, model.json last. Returns the bytes of weights written. */
export async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<number> {
  return saveModelFolderFiles(model, sha256, (name, contents) => writeFileAtomic(join(dir, name), contents));
}

/** model.json and the weight files of a folder, checked against each other (no tfjs). */
export async function readLayersModelFiles(
  dir: string,
): Promise<{ parsed: ParsedLayersModelJson; weightData: Uint8Array<ArrayBuffer>; warnings: string[] }> {
  const jsonPath = join(dir, MODEL_JSON);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(jsonPath, 'utf8'));
  } catch (e) {
    throw new Error(
      `cannot read tfjs model ${jsonPath}: ${(e as Error).message}. Train one with "npm run train -- cnn" or check --model.`,
      { cause: e },
    );
  }
  const parsed = parseLayersModelJson(json, jsonPath);
  const { files, weightData } = await readWeightFiles(dir, parsed, jsonPath);
  const { warnings } = verifyWeightFiles(parsed, files, jsonPath);
  checkFiniteWeights(parsed.weightSpecs, weightData, dir);
  return { parsed, weightData, warnings };
}

/** Reads and hashes the weight files model.json lists; `weightData` is their concatenation. */
async function readWeightFiles(
  dir: string,
  parsed: ParsedLayersModelJson,
  jsonPath: string,
): Promise<{ files: WeightsFileActual[]; weightData: Uint8Array<ArrayBuffer> }> {
  const buffers: Uint8Array[] = [];
  const files: WeightsFileActual[] = [];
  for (const p of parsed.paths) {
    const file = join(dir, p);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(file));
    } catch (e) {
      throw new Error(
        `cannot read weight file ${file} (listed in ${jsonPath}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; restore the folder or retrain`,
        { cause: e },
      );
    }
    buffers.push(bytes);
    files.push({ path: p, display: file, byteLength: bytes.byteLength, sha256: sha256(bytes) });
  }
  return { files, weightData: concatWeightFiles(buffers) };
}

/**
 * Loads a model folder after checking its weight files (byte length and sha256 against model.json,
 * finite values) and that a warm-up inference on a blank input gives finite outputs. Throws with the
 * folder or file at fault. Warnings (no recorded integrity) go to `warn` (default: console.warn).
 */
export async function loadLayersModel(dir: string, warn: (message: string) => void = console.warn): Promise<tf.LayersModel> {
  const { parsed, weightData, warnings } = await readLayersModelFiles(dir);
  for (const w of warnings) warn(`warning: ${w}`);
  // Finite weights can still overflow (e.g. huge values): layersModelFromWeights runs one blank input.
  return layersModelFromWeights(parsed, weightData, dir);
}

/**
 * Records the byte length and sha256 of a folder's weight files in its model.json (models saved
 * before the record existed); the weights are not touched. Refuses files that do not fit the weight
 * specs or hold non-finite values, and a record that disagrees with the files unless `force`.
 */
export async function stampWeightsIntegrity(dir: string, options: { force?: boolean } = {}): Promise<'stamped' | 'unchanged'> {
  const jsonPath = join(dir, MODEL_JSON);
  const json = JSON.parse(await readFile(jsonPath, 'utf8')) as Record<string, unknown>;
  const parsed = parseLayersModelJson(json, jsonPath);
  const { files, weightData } = await readWeightFiles(dir, parsed, jsonPath);
  // Sizes against the specs only (no record): a stamp must not bless a truncated or padded file.
  const { integrity, ...withoutRecord } = parsed;
  verifyWeightFiles(withoutRecord, files, jsonPath);
  checkFiniteWeights(parsed.weightSpecs, weightData, dir);
  const records: WeightsFileRecord[] = files.map((f) => ({ path: f.path, byteLength: f.byteLength, sha256: f.sha256! }));
  if (integrity) {
    if (JSON.stringify(integrity) === JSON.stringify(records)) return 'unchanged';
    if (!options.force) {
      throw new Error(
        `${jsonPath}: the weight files no longer match the recorded ${INTEGRITY_KEY} (recorded ${JSON.stringify(integrity)}, found ${JSON.stringify(records)}); ` +
          'restore the folder, or re-stamp with --force if these weights are the intended ones',
      );
    }
  }
  json[INTEGRITY_KEY] = records;
  await writeFileAtomic(jsonPath, JSON.stringify(json));
  return 'stamped';
}
