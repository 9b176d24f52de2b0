/**
 * SVM models in the app: model.json + weights.bin fetched from /models/ and run by the shared
 * src/core/svm inference (the same code the training scripts test against libsvm).
 */
import { parseSvmModel, predictSvm, type SvmModel } from '../../core/svm/index.ts';
import { modelUrl, type ModelEntry } from '../manifest.ts';
import { checkSvmInput, type SvmInput } from './model-input.ts';
import { ModelLoadError, type Runner } from './runner.ts';

async function fetchOk(url: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { cache: 'no-cache' });
  } catch (error) {
    throw new ModelLoadError({ state: 'missing', message: `${url}: ${(error as Error).message}` });
  }
  if (!response.ok) throw new ModelLoadError({ state: 'missing', message: `${url}: HTTP ${response.status}` });
  return response;
}

export class SvmRunner implements Runner {
  private constructor(
    readonly entry: ModelEntry,
    private readonly input: SvmInput,
    private readonly model: SvmModel,
  ) {}

  get cropSize(): number {
    return this.input.type === 'pixels' ? this.input.size : 48;
  }

  get needsFeatures(): boolean {
    return this.input.type === 'au-features';
  }

  static async load(entry: ModelEntry): Promise<SvmRunner> {
    const check = checkSvmInput(entry);
    if (!check.ok) throw new ModelLoadError({ state: 'unsupported', reason: check.reason });
    const url = modelUrl(entry.path);
    const response = await fetchOk(url);
    let json: unknown;
    try {
      json = await response.json();
    } catch (error) {
      throw new ModelLoadError({ state: 'corrupt', message: `${url}: not JSON (${(error as Error).message})` });
    }
    const weightsName = (json as { weights?: { file?: unknown } }).weights?.file;
    const weightsUrl = new URL(typeof weightsName === 'string' ? weightsName : 'weights.bin', new URL(url, location.href)).pathname;
    const weights = await (await fetchOk(weightsUrl)).arrayBuffer();
    let model: SvmModel;
    try {
      model = parseSvmModel(json, weights);
    } catch (error) {
      throw new ModelLoadError({ state: 'corrupt', message: `${url}: ${(error as Error).message}` });
    }
    const input = check.input;
    if (input.type === 'pixels' && model.inputDim !== input.size * input.size) {
      throw new ModelLoadError({ state: 'corrupt', message: `${url}: reads ${model.inputDim} values, a ${input.size}x${input.size} crop has ${input.size * input.size}` });
    }
    return new SvmRunner(entry, check.input, model);
  }

  async predict(crops: readonly Float32Array[], features: readonly Float32Array[]): Promise<number[][]> {
    const rows = this.input.type === 'pixels' ? crops : features;
    return rows.map((x) => predictSvm(this.model, x).probs);
  }

  dispose(): void {}
}
