/** The live session's browser side: the real engine, camera and object URLs, and a <video> surface. */
import { listCameras, openCamera, stopStream } from './camera.ts';
import { loadEngine } from './engine.ts';
import { LiveSession, optionsFromUrl, type SessionOptions, type VideoSurface } from './session.ts';

/** A session with the page's URL parameters (?backend=, ?worker=) and these settings. */
export function createLiveSession(search: string, settings: Pick<SessionOptions, 'maxFaces' | 'smoothing' | 'smoothingMs'>): LiveSession {
  return new LiveSession(
    { ...optionsFromUrl(search), ...settings },
    {
      loadEngine,
      openCamera,
      listCameras,
      stopStream,
      createUrl: (file) => URL.createObjectURL(file),
      revokeUrl: (url) => URL.revokeObjectURL(url),
      now: () => performance.now(),
    },
  );
}

export function videoSurface(video: HTMLVideoElement): VideoSurface {
  return {
    async showStream(stream) {
      video.srcObject = stream;
      await video.play();
    },
    async showUrl(url) {
      video.src = url;
      video.loop = true;
      await video.play();
    },
    clear() {
      video.pause();
      video.srcObject = null;
      video.removeAttribute('src');
    },
    nextFrame() {
      return new Promise((done) => {
        if ('requestVideoFrameCallback' in video) video.requestVideoFrameCallback(() => done());
        else requestAnimationFrame(() => done());
      });
    },
    current() {
      if (video.readyState < 2 || !video.videoWidth) return undefined;
      return { source: video, width: video.videoWidth, height: video.videoHeight };
    },
    paused() {
      return video.paused && !video.srcObject;
    },
  };
}
