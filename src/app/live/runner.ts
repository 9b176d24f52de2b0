/**
 * Loads the manifest's models with tfjs and runs them on batches of face crops. A model that is
 * missing, corrupt or of an unsupported kind gets a status with the reason instead of breaking
 * the others.
 */
import * as tf from '@tensorflow/tfjs';
import { NUM_CLASSES } from '../../core/labels.ts';
import { flipHorizontal } from '../../core/framing/warp.ts';
import { foldBatchNorm } from './fold-batchnorm.ts';
import { MODELS_BASE, modelUrl, type ModelEntry } from '../manifest.ts';
import { checkModelInput, meanOfHalves, rowsOf, type InputSpec } from './model-input.ts';
import {
  checkFiniteWeights,
  parseLayersModelJson,
  toHex,
  verifyWeightFiles,
  WeightsIntegrityError,
  type WeightsFileActual,
} from '../../core/weights-integrity.ts';
import { fetchModelFile, ModelLoadError, warmUpOrReject, type FrameMemo, type Runner } from './model-load.ts';

// The shared runner types live in model-load.ts; re-exported for the modules that import them from here.
export { ModelLoadError, type FrameMemo, type ModelStatus, type Runner } from './model-load.ts';

/** Finds an already loaded runner for a fusion model's member (shared, see ModelRunner.share). */
export type LoadedLookup = (entry: ModelEntry) => ModelRunner | undefined;

export class ModelRunner implements Runner {
  readonly needsFeatures = false;
  /** Holders of this runner (the engine, fusion models using it as a member); the model goes with the last. */
  private holders = 1;

  private constructor(
    readonly entry: ModelEntry,
    readonly spec: InputSpec,
    private readonly model: tf.LayersModel,
  ) {}

  get cropSize(): number {
    return this.spec.size;
  }

  /** Loads and warms up one model (its path relative to `modelsBase`); throws ModelLoadError. */
  static async load(entry: ModelEntry, modelsBase: string = MODELS_BASE): Promise<ModelRunner> {
    const check = checkModelInput(entry);
    if (!check.ok) throw new ModelLoadError({ state: 'unsupported', reason: check.reason });
    const url = modelUrl(entry.path, modelsBase);
    return ModelRunner.fromModel(entry, await loadVerifiedLayersModel(url), url);
  }

  /**
   * A runner for a model already loaded and verified (a personal model folder in memory,
   * runner-from-folder.ts); `url` names it in errors. Takes ownership of `loaded`.
   */
  static async fromModel(entry: ModelEntry, loaded: tf.LayersModel, url: string): Promise<ModelRunner> {
    const check = checkModelInput(entry);
    if (!check.ok) {
      loaded.dispose();
      throw new ModelLoadError({ state: 'unsupported', reason: check.reason });
    }
    let model = loaded;
    const shape = model.outputs[0]?.shape;
    if (!shape || shape[shape.length - 1] !== NUM_CLASSES) {
      model.dispose();
      throw new ModelLoadError({
        state: 'corrupt',
        message: `${url}: output shape ${JSON.stringify(shape)}, expected [null, ${NUM_CLASSES}]`,
      });
    }
    // Same function, fewer ops: BatchNorm folded into the convolutions (~25 % faster on wasm).
    const folded = foldBatchNorm(model);
    if (folded) {
      model.dispose();
      model = folded;
    }
    const runner = new ModelRunner(entry, check.spec, model);
    // Warm-up: compiles kernels/shaders for the common batch sizes before the first real frame,
    // and catches weights that give NaN/Infinity (the model would otherwise show "angry NaN%").
    const blank = new Float32Array(check.spec.size * check.spec.size).fill(0.5);
    await warmUpOrReject(runner, [blank], [], url);
    return runner;
  }

  /** Dispatches on the manifest kind: CNNs here, SVMs in svm-runner.ts, fusion models in fusion-runner.ts. */
  static async loadAny(entry: ModelEntry, modelsBase: string = MODELS_BASE, loaded?: LoadedLookup): Promise<Runner> {
    if (entry.kind === 'fusion') {
      const { FusionRunner } = await import('./fusion-runner.ts');
      // A member the engine already runs is shared (one model in memory, one run per frame via the memo).
      return FusionRunner.load(entry, async (member, base) => loaded?.(member)?.share() ?? ModelRunner.load(member, base), modelsBase);
    }
    if (entry.kind === 'svm') {
      const { SvmRunner } = await import('./svm-runner.ts');
      return SvmRunner.load(entry, modelsBase);
    }
    return ModelRunner.load(entry, modelsBase);
  }

