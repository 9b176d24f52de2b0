/**
 * A tfjs LayersModel <-> the bytes of a model folder's model.json + weights.bin, in memory: the
 * same files `npm run train` writes (src/train/cnn/model-io.ts builds them with saveModelFolderFiles
 * and loads them with layersModelFromWeights below; a test checks the bytes are equal), with each
 * weight file's byte length and sha256 recorded in model.json (weightsIntegrity) and checked on the
 * way back. Web-standard APIs only (crypto.subtle, TextEncoder): Node and browser.
 */
import * as tf from '@tensorflow/tfjs';
import {
  checkFiniteWeights,
  INTEGRITY_KEY,
  nonFiniteOutputMessage,
  parseLayersModelJson,
  toHex,
  verifyWeightFiles,
  type ParsedLayersModelJson,
  type WeightsFileActual,
  type WeightsFileRecord,
} from '../core/weights-integrity.ts';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

/** sha256 of `bytes` as hex; undefined where crypto.subtle is missing (a page served over plain http). */
export async function sha256Hex(bytes: Uint8Array): Promise<string | undefined> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return undefined;
  return toHex(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/**
 * Saves `model` as a model folder's two files, in the layout and JSON of tfjs's own file save plus
 * weights.bin's byte length and `sha256` (hex) in model.json. `write` gets weights.bin, then
 * model.json last: a crash in between leaves a record that no longer matches, which loading reports.
 * Returns weights.bin's byte length.
 */
export async function saveModelFolderFiles(
  model: tf.LayersModel,
  sha256: (bytes: Uint8Array) => string | Promise<string>,
  write: (name: string, contents: Uint8Array | string) => Promise<void>,
): Promise<number> {
  let bytes = 0;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const weights = new Uint8Array(data);
      bytes = weights.byteLength;
      const integrity: WeightsFileRecord[] = [{ path: WEIGHTS_BIN, byteLength: bytes, sha256: await sha256(weights) }];
      const json = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs }],
        [INTEGRITY_KEY]: integrity,
      };
      await write(WEIGHTS_BIN, weights);
      await write(MODEL_JSON, JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: bytes } };
    }),
  );
  return bytes;
}

/** The model's model.json and weights.bin bytes (the files saveLayersModel writes). */
export async function layersModelFiles(model: tf.LayersModel): Promise<Record<string, Uint8Array>> {
  const files: Record<string, Uint8Array> = {};
  await saveModelFolderFiles(
    model,
    async (weights) => {
      const sha256 = await sha256Hex(weights);
      if (!sha256) throw new Error('saving a model needs crypto.subtle (sha256 of weights.bin): serve the page over https or localhost');
      return sha256;
    },
    async (name, contents) => {
      files[name] = typeof contents === 'string' ? new TextEncoder().encode(contents) : contents;
    },
  );
  return files;
}

/** The weight files' bytes joined in order: the weight data model.json's specs describe. */
export function concatWeightFiles(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const weightData = new Uint8Array(parts.reduce((a, b) => a + b.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    weightData.set(p, offset);
    offset += p.byteLength;
  }
  return weightData;
}

/**
 * The LayersModel of checked weight files (`weightData` as concatWeightFiles gives it), after a
 * warm-up inference: finite weights can still overflow (e.g. huge values), so one blank input must
 * give finite outputs. Throws naming `where` otherwise.
 */
export async function layersModelFromWeights(
  parsed: ParsedLayersModelJson,
  weightData: Uint8Array<ArrayBuffer>,
  where: string,
): Promise<tf.LayersModel> {
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: parsed.modelTopology,
      weightSpecs: parsed.weightSpecs as tf.io.WeightsManifestEntry[],
      weightData: weightData.buffer,
    }),
  );
  const outputs = tf.tidy(() => {
    const inputs = model.inputs.map((input) =>
      tf.fill(
        input.shape.map((d) => d ?? 1),
        0.5,
      ),
    );
    const out = model.predict(inputs.length === 1 ? inputs[0]! : inputs);
    return (Array.isArray(out) ? out : [out]).map((t) => t.dataSync());
  });
  for (const values of outputs) {
    const problem = nonFiniteOutputMessage(values, where);
    if (problem) {
      model.dispose();
      throw new Error(problem);
    }
  }
  return model;
}

/**
 * Loads a LayersModel from a folder's files after the checks loading from disk or the server makes:
 * byte length and sha256 of each weight file against model.json, sizes against the weight specs,
 * finite weights, and finite outputs of a warm-up inference. `where` names the folder in errors.
 */
export async function layersModelFromFiles(
  files: Readonly<Record<string, Uint8Array>>,
  where: string,
  warn: (message: string) => void = console.warn,
): Promise<tf.LayersModel> {
  const jsonBytes = files[MODEL_JSON];
  if (!jsonBytes) throw new Error(`${where}: no ${MODEL_JSON} in the model folder`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(jsonBytes));
  } catch (e) {
    throw new Error(`${where}/${MODEL_JSON}: not JSON (${(e as Error).message})`, { cause: e });
  }
  const parsed = parseLayersModelJson(json, `${where}/${MODEL_JSON}`);
  const actual: WeightsFileActual[] = [];
  const parts: Uint8Array[] = [];
  for (const path of parsed.paths) {
    const bytes = files[path];
    if (!bytes) throw new Error(`${where}: weight file ${path} (listed in ${MODEL_JSON}) is missing from the folder`);
    parts.push(bytes);
    const sha256 = await sha256Hex(bytes);
    actual.push({ path, display: `${where}/${path}`, byteLength: bytes.byteLength, ...(sha256 ? { sha256 } : {}) });
  }
  for (const w of verifyWeightFiles(parsed, actual, `${where}/${MODEL_JSON}`).warnings) warn(`warning: ${w}`);
  const weightData = concatWeightFiles(parts);
  checkFiniteWeights(parsed.weightSpecs, weightData, where);
  return layersModelFromWeights(parsed, weightData, where);
}
