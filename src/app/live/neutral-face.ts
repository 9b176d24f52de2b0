/**
 * The live view's "my neutral face" step (src/core/neutral-baseline.ts): capture a person's neutral
 * face over a couple of seconds, keep it in this browser (localStorage), and move the general
 * models' readings by it; or learn it automatically from the most relaxed recent frames
 * (src/core/auto-neutral.ts). Only models whose manifest entry has a neutral reference take part.
 */
import type { ModelEntry } from '../../core/contracts/index.ts';
import { AutoNeutral, type AutoNeutralOptions } from '../../core/auto-neutral.ts';
import {
  baselineOffsets,
  NeutralCapture,
  parseNeutralBaseline,
  type NeutralBaseline,
  type NeutralReference,
} from '../../core/neutral-baseline.ts';
import type { RawTap } from './pipeline.ts';

export const NEUTRAL_STORAGE_KEY = 'emotion-lens.neutral-face.v1';
/** Whether the neutral face is learnt automatically ('1') or not. */
export const AUTO_NEUTRAL_STORAGE_KEY = 'emotion-lens.neutral-auto.v1';
/** Frames between two updates of the automatic neutral face (~1-2 s). */
export const AUTO_NEUTRAL_EVERY = 30;
/** Frames with exactly one face that a capture averages (~2 s at 15-30 FPS). */
export const NEUTRAL_FRAMES = 30;
/** A capture that has not got its frames by then fails and says why. */
export const NEUTRAL_TIMEOUT_MS = 10_000;

/** What the capture attaches to: the live pipeline. */
export interface NeutralTarget {
  neutral: ReadonlyMap<string, number[]> | undefined;
  neutralFeatures: ReadonlyMap<string, number[]> | undefined;
  readonly rawTaps: Set<RawTap>;
}

/** The neutral references of the entries that have one, by id. */
export function neutralReferences(entries: readonly ModelEntry[]): Map<string, NeutralReference> {
  return new Map(entries.flatMap((e) => (e.neutral ? [[e.id, e.neutral] as const] : [])));
}

type Storage = Pick<globalThis.Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** The stored baseline; undefined when there is none or it cannot be read (then it is left as it is). */
export function loadNeutralBaseline(storage: Storage | undefined): NeutralBaseline | undefined {
  try {
    const text = storage?.getItem(NEUTRAL_STORAGE_KEY);
    return text ? parseNeutralBaseline(JSON.parse(text)) : undefined;
  } catch {
    return undefined;
  }
}

/** Stores (or with undefined forgets) the baseline; false when the browser refused to store it. */
export function saveNeutralBaseline(storage: Storage | undefined, baseline: NeutralBaseline | undefined): boolean {
  try {
    if (baseline) storage?.setItem(NEUTRAL_STORAGE_KEY, JSON.stringify(baseline));
    else storage?.removeItem(NEUTRAL_STORAGE_KEY);
    return storage !== undefined;
  } catch {
    return false;
  }
}

/** Sets the target's offsets and feature shifts from a baseline (none: off); returns the models it moves and the stale ones. */
export function applyBaseline(
  target: NeutralTarget,
  baseline: NeutralBaseline | undefined,
  references: ReadonlyMap<string, NeutralReference>,
): { moved: string[]; stale: string[] } {
  if (!baseline) {
    target.neutral = undefined;
    target.neutralFeatures = undefined;
    return { moved: [], stale: [] };
  }
  const { offsets, featureShifts, stale } = baselineOffsets(baseline, references);
  target.neutral = offsets.size > 0 ? offsets : undefined;
  target.neutralFeatures = featureShifts.size > 0 ? featureShifts : undefined;
  return { moved: [...references.keys()].filter((id) => offsets.has(id) || featureShifts.has(id)), stale };
}

export interface CaptureOptions {
  frames?: number;
  timeoutMs?: number;
  /** Frames captured so far. */
  onProgress?: (frames: number, of: number) => void;
  signal?: AbortSignal;
}

/**
 * Averages the raw readings of the next `frames` frames that show exactly one face. Rejects with a
 * message for the user when no model has a reference, or the frames do not come in time.
 */
export function captureNeutral(
  target: NeutralTarget,
  references: ReadonlyMap<string, NeutralReference>,
  o: CaptureOptions = {},
): Promise<NeutralBaseline> {
  const want = o.frames ?? NEUTRAL_FRAMES;
  if (references.size === 0)
    return Promise.reject(new Error('None of the loaded models has a neutral reference (npm run train -- neutral-reference adds them).'));
  return new Promise((resolve, reject) => {
    const capture = new NeutralCapture(references);
    let several = 0;
    let none = 0;
    const finish = (error?: Error) => {
      clearTimeout(timer);
      target.rawTaps.delete(tap);
      o.signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(capture.finish(new Date()));
    };
    const tap: RawTap = (faces) => {
      if (faces.length === 0) none++;
      else if (faces.length > 1) several++;
      else capture.addFrame(faces[0]!.probs, faces[0]!.features);
      o.onProgress?.(capture.frames, want);
      if (capture.frames >= want) finish();
    };
    const onAbort = () => finish(new Error('Neutral face capture cancelled.'));
    const timer = setTimeout(() => {
      const why =
        several > none
          ? 'more than one face was in view: be the only face in the picture'
          : 'your face was not found in most frames: face the camera, whole face visible and lit from the front';
      finish(new Error(`Only ${capture.frames} of ${want} frames could be used (${why}). Try again.`));
    }, o.timeoutMs ?? NEUTRAL_TIMEOUT_MS);
    o.signal?.addEventListener('abort', onAbort);
    target.rawTaps.add(tap);
  });
}

