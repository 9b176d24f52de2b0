/**
 * The live view's display settings (mirror, hidden models, model order, minimum confidence), their
 * localStorage form, the colour theme, and the pure geometry and captions of the overlay drawn on the video.
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
  /**
   * Model ids in the order the user chose (panel rows, overlay, timeline). Ids not listed (a model
   * added later) follow in manifest order; ids of models that no longer exist are ignored.
   */
  order: string[];
  /** Under this top probability (0..1) a label reads "uncertain". */
  minConfidence: number;
}

export const DEFAULT_SETTINGS: Readonly<OverlaySettings> = Object.freeze({
  mirrorCamera: true,
  mirrorFiles: false,
  hidden: [],
  order: [],
  minConfidence: 0.4,
});

export const STORAGE_KEY = 'emotion-lens.overlay.v1';

/**
 * Reads stored settings; anything missing, of the wrong type or out of range falls back to its
 * default on its own, so one bad value (an older version, a hand edit) never loses the rest.
 */
export function parseSettings(raw: string | null | undefined): OverlaySettings {
  const out: OverlaySettings = { ...DEFAULT_SETTINGS, hidden: [], order: [] };
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
  if (Array.isArray(v.hidden)) out.hidden = modelIdList(v.hidden);
  if (Array.isArray(v.order)) out.order = modelIdList(v.order);
  if (typeof v.minConfidence === 'number' && Number.isFinite(v.minConfidence) && v.minConfidence >= 0 && v.minConfidence <= 1) {
    out.minConfidence = v.minConfidence;
  }
  return out;
}

/** The non-empty strings of a stored list, first occurrence kept. */
function modelIdList(list: unknown[]): string[] {
  return [...new Set(list.filter((id): id is string => typeof id === 'string' && id !== ''))];
}

export function serializeSettings(s: OverlaySettings): string {
  return JSON.stringify({
    mirrorCamera: s.mirrorCamera,
    mirrorFiles: s.mirrorFiles,
    hidden: s.hidden,
    order: s.order,
    minConfidence: s.minConfidence,
  });
}

/** `ids` (manifest order) in the user's order: listed ids first as listed, then the rest as given. */
export function orderIds(ids: readonly string[], order: readonly string[]): string[] {
  const rank = new Map(order.map((id, i) => [id, i]));
  return ids
    .map((id, i) => ({ id, key: rank.get(id) ?? order.length + i }))
    .sort((a, b) => a.key - b.key)
    .map((e) => e.id);
}

/** Items (anything with a modelId, e.g. a face's readings) in the user's model order. */
export function orderByModel<T extends { modelId: string }>(items: readonly T[], order: readonly string[]): T[] {
  const ids = orderIds(
    items.map((r) => r.modelId),
    order,
  );
  const byId = new Map(items.map((r) => [r.modelId, r]));
  return ids.map((id) => byId.get(id)!);
}

/**
 * The order after moving `id` by `delta` places among `ids` (the models on screen, manifest
 * order): the full list of `ids` in the new order, so the stored order is explicit from then on.
 * Ids in the old order that are not on screen keep their place at the end (a model that failed to
 * load this time keeps its rank for the next). A move past either end leaves the order as it is.
 */
export function moveModel(order: readonly string[], ids: readonly string[], id: string, delta: number): string[] {
  const current = orderIds(ids, order);
  const from = current.indexOf(id);
  const to = from + delta;
  if (from < 0 || to < 0 || to >= current.length || delta === 0) return [...order];
  current.splice(from, 1);
  current.splice(to, 0, id);
  return [...current, ...order.filter((o) => !ids.includes(o))];
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

export type Theme = 'system' | 'light' | 'dark';
export const THEMES: readonly Theme[] = ['system', 'light', 'dark'];
/** Its own key: the theme is the whole app's (header), the rest the live view's. */
export const THEME_KEY = 'emotion-lens.theme.v1';

/** The stored theme; anything else (absent, a hand edit, an unreadable storage) is 'system'. */
export function loadTheme(storage: Pick<Storage, 'getItem'> | undefined): Theme {
  try {
    const raw = storage?.getItem(THEME_KEY);
    return (THEMES as readonly string[]).includes(raw ?? '') ? (raw as Theme) : 'system';
  } catch {
    return 'system';
  }
}

export function saveTheme(storage: Pick<Storage, 'setItem'> | undefined, theme: Theme): boolean {
  try {
    if (!storage) return false;
    storage.setItem(THEME_KEY, theme);
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
