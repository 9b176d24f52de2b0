/** The live session (src/app/live/session.ts) with a fake engine, camera and <video>. */
import { describe, expect, it } from 'vitest';
import { DetectorError } from '../../../src/app/live/landmarker.ts';
import type { Detection, FrameSource } from '../../../src/app/live/pipeline.ts';
import {
  LiveSession,
  optionsFromUrl,
  type SessionDeps,
  type SessionEngine,
  type SessionState,
  type VideoSurface,
} from '../../../src/app/live/session.ts';
import type { FrameResult } from '../../../src/app/live/types.ts';
import { FAKE_SESSION_OPTIONS } from '../../helpers/fake-session.ts';

const TIMES = { landmarker: 1, crop: 1, features: 0, models: {}, total: 3 };

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((ok, fail) => ((resolve = ok), (reject = fail)));
  return { promise, resolve, reject };
}

/** A fake world: the engine loads when `finishSetup()` is called; every detect is logged by source. */
function world(options: { where?: 'page' | 'worker' | 'split' } = {}) {
  const log: string[] = [];
  const revoked: string[] = [];
  const stopped: string[] = [];
  const setup = deferred<void>();
  let detectError: (() => Error) | undefined;
  let closed = false;
  let detected = 0;
  const pipeline: SessionEngine['pipeline'] = {
    settings: { smoothing: true, smoothingMs: 250 },
    neutral: undefined,
    neutralFeatures: undefined,
    rawTaps: new Set(),
    reset: () => void log.push('reset'),
    detect: async (source, mode, width, height) => {
      log.push(`detect ${(source as unknown as { name: string }).name} ${mode} ${width}x${height}`);
      if (detectError) throw detectError();
      return { mode, width, height, ids: [1], source, startMs: ++detected, ahead: { frame: detected } } as unknown as Detection;
    },
    classify: async (d) => {
      log.push(`classify ${d.startMs}${d.ahead ? ' ahead' : ''}`);
      return frameOf(d.width, d.height);
    },
    process: async (source, mode, width, height) => {
      log.push(`process ${(source as unknown as { name: string }).name} ${mode} ${width}x${height}`);
      if (detectError) throw detectError();
      return frameOf(width, height);
    },
  };
  const numFaces: number[] = [];
  const skips: string[][] = [];
  const engine: SessionEngine = {
    landmarker: { setNumFaces: async (n) => void numFaces.push(n) },
    inference: {
      where: options.where ?? 'page',
      lanes: undefined,
      memory: async () => ({ numTensors: 7, backend: 'wasm' }),
      skip: (hidden) => void skips.push([...hidden]),
    },
    pipeline,
    close: () => void (closed = true),
  };
  let fileCount = 0;
  const deps: SessionDeps = {
    loadEngine: async (_o, events) => {
      events.progress?.('Loading the face landmarker…', 0, 3);
      events.manifest?.({ status: 'missing' }, []);
      await setup.promise;
      return engine;
    },
    openCamera: async (id) => {
      if (id === 'broken') throw Object.assign(new Error('Permission denied'), { name: 'NotAllowedError' });
      return fakeStream(id ?? 'cam0', stopped);
    },
    listCameras: async () => [{ deviceId: 'cam0', label: 'Camera 1' }],
    stopStream: (s) => void stopped.push(s.id),
    createUrl: () => `blob:${++fileCount}`,
    revokeUrl: (url) => void revoked.push(url),
    now: () => Date.now(),
  };
  const playing = { url: '' as string, failing: false, paused: false };
  const surface: VideoSurface = {
    showStream: async (s) => void (playing.url = `stream:${s.id}`),
    showUrl: async (url) => {
      if (playing.failing) throw new Error('decode error');
      playing.url = url;
    },
    clear: () => void (playing.url = ''),
    // A paused video presents no frame.
    nextFrame: () =>
      new Promise((r) => {
        const tick = () => (playing.paused ? setTimeout(tick, 2) : r());
        setTimeout(tick, 2);
      }),
    current: () => (playing.url ? { source: { name: playing.url } as unknown as FrameSource, width: 640, height: 480 } : undefined),
    paused: () => playing.paused,
  };
  const session = new LiveSession({ ...FAKE_SESSION_OPTIONS, where: options.where ?? 'page' }, deps);
  session.attach(surface);
  const states: SessionState[] = [];
  session.subscribe((s) => states.push(s));
  const ready = session.setup();
  return {
    session,
    log,
    revoked,
    stopped,
    numFaces,
    skips,
    playing,
    states,
    engine,
    finishSetup: async () => {
      setup.resolve();
      await ready;
    },
    failSetup: async (e: Error) => {
      setup.reject(e);
      await ready;
    },
    failDetect: (make: (() => Error) | undefined) => (detectError = make),
    isClosed: () => closed,
    detects: (what: string) => log.filter((l) => l.startsWith(`detect ${what}`) || l.startsWith(`process ${what}`)).length,
  };
}

