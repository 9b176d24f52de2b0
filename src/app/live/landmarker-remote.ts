/**
 * FaceLandmarker tasks that run in a worker (landmarker-worker.ts), as a TaskFactory for
 * Landmarker: its failure handling, task switching and timestamps stay on the page and work the
 * same for tasks here or in the worker. Off by default (?landmarker=worker turns it on): it frees
 * the page thread, but on the 2-core reference machine the landmarker then competes for the cores
 * with the inference worker and the page instead of using the page's share: measured with
 * `npm run bench:live -- --landmarker worker`, landmarker p50 33.9 ms and 42.6 ms end to end,
 * against 22-23 ms and ~33 ms on the page (docs/benchmarks.md). With more cores it can overlap.
 *
 * One worker holds every task of a factory; it is started with the first task and stopped when
 * the last one closes. A grabbed video frame (ImageData) travels as a copy of its pixels (the page
 * keeps the original for its crops); any other source as an ImageBitmap.
 */
import type { FaceLandmarkerOptions, FaceLandmarkerResult } from '@mediapipe/tasks-vision';
import { DEFAULT_ASSETS, type AssetUrls } from './assets.ts';
import type { FaceTask, RunningMode, TaskFactory } from './landmarker.ts';
import type { FromLandmarker, ToLandmarker, WireImage } from './landmarker-protocol.ts';

type Request = ToLandmarker extends infer M ? (M extends { seq: number } ? Omit<M, 'seq'> : never) : never;

class LandmarkerHost {
  private readonly worker: Worker;
  private seq = 0;
  private nextTask = 0;
  private readonly open = new Set<number>();
  private readonly pending = new Map<number, { resolve: (m: FromLandmarker) => void; reject: (e: Error) => void }>();
  stopped = false;

  constructor(
    private readonly assets: Pick<AssetUrls, 'mediapipeWasm' | 'faceLandmarkerTask'>,
    private readonly onStop: () => void,
  ) {
    this.worker = new Worker(new URL('./landmarker-worker.ts', import.meta.url), { type: 'module', name: 'landmarker' });
    this.worker.onmessage = (event: MessageEvent<FromLandmarker>) => {
      const m = event.data;
      const waiter = this.pending.get(m.seq);
      if (!waiter) return;
      this.pending.delete(m.seq);
      if (m.type === 'error') {
        const error = new Error(m.message);
        error.name = m.name;
        waiter.reject(error);
      } else waiter.resolve(m);
    };
    this.worker.onerror = (e) => this.stop(new Error(`the landmarker worker failed (${e.message || 'script error'})`));
  }

  private request(message: Request, transfer: Transferable[] = []): Promise<FromLandmarker> {
    if (this.stopped) return Promise.reject(new Error('the landmarker worker has stopped'));
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      this.worker.postMessage({ ...message, seq } as ToLandmarker, transfer);
    });
  }

  private stop(error: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    this.worker.terminate();
    for (const w of this.pending.values()) w.reject(error);
    this.pending.clear();
    this.onStop();
  }

  async create(numFaces: number, mode: RunningMode): Promise<FaceTask> {
    const task = ++this.nextTask;
    this.open.add(task);
    try {
      await this.request({ type: 'create', task, numFaces, mode, assets: this.assets });
    } catch (error) {
      this.close(task);
      throw error;
    }
    const detect = async (image: TexImageSource, mode: RunningMode, timestampMs: number): Promise<FaceLandmarkerResult> => {
      const wire = await toWire(image);
      const transfer: Transferable[] = wire.kind === 'pixels' ? [wire.data.buffer] : [wire.bitmap];
      const reply = await this.request({ type: 'detect', task, mode, image: wire, timestampMs }, transfer);
      if (reply.type !== 'done' || !reply.result) throw new Error('the landmarker worker sent no result');
      return reply.result;
    };
    return {
      detect: (image: TexImageSource) => detect(image, 'IMAGE', 0),
      detectForVideo: (image: TexImageSource, timestampMs: number) => detect(image, 'VIDEO', timestampMs),
      setOptions: async (options: FaceLandmarkerOptions) => void (await this.request({ type: 'set-options', task, options })),
      close: () => this.close(task),
    };
  }

  private close(task: number): void {
    if (!this.open.delete(task) || this.stopped) return;
    this.request({ type: 'close', task }).catch(() => undefined);
    if (this.open.size === 0) this.stop(new Error('the landmarker worker was closed'));
  }
}

async function toWire(image: TexImageSource): Promise<WireImage> {
  if (typeof ImageData !== 'undefined' && image instanceof ImageData)
    return { kind: 'pixels', width: image.width, height: image.height, data: new Uint8ClampedArray(image.data) };
  return { kind: 'bitmap', bitmap: await createImageBitmap(image) };
}

/** Makes FaceLandmarker tasks in a worker, from the wasm folder and .task file at these URLs. */
export function workerTasks(assets: Pick<AssetUrls, 'mediapipeWasm' | 'faceLandmarkerTask'> = DEFAULT_ASSETS): TaskFactory {
  let host: LandmarkerHost | undefined;
  return (numFaces, mode) => {
    if (!host || host.stopped) {
      const made = new LandmarkerHost(assets, () => {
        if (host === made) host = undefined;
      });
      host = made;
    }
    return host.create(numFaces, mode);
  };
}