/**
 * A tap that learns the neutral face from the frames showing exactly one face and reports a new
 * baseline every `every` frames once it has enough (src/core/auto-neutral.ts).
 */
export function autoNeutralTap(
  references: ReadonlyMap<string, NeutralReference>,
  onBaseline: (baseline: NeutralBaseline) => void,
  o: AutoNeutralOptions & { every?: number } = {},
): RawTap {
  const auto = new AutoNeutral(references, o);
  const every = o.every ?? AUTO_NEUTRAL_EVERY;
  let frames = 0;
  return (faces) => {
    if (faces.length !== 1) return;
    auto.addFrame(faces[0]!.probs, faces[0]!.features);
    if (++frames % every !== 0) return;
    const baseline = auto.baseline(new Date());
    if (baseline) onBaseline(baseline);
  };
}

/** What the views show of the neutral face. */
export interface NeutralFaceState {
  /** The baseline applied: the captured one, else (with auto) the learnt one. */
  baseline: NeutralBaseline | undefined;
  /** Models read against it, and those whose reference changed since the capture (not moved). */
  moved: string[];
  stale: string[];
  /** Learning it automatically is on. */
  auto: boolean;
  /** The baseline applied is the learnt one (none captured). */
  learnt: boolean;
}

/**
 * The one neutral face of the page, shared by the toolbar control and the calibration (Svelte store
 * contract): setting it stores it (localStorage) and applies it to the session.
 */
export class NeutralFaceStore {
  private state: NeutralFaceState;
  private readonly listeners = new Set<(state: NeutralFaceState) => void>();
  private captured: NeutralBaseline | undefined;
  private auto = false;
  private learnt: NeutralBaseline | undefined;

  constructor(
    private readonly storage: Storage | undefined,
    /** Applies a baseline (undefined: none) and says which models it moves (LiveSession.setNeutralBaseline). */
    private readonly apply: (baseline: NeutralBaseline | undefined) => { moved: string[]; stale: string[] },
    /** Starts (a listener) or stops (undefined) learning the neutral face from the live frames (LiveSession.setAutoNeutral). */
    private readonly watch: (onBaseline: ((baseline: NeutralBaseline) => void) | undefined) => void = () => undefined,
  ) {
    this.captured = loadNeutralBaseline(storage);
    this.state = { baseline: this.captured, ...apply(this.captured), auto: false, learnt: false };
    let auto = false;
    try {
      auto = storage?.getItem(AUTO_NEUTRAL_STORAGE_KEY) === '1';
    } catch {
      // Unreadable storage: off.
    }
    if (auto) this.setAuto(true);
  }

  subscribe(listener: (state: NeutralFaceState) => void): () => void {
    this.listeners.add(listener);
    listener(this.state);
    return () => this.listeners.delete(listener);
  }

  get current(): NeutralFaceState {
    return this.state;
  }

  /** Stores and applies a captured `baseline` (undefined: forgets it); false when the browser would not store it. */
  set(baseline: NeutralBaseline | undefined): boolean {
    const stored = saveNeutralBaseline(this.storage, baseline);
    this.captured = baseline;
    this.update();
    return stored;
  }

  /**
   * Learn the neutral face from the live frames (kept in memory, never stored), used while none is
   * captured; the choice itself is stored.
   */
  setAuto(on: boolean): void {
    this.auto = on;
    try {
      if (on) this.storage?.setItem(AUTO_NEUTRAL_STORAGE_KEY, '1');
      else this.storage?.removeItem(AUTO_NEUTRAL_STORAGE_KEY);
    } catch {
      // Not stored: it lasts until the page is closed.
    }
    if (!on) this.learnt = undefined;
    this.watch(
      on
        ? (baseline) => {
            this.learnt = baseline;
            if (!this.captured) this.update();
          }
        : undefined,
    );
    this.update();
  }

  /** Applies the current baseline again (the models have loaded: which ones it moves is known now). */
  refresh(): void {
    this.update();
  }

  private update(): void {
    const baseline = this.captured ?? (this.auto ? this.learnt : undefined);
    this.state = { baseline, ...this.apply(baseline), auto: this.auto, learnt: baseline !== undefined && baseline !== this.captured };
    for (const listener of this.listeners) listener(this.state);
  }
}
