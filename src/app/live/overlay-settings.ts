/**
 * The live view's display settings (mirror, hidden models, minimum confidence), their
 * localStorage form, and the pure geometry and captions of the overlay drawn on the video.
 * No DOM here: the view passes a Storage-like object, tests pass a Map-backed fake.
 */
import { EMOTIONS } from '../../core/labels.ts';
import type { Box } from '../../core/framing/types.ts';

export interface OverlaySettings {
  /** Mirror a camera like a selfie view (on by default). */
  mirrorCamera: boolean;
  /** Mirror image and video files (off by default: a file is shown as recorded). */
  mirrorFiles: boolean;
  /** Model ids the user hid: no panel row, not part of the consensus. */
  hidden: string[];
  /** Under this top probability (0..1) a label reads "uncertain". */
  minConfidence: number;
}

export const DEFAULT_SETTINGS: Readonly<OverlaySettings> = Object.freeze({
  mirrorCamera: true,
  mirrorFiles: false,
  hidden: [],
  minConfidence: 0.4,
});

export const STORAGE_KEY = 'emotion-lens.overlay.v1';

/**
 * Reads stored settings; anything missing, of the wrong type or out of range falls back to its
 * default on its own, so one bad value (an older version, a hand edit) never loses the rest.
 */
export function parseSettings(raw: string | null | undefined): OverlaySettings {
  const out: OverlaySettings = { ...DEFAULT_SETTINGS, hidden: [] };
  if (!raw) return out;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return out;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return out;
  const v = value as Record<string, unknown>;
  if (typeof v.mirrorCamera === 'boolean') out.mirrorCamera = v.mirrorCamera;
  if (typeof v.mirrorFiles === 'boolean') out.mirrorFiles = v.mirrorFiles;
  if (Array.isArray(v.hidden)) out.hidden = [...new Set(v.hidden.filter((id): id is string => typeof id === 'string' && id !== ''))];
  if (typeof v.minConfidence === 'number' && Number.isFinite(v.minConfidence) && v.minConfidence >= 0 && v.minConfidence <= 1) {
    out.minConfidence = v.minConfidence;
  }
  return out;
}

export function serializeSettings(s: OverlaySettings): string {
  return JSON.stringify({ mirrorCamera: s.mirrorCamera, mirrorFiles: s.mirrorFiles, hidden: s.hidden, minConfidence: s.minConfidence });
}

type Store = Pick<Storage, 'getItem' | 'setItem'>;

/** Storage may be absent or throw (private mode, quota, blocked cookies): the defaults then apply. */
export function loadSettings(storage: Store | undefined): OverlaySettings {
  try {
    return parseSettings(storage?.getItem(STORAGE_KEY));
  } catch {
    return parseSettings(null);
  }
}

/** Returns false when the settings could not be stored (they still apply for this page). */
export function saveSettings(storage: Store | undefined, s: OverlaySettings): boolean {
  try {
    if (!storage) return false;
    storage.setItem(STORAGE_KEY, serializeSettings(s));
    return true;
  } catch {
    return false;
  }
}

export function isMirrored(s: OverlaySettings, source: 'none' | 'camera' | 'video' | 'image'): boolean {
  return source === 'camera' ? s.mirrorCamera : source === 'none' ? false : s.mirrorFiles;
}

/** The box as seen in a view flipped left to right (frame width `width`). */
export function mirrorBox(box: Box, width: number, mirrored: boolean): Box {
  return mirrored ? { ...box, x: width - box.x - box.width } : box;
}

/**
 * Where a label of size w x h goes for a face box, in frame pixels (top-left corner): above the
 * box, or below it when there is no room above, or inside its top edge; always within the frame
 * (a label wider than the frame starts at its left edge).
 */
export function placeLabel(box: Box, w: number, h: number, frameW: number, frameH: number, gap = 0): { x: number; y: number } {
  let y: number;
  if (box.y - gap - h >= 0) y = box.y - gap - h;
  else if (box.y + box.height + gap + h <= frameH) y = box.y + box.height + gap;
  else y = box.y;
  return { x: clamp(box.x, 0, frameW - w), y: clamp(y, 0, frameH - h) };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(v, Math.max(lo, hi)));
}

export type Caption =
  | { kind: 'none' }
  | { kind: 'label'; label: number; score: number }
  | { kind: 'uncertain'; label: number; score: number }
  | { kind: 'disagree'; labels: number[] };

/**
 * The one caption on the video for a face: the models' common top label with their mean
 * probability for it, "uncertain" under the minimum confidence, or "models disagree".
 */
export function faceCaption(readings: readonly { probs: readonly number[]; top: number }[], minConfidence: number): Caption {
  if (readings.length === 0) return { kind: 'none' };
  const labels = [...new Set(readings.map((r) => r.top))];
  if (labels.length > 1) return { kind: 'disagree', labels };
  const label = labels[0]!;
  const score = readings.reduce((sum, r) => sum + (r.probs[label] ?? 0), 0) / readings.length;
  return score < minConfidence ? { kind: 'uncertain', label, score } : { kind: 'label', label, score };
}

export function captionText(c: Caption): string {
  switch (c.kind) {
    case 'none':
      return '';
    case 'label':
      return `${EMOTIONS[c.label]} ${Math.round(c.score * 100)}%`;
    case 'uncertain':
      return `uncertain (${EMOTIONS[c.label]}?)`;
    case 'disagree':
      return 'models disagree';
  }
}
