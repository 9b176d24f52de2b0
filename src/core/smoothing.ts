/**
 * Temporal smoothing of per-face class probabilities: an exponential moving average whose weight
 * depends on the time since the last frame, so the same setting smooths alike at 10 and 60 FPS.
 */

/** Weight of the new sample after `dtMs` with time constant `tauMs` (tau <= 0: no smoothing). */
export function emaAlpha(dtMs: number, tauMs: number): number {
  if (!(tauMs > 0)) return 1;
  if (!(dtMs > 0)) return 0;
  return 1 - Math.exp(-dtMs / tauMs);
}

/** prev + alpha * (next - prev), element-wise, into a new array. */
export function emaStep(prev: ArrayLike<number>, next: ArrayLike<number>, alpha: number): number[] {
  if (prev.length !== next.length) throw new RangeError(`length mismatch: ${prev.length} vs ${next.length}`);
  const out = new Array<number>(next.length);
  for (let i = 0; i < next.length; i++) out[i] = prev[i]! + alpha * (next[i]! - prev[i]!);
  return out;
}

interface SmoothedState {
  value: number[];
  timeMs: number;
}

/** One EMA per key (e.g. `${trackId}/${modelId}`); the first sample of a key passes through. */
export class ProbabilitySmoother {
  private readonly states = new Map<string, SmoothedState>();

  /** @param tauMs time constant in milliseconds; 0 turns smoothing off. */
  constructor(public tauMs: number) {}

  update(key: string, probs: ArrayLike<number>, timeMs: number): number[] {
    const prev = this.states.get(key);
    const value = prev ? emaStep(prev.value, probs, emaAlpha(timeMs - prev.timeMs, this.tauMs)) : Array.from(probs);
    this.states.set(key, { value, timeMs });
    return value;
  }

  /** Forget every key for which `keep` is false (faces that left the view). */
  prune(keep: (key: string) => boolean): void {
    for (const key of this.states.keys()) if (!keep(key)) this.states.delete(key);
  }

  clear(): void {
    this.states.clear();
  }

  get size(): number {
    return this.states.size;
  }
}
