/**
 * The live view's timeline store (pure: no DOM). Each tracked face keeps, per model, the seven
 * probabilities of its recent frames, so the view can draw emotion over time.
 *
 * - Camera ('live'): points are keyed by wall time (ms); a point older than `retainMs` is evicted
 *   and each face x model buffer is a ring of at most `maxPoints` points; a face not seen for
 *   `forgetMs` is dropped.
 * - Video file ('file'): points are keyed by media time (ms) and kept sorted, so the whole file can
 *   be drawn. Time is cut into buckets (at least `bucketMs`, wider for long files so a face x model
 *   never holds more than `maxPoints`); a frame lands in its bucket and replaces what was there, so
 *   seeking back, or the file looping, overwrites the earlier reading instead of piling up.
 *
 * In both modes at most `maxFaces` faces are kept (the least recently seen goes first).
 */
import { argmax } from '../../core/metrics.ts';

/** The part of a frame result the timeline reads (FrameResult fits). */
export interface TimelineFrame {
  faces: readonly { trackId: number; readings: readonly { modelId: string; probs: readonly number[] }[] }[];
}

export interface TimelinePoint {
  /** Wall time (camera) or media time (video file), in ms. */
  t: number;
  /** Probabilities in EMOTIONS order. */
  probs: readonly number[];
}

export type TimelineOptions =
  | { kind: 'live'; retainMs?: number; maxPoints?: number; forgetMs?: number; maxFaces?: number }
  | { kind: 'file'; durationMs: number; bucketMs?: number; maxPoints?: number; maxFaces?: number };

/** 30 s on screen; a little more kept so the left edge never runs dry between redraws. */
export const DEFAULT_SPAN_MS = 30_000;
const DEFAULTS = { retainMs: 32_000, maxPoints: 1200, forgetMs: 10_000, maxFaces: 8, bucketMs: 100 };

/** A fixed-capacity ring of points in insertion (time) order. */
class Ring {
  private readonly items: (TimelinePoint | undefined)[];
  private head = 0; // index of the oldest point
  size = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<TimelinePoint | undefined>(capacity);
  }

  push(p: TimelinePoint): void {
    const at = (this.head + this.size) % this.capacity;
    this.items[at] = p;
    if (this.size < this.capacity) this.size++;
    else this.head = (this.head + 1) % this.capacity; // full: the oldest is overwritten
  }

  at(i: number): TimelinePoint {
    return this.items[(this.head + i) % this.capacity]!;
  }

  /** Drops points older than `t`. */
  evictBefore(t: number): void {
    while (this.size > 0 && this.at(0).t < t) {
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.size--;
    }
  }

  toArray(): TimelinePoint[] {
    return Array.from({ length: this.size }, (_, i) => this.at(i));
  }
}

interface FaceEntry {
  lastSeen: number;
  /** Time of the last frame it was in (wall or media ms). */
  lastT: number;
  /** Camera: a ring per model. Video: bucket index -> point per model (sorted on read). */
  rings: Map<string, Ring>;
  buckets: Map<string, Map<number, TimelinePoint>>;
}

export class Timeline {
  readonly kind: 'live' | 'file';
  readonly maxPoints: number;
  readonly maxFaces: number;
  /** Video: the width of one bucket of media time. */
  readonly bucketMs: number;
  private readonly retainMs: number;
  private readonly forgetMs: number;
  private readonly faces = new Map<number, FaceEntry>();
  private seen = 0; // a counter, so "least recently seen" does not depend on media time going forward

