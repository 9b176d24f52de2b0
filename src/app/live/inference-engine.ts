/**
 * Picks the tfjs backend, loads the manifest's models and runs them on batches of crops. Used on
 * the page itself (default) or inside the inference worker (?worker=1).
 */
import * as tf from '@tensorflow/tfjs';
import { FEATURE_COUNT } from '../../core/features/index.ts';
import { shiftFeatures } from '../../core/neutral-baseline.ts';
import type { ModelEntry } from '../manifest.ts';
import { DEFAULT_ASSETS, type AssetUrls } from './assets.ts';
import { chooseBackend } from './backend.ts';
import type { CropBatch, FeatureBatch } from './protocol.ts';
import { planRuns, type RunPlan } from './model-selection.ts';
import { ModelLoadError, ModelRunner, type FrameMemo, type ModelStatus, type Runner } from './runner.ts';
import type { BackendChoice, BackendName } from './types.ts';

export interface Prediction {
  /** Per model id: one probability row per face. */
  probs: Record<string, number[][]>;
  /** Per model id: milliseconds. */
  times: Record<string, number>;
}

function split(batch: CropBatch): Float32Array[] {
  const n = batch.size * batch.size;
  return Array.from({ length: batch.count }, (_, i) => batch.pixels.subarray(i * n, (i + 1) * n));
}

function splitFeatures(batch: FeatureBatch | undefined): Float32Array[] {
  if (!batch) return [];
  return Array.from({ length: batch.count }, (_, i) => batch.values.subarray(i * batch.dim, (i + 1) * batch.dim));
}

/** The features one model reads: moved by its shift when the batch gives it one. */
function featuresFor(id: string, features: Float32Array[], batch: FeatureBatch | undefined): Float32Array[] {
  const shift = batch?.shifts?.[id];
  return shift ? features.map((f) => shiftFeatures(f, shift)) : features;
}

/** What the pipeline must compute per face for a loaded model. */
export interface LoadedModel {
  id: string;
  /** Crop side it reads. */
  size: number;
  /** Needs the AU-style feature vector. */
  features: boolean;
}

/** Frames read ahead are kept this long (by frame number) for their second half. */
const KEPT_FRAMES = 4;

export class InferenceEngine {
  private runners: Runner[] = [];
  /** Set by skip(): the models hidden by the user are not run (model-selection.ts). */
  private hidden: ReadonlySet<string> = new Set();
  private plan: RunPlan | undefined;
  /** The runners the plan runs, in order. */
  private active: Runner[] = [];
  /** Per frame read ahead: its crops and the crop models' outputs, until predictRest. */
  private readonly kept = new Map<number, { crops: Map<number, Float32Array[]>; memo: FrameMemo }>();

  /**
   * Throws when no backend works; a model that fails is reported through onStatus and skipped.
   * `assets`: where the models and the tfjs wasm binaries are served (default: the app's).
   */
  async init(
    backend: BackendName | undefined,
    entries: ModelEntry[],
    onBackend: (choice: BackendChoice) => void,
    onStatus: (id: string, status: ModelStatus) => void,
    assets: Pick<AssetUrls, 'models' | 'tfjsWasm'> = DEFAULT_ASSETS,
  ): Promise<LoadedModel[]> {
    onBackend(await chooseBackend(backend, assets.tfjsWasm));
    for (const entry of entries) {
      onStatus(entry.id, { state: 'loading' });
      try {
        const loaded = (member: ModelEntry) =>
          this.runners.find((r): r is ModelRunner => r instanceof ModelRunner && r.entry.id === member.id && r.entry.path === member.path);
        this.runners.push(await ModelRunner.loadAny(entry, assets.models, loaded));
        onStatus(entry.id, { state: 'ready' });
      } catch (error) {
        onStatus(entry.id, error instanceof ModelLoadError ? error.status : { state: 'corrupt', message: String(error) });
      }
    }
    this.replan();
    return this.runners.map((r) => ({ id: r.entry.id, size: r.cropSize, features: r.needsFeatures }));
  }

  async predict(batches: CropBatch[], featureBatch?: FeatureBatch): Promise<Prediction> {
    const crops = new Map(batches.map((b) => [b.size, split(b)]));
    const features = splitFeatures(featureBatch);
    const probs: Record<string, number[][]> = {};
    const times: Record<string, number> = {};
    const memo: FrameMemo = new Map();
    for (const runner of this.running()) {
      const start = performance.now();
      if (runner.needsFeatures && features.length === 0) continue;
      probs[runner.entry.id] = await runner.predict(
        crops.get(runner.cropSize) ?? [],
        featuresFor(runner.entry.id, features, featureBatch),
        memo,
      );
      times[runner.entry.id] = performance.now() - start;
    }
    return this.reported({ probs, times });
  }

