/**
 * Data-parallel training over worker threads: tfjs disables wasm threads in Node, so we use one
 * single-threaded wasm backend per core. Every step each worker computes the mean gradient of its
 * shard; the coordinator averages them weighted by shard size (= the full batch's mean gradient)
 * and every worker applies that same average with its own, identical Adam state.
 * Trainable weights therefore stay identical across workers; BatchNorm batch statistics are per
 * shard and moving averages are averaged across workers when weights are read.
 */
import { Worker } from 'node:worker_threads';
import os from 'node:os';
import type { FromWorker, NamedArray, ToWorker, WorkerInit } from './protocol.ts';

/** What every worker is started with, less its own index and the shared buffers made here. */
export interface PoolOptions extends Omit<WorkerInit, 'index' | 'pixels' | 'labels' | 'keypoints' | 'softTargets' | 'grads' | 'averaged'> {
  workers: number;
  pixels: Uint8Array;
  labels: Uint8Array;
  keypoints?: Float32Array;
  softTargets?: Float32Array;
}

export function defaultWorkerCount(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, cores);
}

function toShared(src: Uint8Array | Float32Array): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(src.byteLength);
  new Uint8Array(sab).set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength));
  return sab;
}

class WorkerHandle {
  private pending: { resolve: (m: FromWorker) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;
  constructor(
    readonly worker: Worker,
    readonly index: number,
  ) {
    worker.on('message', (m: FromWorker) => {
      const p = this.pending;
      this.pending = undefined;
      if (m.type === 'error') {
        const e = new Error(`training worker ${index}: ${m.message}`);
        e.stack = m.stack;
        if (p) p.reject(e);
        else this.failure = e;
      } else if (p) p.resolve(m);
    });
    worker.on('error', (e) => {
      const p = this.pending;
      this.pending = undefined;
      if (p) p.reject(e);
      else this.failure = e;
    });
    worker.on('exit', (code) => {
      const p = this.pending;
      this.pending = undefined;
      if (p && code !== 0) p.reject(new Error(`training worker ${index} exited with code ${code}`));
    });
  }
  next(): Promise<FromWorker> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
    });
  }
  request(m: ToWorker): Promise<FromWorker> {
    const p = this.next();
    this.worker.postMessage(m);
    return p;
  }
}

export class TrainingPool {
  private handles: WorkerHandle[] = [];
  private grads!: Float32Array;
  private averaged!: Float32Array;
  private pendingApply: { lr: number } | undefined;
  paramCount = 0;
  backendDescription = '';

  private constructor(readonly options: PoolOptions) {}

  static async start(options: PoolOptions): Promise<TrainingPool> {
    const pool = new TrainingPool(options);
    await pool.init();
    return pool;
  }

  get size(): number {
    return this.handles.length;
  }

  private async init(): Promise<void> {
    const o = this.options;
    const pixels = toShared(o.pixels);
    const labels = toShared(o.labels);
    const keypoints = o.keypoints ? toShared(o.keypoints) : undefined;
    const softTargets = o.softTargets ? toShared(o.softTargets) : undefined;
    // Sized after the first worker reports its parameter count.
    let gradsSab: SharedArrayBuffer | undefined;
    let averagedSab: SharedArrayBuffer | undefined;
    const url = new URL('./worker.ts', import.meta.url);
    const spawn = (index: number, paramCount: number) => {
      gradsSab ??= new SharedArrayBuffer(Math.max(1, o.workers * paramCount * 4));
      averagedSab ??= new SharedArrayBuffer(Math.max(1, paramCount * 4));
      const data: WorkerInit = {
        index,
        arch: o.arch,
        widths: o.widths,
        seed: o.seed,
        backend: o.backend,
        fastKernels: o.fastKernels,
        labelSmoothing: o.labelSmoothing,
        augment: o.augment,
        classWeights: o.classWeights,
        pixels,
        labels,
        ...(keypoints ? { keypoints, template: o.template } : {}),
        ...(softTargets ? { softTargets, distillWeight: o.distillWeight } : {}),
        ...(o.mixup ? { mixup: o.mixup } : {}),
        grads: gradsSab,
        averaged: averagedSab,
      };
      // The worker is TypeScript: register tsx's loader inside the thread (Node 20 does not pass
      // --import hooks on to workers), then load it.
      const bootstrap = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
      const worker = new Worker(bootstrap, { eval: true, workerData: data });
      return new WorkerHandle(worker, index);
    };
    // Probe the parameter count with a throwaway-free approach: build worker 0 with a 0-size buffer
    // would not work (its views are fixed at start), so count parameters here instead.
    const paramCount = await countParams(o.arch, o.widths);
    for (let i = 0; i < o.workers; i++) this.handles.push(spawn(i, paramCount));
    const ready = await Promise.all(this.handles.map((h) => h.next()));
    for (const r of ready) {
      if (r.type !== 'ready') throw new Error(`training worker did not start: ${JSON.stringify(r)}`);
      if (r.paramCount !== paramCount) throw new Error(`worker parameter count ${r.paramCount} != ${paramCount}`);
      this.backendDescription = r.backend;
    }
    this.paramCount = paramCount;
    this.grads = new Float32Array(gradsSab!);
    this.averaged = new Float32Array(averagedSab!);
  }

