/**
 * Where a page thread's time goes: a Chrome DevTools CPU profile (Profiler.stop's `profile`, the
 * .cpuprofile format) summed into self time per function, so bench:live can name the costs that
 * its per-stage timers do not see (drawing, GC, MediaPipe's inner calls).
 */

/** The parts of a DevTools Profiler.Profile this module reads. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
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
 * Self time per function name (nodes with the same name and place summed), largest first; `top`
 * entries at most.
 */
export function summarizeProfile(profile: CpuProfile, top = 20): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, frameName(n.callFrame)]));
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const selfUs = new Map<string, number>();
  let totalUs = 0;
  // timeDeltas[i] is the time from the previous sample (or startTime) to sample i; sample i lasts
  // until sample i + 1, the last one until endTime.
  let at = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    at += deltas[i] ?? 0;
    const us = Math.max(0, i + 1 < samples.length ? (deltas[i + 1] ?? 0) : profile.endTime - at);
    const name = byId.get(samples[i]!) ?? '(unknown)';
    selfUs.set(name, (selfUs.get(name) ?? 0) + us);
    totalUs += us;
  }
  const idleUs = selfUs.get('(idle)') ?? 0;
  const entries = [...selfUs.entries()]
    .map(([name, us]) => ({ name, selfMs: +(us / 1000).toFixed(1), share: totalUs > 0 ? +(us / totalUs).toFixed(4) : 0 }))
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, top);
  return { totalMs: +(totalUs / 1000).toFixed(1), busy: totalUs > 0 ? +(1 - idleUs / totalUs).toFixed(4) : 0, top: entries };
}

/** Printable lines: the busy share, then one line per function. */
export function renderProfileSummary(s: ProfileSummary, label: string): string {
  const lines = [`${label}: ${(s.totalMs / 1000).toFixed(1)} s sampled, busy ${(s.busy * 100).toFixed(1)}%; self time by function:`];
  for (const e of s.top) lines.push(`  ${(e.share * 100).toFixed(1).padStart(5)}%  ${e.selfMs.toFixed(1).padStart(8)} ms  ${e.name}`);
  return lines.join('\n');
}
