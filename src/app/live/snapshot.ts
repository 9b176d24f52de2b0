/**
 * The "Snapshot PNG" of the live view: the source's frame at its own size with the overlay (box,
 * face number, caption) drawn into the same canvas, as Overlay.svelte draws it on screen (the same
 * caption, colours, mirroring and in-frame label placement). Browser only (canvas).
 */
import { emotionColor } from '../present.ts';
import { captionText, faceCaption, mirrorBox, placeLabel } from './overlay-settings.ts';
import type { FrameResult } from './types.ts';

/** The picture on screen (a video frame or an image) at its own size. */
export interface Picture {
  source: CanvasImageSource;
  width: number;
  height: number;
}

export interface SnapshotOptions {
  /** The frame's readings to draw; null draws the picture alone. */
  frame: FrameResult | null;
  hidden: readonly string[];
  minConfidence: number;
  mirrored: boolean;
}

/** Draws the picture and its overlay into a canvas of the picture's size (width x height). */
export function drawSnapshot(picture: CanvasImageSource, width: number, height: number, options: SnapshotOptions): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('Snapshot: this browser gave no 2D canvas.');
  ctx.save();
  if (options.mirrored) {
    ctx.translate(width, 0);
    ctx.scale(-1, 1);
  }
  ctx.drawImage(picture, 0, 0, width, height);
  ctx.restore();
  const frame = options.frame;
  if (!frame || frame.width <= 0 || frame.height <= 0) return canvas;
  // The frame's boxes are in source pixels; the picture is normally the same size.
  ctx.scale(width / frame.width, height / frame.height);
  // The on-screen overlay's 15 px text at a 640 px wide view.
  const fs = Math.max(10, (15 * frame.width) / 640);
  const padX = fs * 0.4;
  const labelH = fs * 1.5;
  ctx.font = `${fs}px system-ui, sans-serif`;
  ctx.textBaseline = 'alphabetic';
  for (const face of frame.faces) {
    const readings = face.readings.filter((r) => !options.hidden.includes(r.modelId));
    const caption = faceCaption(readings, options.minConfidence);
    const color = caption.kind === 'label' ? emotionColor(caption.label) : '#ffffff';
    const box = mirrorBox(face.box, frame.width, options.mirrored);
    ctx.strokeStyle = color;
    ctx.lineWidth = Math.max(2, (2.5 * frame.width) / 640);
    ctx.strokeRect(box.x, box.y, box.width, box.height);
    const number = String(face.trackId);
    const text = captionText(caption);
    ctx.font = `700 ${fs}px system-ui, sans-serif`;
    const numberW = ctx.measureText(number).width;
    ctx.font = `${fs}px system-ui, sans-serif`;
    const textW = text ? fs * 0.5 + ctx.measureText(text).width : 0;
    const w = numberW + textW + padX * 2;
    const at = placeLabel(box, w, labelH, frame.width, frame.height, fs * 0.3);
    ctx.fillStyle = 'rgba(0,0,0,0.7)';
    ctx.fillRect(at.x, at.y, w, labelH);
    const baseline = at.y + labelH * 0.72;
    ctx.font = `700 ${fs}px system-ui, sans-serif`;
    ctx.fillStyle = color;
    ctx.fillText(number, at.x + padX, baseline);
    if (text) {
      ctx.font = `${fs}px system-ui, sans-serif`;
      ctx.fillStyle = '#ffffff';
      ctx.fillText(text, at.x + padX + numberW + fs * 0.5, baseline);
    }
  }
  return canvas;
}

/** The canvas as a PNG blob. */
export function canvasToPng(canvas: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('Snapshot: the canvas could not be encoded as PNG.'))), 'image/png'),
  );
}

/** Saves a blob as a file through a blob: URL and an <a download> (nothing leaves the browser). */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  // The download has started from the URL by now; free the blob a little later.
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

/** A file name stamp, local time: 20261201-231500. */
export function fileStamp(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}-${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
}
