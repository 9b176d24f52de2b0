/**
 * Fusion models in the app: the member CNNs are loaded and run here, each as its own manifest
 * entry says (crop size, flip TTA), and their probabilities are combined with the face's AU-style
 * features by src/core/fusion.ts, the code the training command scores the model with. The member
 * entries are read from the same models folder's index.json, so a fusion model runs wherever the
 * app runs its models (live view, worker lanes, batch page, predict, the library) without any
 * change to the engine.
 */
import { parseManifest, type CnnModelEntry } from '../../core/contracts/manifest.ts';
import { parseFusionInput } from '../../core/contracts/model-input.ts';
import { FEATURE_COUNT, FEATURE_VERSION } from '../../core/features/index.ts';
import { FUSION_WEIGHTS_FILE, parseFusionModel, predictFusion, type FusionModel } from '../../core/fusion.ts';
import { MODELS_BASE, modelUrl, type ModelEntry } from '../manifest.ts';
import { fetchModelFile, ModelLoadError, warmUpOrReject, type FrameMemo, type Runner } from './model-load.ts';

/** Loads a member CNN (runner.ts passes ModelRunner.load, so this module does not import it). */
export type MemberLoader = (entry: CnnModelEntry, modelsBase: string) => Promise<Runner>;

/** Why the app cannot run this fusion entry, or undefined when it can (pure; tested in Node). */
export function checkFusionEntry(entry: ModelEntry): string | undefined {
  if (entry.kind !== 'fusion') return `${entry.kind.toUpperCase()} models are not fusion models`;
  let input;
  try {
    input = parseFusionInput(entry.input, 'input');
  } catch (error) {
    return (error as Error).message;
  }
  if (input.featureVersion !== FEATURE_VERSION) {
    return `trained on AU feature version ${input.featureVersion}, the app computes version ${FEATURE_VERSION}: retrain it (npm run train -- fusion --members ${entry.members.join(',')})`;
  }
  if (input.dim !== undefined && input.dim !== FEATURE_COUNT) return `expects ${input.dim} features, the app computes ${FEATURE_COUNT}`;
  return undefined;
}

async function fetchJson(url: string): Promise<unknown> {
  const response = await fetchModelFile(url);
  try {
    return await response.json();
  } catch (error) {
    throw new ModelLoadError({ state: 'corrupt', message: `${url}: not JSON (${(error as Error).message})` });
  }
}

export class FusionRunner implements Runner {
  readonly needsFeatures = true;

  private constructor(
    readonly entry: ModelEntry,
    private readonly model: FusionModel,
    private readonly members: Runner[],
  ) {}

  get cropSize(): number {
    return this.members[0]!.cropSize;
  }

  static async load(entry: ModelEntry, loadMember: MemberLoader, modelsBase: string = MODELS_BASE): Promise<FusionRunner> {
    const problem = checkFusionEntry(entry);
    if (problem !== undefined || entry.kind !== 'fusion')
      throw new ModelLoadError({ state: 'unsupported', reason: problem ?? 'not a fusion model' });
    // The members' entries, from the index.json this entry came from (checked there by parseManifest).
    const indexUrl = `${modelsBase}index.json`;
    let entries: ModelEntry[];
    try {
      entries = parseManifest(await fetchJson(indexUrl), indexUrl).models;
    } catch (error) {
      if (error instanceof ModelLoadError) throw error;
      throw new ModelLoadError({ state: 'corrupt', message: (error as Error).message });
    }
    const memberEntries = entry.members.map((id) => {
      const m = entries.find((e) => e.id === id);
      if (!m || m.kind !== 'cnn') {
        throw new ModelLoadError({ state: 'unsupported', reason: `member "${id}" is not a CNN entry of ${indexUrl}` });
      }
      return m;
    });
    const url = modelUrl(entry.path, modelsBase);
    const json = await fetchJson(url);
    const weightsUrl = new URL(FUSION_WEIGHTS_FILE, new URL(url, location.href)).pathname;
    const weights = await (await fetchModelFile(weightsUrl)).arrayBuffer();
    let model: FusionModel;
    try {
      model = parseFusionModel(json, weights);
    } catch (error) {
      throw new ModelLoadError({ state: 'corrupt', message: `${url}: ${(error as Error).message}` });
    }
    if (model.members.join(',') !== entry.members.join(',')) {
      throw new ModelLoadError({
        state: 'corrupt',
        message: `${url}: trained on members ${model.members.join(', ')}, its index.json entry lists ${entry.members.join(', ')}`,
      });
    }
    if (model.featureVersion !== FEATURE_VERSION || model.featureCount !== FEATURE_COUNT) {
      throw new ModelLoadError({
        state: 'unsupported',
        reason: `${url} reads ${model.featureCount} features of version ${model.featureVersion}, the app computes ${FEATURE_COUNT} of version ${FEATURE_VERSION}: retrain it`,
      });
    }
    const members: Runner[] = [];
    try {
      for (const m of memberEntries) {
        try {
          members.push(await loadMember(m, modelsBase));
        } catch (error) {
          if (!(error instanceof ModelLoadError)) throw error;
          const s = error.status;
          const why = 'reason' in s ? s.reason : s.message;
          throw new ModelLoadError(
            s.state === 'unsupported'
              ? { state: s.state, reason: `member ${m.id}: ${why}` }
              : { state: s.state, message: `member ${m.id}: ${why}` },
          );
        }
      }
      if (members.some((r) => r.cropSize !== members[0]!.cropSize)) {
        throw new ModelLoadError({
          state: 'unsupported',
          reason: `its members read crops of different sizes (${members.map((r) => r.cropSize).join(', ')})`,
        });
      }
    } catch (error) {
      for (const r of members) r.dispose();
      throw error;
    }
    const runner = new FusionRunner(entry, model, members);
    const blank = new Float32Array(runner.cropSize * runner.cropSize).fill(0.5);
    await warmUpOrReject(runner, [blank], [new Float32Array(FEATURE_COUNT)], url);
    return runner;
  }

  async predict(crops: readonly Float32Array[], features: readonly Float32Array[], memo?: FrameMemo): Promise<number[][]> {
    const n = Math.min(crops.length, features.length);
    if (n === 0) return [];
    const faces = crops.slice(0, n);
    const outputs: number[][][] = [];
    for (const m of this.members) outputs.push(await m.predict(faces, features, memo));
    return Array.from({ length: n }, (_, i) =>
      predictFusion(
        this.model,
        outputs.map((o) => o[i]!),
        features[i]!,
      ),
    );
  }

  dispose(): void {
    for (const m of this.members) m.dispose();
  }
}
