/**
 * window.__emotionLens: read-only numbers for scripts (npm run bench:live, e2e tests). Exposes
 * timings and memory counters only, never frames.
 */
import type { FrameStats } from './stats.ts';
import type { Snapshot, StageTimes } from '../../core/contracts/automation.ts';

// The hook's shapes are a contract with the scripts that read it (src/core/contracts/automation.ts).
export type { Snapshot } from '../../core/contracts/automation.ts';

export interface AutomationHook {
  /** `withLog: false` leaves out the timing log (cheap, for polling). */
  snapshot(withLog?: boolean): Promise<Snapshot>;
  /** Clears the timing log (e.g. after warm-up). */
  resetStats(): void;
  /** Returns the timing log so far and empties it, so a long run's log does not grow the heap. */
  takeLog(): StageTimes[];
}

/** `memory` asks the inference worker, where tfjs lives, for its tensor count and backend. */
export function installAutomationHook(stats: FrameStats, memory: () => Promise<{ numTensors: number; backend: string }>): void {
  const hook: AutomationHook = {
    snapshot: async (withLog = true) => {
      // Heap first, before the copy of the log below adds garbage. (The page's heap: the worker's
      // is separate.)
      const heapBytes = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? null;
      const { numTensors, backend } = await memory();
      return { frames: stats.frames, log: withLog ? [...stats.log] : [], numTensors, heapBytes, backend };
    },
    resetStats: () => stats.reset(),
    takeLog: () => stats.takeLog(),
  };
  (window as unknown as { __emotionLens: AutomationHook }).__emotionLens = hook;
}
