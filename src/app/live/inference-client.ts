/**
 * The page's handle on the models: split between the page thread and an inference worker so both
 * read the same frame at once (default where workers exist), all on the page thread (?worker=0),
 * or all in the worker (?worker=1, so that models and landmarker overlap across frames).
 */
import type { ModelEntry } from '../manifest.ts';
import { DEFAULT_ASSETS, type AssetUrls } from './assets.ts';
import type { InferenceEngine, LoadedModel, Prediction } from './inference-engine.ts';
import { assignLanes, fusionGroups, type LaneAssignment } from './lanes.ts';
import type { CropBatch, FeatureBatch, FromWorker, ToWorker } from './protocol.ts';
import type { ModelStatus } from './runner.ts';
import type { BackendChoice, BackendName } from './types.ts';

export type { Prediction } from './inference-engine.ts';

export type ModelsWhere = 'worker' | 'page' | 'split';

/**
 * A frame in two halves (all models in the worker): the crop models start on crops made at the
 * faces' previous positions while the page finds this frame's landmarks; the feature models follow
 * (pipeline.ts decides when the early crops are close enough to use).
 */
export interface ReadAhead {
  predictAhead(frame: number, batches: CropBatch[]): Promise<Prediction>;
  predictRest(frame: number, rows: number[], features?: FeatureBatch): Promise<Prediction>;
}

export interface Inference {
  readonly where: ModelsWhere;
  /** Present when frames are read ahead (where = 'worker', unless turned off). */
  readonly ahead?: ReadAhead;
  /** With where = 'split': which models run where, and the expected milliseconds of each lane. */
  readonly lanes?: LaneAssignment;
  /** Models that loaded, in manifest order, with their input size and whether they read features. */
  readonly models: LoadedModel[];
  /** Runs every loaded model on the crops and features (buffers may be transferred: do not reuse them). */
  predict(batches: CropBatch[], features?: FeatureBatch): Promise<Prediction>;
  /**
   * From the next frame on, do not run these models (the user hid them): the others get their CPU
   * time. A shown fusion keeps its hidden members running, unreported. [] runs every model.
   */
  skip(hidden: readonly string[]): void;
  memory(): Promise<{ numTensors: number; backend: string }>;
  terminate(): void;
}

type OnBackend = (choice: BackendChoice) => void;
type OnStatus = (id: string, status: ModelStatus) => void;

export interface InferenceOptions {
  where: ModelsWhere;
  /** undefined: the first that works of WebGPU, WebGL, wasm, cpu (backend.ts). */
  backend: BackendName | undefined;
  entries: ModelEntry[];
  onBackend: OnBackend;
  onStatus: OnStatus;
  /** With where = 'split': split even when the worker's overhead outweighs the gain (tests). */
  forceSplit?: boolean;
  /** With where = 'worker': read frames ahead (ReadAhead; default true). */
  readAhead?: boolean;
  /** Absolute URLs (a worker resolves relative ones against its own script). Default: the app's. */
  assets?: Pick<AssetUrls, 'models' | 'tfjsWasm'>;
}

/** Picks the backend and loads `entries`; rejects when no backend works. */
export async function startInference(options: InferenceOptions): Promise<Inference> {
  const { where, backend, onBackend, onStatus, forceSplit = false } = options;
  const assets = { models: options.assets?.models ?? DEFAULT_ASSETS.models, tfjsWasm: options.assets?.tfjsWasm ?? DEFAULT_ASSETS.tfjsWasm };
  // A plain copy: reactive proxies can be neither posted nor safely kept.
  const plain = JSON.parse(JSON.stringify(options.entries)) as ModelEntry[];
  if (where === 'worker') {
    const worker = await WorkerInference.start(backend, plain, onBackend, onStatus, assets);
    if (options.readAhead ?? true) worker.ahead = worker;
    return worker;
  }
  const { InferenceEngine } = await import('./inference-engine.ts');
  const engine = new InferenceEngine();
  let chosen: BackendName | undefined;
  const models = await engine.init(
    backend,
    plain,
    (choice) => {
      chosen = choice.active;
      onBackend(choice);
    },
    onStatus,
    assets,
  );
  if (where === 'split' && models.length > 1) {
    const split = await SplitInference.start(engine, models, plain, chosen ?? backend, forceSplit, assets);
    if (split) return split;
  }
  return pageInference(engine, models);
}

