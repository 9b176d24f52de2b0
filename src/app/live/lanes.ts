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
 * Fusion models read their member CNNs' outputs: on the same thread the member runs once for both
 * (InferenceEngine's per-frame memo), on another it would run twice. Returns the models that must
 * share a lane, and the costs with each fusion model's measured time (which includes running its
 * members alone) less its members' own.
 */
export function fusionGroups(
  costs: ReadonlyArray<readonly [id: string, ms: number]>,
  entries: ReadonlyArray<{ id: string; members?: readonly string[] }>,
): { costs: [string, number][]; together: string[][] } {
  const ms = new Map(costs);
  const together: string[][] = [];
  const adjusted = new Map(costs);
  for (const e of entries) {
    if (!e.members || !ms.has(e.id)) continue;
    const members = e.members.filter((m) => ms.has(m));
    if (members.length === 0) continue;
    together.push([e.id, ...members]);
    const own = ms.get(e.id)! - members.reduce((sum, m) => sum + ms.get(m)!, 0);
    adjusted.set(e.id, Math.max(0, own));
  }
  return { costs: costs.map(([id]) => [id, adjusted.get(id)!]), together };
}

/**
 * `costs`: milliseconds per frame of each model (in manifest order). Returns the ids per lane, each
 * in manifest order. Ties go to the page (no messaging); a single model stays on the page. Models
 * in one `together` group go to one lane (their costs added).
 */
export function assignLanes(
  costs: ReadonlyArray<readonly [id: string, ms: number]>,
  workerOverheadMs = WORKER_OVERHEAD_MS,
  together: ReadonlyArray<readonly string[]> = [],
): LaneAssignment {
  const order = costs.map(([id, ms], i) => ({ id, ms: Number.isFinite(ms) && ms > 0 ? ms : 0, i }));
  // Units: the models of a group (groups sharing a model merge) or a model alone; union-find.
  const parent = new Map(order.map((m) => [m.id, m.id]));
  const root = (id: string): string => {
    let r = id;
    while (parent.get(r) !== r) r = parent.get(r)!;
    return r;
  };
  for (const group of together) {
    const ids = group.filter((id) => parent.has(id));
    for (const id of ids.slice(1)) parent.set(root(id), root(ids[0]!));
  }
  const byRoot = new Map<string, { ids: string[]; ms: number; i: number }>();
  for (const m of order) {
    const r = root(m.id);
    const unit = byRoot.get(r) ?? { ids: [], ms: 0, i: m.i };
    unit.ids.push(m.id);
    unit.ms += m.ms;
    byRoot.set(r, unit);
  }
  const units = [...byRoot.values()];
  const byCost = units.sort((a, b) => b.ms - a.ms || a.i - b.i);
  let pageMs = 0;
  let workerMs = workerOverheadMs;
  const onWorker = new Set<string>();
  for (const u of byCost) {
    if (workerMs < pageMs) {
      for (const id of u.ids) onWorker.add(id);
      workerMs += u.ms;
    } else pageMs += u.ms;
  }
  if (onWorker.size === 0) workerMs = 0;
  return {
    page: order.filter((m) => !onWorker.has(m.id)).map((m) => m.id),
    worker: order.filter((m) => onWorker.has(m.id)).map((m) => m.id),
    pageMs,
    workerMs,
  };
}
