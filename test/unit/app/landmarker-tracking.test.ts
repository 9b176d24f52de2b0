/** Landmarker's two tasks: the numFaces-1 task tracks one face, the max-faces task discovers. */
import { describe, expect, it } from 'vitest';
import { DISCOVERY_EVERY, DetectorError, Landmarker, type FaceTask, type RunningMode } from '../../../src/app/live/landmarker.ts';

interface Fake {
  id: number;
  numFaces: number;
  mode: RunningMode;
  closed: boolean;
  /** Timestamps passed to detectForVideo. */
  timestamps: number[];
  /** Throw at the next detection, like an aborted wasm module. */
  abort: boolean;
}

/** A factory whose tasks find `scene.faces` faces (capped at their numFaces), and a log of what they did. */
function setup() {
  const scene = { faces: 1 };
  const made: Fake[] = [];
  const calls: string[] = [];
  const result = () => {
    const faces = Array.from({ length: scene.faces }, () => []);
    return { faceLandmarks: faces, faceBlendshapes: [], facialTransformationMatrixes: [] };
  };
  const factory = async (numFaces: number, mode: RunningMode): Promise<FaceTask> => {
    const fake: Fake = { id: made.length, numFaces, mode, closed: false, timestamps: [], abort: false };
    made.push(fake);
    calls.push(`create(${numFaces},${mode})`);
    const check = (what: string) => {
      calls.push(`${what}@${fake.id}`);
      if (fake.closed) throw new Error(`task ${fake.id} used after close`);
      if (fake.abort) {
        fake.abort = false;
        throw new Error('Aborted()');
      }
    };
    const capped = () => {
      const r = result();
      r.faceLandmarks = r.faceLandmarks.slice(0, fake.numFaces);
      return r;
    };
    return {
      detect: (() => (check('detect'), capped())) as never,
      detectForVideo: ((_source: unknown, ts: number) => {
        check('video');
        fake.timestamps.push(ts);
        return capped();
      }) as never,
      setOptions: async (o: { runningMode?: RunningMode; numFaces?: number }) => {
        check('setOptions');
        if (o.runningMode) fake.mode = o.runningMode;
        if (o.numFaces) fake.numFaces = o.numFaces;
      },
      close: () => {
        calls.push(`close@${fake.id}`);
        fake.closed = true;
      },
    };
  };
  return { scene, made, calls, factory };
}

const frame = {} as ImageBitmap;

/** Runs `n` VIDEO frames from timestamp `t0`; returns which task ran each. */
async function frames(landmarker: Landmarker, n: number, t0 = 0): Promise<string[]> {
  const used: string[] = [];
  for (let i = 0; i < n; i++) {
    await landmarker.detectVideo(frame, t0 + i * 33);
    used.push(landmarker.lastTask!);
  }
  return used;
}

