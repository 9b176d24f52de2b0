/**
 * Keeps a stable id per face across frames, so smoothing follows the same person: greedy matching
 * of this frame's boxes to the live tracks by intersection-over-union (best pairs first).
 */
import type { Box } from './framing/types.ts';

export function iou(a: Box, b: Box): number {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width);
  const y1 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

export interface Track {
  id: number;
  box: Box;
  lastSeenMs: number;
}

export interface TrackerOptions {
  /** Least overlap for a box to continue a track (default 0.25). */
  minIou?: number;
  /** A track unseen for longer than this is dropped (default 700 ms). */
  maxAgeMs?: number;
}

export class FaceTracker {
  private tracks: Track[] = [];
  private nextId = 1;
  private readonly minIou: number;
  private readonly maxAgeMs: number;

  constructor(options: TrackerOptions = {}) {
    this.minIou = options.minIou ?? 0.25;
    this.maxAgeMs = options.maxAgeMs ?? 700;
  }

  /** Returns one track id per box, in the order of `boxes`. */
  update(boxes: readonly Box[], timeMs: number): number[] {
    this.tracks = this.tracks.filter((t) => timeMs - t.lastSeenMs <= this.maxAgeMs);
    const pairs: { score: number; box: number; track: number }[] = [];
    boxes.forEach((box, bi) => {
      this.tracks.forEach((track, ti) => {
        const score = iou(box, track.box);
        if (score >= this.minIou) pairs.push({ score, box: bi, track: ti });
      });
    });
    pairs.sort((p, q) => q.score - p.score);
    const ids = new Array<number>(boxes.length).fill(0);
    const usedTracks = new Set<number>();
    for (const p of pairs) {
      if (ids[p.box] !== 0 || usedTracks.has(p.track)) continue;
      usedTracks.add(p.track);
      const track = this.tracks[p.track]!;
      track.box = boxes[p.box]!;
      track.lastSeenMs = timeMs;
      ids[p.box] = track.id;
    }
    boxes.forEach((box, bi) => {
      if (ids[bi] !== 0) return;
      const track = { id: this.nextId++, box, lastSeenMs: timeMs };
      this.tracks.push(track);
      ids[bi] = track.id;
    });
    return ids;
  }

  /** Ids of the tracks still alive. */
  liveIds(): Set<number> {
    return new Set(this.tracks.map((t) => t.id));
  }

  /** Forgets every face; numbering starts again at 1 (a new source: the user sees "Face 1", not "Face 23"). */
  reset(): void {
    this.tracks = [];
    this.nextId = 1;
  }
}