function pageInference(engine: InferenceEngine, models: LoadedModel[]): Inference {
  return {
    where: 'page',
    models,
    predict: (batches, features) => engine.predict(batches, features),
    skip: (hidden) => engine.skip(hidden),
    memory: async () => engine.memory(),
    terminate: () => engine.dispose(),
  };
}

function copyBatch(b: CropBatch): CropBatch {
  return { size: b.size, count: b.count, pixels: b.pixels.slice() };
}

/**
 * Both lanes on every frame: the worker's share is posted first, then the page's share runs here,
 * then the worker's answer is awaited. Every model was loaded and timed on the page first
 * (engine.measure); the worker then loads its share, which the page drops.
 */
class SplitInference implements Inference {
  readonly where = 'split';

  private constructor(
    private readonly page: InferenceEngine,
    private readonly worker: WorkerInference,
    readonly models: LoadedModel[],
    readonly lanes: LaneAssignment,
  ) {}

  /** undefined when the split gains nothing or the worker fails: then everything stays on the page. */
  static async start(
    engine: InferenceEngine,
    models: LoadedModel[],
    entries: ModelEntry[],
    backend: BackendName | undefined,
    force: boolean,
    assets: Pick<AssetUrls, 'models' | 'tfjsWasm'>,
  ): Promise<SplitInference | undefined> {
    if (typeof Worker === 'undefined' || (!force && (navigator.hardwareConcurrency ?? 1) < 2)) return undefined;
    const { costs, together } = fusionGroups(
      await engine.measure(),
      entries.map((e) => (e.kind === 'fusion' ? { id: e.id, members: e.members } : { id: e.id })),
    );
    const lanes = assignLanes(costs, force ? 0 : undefined, together);
    if (lanes.worker.length === 0) return undefined;
    const moving = new Set(lanes.worker);
    let worker: WorkerInference;
    try {
      // Statuses were already reported by the page's load; the worker's are not shown again.
      worker = await WorkerInference.start(
        backend,
        entries.filter((e) => moving.has(e.id)),
        () => {},
        () => {},
        assets,
      );
    } catch {
      return undefined;
    }
    const loaded = new Set(worker.models.map((m) => m.id));
    if (loaded.size === 0) {
      worker.terminate();
      return undefined;
    }
    // A model the worker could not load stays on the page.
    engine.remove(loaded);
    const actual = { ...lanes, page: models.filter((m) => !loaded.has(m.id)).map((m) => m.id), worker: [...loaded] };
    return new SplitInference(engine, worker, models, actual);
  }

  async predict(batches: CropBatch[], features?: FeatureBatch): Promise<Prediction> {
    // The worker's copies are transferred; the page keeps the originals.
    const remote = this.worker.predict(batches.map(copyBatch), features ? { ...features, values: features.values.slice() } : undefined);
    let local: Prediction;
    try {
      local = await this.page.predict(batches, features);
    } catch (error) {
      await remote.catch(() => undefined);
      throw error;
    }
    const other = await remote;
    // Manifest order, whichever lane ran each model.
    const probs: Record<string, number[][]> = {};
    const times: Record<string, number> = {};
    for (const { id } of this.models) {
      const from = id in local.probs ? local : other;
      if (id in from.probs) {
        probs[id] = from.probs[id]!;
        times[id] = from.times[id]!;
      }
    }
    return { probs, times };
  }

  skip(hidden: readonly string[]): void {
    this.page.skip(hidden);
    this.worker.skip(hidden);
  }

  async memory(): Promise<{ numTensors: number; backend: string }> {
    const worker = await this.worker.memory();
    const page = this.page.memory();
    return { numTensors: page.numTensors + worker.numTensors, backend: page.backend };
  }

  terminate(): void {
    this.worker.terminate();
    this.page.dispose();
  }
}

