/**
 * Which models run on a frame when the user hides some: a hidden model is not run, so the others
 * get its share of the CPU; a fusion that is shown still needs its members' outputs, so a hidden
 * member keeps running for it (its own reading is not reported).
 */
import type { ModelEntry } from '../manifest.ts';

export interface RunPlan {
  /** Model ids to run. */
  run: ReadonlySet<string>;
  /** Model ids whose readings are reported (the shown ones). */
  report: ReadonlySet<string>;
}

export function planRuns(entries: readonly ModelEntry[], hidden: ReadonlySet<string>): RunPlan {
  const report = new Set(entries.filter((e) => !hidden.has(e.id)).map((e) => e.id));
  const run = new Set(report);
  for (const e of entries) if (report.has(e.id) && e.kind === 'fusion') for (const m of e.members) run.add(m);
  return { run, report };
}