  constructor(options: TimelineOptions) {
    this.kind = options.kind;
    this.maxPoints = positive(options.maxPoints ?? DEFAULTS.maxPoints, 'maxPoints');
    this.maxFaces = positive(options.maxFaces ?? DEFAULTS.maxFaces, 'maxFaces');
    if (options.kind === 'live') {
      this.retainMs = positive(options.retainMs ?? DEFAULTS.retainMs, 'retainMs');
      this.forgetMs = positive(options.forgetMs ?? DEFAULTS.forgetMs, 'forgetMs');
      this.bucketMs = 0;
    } else {
      const duration = Number.isFinite(options.durationMs) && options.durationMs > 0 ? options.durationMs : 0;
      this.retainMs = Infinity;
      this.forgetMs = Infinity;
      this.bucketMs = Math.max(positive(options.bucketMs ?? DEFAULTS.bucketMs, 'bucketMs'), Math.ceil(duration / this.maxPoints));
    }
  }

  /** Adds every face x model reading of one frame at time `tMs` (wall or media time, per kind). */
  add(tMs: number, frame: TimelineFrame): void {
    if (!Number.isFinite(tMs)) return;
    const stamp = ++this.seen;
    for (const face of frame.faces) {
      let entry = this.faces.get(face.trackId);
      if (!entry) {
        entry = { lastSeen: stamp, lastT: tMs, rings: new Map(), buckets: new Map() };
        this.faces.set(face.trackId, entry);
      }
      entry.lastSeen = stamp;
      entry.lastT = tMs;
      for (const r of face.readings) {
        const point: TimelinePoint = { t: tMs, probs: Array.from(r.probs) };
        if (this.kind === 'live') {
          let ring = entry.rings.get(r.modelId);
          if (!ring) entry.rings.set(r.modelId, (ring = new Ring(this.maxPoints)));
          ring.push(point);
        } else {
          let buckets = entry.buckets.get(r.modelId);
          if (!buckets) entry.buckets.set(r.modelId, (buckets = new Map()));
          buckets.set(Math.floor(tMs / this.bucketMs), point);
        }
      }
    }
    if (this.kind === 'live') this.evict(tMs);
    this.limitFaces();
  }

  /** Camera: drops old points and faces gone for longer than forgetMs. */
  private evict(nowMs: number): void {
    for (const [id, entry] of this.faces) {
      if (nowMs - entry.lastT > this.forgetMs) {
        this.faces.delete(id);
        continue;
      }
      for (const ring of entry.rings.values()) ring.evictBefore(nowMs - this.retainMs);
    }
  }

  private limitFaces(): void {
    while (this.faces.size > this.maxFaces) {
      let oldest: number | undefined;
      let stamp = Infinity;
      for (const [id, e] of this.faces)
        if (e.lastSeen < stamp) {
          stamp = e.lastSeen;
          oldest = id;
        }
      this.faces.delete(oldest!);
    }
  }

  /** The points of one face and model with nowMs - spanMs <= t <= nowMs, oldest first. */
  window(faceId: number, modelId: string, nowMs: number, spanMs: number = DEFAULT_SPAN_MS): TimelinePoint[] {
    return this.points(faceId, modelId).filter((p) => p.t >= nowMs - spanMs && p.t <= nowMs);
  }