  /** Probabilities (EMOTIONS order) for each crop (size x size gray in [0,1]). */
  async predict(crops: readonly Float32Array[], _features?: readonly Float32Array[], memo?: FrameMemo): Promise<number[][]> {
    const n = crops.length;
    if (n === 0) return [];
    const known = memo?.get(this);
    if (known && known.length === n) return known.map((row) => row.slice());
    const rows = await this.run(crops);
    memo?.set(this, rows);
    return rows.map((row) => row.slice());
  }

  /** This runner for one more holder; each holder calls dispose() once. */
  share(): this {
    this.holders++;
    return this;
  }

  private async run(crops: readonly Float32Array[]): Promise<number[][]> {
    const n = crops.length;
    const pixels = this.spec.size * this.spec.size;
    const rows = this.spec.hflipMean ? 2 * n : n;
    const batch = new Float32Array(rows * pixels);
    crops.forEach((crop, i) => {
      batch.set(crop, i * pixels);
      if (this.spec.hflipMean) flipHorizontal(crop, this.spec.size, batch.subarray((n + i) * pixels, (n + i + 1) * pixels));
    });
    const output = tf.tidy(() => {
      const input = tf.tensor4d(batch, [rows, this.spec.size, this.spec.size, 1]);
      return this.model.predict(input) as tf.Tensor;
    });
    try {
      const data = await output.data();
      return this.spec.hflipMean ? meanOfHalves(data, n) : rowsOf(data, n);
    } finally {
      output.dispose();
    }
  }

  dispose(): void {
    if (--this.holders === 0) this.model.dispose();
  }
}

/**
 * Fetches model.json and its weight files, checks them (byte length and sha256 recorded in
 * model.json, sizes against the weight specs, finite weights; src/core/weights-integrity.ts) and
 * only then hands them to tfjs. Failures are 'missing' or 'corrupt' ModelLoadErrors naming the file.
 */
async function loadVerifiedLayersModel(url: string): Promise<tf.LayersModel> {
  const response = await fetchModelFile(url);
  let json: unknown;
  try {
    json = await response.json();
  } catch (error) {
    throw new ModelLoadError({ state: 'corrupt', message: `${url}: not JSON (${(error as Error).message})` });
  }
  try {
    const parsed = parseLayersModelJson(json, url);
    const base = new URL(url, location.href);
    const files: WeightsFileActual[] = [];
    const buffers: ArrayBuffer[] = [];
    for (const path of parsed.paths) {
      const fileUrl = new URL(path, base).pathname;
      const bytes = await (await fetchModelFile(fileUrl)).arrayBuffer();
      buffers.push(bytes);
      files.push({ path, display: fileUrl, byteLength: bytes.byteLength, ...(await sha256(bytes)) });
    }
    for (const warning of verifyWeightFiles(parsed, files, url).warnings) console.warn(warning);
    const weightData = new Uint8Array(buffers.reduce((a, b) => a + b.byteLength, 0));
    let offset = 0;
    for (const b of buffers) {
      weightData.set(new Uint8Array(b), offset);
      offset += b.byteLength;
    }
    checkFiniteWeights(parsed.weightSpecs, weightData, url);
    return await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: parsed.modelTopology,
        weightSpecs: parsed.weightSpecs as tf.io.WeightsManifestEntry[],
        weightData: weightData.buffer,
      }),
    );
  } catch (error) {
    if (error instanceof ModelLoadError) throw error;
    const message = (error as Error).message;
    // Integrity errors already name the file; tfjs's own (e.g. an unknown layer) get the URL.
    throw new ModelLoadError({ state: 'corrupt', message: error instanceof WeightsIntegrityError ? message : `${url}: ${message}` });
  }
}

/** sha256 as hex, or nothing where crypto.subtle is unavailable (pages served over plain http). */
async function sha256(bytes: ArrayBuffer): Promise<{ sha256?: string }> {
  if (!globalThis.crypto?.subtle) return {};
  return { sha256: toHex(await crypto.subtle.digest('SHA-256', bytes)) };
}
