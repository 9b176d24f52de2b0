/**
 * Splitting the models between the page thread and the inference worker so that both CPU cores
 * read the same frame at once (pure; tested in Node). Greedy longest-first onto the less loaded
 * lane, the worker lane starting with its messaging overhead.
 */

/**
 * A frame's round trip to the worker beyond the models' own time: measured 2.6 ms p50 on the 2-core
 * reference VM while the page thread ran its own share (post at 0.1 ms, page share done at 5.0 ms,
 * worker's answer at 6.6 ms for 3.8 ms of worker models). Waking an idle core and the browser's own
 * threads (compositor, video capture) account for it.
 */
export const WORKER_OVERHEAD_MS = 2.5;

export interface LaneAssignment {
  page: string[];
  worker: string[];
  /** Expected milliseconds per frame of each lane (worker: with its overhead). */
  pageMs: number;
  workerMs: number;
}

/**
 * `costs`: milliseconds per frame of each model (in manifest order). Returns the ids per lane, each
 * in manifest order. Ties go to the page (no messaging); a single model stays on the page.
 */
export function assignLanes(
  costs: ReadonlyArray<readonly [id: string, ms: number]>,
  workerOverheadMs = WORKER_OVERHEAD_MS,
): LaneAssignment {
  const order = costs.map(([id, ms], i) => ({ id, ms: Number.isFinite(ms) && ms > 0 ? ms : 0, i }));
  const byCost = [...order].sort((a, b) => b.ms - a.ms || a.i - b.i);
  let pageMs = 0;
  let workerMs = workerOverheadMs;
  const onWorker = new Set<string>();
  for (const m of byCost) {
    if (workerMs < pageMs) {
      onWorker.add(m.id);
      workerMs += m.ms;
    } else pageMs += m.ms;
  }
  if (onWorker.size === 0) workerMs = 0;
  return {
    page: order.filter((m) => !onWorker.has(m.id)).map((m) => m.id),
    worker: order.filter((m) => onWorker.has(m.id)).map((m) => m.id),
    pageMs,
    workerMs,
  };
}
