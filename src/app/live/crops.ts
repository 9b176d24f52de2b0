/**
 * Reads model crops out of a frame: copies only the face's region of the frame into a small
 * canvas, reads its pixels, and warps them with the shared core framing (src/core/framing), so
 * live crops are computed by the same code as any offline crop.
 */
import type { Affine } from '../../core/framing/types.ts';
import { offsetSource, sourceBounds } from '../../core/framing/transform.ts';
import { warpGray } from '../../core/framing/warp.ts';

function isImageData(source: CanvasImageSource | ImageData): source is ImageData {
  return typeof ImageData !== 'undefined' && source instanceof ImageData;
}

export class CropReader {
  private readonly canvas: OffscreenCanvas;
  private readonly ctx: OffscreenCanvasRenderingContext2D;

  constructor() {
    this.canvas = new OffscreenCanvas(64, 64);
    const ctx = this.canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('2D canvas unavailable');
    this.ctx = ctx;
  }

  /** size x size gray crop in [0,1] of `source` (width x height pixels) through `toSource`. */
  read(source: CanvasImageSource | ImageData, width: number, height: number, toSource: Affine, size: number): Float32Array {
    // Pixels already read (a grabbed video frame): warped directly, no canvas round trip.
    if (isImageData(source))
      return warpGray({ data: source.data, width: source.width, height: source.height, channels: 4 }, toSource, size);
    const b = sourceBounds(toSource, size);
    // Clamp to the frame; the warp repeats edge pixels for the part of the crop outside it.
    const x0 = Math.min(Math.max(0, b.x), width - 1);
    const y0 = Math.min(Math.max(0, b.y), height - 1);
    const w = Math.max(1, Math.min(width, b.x + b.width) - x0);
    const h = Math.max(1, Math.min(height, b.y + b.height) - y0);
    if (this.canvas.width < w) this.canvas.width = w;
    if (this.canvas.height < h) this.canvas.height = h;
    this.ctx.drawImage(source, x0, y0, w, h, 0, 0, w, h);
    const image = this.ctx.getImageData(0, 0, w, h);
    return warpGray({ data: image.data, width: w, height: h, channels: 4 }, offsetSource(toSource, x0, y0), size);
  }
}

/**
 * Reads a whole video frame's pixels once, for both the landmarker and the crops. MediaPipe's CPU
 * path otherwise uploads the <video> frame to a WebGL texture and reads it back, and each crop read
 * copies its region out of the video again: measured in headless Chromium on a 2-core CPU at
 * 640x480, a grabbed ImageData gave detectForVideo p50 21.1 ms + 2.1 ms to grab against 23.6 ms
 * from the <video>, and a crop then costs a warp alone. It also makes the landmarks and the crops
 * come from one frame even if the video moves on meanwhile.
 */
export class FrameGrabber {
  private canvas: OffscreenCanvas | undefined;
  private ctx: OffscreenCanvasRenderingContext2D | undefined;
  /** Two pixel buffers used in turn, so a frame's pixels outlive the next grab's start. */
  private readonly buffers: (Uint8ClampedArray<ArrayBuffer> | undefined)[] = [undefined, undefined];
  private turn = 0;
  /** VideoFrame.copyTo to RGBA failed once (an older browser): the canvas from then on. */
  private copyFailed = typeof VideoFrame === 'undefined';

  /**
   * The frame's RGBA pixels. A <video> shown at its own size is copied through WebCodecs'
   * VideoFrame.copyTo into a reused buffer: measured in headless Chromium at 640x480, 0.6 ms
   * against 5.4 ms for drawImage + getImageData (same pixels), and no 1.2 MB allocation per
   * frame for the garbage collector. Anything else goes through a canvas.
   */
  async grab(source: CanvasImageSource, width: number, height: number): Promise<ImageData> {
    if (!this.copyFailed && isVideo(source) && source.videoWidth === width && source.videoHeight === height) {
      const copied = await this.copy(source, width, height);
      if (copied) return copied;
    }
    if (!this.canvas || !this.ctx || this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas = new OffscreenCanvas(width, height);
      const ctx = this.canvas.getContext('2d', { willReadFrequently: true });
      if (!ctx) throw new Error('2D canvas unavailable');
      this.ctx = ctx;
    }
    this.ctx.drawImage(source, 0, 0, width, height);
    return this.ctx.getImageData(0, 0, width, height);
  }

  /** undefined: this frame cannot be copied (no frame yet, another size); the canvas reads it. */
  private async copy(video: HTMLVideoElement, width: number, height: number): Promise<ImageData | undefined> {
    let frame: VideoFrame;
    try {
      frame = new VideoFrame(video);
    } catch {
      return undefined;
    }
    try {
      const rect = frame.visibleRect;
      if (!rect || rect.width !== width || rect.height !== height) return undefined;
      const size = width * height * 4;
      let buffer = this.buffers[this.turn];
      if (buffer?.length !== size) buffer = this.buffers[this.turn] = new Uint8ClampedArray(size);
      this.turn = 1 - this.turn;
      await frame.copyTo(buffer, { format: 'RGBA' });
      return new ImageData(buffer, width, height);
    } catch {
      this.copyFailed = true;
      return undefined;
    } finally {
      frame.close();
    }
  }
}

function isVideo(source: CanvasImageSource): source is HTMLVideoElement {
  return typeof HTMLVideoElement !== 'undefined' && source instanceof HTMLVideoElement;
}