class WorkerInference implements Inference, ReadAhead {
  readonly where = 'worker';
  models: LoadedModel[] = [];
  ahead: ReadAhead | undefined;
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (m: FromWorker) => void; reject: (e: Error) => void }>();

  private constructor(private readonly worker: Worker) {}

  static async start(
    backend: BackendName | undefined,
    entries: ModelEntry[],
    onBackend: OnBackend,
    onStatus: OnStatus,
    assets: Pick<AssetUrls, 'models' | 'tfjsWasm'>,
  ): Promise<WorkerInference> {
    const worker = new Worker(new URL('./inference-worker.ts', import.meta.url), { type: 'module', name: 'inference' });
    const client = new WorkerInference(worker);
    await new Promise<void>((resolve, reject) => {
      worker.onerror = (e) => reject(new Error(`the inference worker failed to start (${e.message || 'script error'})`));
      worker.onmessage = (event: MessageEvent<FromWorker>) => {
        const m = event.data;
        if (m.type === 'backend') onBackend(m.choice);
        else if (m.type === 'status') onStatus(m.id, m.status);
        else if (m.type === 'fatal') reject(new Error(m.message));
        else if (m.type === 'ready') {
          client.models = m.models;
          resolve();
        }
      };
      const init: ToWorker = { type: 'init', ...(backend ? { backend } : {}), entries, assets };
      worker.postMessage(init);
    }).catch((error: unknown) => {
      worker.terminate();
      throw error;
    });
    worker.onmessage = (event: MessageEvent<FromWorker>) => client.settle(event.data);
    worker.onerror = (e) => client.failAll(new Error(`inference worker error: ${e.message}`));
    return client;
  }

  private settle(m: FromWorker): void {
    if (m.type !== 'result' && m.type !== 'memory' && m.type !== 'error') return;
    const waiter = this.pending.get(m.seq);
    if (!waiter) return;
    this.pending.delete(m.seq);
    if (m.type === 'error') waiter.reject(new Error(m.message));
    else waiter.resolve(m);
  }

  private failAll(error: Error): void {
    for (const w of this.pending.values()) w.reject(error);
    this.pending.clear();
  }

  private request(message: ToWorker & { seq: number }, transfer: Transferable[] = []): Promise<FromWorker> {
    return new Promise((resolve, reject) => {
      this.pending.set(message.seq, { resolve, reject });
      this.worker.postMessage(message, transfer);
    });
  }

  async predict(batches: CropBatch[], features?: FeatureBatch): Promise<Prediction> {
    const transfer: Transferable[] = batches.map((b) => b.pixels.buffer);
    if (features) transfer.push(features.values.buffer);
    const m = await this.request({ type: 'predict', seq: ++this.seq, batches, ...(features ? { features } : {}) }, transfer);
    if (m.type !== 'result') throw new Error(`unexpected ${m.type} reply`);
    return { probs: m.probs, times: m.times };
  }

  async predictAhead(frame: number, batches: CropBatch[]): Promise<Prediction> {
    const m = await this.request(
      { type: 'predict-ahead', seq: ++this.seq, frame, batches },
      batches.map((b) => b.pixels.buffer),
    );
    if (m.type !== 'result') throw new Error(`unexpected ${m.type} reply`);
    return { probs: m.probs, times: m.times };
  }

  async predictRest(frame: number, rows: number[], features?: FeatureBatch): Promise<Prediction> {
    const transfer = features ? [features.values.buffer] : [];
    const m = await this.request({ type: 'predict-rest', seq: ++this.seq, frame, rows, ...(features ? { features } : {}) }, transfer);
    if (m.type !== 'result') throw new Error(`unexpected ${m.type} reply`);
    return { probs: m.probs, times: m.times };
  }

  skip(hidden: readonly string[]): void {
    // Ordered with the frames: every request after this one runs under it.
    this.worker.postMessage({ type: 'skip', hidden: [...hidden] } satisfies ToWorker);
  }

  async memory(): Promise<{ numTensors: number; backend: string }> {
    const m = await this.request({ type: 'memory', seq: ++this.seq });
    if (m.type !== 'memory') throw new Error(`unexpected ${m.type} reply`);
    return { numTensors: m.numTensors, backend: m.backend };
  }

  terminate(): void {
    this.worker.terminate();
    this.failAll(new Error('inference worker stopped'));
  }
}