describe('Landmarker face tracking', () => {
  it('with one face in view, runs the single-face task on all frames but one in DISCOVERY_EVERY', async () => {
    const { made, calls, factory } = setup();
    const landmarker = await Landmarker.create(4, factory);
    const used = await frames(landmarker, 2 + 3 * DISCOVERY_EVERY);
    // Frame 0 finds the face on the max task; frame 1 starts making the single task (ready from frame 2).
    expect(used.slice(0, 2)).toEqual(['max', 'max']);
    expect(calls).toContain('create(1,VIDEO)');
    expect(made.map((m) => [m.numFaces, m.mode])).toEqual([
      [4, 'VIDEO'],
      [1, 'VIDEO'],
    ]);
    const maxFrames = used.flatMap((u, i) => (u === 'max' ? [i] : []));
    expect(maxFrames).toEqual([0, 1, 1 + DISCOVERY_EVERY, 1 + 2 * DISCOVERY_EVERY, 1 + 3 * DISCOVERY_EVERY]);
    expect(landmarker.videoFrames).toEqual({ max: 5, single: used.length - 5 });
    // Each task's own timestamps strictly increase.
    for (const m of made) expect(m.timestamps.every((t, i) => i === 0 || t > m.timestamps[i - 1]!)).toBe(true);
    expect(made[1]!.timestamps.length).toBe(used.length - 5);
  });

  it('each task nudges repeated timestamps forward in its own sequence', async () => {
    const { made, factory } = setup();
    const landmarker = await Landmarker.create(4, factory);
    for (let i = 0; i < 5; i++) await landmarker.detectVideo(frame, 100);
    expect(made[0]!.timestamps).toEqual([100, 101]);
    expect(made[1]!.timestamps).toEqual([100, 101, 102]);
  });

  it('a second face found on a discovery frame keeps frames on the max task until one face is left', async () => {
    const { scene, factory } = setup();
    const landmarker = await Landmarker.create(4, factory);
    await frames(landmarker, 2 + 5); // tracking one face
    expect(landmarker.lastTask).toBe('single');
    scene.faces = 2; // the single task cannot see the second face...
    const tracked = await frames(landmarker, DISCOVERY_EVERY, 1000);
    // ...until the discovery frame, the first max-task frame since tracking started.
    const discovery = tracked.indexOf('max');
    expect(discovery).toBeGreaterThan(0);
    expect(discovery).toBeLessThan(DISCOVERY_EVERY);
    const after = (await frames(landmarker, 2 * DISCOVERY_EVERY, 2000)).concat();
    expect(after.every((u) => u === 'max')).toBe(true);
    scene.faces = 1;
    // The frame that sees one face again is on the max task; the next ones track.
    expect(await frames(landmarker, 3, 4000)).toEqual(['max', 'single', 'single']);
  });

  it('with no face in view, every frame runs the max task', async () => {
    const { scene, calls, factory } = setup();
    scene.faces = 0;
    const landmarker = await Landmarker.create(4, factory);
    expect(await frames(landmarker, 2 * DISCOVERY_EVERY)).toEqual(Array(2 * DISCOVERY_EVERY).fill('max'));
    expect(calls.filter((c) => c.startsWith('create'))).toEqual(['create(4,VIDEO)']);
    // A face arrives: the max task finds it, then tracking starts.
    scene.faces = 1;
    const used = await frames(landmarker, 4, 5000);
    expect(used).toEqual(['max', 'max', 'single', 'single']);
    scene.faces = 0;
    expect(await frames(landmarker, 2, 6000)).toEqual(['single', 'max']);
  });

  it('with a maximum of one face, only one task exists', async () => {
    const { calls, factory } = setup();
    const landmarker = await Landmarker.create(1, factory);
    expect(await frames(landmarker, 2 * DISCOVERY_EVERY)).toEqual(Array(2 * DISCOVERY_EVERY).fill('max'));
    expect(calls.filter((c) => c.startsWith('create'))).toEqual(['create(1,VIDEO)']);
  });

  it('stills always use the max task, and the next video frame starts there', async () => {
    const { scene, made, calls, factory } = setup();
    scene.faces = 1;
    const landmarker = await Landmarker.create(4, factory);
    await frames(landmarker, 4);
    expect(landmarker.lastTask).toBe('single');
    const still = await landmarker.detectImage(frame);
    expect(still.faceLandmarks).toHaveLength(1);
    expect(calls.slice(-2)).toEqual(['setOptions@0', 'detect@0']);
    expect(made[0]!.mode).toBe('IMAGE');
    expect(made[1]!.mode).toBe('VIDEO');
    expect(await frames(landmarker, 2, 9000)).toEqual(['max', 'single']);
    expect(made[0]!.mode).toBe('VIDEO');
  });

  it('a failure in the single-face task replaces it: that frame fails, the next ones work', async () => {
    const { made, calls, factory } = setup();
    const landmarker = await Landmarker.create(4, factory);
    await frames(landmarker, 4);
    const single = made[1]!;
    expect(landmarker.lastTask).toBe('single');
    single.abort = true;
    const failure = await landmarker.detectVideo(frame, 500).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DetectorError);
    expect((failure as Error).message).toMatch(/face detector failed \(Error: Aborted\(\)\); it has been restarted/);
    expect(single.closed).toBe(true);
    expect(calls.slice(-2)).toEqual(['close@1', 'create(1,VIDEO)']);
    // The next frame runs on the max task (the replacement loads meanwhile), then tracking resumes on it.
    expect(await frames(landmarker, 3, 600)).toEqual(['max', 'single', 'single']);
    expect(made[2]!.numFaces).toBe(1);
    expect(made[2]!.timestamps).toHaveLength(2);
    expect(landmarker.restarts).toBe(1);
    expect(made[0]!.closed).toBe(false);
  });

  it('a failure in the max task during tracking replaces only that task', async () => {
    const { made, calls, factory } = setup();
    const landmarker = await Landmarker.create(4, factory);
    await frames(landmarker, 1 + DISCOVERY_EVERY); // the next frame is a discovery frame
    expect(landmarker.lastTask).toBe('single');
    made[0]!.abort = true;
    await expect(landmarker.detectVideo(frame, 5000)).rejects.toThrow(DetectorError);
    expect(calls.slice(-2)).toEqual(['close@0', 'create(4,VIDEO)']);
    expect(await frames(landmarker, 2, 6000)).toEqual(['max', 'single']);
    expect(made[2]!.numFaces).toBe(4);
    expect(made[1]!.closed).toBe(false);
    expect(landmarker.restarts).toBe(1);
  });

  it('keeps tracking on the max task when the single-face task cannot be made', async () => {
    const { factory } = setup();
    const landmarker = await Landmarker.create(4, async (n, mode) => {
      if (n === 1) throw new Error('out of memory');
      return factory(n, mode);
    });
    expect(await frames(landmarker, 2 * DISCOVERY_EVERY)).toEqual(Array(2 * DISCOVERY_EVERY).fill('max'));
    expect(String(landmarker.singleTaskError)).toMatch(/out of memory/);
  });

  it('close() closes both tasks, and one still being made when it arrives', async () => {
    const { made, factory } = setup();
    const landmarker = await Landmarker.create(4, factory);
    await frames(landmarker, 3);
    landmarker.close();
    expect(made.map((m) => m.closed)).toEqual([true, true]);
    await expect(landmarker.detectVideo(frame, 1000)).rejects.toThrow(/closed/);

    const second = setup();
    const pending = await Landmarker.create(4, second.factory);
    await frames(pending, 2); // the second frame starts making the single task
    pending.close();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(second.made.map((m) => [m.numFaces, m.closed])).toEqual([
      [4, true],
      [1, true],
    ]);
  });

  it('setNumFaces(1) closes the single-face task; raising it again allows a new one', async () => {
    const { made, factory } = setup();
    const landmarker = await Landmarker.create(4, factory);
    await frames(landmarker, 3);
    await landmarker.setNumFaces(1);
    expect(made[1]!.closed).toBe(true);
    expect(made[0]!.numFaces).toBe(1);
    expect(await frames(landmarker, DISCOVERY_EVERY, 1000)).toEqual(Array(DISCOVERY_EVERY).fill('max'));
    expect(made).toHaveLength(2);
    await landmarker.setNumFaces(3);
    // The last frame found one face: the first frame starts making a new single task, ready for the second.
    expect(await frames(landmarker, 3, 2000)).toEqual(['max', 'single', 'single']);
    expect(made.map((m) => [m.numFaces, m.closed])).toEqual([
      [3, false],
      [1, true],
      [1, false],
    ]);
  });
});