  /**
   * One optimisation step over `rows` (indices into the training table): split across workers,
   * gradients averaged; the update itself is applied at the start of the next request. `next`, the
   * following step's rows and seed if known, lets each worker augment that batch while the
   * gradients are averaged (same result as without: the augmentation depends only on rows and seed).
   */
  async step(
    rows: Int32Array,
    lr: number,
    stepSeed: number,
    next?: { rows: Int32Array; stepSeed: number },
  ): Promise<{ loss: number; correct: number; n: number }> {
    const k = this.handles.length;
    const shard = (r: Int32Array, i: number) => {
      const per = Math.ceil(r.length / k);
      return r.slice(i * per, Math.min(r.length, (i + 1) * per));
    };
    const apply = this.pendingApply;
    const results = await Promise.all(
      this.handles.map((h, i) =>
        h.request({
          type: 'step',
          apply: apply !== undefined,
          lr: apply?.lr ?? 0,
          rows: shard(rows, i),
          stepSeed: stepSeed * 65537 + i,
          next: next && { rows: shard(next.rows, i), stepSeed: next.stepSeed * 65537 + i },
        }),
      ),
    );
    let n = 0;
    let loss = 0;
    let correct = 0;
    for (const r of results) {
      if (r.type !== 'stepped') throw new Error(`unexpected worker reply ${r.type}`);
      n += r.n;
      loss += r.loss * r.n;
      correct += r.correct;
    }
    const p = this.paramCount;
    const avg = this.averaged;
    avg.fill(0);
    results.forEach((r, i) => {
      if (r.type !== 'stepped' || r.n === 0) return;
      const w = r.n / n;
      const g = this.grads.subarray(i * p, (i + 1) * p);
      for (let j = 0; j < p; j++) avg[j] += w * g[j];
    });
    this.pendingApply = { lr };
    return { loss: loss / n, correct, n };
  }

  /** Applies the last computed update (call before reading weights). */
  async flush(): Promise<void> {
    const apply = this.pendingApply;
    if (!apply) return;
    this.pendingApply = undefined;
    await Promise.all(this.handles.map((h) => h.request({ type: 'apply', lr: apply.lr })));
  }

  /** All model weights (model.getWeights() order), averaged over workers (trainable ones are equal). */
  async getWeights(): Promise<Float32Array[]> {
    await this.flush();
    const replies = await Promise.all(this.handles.map((h) => h.request({ type: 'getWeights' })));
    const lists = replies.map((r) => {
      if (r.type !== 'weights') throw new Error(`unexpected worker reply ${r.type}`);
      return r.weights;
    });
    return lists[0].map((w, i) => {
      const out = new Float32Array(w.length);
      for (const list of lists) {
        const v = list[i];
        for (let j = 0; j < out.length; j++) out[j] += v[j];
      }
      for (let j = 0; j < out.length; j++) out[j] /= lists.length;
      return out;
    });
  }

  async getOptimizerState(): Promise<NamedArray[]> {
    await this.flush();
    const r = await this.handles[0].request({ type: 'getOptimizer' });
    if (r.type !== 'optimizer') throw new Error(`unexpected worker reply ${r.type}`);
    return r.state;
  }

  async setWeights(weights: Float32Array[], optimizer?: NamedArray[]): Promise<void> {
    this.pendingApply = undefined;
    await Promise.all(this.handles.map((h) => h.request({ type: 'setWeights', weights, optimizer })));
  }

  async close(): Promise<void> {
    await Promise.all(this.handles.map((h) => h.worker.terminate()));
    this.handles = [];
  }
}

async function countParams(arch: string, widths?: number[]): Promise<number> {
  const tf = await import('@tensorflow/tfjs');
  const { buildArch } = await import('../architectures.ts');
  const model = buildArch(arch, 0, widths);
  const n = model.trainableWeights.reduce((a, w) => a + w.shape.reduce((x: number, y) => x * (y ?? 1), 1), 0);
  model.dispose();
  void tf;
  return n;
}
