/** The live view's display settings (stored in localStorage) and the overlay's label placement and caption. */
import { describe, expect, it } from 'vitest';
import {
  captionText,
  DEFAULT_SETTINGS,
  faceCaption,
  isMirrored,
  loadSettings,
  mirrorBox,
  parseSettings,
  placeLabel,
  saveSettings,
  serializeSettings,
  STORAGE_KEY,
} from '../../../src/app/live/overlay-settings.ts';

function memoryStorage(initial: Record<string, string> = {}) {
  const map = new Map(Object.entries(initial));
  return { getItem: (k: string) => map.get(k) ?? null, setItem: (k: string, v: string) => void map.set(k, v), map };
}

describe('overlay settings', () => {
  it('defaults: camera mirrored, files not, nothing hidden', () => {
    expect(parseSettings(null)).toEqual({ mirrorCamera: true, mirrorFiles: false, hidden: [], minConfidence: 0.4 });
    expect(isMirrored(DEFAULT_SETTINGS, 'camera')).toBe(true);
    expect(isMirrored(DEFAULT_SETTINGS, 'video')).toBe(false);
    expect(isMirrored(DEFAULT_SETTINGS, 'image')).toBe(false);
    expect(isMirrored({ ...DEFAULT_SETTINGS, mirrorFiles: true }, 'image')).toBe(true);
  });

  it('round-trips through its stored form', () => {
    const s = { mirrorCamera: false, mirrorFiles: true, hidden: ['a', 'b'], minConfidence: 0.65 };
    expect(parseSettings(serializeSettings(s))).toEqual(s);
  });

  it('tolerates bad stored values one field at a time', () => {
    expect(parseSettings('not json')).toEqual(parseSettings(null));
    expect(parseSettings('[1,2]')).toEqual(parseSettings(null));
    expect(parseSettings('null')).toEqual(parseSettings(null));
    const mixed = parseSettings(
      JSON.stringify({ mirrorCamera: 'yes', mirrorFiles: true, hidden: ['x', 3, '', 'x', null], minConfidence: 7 }),
    );
    expect(mixed).toEqual({ mirrorCamera: true, mirrorFiles: true, hidden: ['x'], minConfidence: 0.4 });
    expect(parseSettings('{"minConfidence":-0.1}').minConfidence).toBe(0.4);
    expect(parseSettings('{"minConfidence":null}').minConfidence).toBe(0.4);
    expect(parseSettings('{"minConfidence":0}').minConfidence).toBe(0);
    expect(parseSettings('{"hidden":"a"}').hidden).toEqual([]);
  });

  it('loads and saves through a storage, and survives one that throws or is absent', () => {
    const storage = memoryStorage();
    const s = { ...DEFAULT_SETTINGS, hidden: ['fer-cnn'] };
    expect(saveSettings(storage, s)).toBe(true);
    expect(storage.map.get(STORAGE_KEY)).toBe(serializeSettings(s));
    expect(loadSettings(storage)).toEqual(s);
    const broken = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
    };
    expect(loadSettings(broken)).toEqual(parseSettings(null));
    expect(saveSettings(broken, s)).toBe(false);
    expect(loadSettings(undefined)).toEqual(parseSettings(null));
    expect(saveSettings(undefined, s)).toBe(false);
  });
});

describe('overlay geometry', () => {
  const W = 640;
  const H = 480;

  it('mirrors a box about the frame centre', () => {
    expect(mirrorBox({ x: 10, y: 20, width: 100, height: 50 }, W, true)).toEqual({ x: 530, y: 20, width: 100, height: 50 });
    expect(mirrorBox({ x: 10, y: 20, width: 100, height: 50 }, W, false)).toEqual({ x: 10, y: 20, width: 100, height: 50 });
  });

  it('puts the label above the box when there is room', () => {
    expect(placeLabel({ x: 100, y: 100, width: 200, height: 200 }, 120, 20, W, H, 4)).toEqual({ x: 100, y: 76 });
  });

  it('below the box when it touches the top, inside it when it fills the frame', () => {
    expect(placeLabel({ x: 100, y: 5, width: 200, height: 200 }, 120, 20, W, H, 4)).toEqual({ x: 100, y: 209 });
    expect(placeLabel({ x: 0, y: 0, width: W, height: H }, 120, 20, W, H, 4)).toEqual({ x: 0, y: 0 });
  });

  it('keeps the label inside the frame on the right and left edges', () => {
    // Face at the right edge: a label as wide as 300 px ends at the frame's right edge.
    expect(placeLabel({ x: 560, y: 100, width: 80, height: 80 }, 300, 20, W, H)).toEqual({ x: 340, y: 80 });
    expect(placeLabel({ x: -30, y: 100, width: 80, height: 80 }, 100, 20, W, H)).toEqual({ x: 0, y: 80 });
    // Wider than the frame: starts at the left edge rather than off it.
    expect(placeLabel({ x: 300, y: 100, width: 80, height: 80 }, 900, 20, W, H).x).toBe(0);
    // A box partly below the frame: the label is pulled back in.
    const p = placeLabel({ x: 10, y: 470, width: 80, height: 80 }, 100, 20, W, H);
    expect(p.y + 20).toBeLessThanOrEqual(H);
  });
});

describe('face caption', () => {
  const r = (top: number, p: number) => {
    const probs = new Array(7).fill((1 - p) / 6);
    probs[top] = p;
    return { probs, top };
  };

  it('one label with the mean probability when every model agrees', () => {
    const c = faceCaption([r(3, 0.9), r(3, 0.7)], 0.4);
    expect(c).toEqual({ kind: 'label', label: 3, score: expect.closeTo(0.8, 9) });
    expect(captionText(c)).toBe('happy 80%');
  });

  it('"uncertain" under the minimum confidence, "models disagree" when top labels differ', () => {
    const low = faceCaption([r(4, 0.35)], 0.4);
    expect(low.kind).toBe('uncertain');
    expect(captionText(low)).toBe('uncertain (sad?)');
    expect(faceCaption([r(4, 0.35)], 0.3).kind).toBe('label');
    const d = faceCaption([r(3, 0.9), r(0, 0.9)], 0.4);
    expect(d).toEqual({ kind: 'disagree', labels: [3, 0] });
    expect(captionText(d)).toBe('models disagree');
    expect(faceCaption([], 0.4)).toEqual({ kind: 'none' });
  });
});
