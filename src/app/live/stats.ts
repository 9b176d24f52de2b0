/**
 * Frame statistics for the HUD, and the hook scripts read (window.__emotionLens): FPS over the
 * last frames, and a bounded log of per-stage times.
 */
import type { StageTimes } from './types.ts';

const FPS_WINDOW = 30;
const LOG_LIMIT = 5000;

export class FrameStats {
  private stamps: number[] = [];
  /** Per-frame stage times, oldest first, at most LOG_LIMIT. */
  log: StageTimes[] = [];
  frames = 0;

  record(times: StageTimes, nowMs: number): void {
    this.frames++;
    this.stamps.push(nowMs);
    if (this.stamps.length > FPS_WINDOW) this.stamps.shift();
    this.log.push(times);
    if (this.log.length > LOG_LIMIT) this.log.shift();
  }

  /** Frames per second over the last FPS_WINDOW frames (0 until there are two). */
  fps(): number {
    const n = this.stamps.length;
    if (n < 2) return 0;
    const span = this.stamps[n - 1]! - this.stamps[0]!;
    return span > 0 ? ((n - 1) * 1000) / span : 0;
  }

  /** Returns the log and empties it (the frame count goes on): scripts drain it as they go. */
  takeLog(): StageTimes[] {
    const log = this.log;
    this.log = [];
    return log;
  }

  reset(): void {
    this.stamps = [];
    this.log = [];
    this.frames = 0;
  }
}