  /**
   * The first half of a frame read ahead (pipeline.ts): every model that reads only crops, on crops
   * made before the frame's landmarks are known. The crops and outputs are kept for predictRest.
   */
  async predictAhead(frame: number, batches: CropBatch[]): Promise<Prediction> {
    const crops = new Map(batches.map((b) => [b.size, split(b)]));
    const memo: FrameMemo = new Map();
    const probs: Record<string, number[][]> = {};
    const times: Record<string, number> = {};
    for (const runner of this.running()) {
      if (runner.needsFeatures) continue;
      const start = performance.now();
      probs[runner.entry.id] = await runner.predict(crops.get(runner.cropSize) ?? [], [], memo);
      times[runner.entry.id] = performance.now() - start;
    }
    this.kept.set(frame, { crops, memo });
    for (const old of this.kept.keys()) if (old <= frame - KEPT_FRAMES) this.kept.delete(old);
    return this.reported({ probs, times });
  }

  /**
   * The second half: the models that read features, for the faces `rows` picks out of the kept
   * crops (in the order of `features`); a member CNN's output is taken from the first half.
   */
  async predictRest(frame: number, rows: readonly number[], featureBatch?: FeatureBatch): Promise<Prediction> {
    const kept = this.kept.get(frame);
    if (!kept) throw new Error(`frame ${frame} was not read ahead (or was dropped)`);
    this.kept.delete(frame);
    const crops = new Map([...kept.crops].map(([size, list]) => [size, rows.map((r) => list[r]!)]));
    const memo: FrameMemo = new Map([...kept.memo].map(([runner, out]) => [runner, rows.map((r) => out[r]!)]));
    const features = splitFeatures(featureBatch);
    const probs: Record<string, number[][]> = {};
    const times: Record<string, number> = {};
    if (features.length === 0) return { probs, times };
    for (const runner of this.running()) {
      if (!runner.needsFeatures) continue;
      const start = performance.now();
      probs[runner.entry.id] = await runner.predict(
        crops.get(runner.cropSize) ?? [],
        featuresFor(runner.entry.id, features, featureBatch),
        memo,
      );
      times[runner.entry.id] = performance.now() - start;
    }
    return this.reported({ probs, times });
  }

  /**
   * Models not to run from the next frame on (the user hid them); a shown fusion still runs its
   * hidden members, without reporting them. An empty list runs every model.
   */
  skip(hidden: readonly string[]): void {
    this.hidden = new Set(hidden);
    this.replan();
  }

  /** Once per change of the runners or of the hidden set, not per frame. */
  private replan(): void {
    const plan =
      this.hidden.size === 0
        ? undefined
        : planRuns(
            this.runners.map((r) => r.entry),
            this.hidden,
          );
    this.plan = plan;
    this.active = plan ? this.runners.filter((r) => plan.run.has(r.entry.id)) : [];
  }

  private running(): Runner[] {
    return this.plan ? this.active : this.runners;
  }

  /** Leaves out the outputs of hidden models that ran only as a fusion's members. */
  private reported(p: Prediction): Prediction {
    const plan = this.plan;
    if (!plan) return p;
    for (const id of Object.keys(p.probs)) {
      if (plan.report.has(id)) continue;
      delete p.probs[id];
      delete p.times[id];
    }
    return p;
  }

  /**
   * Milliseconds per call of each loaded model on one blank face (median of `runs`), on this
   * thread: what assignLanes (lanes.ts) balances.
   */
  async measure(runs = 5): Promise<[string, number][]> {
    const features = [new Float32Array(FEATURE_COUNT)];
    const out: [string, number][] = [];
    for (const runner of this.runners) {
      const crop = new Float32Array(runner.cropSize * runner.cropSize).fill(0.5);
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const start = performance.now();
        await runner.predict([crop], features);
        times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      out.push([runner.entry.id, times[Math.floor(runs / 2)]!]);
    }
    return out;
  }

  /** Disposes and forgets these models (they now run on another thread). */
  remove(ids: ReadonlySet<string>): void {
    for (const r of this.runners) if (ids.has(r.entry.id)) r.dispose();
    this.runners = this.runners.filter((r) => !ids.has(r.entry.id));
    this.replan();
  }

  memory(): { numTensors: number; backend: string } {
    return { numTensors: tf.memory().numTensors, backend: tf.getBackend() };
  }

  dispose(): void {
    for (const r of this.runners) r.dispose();
    this.runners = [];
    this.replan();
    this.kept.clear();
  }
}
