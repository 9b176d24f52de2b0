/**
 * Where a page thread's time goes: a Chrome DevTools CPU profile (Profiler.stop's `profile`, the
 * .cpuprofile format) summed into self time per function, so bench:live can name the costs that
 * its per-stage timers do not see (drawing, GC, MediaPipe's inner calls).
 */

/** The parts of a DevTools Profiler.Profile this module reads. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number }; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileEntry {
  /** `functionName (file:line)`, or a V8 pseudo-frame such as `(garbage collector)`. */
  name: string;
  selfMs: number;
  /** Share of the profile's sampled time. */
  share: number;
}

export interface ProfileSummary {
  /** Sampled wall time, ms. */
  totalMs: number;
  /** Sampled time not spent idle, as a share of totalMs. */
  busy: number;
  top: ProfileEntry[];
}

function frameName(f: CpuProfile['nodes'][number]['callFrame']): string {
  const fn = f.functionName || '(anonymous)';
  if (!f.url) return fn;
  const file =
    f.url
      .replace(/[?#].*$/, '')
      .split('/')
      .pop() || f.url;
  // lineNumber is 0-based in the profile format.
  return `${fn} (${file}:${f.lineNumber + 1})`;
}

/**
 * Calls `fn` with each sample's node id and duration in microseconds: timeDeltas[i] is the time
 * from the previous sample (or startTime) to sample i, and sample i lasts until sample i + 1, the
 * last one until endTime.
 */
function forEachSample(profile: CpuProfile, fn: (nodeId: number, us: number) => void): void {
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let at = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    at += deltas[i] ?? 0;
    fn(samples[i]!, Math.max(0, i + 1 < samples.length ? (deltas[i + 1] ?? 0) : profile.endTime - at));
  }
}

/** Entries from microseconds per name, largest first, shares of `totalUs`. */
function toEntries(times: ReadonlyMap<string, number>, totalUs: number): ProfileEntry[] {
  return [...times.entries()]
    .map(([name, us]) => ({ name, selfMs: +(us / 1000).toFixed(1), share: totalUs > 0 ? +(us / totalUs).toFixed(4) : 0 }))
    .sort((a, b) => b.selfMs - a.selfMs);
}

/**
 * Self time per function name (nodes with the same name and place summed), largest first; `top`
 * entries at most.
 */
export function summarizeProfile(profile: CpuProfile, top = 20): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, frameName(n.callFrame)]));
  const selfUs = new Map<string, number>();
  let totalUs = 0;
  forEachSample(profile, (id, us) => {
    const name = byId.get(id) ?? '(unknown)';
    selfUs.set(name, (selfUs.get(name) ?? 0) + us);
    totalUs += us;
  });
  const idleUs = selfUs.get('(idle)') ?? 0;
  const entries = toEntries(selfUs, totalUs).slice(0, top);
  return { totalMs: +(totalUs / 1000).toFixed(1), busy: totalUs > 0 ? +(1 - idleUs / totalUs).toFixed(4) : 0, top: entries };
}

/** Printable lines: the busy share, then one line per function. */
export function renderProfileSummary(s: ProfileSummary, label: string): string {
  const lines = [`${label}: ${(s.totalMs / 1000).toFixed(1)} s sampled, busy ${(s.busy * 100).toFixed(1)}%; self time by function:`];
  for (const e of s.top) lines.push(`  ${(e.share * 100).toFixed(1).padStart(5)}%  ${e.selfMs.toFixed(1).padStart(8)} ms  ${e.name}`);
  return lines.join('\n');
}

/** Where a profile node's code comes from (a source file, or '' when unknown). */
export type SourceOf = (frame: CpuProfile['nodes'][number]['callFrame']) => string;

/** An area of the code: a sample counts for the first area any frame of its stack belongs to. */
export interface Area {
  name: string;
  test: (source: string, functionName: string) => boolean;
}

const PSEUDO = ['(idle)', '(program)', '(garbage collector)'];

/**
 * Sampled time per area, largest first: V8's pseudo-frames (idle, native work outside JS, GC) as
 * themselves, then each sample by the first area whose test matches a frame of its stack (leaf to
 * root), else 'other JS'. Shares are of the sampled time.
 */
export function areaTimes(profile: CpuProfile, sourceOf: SourceOf, areas: readonly Area[]): ProfileEntry[] {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const sourceCache = new Map<number, string>();
  const source = (id: number) => {
    let s = sourceCache.get(id);
    if (s === undefined) sourceCache.set(id, (s = sourceOf(nodes.get(id)!.callFrame)));
    return s;
  };
  const areaCache = new Map<number, string>();
  const areaOf = (leaf: number): string => {
    const known = areaCache.get(leaf);
    if (known !== undefined) return known;
    const leafName = nodes.get(leaf)?.callFrame.functionName ?? '';
    let found = PSEUDO.includes(leafName) ? leafName : undefined;
    for (const area of areas) {
      if (found !== undefined) break;
      for (let id: number | undefined = leaf; id !== undefined && nodes.has(id); id = parent.get(id))
        if (area.test(source(id), nodes.get(id)!.callFrame.functionName)) {
          found = area.name;
          break;
        }
    }
    const name = found ?? 'other JS';
    areaCache.set(leaf, name);
    return name;
  };
  const times = new Map<string, number>();
  let total = 0;
  forEachSample(profile, (id, us) => {
    const name = areaOf(id);
    times.set(name, (times.get(name) ?? 0) + us);
    total += us;
  });
  return toEntries(times, total);
}
