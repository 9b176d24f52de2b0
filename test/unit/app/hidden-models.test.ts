/** Hidden models are not run (model-selection.ts, InferenceEngine.skip, PersonalLane.skip); a shown fusion keeps its members. */
import { describe, expect, it } from 'vitest';
import { PersonalLane } from '../../../src/app/calibration/personal-lane.ts';
import { InferenceEngine } from '../../../src/app/live/inference-engine.ts';
import type { ModelEntry } from '../../../src/app/manifest.ts';
import { planRuns } from '../../../src/app/live/model-selection.ts';
import type { FrameMemo, Runner } from '../../../src/app/live/runner.ts';
import type { FrameResult } from '../../../src/app/live/types.ts';

const cnn = (id: string) => ({ id, kind: 'cnn' }) as ModelEntry;
const svm = (id: string) => ({ id, kind: 'svm' }) as ModelEntry;
const fusion = (id: string, members: string[]) => ({ id, kind: 'fusion', members }) as ModelEntry;

describe('planRuns', () => {
  const entries = [cnn('a'), cnn('b'), svm('s'), fusion('f', ['a', 'b'])];

  it('runs and reports the shown models; a shown fusion keeps its hidden members running, unreported', () => {
    const all = planRuns(entries, new Set());
    expect([...all.run]).toEqual(['a', 'b', 's', 'f']);
    const plan = planRuns(entries, new Set(['a', 's']));
    expect([...plan.report].sort()).toEqual(['b', 'f']);
    expect([...plan.run].sort()).toEqual(['a', 'b', 'f']);
    // The fusion hidden too: its members no longer run for it.
    const none = planRuns(entries, new Set(['a', 'f']));
    expect([...none.run].sort()).toEqual(['b', 's']);
    expect([...planRuns(entries, new Set(['a', 'b', 's', 'f'])).run]).toEqual([]);
  });
});

describe('InferenceEngine.skip', () => {
  /** Runners that count their runs; the fusion reads its member through the memo, as FusionRunner does. */
  function engineWith() {
    const runs: Record<string, number> = {};
    const crop = (id: string): Runner => {
      const r: Runner = {
        entry: cnn(id),
        cropSize: 2,
        needsFeatures: false,
        predict: async (crops, _f, memo?: FrameMemo) => {
          const known = memo?.get(r);
          if (known) return known;
          runs[id] = (runs[id] ?? 0) + 1;
          const rows = crops.map(() => [1, 0, 0, 0, 0, 0, 0]);
          memo?.set(r, rows);
          return rows;
        },
        dispose: () => {},
      };
      return r;
    };
    const a = crop('a');
    const b = crop('b');
    const f: Runner = {
      entry: fusion('f', ['a']),
      cropSize: 2,
      needsFeatures: true,
      predict: async (crops, features, memo) => {
        runs.f = (runs.f ?? 0) + 1;
        return a.predict(crops, features, memo);
      },
      dispose: () => {},
    };
    const engine = new InferenceEngine();
    (engine as unknown as { runners: Runner[] }).runners = [a, b, f];
    return { engine, runs };
  }
  const batches = () => [{ size: 2, count: 1, pixels: new Float32Array(4) }];
  const features = () => ({ count: 1, dim: 1, values: new Float32Array(1) });

  it('does not run hidden models; a hidden member of a shown fusion runs once, unreported; [] runs all again', async () => {
    const { engine, runs } = engineWith();
    engine.skip(['b']);
    expect(Object.keys((await engine.predict(batches(), features())).probs)).toEqual(['a', 'f']);
    expect(runs).toEqual({ a: 1, f: 1 });
    engine.skip(['a']);
    const shown = await engine.predict(batches(), features());
    expect(Object.keys(shown.probs)).toEqual(['b', 'f']);
    // The hidden member ran for the fusion but is not reported, neither reading nor time.
    expect(Object.keys(shown.times)).toEqual(['b', 'f']);
    expect(runs).toEqual({ a: 2, b: 1, f: 2 });
    engine.skip(['a', 'f']);
    expect(Object.keys((await engine.predict(batches(), features())).probs)).toEqual(['b']);
    expect(runs).toEqual({ a: 2, b: 2, f: 2 });
    engine.skip([]);
    expect(Object.keys((await engine.predict(batches(), features())).probs)).toEqual(['a', 'b', 'f']);
  });

  it('read ahead: the first half runs the shown crop models and the hidden member, the second half the fusion', async () => {
    const { engine, runs } = engineWith();
    engine.skip(['a', 'b']);
    const first = await engine.predictAhead(1, batches());
    expect(Object.keys(first.probs)).toEqual([]);
    expect(runs).toEqual({ a: 1 });
    const rest = await engine.predictRest(1, [0], features());
    expect(Object.keys(rest.probs)).toEqual(['f']);
    // The member's early output was reused, not computed again.
    expect(runs).toEqual({ a: 1, f: 1 });
  });
});

describe('PersonalLane.skip', () => {
  it('a hidden personal model gives no reading and is not run', async () => {
    let ran = 0;
    const runner: Runner = {
      entry: { id: 'mine', name: 'Yours: CNN', kind: 'cnn', path: 'mine/model.json' } as ModelEntry,
      cropSize: 48,
      needsFeatures: false,
      predict: async (crops) => {
        ran++;
        return crops.map(() => [0, 0, 0, 1, 0, 0, 0]);
      },
      dispose: () => {},
    };
    const lane = new PersonalLane([runner], { smoothing: false, smoothingMs: 0 });
    const frame: FrameResult = {
      width: 64,
      height: 64,
      times: { landmarker: 1, crop: 1, features: 0, models: {}, total: 2 },
      faces: [
        { trackId: 1, box: { x: 0, y: 0, width: 10, height: 10 }, readings: [], crop: { size: 48, pixels: new Float32Array(48 * 48) } },
      ],
    };
    expect((await lane.augment(frame, 0, 'video')).faces[0]!.readings.map((r) => r.modelId)).toEqual(['mine']);
    lane.skip(['mine']);
    expect((await lane.augment(frame, 1, 'video')).faces[0]!.readings).toEqual([]);
    expect(ran).toBe(1);
    lane.skip([]);
    expect((await lane.augment(frame, 2, 'video')).faces[0]!.readings).toHaveLength(1);
  });
});
