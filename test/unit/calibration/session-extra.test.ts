/** The live session's extra models (the personal ones): listed as ready, run on every frame, removable. */
import { describe, expect, it } from 'vitest';
import type { Detection } from '../../../src/app/live/pipeline.ts';
import type { ExtraModels, SessionEngine } from '../../../src/app/live/session.ts';
import { fakeSession } from '../../helpers/fake-session.ts';
import type { FrameResult } from '../../../src/app/live/types.ts';
import type { ModelEntry } from '../../../src/core/contracts/manifest.ts';

const GENERAL = { id: 'fer-cnn', name: 'FER2013 CNN', kind: 'cnn', path: 'fer-cnn/model.json' } as ModelEntry;
const MINE = { id: 'my-cnn', name: 'Yours: CNN', kind: 'cnn', path: 'my-cnn/model.json' } as ModelEntry;

function frameOf(): FrameResult {
  return {
    faces: [
      { trackId: 1, box: { x: 0, y: 0, width: 1, height: 1 }, readings: [{ modelId: 'fer-cnn', probs: [1, 0, 0, 0, 0, 0, 0], top: 0 }] },
    ],
    times: { landmarker: 1, crop: 1, features: 0, models: {}, total: 3 },
    width: 640,
    height: 480,
  };
}

function setup() {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const engine: SessionEngine = {
    landmarker: { setNumFaces: async () => {} },
    inference: undefined,
    pipeline: {
      settings: { smoothing: true, smoothingMs: 250 },
      neutral: undefined,
      neutralFeatures: undefined,
      rawTaps: new Set(),
      reset: () => {},
      detect: async () => ({ mode: 'video', startMs: 123, ids: [1] }) as unknown as Detection,
      classify: async () => frameOf(),
      process: async () => frameOf(),
    },
    close: () => {},
  };
  const session = fakeSession(async (_o, events) => {
    events.manifest?.({ status: 'missing' }, [GENERAL]);
    await gate;
    return engine;
  }, 2);
  return { session, ready: session.setup(), release };
}

function extra(calls: { startMs: number; mode: string }[]): ExtraModels {
  return {
    entries: [MINE],
    settings: { smoothing: false, smoothingMs: 0 },
    reset: () => {},
    skip: () => {},
    augment: async (frame, startMs, mode) => {
      calls.push({ startMs, mode });
      return {
        ...frame,
        faces: frame.faces.map((f) => ({ ...f, readings: [...f.readings, { modelId: 'my-cnn', probs: [0, 0, 0, 1, 0, 0, 0], top: 3 }] })),
      };
    },
  };
}

describe('live session extra models', () => {
  it('lists them after the general models (also when set before the manifest arrives) and reads every frame with them', async () => {
    const { session, ready, release } = setup();
    const calls: { startMs: number; mode: string }[] = [];
    const mine = extra(calls);
    session.setExtraModels(mine);
    expect(mine.settings).toEqual({ smoothing: true, smoothingMs: 250 }); // the session's smoothing
    release();
    await ready;
    expect(session.current.entries.map((e) => e.id)).toEqual(['fer-cnn', 'my-cnn']);
    expect(session.current.statuses['my-cnn']).toEqual({ state: 'ready' });
    session.setSmoothing(true, 600);
    expect(mine.settings.smoothingMs).toBe(600);
    await session.startCamera();
    await new Promise((r) => setTimeout(r, 40));
    expect(calls.length).toBeGreaterThan(0);
    expect(calls[0]).toEqual({ startMs: 123, mode: 'video' });
    expect(session.current.frame!.faces[0]!.readings.map((r) => r.modelId)).toEqual(['fer-cnn', 'my-cnn']);

    session.setExtraModels(undefined);
    expect(session.current.entries.map((e) => e.id)).toEqual(['fer-cnn']);
    expect('my-cnn' in session.current.statuses).toBe(false);
    const before = calls.length;
    await new Promise((r) => setTimeout(r, 40));
    expect(calls.length).toBeLessThanOrEqual(before + 1); // at most the frame in flight
    expect(session.current.frame!.faces[0]!.readings.map((r) => r.modelId)).toEqual(['fer-cnn']);
    session.destroy();
  });
});