function frameOf(width: number, height: number): FrameResult {
  return { faces: [], times: TIMES, width, height };
}

function fakeStream(id: string, stopped: string[]): MediaStream {
  return {
    id,
    getVideoTracks: () => [{ getSettings: () => ({ deviceId: id }) }],
    getTracks: () => [{ stop: () => stopped.push(id) }],
  } as unknown as MediaStream;
}

function file(name: string, type: string): Blob & { name: string } {
  return Object.assign(new Blob(['x'], { type }), { name });
}

function image(name: string): FrameSource {
  return { name, naturalWidth: 800, naturalHeight: 600, width: 800, height: 600 } as unknown as FrameSource;
}

async function until(check: () => boolean, what: string, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const settle = (ms = 30) => new Promise((r) => setTimeout(r, ms));

describe('LiveSession', () => {
  it('a video file given while loading is processed as soon as setup finishes (issue 15 bug)', async () => {
    const w = world();
    await w.session.openFile(file('clip.webm', 'video/webm'));
    expect(w.session.current.source).toMatchObject({ kind: 'video', name: 'clip.webm' });
    expect(w.playing.url).toBe('blob:1'); // it plays while loading
    await settle();
    expect(w.detects('blob:1')).toBe(0); // nothing to process with yet
    expect(w.session.current.phase).toBe('loading');
    await w.finishSetup();
    expect(w.session.current.phase).toBe('ready');
    await until(() => w.detects('blob:1') >= 3, 'frames of the early video');
    expect(w.log.find((l) => l.startsWith('detect'))).toBe('detect blob:1 video 640x480');
    await until(() => w.session.current.frame !== null, 'a frame result');
    w.session.destroy();
  });

  it('an image given while loading is processed once, when setup finishes', async () => {
    const w = world();
    await w.session.openFile(file('face.png', 'image/png'));
    expect(w.session.current.source).toMatchObject({ kind: 'image', url: 'blob:1', name: 'face.png' });
    w.session.imageLoaded(image('face.png'));
    await settle();
    expect(w.detects('face.png')).toBe(0);
    await w.finishSetup();
    await until(() => w.session.current.frame !== null, 'the still result');
    await settle();
    expect(w.log.filter((l) => l.startsWith('process'))).toEqual(['process face.png image 800x600']);
    expect(w.session.current.frame?.width).toBe(800);
  });

  it('camera: start runs the frame loop, stop ends it, releases the camera and clears the result', async () => {
    const w = world();
    await w.finishSetup();
    expect(w.session.current.cameras).toEqual([{ deviceId: 'cam0', label: 'Camera 1' }]);
    await w.session.startCamera();
    expect(w.session.current.source.kind).toBe('camera');
    expect(w.session.current.cameraId).toBe('cam0');
    await until(() => w.detects('stream:cam0') >= 2 && w.session.current.frame !== null, 'camera frames');
    w.session.stopSource();
    expect(w.stopped).toEqual(['cam0']);
    expect(w.session.current).toMatchObject({ source: { kind: 'none' }, frame: null, fps: 0 });
    const after = w.detects('stream:cam0');
    await settle();
    expect(w.detects('stream:cam0')).toBe(after);
    // And again.
    await w.session.startCamera();
    await until(() => w.detects('stream:cam0') > after, 'camera frames after a restart');
    w.session.destroy();
    expect(w.isClosed()).toBe(true);
  });

  it('a camera that cannot be opened is a named problem, not a source', async () => {
    const w = world();
    await w.finishSetup();
    await w.session.selectCamera('broken');
    expect(w.session.current.source.kind).toBe('none');
    await w.session.startCamera();
    expect(w.session.current.problem).toEqual({ kind: 'camera', problem: 'denied', detail: 'Permission denied' });
  });

  it('switching sources stops the old one: its URL is revoked and its frames no longer read', async () => {
    const w = world();
    await w.finishSetup();
    await w.session.openFile(file('a.mp4', 'video/mp4'));
    await until(() => w.detects('blob:1') >= 2, 'frames of the first video');
    await w.session.openFile(file('b.png', 'image/png'));
    expect(w.revoked).toEqual(['blob:1']);
    expect(w.playing.url).toBe('');
    const before = w.detects('blob:1');
    w.session.imageLoaded(image('b.png'));
    await until(() => w.detects('b.png') === 1, 'the image');
    await settle();
    expect(w.detects('blob:1')).toBe(before);
    // A late load event of an image that was closed meanwhile is ignored.
    w.session.stopSource();
    expect(w.revoked).toEqual(['blob:1', 'blob:2']);
    w.session.imageLoaded(image('b.png'));
    await settle();
    expect(w.detects('b.png')).toBe(1);
    // Changing the number of faces re-reads a still.
    await w.session.openFile(file('c.png', 'image/png'));
    w.session.imageLoaded(image('c.png'));
    await until(() => w.detects('c.png') === 1, 'the third image');
    await w.session.setMaxFaces(2);
    expect(w.numFaces).toEqual([2]);
    expect(w.detects('c.png')).toBe(2);
  });

  it('refuses a file that is neither image nor video, and says when a video cannot be played', async () => {
    const w = world();
    await w.finishSetup();
    await w.session.openFile(file('notes.txt', 'text/plain'));
    expect(w.session.current.problem).toEqual({
      kind: 'file',
      message: expect.stringMatching(/^"notes\.txt" is not an image or a video \(text\/plain\)/),
    });
    expect(w.session.current.source.kind).toBe('none');
    w.playing.failing = true;
    await w.session.openFile(file('bad.mp4', 'video/mp4'));
    expect(w.session.current.problem).toEqual({ kind: 'file', message: '"bad.mp4" could not be played as a video.' });
    w.session.imageFailed(); // not an image source: nothing happens
    expect(w.session.current.source.kind).toBe('video');
  });

  it('skips frames the detector fails on, and stops with the reason after three in a row', async () => {
    const w = world();
    await w.finishSetup();
    w.failDetect(() => new DetectorError('The face detector failed (Aborted())'));
    await w.session.openFile(file('a.mp4', 'video/mp4'));
    await until(
      () => w.session.current.problem?.kind === 'frame' && (w.session.current.problem as { stopped: boolean }).stopped,
      'the loop to stop',
    );
    expect(w.detects('blob:1')).toBe(3);
    expect(w.session.current.problem).toEqual({ kind: 'frame', message: 'The face detector failed (Aborted())', stopped: true });
  });

  it('setup failure is fatal with the message; settings made while loading apply when ready', async () => {
    const bad = world();
    await bad.failSetup(new Error('The face landmarker could not load'));
    expect(bad.session.current).toMatchObject({ phase: 'fatal', fatal: 'The face landmarker could not load' });
    const w = world({ where: 'worker' });
    expect(w.states.map((s) => s.progress.step)).toEqual(['Starting…', 'Loading the face landmarker…', 'Loading the face landmarker…']);
    expect(w.session.current.manifestNote).toMatch(/No trained models yet/);
    w.session.setSmoothing(false, 900);
    await w.session.setMaxFaces(1);
    await w.finishSetup();
    expect(w.engine.pipeline.settings).toEqual({ smoothing: false, smoothingMs: 900 });
    expect(w.numFaces).toEqual([1]);
    expect(w.session.current.modelsWhere).toBe('worker');
    expect(await w.session.memory()).toEqual({ numTensors: 7, backend: 'wasm' });
  });

  it('hidden models: hidden while loading are skipped once ready, later changes at once, repeats ignored', async () => {
    const w = world({ where: 'worker' });
    w.session.setHiddenModels(['svm-au']);
    expect(w.skips).toEqual([]);
    await w.finishSetup();
    expect(w.skips).toEqual([['svm-au']]);
    w.session.setHiddenModels(['svm-au']);
    w.session.setHiddenModels(['svm-au', 'fer-cnn']);
    w.session.setHiddenModels([]);
    expect(w.skips).toEqual([['svm-au'], ['svm-au', 'fer-cnn'], []]);
    // Nothing hidden at setup: nothing to tell the engine.
    const v = world();
    await v.finishSetup();
    expect(v.skips).toEqual([]);
  });

  it('a model shown again gets its reading at once on an image and on a paused video', async () => {
    const w = world({ where: 'worker' });
    await w.finishSetup();
    await w.session.openFile(file('face.png', 'image/png'));
    w.session.imageLoaded(image('face.png'));
    await until(() => w.detects('face.png') === 1, 'the still result');
    w.session.setHiddenModels(['svm-au']);
    await until(() => w.detects('face.png') === 2, 'the still read again');
    // A paused video: its last detection is classified again, without its used-up early half.
    await w.session.openFile(file('clip.mp4', 'video/mp4'));
    await until(() => w.detects('blob:2') >= 2, 'video frames');
    w.playing.paused = true;
    await settle();
    const last = w.log.filter((l) => l.startsWith('classify')).at(-1)!;
    expect(last).toMatch(/ ahead$/);
    const before = w.log.length;
    w.session.setHiddenModels([]);
    await until(() => w.log.length > before, 'the last frame classified again');
    expect(w.log.slice(before)).toEqual([last.replace(' ahead', '')]);
    // Playing: the next frame reads it anyway, nothing is read again.
    w.playing.paused = false;
    const playing = w.log.length;
    w.session.setHiddenModels(['fer-cnn']);
    await settle();
    expect(w.log.slice(playing).every((l) => !l.startsWith('classify') || / ahead$/.test(l))).toBe(true);
    w.session.destroy();
  });
});

describe('optionsFromUrl', () => {
  it('reads ?backend=, ?worker=, ?ahead=, ?reuse= and ?landmarker=', () => {
    const plain = { backend: undefined, forceSplit: false, readAhead: true, maxReusedFrames: 1, landmarker: 'page' };
    // Defaults: all models in the worker with read ahead on 2 cores or more, on the page on one.
    expect(optionsFromUrl('', 2)).toEqual({ ...plain, where: 'worker' });
    expect(optionsFromUrl('', 1)).toEqual({ ...plain, where: 'page' });
    expect(optionsFromUrl('?backend=wasm&worker=1', 1)).toEqual({ ...plain, backend: 'wasm', where: 'worker' });
    expect(optionsFromUrl('?worker=1&ahead=0', 4)).toMatchObject({ where: 'worker', readAhead: false });
    expect(optionsFromUrl('?reuse=0', 4)).toMatchObject({ where: 'worker', readAhead: true, maxReusedFrames: 0 });
    expect(optionsFromUrl('?reuse=3', 4)).toMatchObject({ maxReusedFrames: 3 });
    for (const bad of ['-1', 'x', '99', '1.5']) expect(optionsFromUrl(`?reuse=${bad}`, 4), bad).toMatchObject({ maxReusedFrames: 1 });
    expect(optionsFromUrl('?landmarker=worker', 4)).toMatchObject({ landmarker: 'worker' });
    expect(optionsFromUrl('?landmarker=nope', 4)).toMatchObject({ landmarker: 'page' });
    expect(optionsFromUrl('?worker=0', 4)).toMatchObject({ where: 'page' });
    expect(optionsFromUrl('?worker=split&backend=nope', 4)).toEqual({ ...plain, where: 'split', forceSplit: true });
  });
});
