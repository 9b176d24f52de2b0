/**
 * The personal models in the live view: after the general models have read a frame, each personal
 * Runner reads the same faces (the crops and AU-style features the pipeline already made, so no
 * extra detection or cropping), and its readings join each face's list like any other model's:
 * smoothed per face with the same exponential moving average and settings (src/core/smoothing.ts),
 * and so drawn, shown in the panel, put in the timeline and recorded. Runs on the page thread.
 * No DOM: tested in Node with fake runners.
 */
import { ProbabilitySmoother } from '../../core/smoothing.ts';
import type { ModelEntry } from '../../core/contracts/manifest.ts';
import type { PipelineSettings } from '../live/pipeline.ts';
import { argmax } from '../live/model-input.ts';
import type { Runner } from '../live/model-load.ts';
import type { FaceResult, FrameResult, ModelReading } from '../live/types.ts';

/** The label personal models carry in the app ("Yours: CNN"), whatever their stored name. */
export function personalName(entry: Pick<ModelEntry, 'id' | 'name' | 'kind'>): string {
  if (/^yours\b/i.test(entry.name)) return entry.name;
  return `Yours: ${entry.kind === 'svm' ? 'AU SVM' : 'CNN'}${entry.name && entry.name !== entry.id ? ` (${entry.name})` : ''}`;
}

/** A track unseen this long (ms) loses its smoothing state. */
const FORGET_MS = 2000;

export class PersonalLane {
  private readonly smoother = new ProbabilitySmoother(0);
  // When each track was last seen: a face missed for a frame or two keeps its smoothing state.
  private readonly seen = new Map<number, number>();
  /** Models the user hid: not run. */
  private hidden: ReadonlySet<string> = new Set();

  constructor(
    readonly runners: readonly Runner[],
    public settings: PipelineSettings,
    private readonly onError?: (id: string, error: Error) => void,
  ) {}

  /** The entries as the view lists them (display names "Yours: ..."). */
  get entries(): ModelEntry[] {
    return this.runners.map((r) => ({ ...r.entry, name: personalName(r.entry) }));
  }

  /**
   * The frame with each face's personal readings appended (and their times in times.models).
   * `startMs` is the frame's time (detection start), the smoothing clock; stills are not smoothed.
   */
  async augment(frame: FrameResult, startMs: number, mode: 'video' | 'image'): Promise<FrameResult> {
    if (this.runners.length === 0 || frame.faces.length === 0) return frame;
    const crops = frame.faces.map((f) => f.crop);
    const features = frame.faces.map((f) => f.features);
    const smoothing = this.settings.smoothing && mode === 'video';
    this.smoother.tauMs = smoothing ? this.settings.smoothingMs : 0;
    const extra: ModelReading[][] = frame.faces.map(() => []);
    const times: Record<string, number> = {};
    for (const runner of this.runners) {
      if (this.hidden.has(runner.entry.id)) continue;
      // Faces this runner can read: a crop of its size, and features when it needs them.
      const usable = frame.faces.flatMap((_, i) => {
        const crop = crops[i];
        if (!runner.needsFeatures && (!crop || crop.size !== runner.cropSize)) return [];
        if (runner.needsFeatures && !features[i]) return [];
        return [i];
      });
      if (usable.length === 0) continue;
      const t0 = performance.now();
      let probs: number[][];
      try {
        probs = await runner.predict(
          usable.map((i) => crops[i]?.pixels ?? new Float32Array(runner.cropSize * runner.cropSize)),
          usable.map((i) => features[i] ?? new Float32Array(0)),
        );
      } catch (error) {
        // A personal model that fails gives no reading this frame; the general ones go on.
        this.onError?.(runner.entry.id, error as Error);
        continue;
      }
      times[runner.entry.id] = performance.now() - t0;
      usable.forEach((i, k) => {
        const raw = probs[k]!;
        const p = smoothing ? this.smoother.update(`${frame.faces[i]!.trackId}/${runner.entry.id}`, raw, startMs) : raw;
        extra[i]!.push({ modelId: runner.entry.id, probs: p, top: argmax(p) });
      });
    }
    for (const f of frame.faces) this.seen.set(f.trackId, startMs);
    for (const [id, t] of this.seen) if (startMs - t > FORGET_MS || t > startMs) this.seen.delete(id);
    this.smoother.prune((key) => this.seen.has(Number(key.slice(0, key.indexOf('/')))));
    const faces: FaceResult[] = frame.faces.map((f, i) => (extra[i]!.length > 0 ? { ...f, readings: [...f.readings, ...extra[i]!] } : f));
    return { ...frame, faces, times: { ...frame.times, models: { ...frame.times.models, ...times } } };
  }

  skip(hidden: readonly string[]): void {
    this.hidden = new Set(hidden);
  }

  /** Forgets smoothing state (a new source). */
  reset(): void {
    this.smoother.clear();
    this.seen.clear();
  }

  dispose(): void {
    for (const r of this.runners) r.dispose();
  }
}
