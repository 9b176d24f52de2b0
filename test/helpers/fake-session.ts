/** A LiveSession over a fake engine, camera and video surface: the unit tests of session features share it. */
import type { FrameSource } from '../../src/app/live/pipeline.ts';
import { LiveSession, type SessionDeps } from '../../src/app/live/session.ts';

/** The session options the fakes use (tests override what they vary). */
export const FAKE_SESSION_OPTIONS = {
  backend: undefined,
  where: 'page',
  forceSplit: false,
  readAhead: true,
  maxReusedFrames: 0,
  landmarker: 'page',
  maxFaces: 4,
  smoothing: true,
  smoothingMs: 250,
} as const;

/** The session with `loadEngine` as given; a camera with no tracks; a surface whose frames come every `frameMs`. */
export function fakeSession(loadEngine: SessionDeps['loadEngine'], frameMs: number): LiveSession {
  const session = new LiveSession(FAKE_SESSION_OPTIONS, {
    loadEngine,
    openCamera: async () => ({ id: 'cam', getVideoTracks: () => [], getTracks: () => [] }) as unknown as MediaStream,
    listCameras: async () => [],
    stopStream: () => {},
    createUrl: () => 'blob:x',
    revokeUrl: () => {},
    now: () => 0,
  });
  session.attach({
    showStream: async () => {},
    showUrl: async () => {},
    clear: () => {},
    nextFrame: () => new Promise((r) => setTimeout(r, frameMs)),
    current: () => ({ source: {} as FrameSource, width: 640, height: 480 }),
    paused: () => false,
  });
  return session;
}