  /** Every kept point of one face and model, sorted by time (video: the whole file seen so far). */
  points(faceId: number, modelId: string): TimelinePoint[] {
    const entry = this.faces.get(faceId);
    if (!entry) return [];
    if (this.kind === 'live') return entry.rings.get(modelId)?.toArray() ?? [];
    const buckets = entry.buckets.get(modelId);
    if (!buckets) return [];
    return [...buckets.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
  }

  /** Track ids with points, in insertion order. */
  faceIds(): number[] {
    return [...this.faces.keys()];
  }

  /** Model ids with points for one face. */
  modelIds(faceId: number): string[] {
    const entry = this.faces.get(faceId);
    if (!entry) return [];
    return [...(this.kind === 'live' ? entry.rings.keys() : entry.buckets.keys())];
  }

  /** Points held in all (for the memory bound). */
  size(): number {
    let n = 0;
    for (const e of this.faces.values()) {
      for (const ring of e.rings.values()) n += ring.size;
      for (const b of e.buckets.values()) n += b.size;
    }
    return n;
  }

  clear(): void {
    this.faces.clear();
  }
}

function positive(v: number, name: string): number {
  if (!(Number.isFinite(v) && v > 0))
    throw new Error(`Timeline option ${name} must be a positive number (got ${String(v)}); leave it out for the default.`);
  return v;
}

/** A stretch of time over which one model's top label stayed the same (the "labels" strip). */
export interface LabelSpan {
  /** Start and end, in the points' time unit (ms). */
  from: number;
  to: number;
  /** Index in EMOTIONS. */
  label: number;
  /** The label's probability stayed under the minimum confidence over the whole span. */
  uncertain: boolean;
}

export interface LabelSpanOptions {
  /** Points further apart than this are not joined: the face was not read in between. */
  gapMs: number;
  /** Under this top probability a point's label counts as uncertain (default 0: never). */
  minConfidence?: number;
  /** Clip the spans to [lo, hi] (e.g. the 30 s window), dropping those wholly outside. */
  lo?: number;
  hi?: number;
}

/**
 * One model's top label over time as spans, for the timeline's strip mode: each point holds until
 * the next (when that comes within gapMs), a point with no close successor holds for the typical
 * interval between points (so a lone reading still shows), and neighbouring spans with the same
 * label and certainty are merged. Points must be sorted by time (Timeline.points/window are).
 */
export function labelSpans(points: readonly TimelinePoint[], options: LabelSpanOptions): LabelSpan[] {
  const { gapMs, minConfidence = 0 } = options;
  const lo = options.lo ?? -Infinity;
  const hi = options.hi ?? Infinity;
  const steps: number[] = [];
  for (let i = 1; i < points.length; i++) {
    const d = points[i]!.t - points[i - 1]!.t;
    if (d > 0 && d <= gapMs) steps.push(d);
  }
  steps.sort((a, b) => a - b);
  const typical = steps.length > 0 ? steps[Math.floor(steps.length / 2)]! : gapMs / 4;
  const out: LabelSpan[] = [];
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    const next = points[i + 1];
    const end = next && next.t - p.t <= gapMs ? next.t : p.t + typical;
    const from = Math.max(p.t, lo);
    const to = Math.min(end, hi);
    if (!(to > from)) continue;
    const label = argmax(p.probs);
    const uncertain = (p.probs[label] ?? 0) < minConfidence;
    const last = out[out.length - 1];
    if (last && last.label === label && last.uncertain === uncertain && last.to === from) last.to = to;
    else out.push({ from, to, label, uncertain });
  }
  return out;
}

/**
 * At most `buckets` points for a chart of [lo, hi]: the points falling in each of `buckets` equal
 * time slices are replaced by their mean time and mean probabilities (a slice with none gives no
 * point). A chart a few hundred units wide cannot show more, and redrawing 30 s of a 30 FPS camera
 * (900 points x 7 lines) as SVG four times a second cost the page thread several ms a frame.
 * Points outside [lo, hi] are dropped; with `buckets` or fewer points in range they come back as is.
 */
export function decimate(points: readonly TimelinePoint[], lo: number, hi: number, buckets: number): TimelinePoint[] {
  const inRange = points.filter((p) => p.t >= lo && p.t <= hi);
  if (inRange.length <= buckets) return inRange;
  const span = hi - lo || 1;
  const out: TimelinePoint[] = [];
  let slice = -1;
  let count = 0;
  let tSum = 0;
  let sums: number[] = [];
  const flush = () => {
    if (count > 0) out.push({ t: tSum / count, probs: sums.map((s) => s / count) });
  };
  for (const p of inRange) {
    const s = Math.min(buckets - 1, Math.floor(((p.t - lo) / span) * buckets));
    if (s !== slice) {
      flush();
      slice = s;
      count = 0;
      tSum = 0;
      sums = new Array<number>(p.probs.length).fill(0);
    }
    count++;
    tSum += p.t;
    for (let c = 0; c < sums.length; c++) sums[c] = sums[c]! + (p.probs[c] ?? 0);
  }
  flush();
  return out;
}
