/**
 * FrameGrabber's choice between WebCodecs (VideoFrame.copyTo into reused buffers) and the canvas,
 * with stand-ins for the browser classes (Node has none of them).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FrameGrabber } from '../../../src/app/live/crops.ts';

class FakeVideo {
  constructor(
    public videoWidth: number,
    public videoHeight: number,
    public value = 7,
  ) {}
}

class FakeImageData {
  constructor(
    public data: Uint8ClampedArray,
    public width: number,
    public height: number,
  ) {}
}

const calls = { frames: 0, closed: 0, copies: 0, canvasReads: 0 };
let copyFails = false;

class FakeVideoFrame {
  visibleRect: { width: number; height: number };
  constructor(private readonly video: FakeVideo) {
    calls.frames++;
    this.visibleRect = { width: video.videoWidth, height: video.videoHeight };
  }
  async copyTo(into: Uint8ClampedArray, options: { format: string }): Promise<void> {
    if (copyFails) throw new Error('NotSupportedError: format');
    expect(options.format).toBe('RGBA');
    calls.copies++;
    into.fill(this.video.value);
  }
  close(): void {
    calls.closed++;
  }
}

class FakeOffscreenCanvas {
  constructor(
    public width: number,
    public height: number,
  ) {}
  getContext() {
    return {
      drawImage: () => undefined,
      getImageData: (_x: number, _y: number, w: number, h: number) => {
        calls.canvasReads++;
        return new FakeImageData(new Uint8ClampedArray(w * h * 4).fill(1), w, h);
      },
    };
  }
}

beforeEach(() => {
  Object.assign(calls, { frames: 0, closed: 0, copies: 0, canvasReads: 0 });
  copyFails = false;
  vi.stubGlobal('HTMLVideoElement', FakeVideo);
  vi.stubGlobal('VideoFrame', FakeVideoFrame);
  vi.stubGlobal('ImageData', FakeImageData);
  vi.stubGlobal('OffscreenCanvas', FakeOffscreenCanvas);
});
afterEach(() => vi.unstubAllGlobals());

const asSource = (v: FakeVideo) => v as unknown as CanvasImageSource;

describe('FrameGrabber', () => {
  it('copies a video frame through VideoFrame.copyTo into two buffers used in turn, closing each frame', async () => {
    const grabber = new FrameGrabber();
    const a = await grabber.grab(asSource(new FakeVideo(4, 2, 5)), 4, 2);
    const b = await grabber.grab(asSource(new FakeVideo(4, 2, 6)), 4, 2);
    const c = await grabber.grab(asSource(new FakeVideo(4, 2, 9)), 4, 2);
    expect([a.width, a.height, a.data.length]).toEqual([4, 2, 32]);
    // The second grab did not overwrite the first frame's pixels; the third reuses the first buffer.
    expect(b.data[0]).toBe(6);
    expect(c.data).toBe(a.data);
    expect(c.data[0]).toBe(9);
    expect(b.data).not.toBe(a.data);
    expect(calls).toEqual({ frames: 3, closed: 3, copies: 3, canvasReads: 0 });
  });

  it('reads through the canvas when the video is drawn at another size', async () => {
    const grabber = new FrameGrabber();
    const image = await grabber.grab(asSource(new FakeVideo(8, 4)), 4, 2);
    expect(image.data[0]).toBe(1);
    expect(calls.frames).toBe(0);
    expect(calls.canvasReads).toBe(1);
  });

  it('falls back to the canvas for good once copyTo fails, still closing the frame', async () => {
    const grabber = new FrameGrabber();
    copyFails = true;
    const first = await grabber.grab(asSource(new FakeVideo(4, 2)), 4, 2);
    expect(first.data[0]).toBe(1);
    copyFails = false;
    await grabber.grab(asSource(new FakeVideo(4, 2)), 4, 2);
    expect(calls).toEqual({ frames: 1, closed: 1, copies: 0, canvasReads: 2 });
  });

  it('uses the canvas where the browser has no VideoFrame', async () => {
    vi.stubGlobal('VideoFrame', undefined);
    const grabber = new FrameGrabber();
    await grabber.grab(asSource(new FakeVideo(4, 2)), 4, 2);
    expect(calls.canvasReads).toBe(1);
  });
});
