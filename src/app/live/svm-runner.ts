/**
 * SVM models in the app: model.json + weights.bin fetched from /models/ and run by the shared
 * src/core/svm inference (the same code the training scripts test against libsvm), with the dot
 * products against the support vectors done as one tfjs matrix product (svm-matmul.ts).
 */
import { FEATURE_COUNT } from '../../core/features/index.ts';
import { parseSvmModel, svmInputLength, svmInputOf, type SvmInputSpec, type SvmModel } from '../../core/svm/index.ts';
import { MODELS_BASE, modelUrl, type ModelEntry } from '../manifest.ts';
import { checkSvmInput } from './model-input.ts';
import { fetchModelFile, ModelLoadError, warmUpOrReject, type Runner } from './model-load.ts';
import { SvmMatmul } from './svm-matmul.ts';

export class SvmRunner implements Runner {
  private constructor(
    readonly entry: ModelEntry,
    private readonly input: SvmInputSpec,
    private readonly matmul: SvmMatmul,
  ) {}

  get cropSize(): number {
    return this.input.type === 'pixels' ? this.input.size : 48;
  }

  get needsFeatures(): boolean {
    return this.input.type === 'au-features';
  }

  static async load(entry: ModelEntry, modelsBase: string = MODELS_BASE): Promise<SvmRunner> {
    const check = checkSvmInput(entry);
    if (!check.ok) throw new ModelLoadError({ state: 'unsupported', reason: check.reason });
    const url = modelUrl(entry.path, modelsBase);
    const response = await fetchModelFile(url);
    let json: unknown;
    try {
      json = await response.json();
    } catch (error) {
      throw new ModelLoadError({ state: 'corrupt', message: `${url}: not JSON (${(error as Error).message})` });
    }
    const weightsName = (json as { weights?: { file?: unknown } }).weights?.file;
    const weightsUrl = new URL(typeof weightsName === 'string' ? weightsName : 'weights.bin', new URL(url, location.href)).pathname;
    const weights = await (await fetchModelFile(weightsUrl)).arrayBuffer();
    return SvmRunner.fromFiles(entry, json, weights, url);
  }

  /** A runner from model.json (parsed) and weights.bin already in memory (runner-from-folder.ts); `url` names it in errors. */
  static async fromFiles(entry: ModelEntry, json: unknown, weights: ArrayBuffer | Uint8Array, url: string): Promise<SvmRunner> {
    const check = checkSvmInput(entry);
    if (!check.ok) throw new ModelLoadError({ state: 'unsupported', reason: check.reason });
    let model: SvmModel;
    try {
      model = parseSvmModel(json, weights);
    } catch (error) {
      throw new ModelLoadError({ state: 'corrupt', message: `${url}: ${(error as Error).message}` });
    }
    const expected = svmInputLength(check.input, FEATURE_COUNT);
    if (model.inputDim !== expected) {
      throw new ModelLoadError({
        state: 'corrupt',
        message: `${url}: reads ${model.inputDim} values, its input (${check.input.type}) gives ${expected}`,
      });
    }
    const runner = new SvmRunner(entry, check.input, SvmMatmul.create(model));
    // Warm-up, as for the CNNs: the first product on a backend compiles/allocates.
    // Its outputs must be finite, as for the CNNs (parseSvmModel already rejects non-finite values).
    const blankCrop = new Float32Array(runner.cropSize * runner.cropSize).fill(0.5);
    await warmUpOrReject(runner, [blankCrop], [new Float32Array(FEATURE_COUNT)], url);
    return runner;
  }

  async predict(crops: readonly Float32Array[], features: readonly Float32Array[]): Promise<number[][]> {
    const n = this.input.type === 'pixels' ? crops.length : features.length;
    const rows = Array.from({ length: n }, (_, i) => svmInputOf(this.input, crops[i] ?? [], features[i] ?? []));
    return (await this.matmul.predict(rows)).map((p) => p.probs);
  }

  dispose(): void {
    this.matmul.dispose();
  }
}
