/**
 * The page's handle on the models: the inference engine on the page thread (default), or in an
 * inference worker (?worker=1) so that models and landmarker overlap across frames.
 */
import type { ModelEntry } from '../manifest.ts';
import type { LoadedModel, Prediction } from './inference-engine.ts';
import type { CropBatch, FeatureBatch, FromWorker, ToWorker } from './protocol.ts';
import type { ModelStatus } from './runner.ts';
import type { BackendChoice, BackendName } from './types.ts';

export type { Prediction } from './inference-engine.ts';

export interface Inference {
  readonly where: 'worker' | 'page';
  /** Models that loaded, in manifest order, with their input size and whether they read features. */
  readonly models: LoadedModel[];
  /** Runs every loaded model on the crops and features (buffers may be transferred: do not reuse them). */
  predict(batches: CropBatch[], features?: FeatureBatch): Promise<Prediction>;
  memory(): Promise<{ numTensors: number; backend: string }>;
  terminate(): void;
}

type OnBackend = (choice: BackendChoice) => void;
type OnStatus = (id: string, status: ModelStatus) => void;

/** Picks the backend and loads `entries`; rejects when no backend works. */
export async function startInference(
  where: 'worker' | 'page',
  backend: BackendName | undefined,
  entries: ModelEntry[],
  onBackend: OnBackend,
  onStatus: OnStatus,
): Promise<Inference> {
  // A plain copy: reactive proxies can be neither posted nor safely kept.
  const plain = JSON.parse(JSON.stringify(entries)) as ModelEntry[];
  if (where === 'worker') return WorkerInference.start(backend, plain, onBackend, onStatus);
  const { InferenceEngine } = await import('./inference-engine.ts');
  const engine = new InferenceEngine();
  const models = await engine.init(backend, plain, onBackend, onStatus);
  return {
    where: 'page',
    models,
    predict: (batches, features) => engine.predict(batches, features),
    memory: async () => engine.memory(),
    terminate: () => engine.dispose(),
  };
}

class WorkerInference implements Inference {
  readonly where = 'worker';
  models: LoadedModel[] = [];
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (m: FromWorker) => void; reject: (e: Error) => void }>();

  private constructor(private readonly worker: Worker) {}

  static async start(backend: BackendName | undefined, entries: ModelEntry[], onBackend: OnBackend, onStatus: OnStatus): Promise<WorkerInference> {
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
      const init: ToWorker = { type: 'init', backend, entries };
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
