/**
 * A tfjs LayersModel <-> the bytes of a model folder's model.json + weights.bin, in memory: the
 * same files `npm run train` writes (src/train/cnn/model-io.ts; a test checks the bytes are equal),
 * with each weight file's byte length and sha256 recorded in model.json (weightsIntegrity) and
 * checked on the way back. Web-standard APIs only (crypto.subtle, TextEncoder): Node and browser.
 */
import * as tf from '@tensorflow/tfjs';
import {
  checkFiniteWeights,
  INTEGRITY_KEY,
  nonFiniteOutputMessage,
  parseLayersModelJson,
  toHex,
  verifyWeightFiles,
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

/** The model's model.json and weights.bin bytes (the layout and JSON of saveLayersModel). */
export async function layersModelFiles(model: tf.LayersModel): Promise<Record<string, Uint8Array>> {
  let files: Record<string, Uint8Array> | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const weights = new Uint8Array(data);
      const sha256 = await sha256Hex(weights);
      if (!sha256) throw new Error('saving a model needs crypto.subtle (sha256 of weights.bin): serve the page over https or localhost');
      const integrity: WeightsFileRecord[] = [{ path: WEIGHTS_BIN, byteLength: weights.byteLength, sha256 }];
      const json = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs }],
        [INTEGRITY_KEY]: integrity,
      };
      files = { [MODEL_JSON]: new TextEncoder().encode(JSON.stringify(json)), [WEIGHTS_BIN]: weights };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
    }),
  );
  return files!;
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
  const weightData = new Uint8Array(parts.reduce((a, b) => a + b.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    weightData.set(p, offset);
    offset += p.byteLength;
  }
  checkFiniteWeights(parsed.weightSpecs, weightData, where);
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
