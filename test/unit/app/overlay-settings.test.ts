/** The live view's display settings (stored in localStorage) and the overlay's label placement and caption. */
import { describe, expect, it } from 'vitest';
import {
  captionText,
  DEFAULT_SETTINGS,
  faceCaption,
  isMirrored,
  loadSettings,
  loadTheme,
  mirrorBox,
  moveModel,
  orderByModel,
  orderIds,
  parseSettings,
  placeLabel,
  saveSettings,
  saveTheme,
  serializeSettings,
  STORAGE_KEY,
  THEME_KEY,
} from '../../../src/app/live/overlay-settings.ts';

function memoryStorage(initial: Record<string, string> = {}) {
  const map = new Map(Object.entries(initial));
  return { getItem: (k: string) => map.get(k) ?? null, setItem: (k: string, v: string) => void map.set(k, v), map };
}

describe('overlay settings', () => {
  it('defaults: camera mirrored, files not, nothing hidden', () => {
    expect(parseSettings(null)).toEqual({ mirrorCamera: true, mirrorFiles: false, hidden: [], order: [], minConfidence: 0.4 });
    expect(isMirrored(DEFAULT_SETTINGS, 'camera')).toBe(true);
    expect(isMirrored(DEFAULT_SETTINGS, 'video')).toBe(false);
    expect(isMirrored(DEFAULT_SETTINGS, 'image')).toBe(false);
    expect(isMirrored({ ...DEFAULT_SETTINGS, mirrorFiles: true }, 'image')).toBe(true);
  });

  it('round-trips through its stored form', () => {
    const s = { mirrorCamera: false, mirrorFiles: true, hidden: ['a', 'b'], order: ['b', 'c', 'a'], minConfidence: 0.65 };
    expect(parseSettings(serializeSettings(s))).toEqual(s);
  });

  it('tolerates bad stored values one field at a time', () => {
    expect(parseSettings('not json')).toEqual(parseSettings(null));
    expect(parseSettings('[1,2]')).toEqual(parseSettings(null));
    expect(parseSettings('null')).toEqual(parseSettings(null));
    const mixed = parseSettings(
      JSON.stringify({ mirrorCamera: 'yes', mirrorFiles: true, hidden: ['x', 3, '', 'x', null], minConfidence: 7 }),
    );
    expect(mixed).toEqual({ mirrorCamera: true, mirrorFiles: true, hidden: ['x'], order: [], minConfidence: 0.4 });
    expect(parseSettings('{"minConfidence":-0.1}').minConfidence).toBe(0.4);
    expect(parseSettings('{"minConfidence":null}').minConfidence).toBe(0.4);
    expect(parseSettings('{"minConfidence":0}').minConfidence).toBe(0);
    expect(parseSettings('{"hidden":"a"}').hidden).toEqual([]);
    // A stored order: non-strings, empty ids and repeats dropped; a non-list ignored; the rest kept.
    expect(parseSettings(JSON.stringify({ order: ['b', 7, '', 'a', 'b', null, 'c'], minConfidence: 0.5 }))).toEqual({
      ...DEFAULT_SETTINGS,
      order: ['b', 'a', 'c'],
      minConfidence: 0.5,
    });
    expect(parseSettings('{"order":"a,b"}').order).toEqual([]);
    expect(parseSettings('{"order":{"0":"a"}}').order).toEqual([]);
    // Settings stored before the order existed still load, with no order.
    expect(parseSettings('{"mirrorCamera":false,"hidden":["a"],"minConfidence":0.3}')).toEqual({
      ...DEFAULT_SETTINGS,
      mirrorCamera: false,
      hidden: ['a'],
      minConfidence: 0.3,
    });
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

describe('model order', () => {
  const ids = ['a', 'b', 'c', 'd']; // manifest order

  it('puts listed ids first as listed, then the others in manifest order; unknown ids are ignored', () => {
    expect(orderIds(ids, [])).toEqual(ids);
    expect(orderIds(ids, ['c', 'a'])).toEqual(['c', 'a', 'b', 'd']);
    expect(orderIds(ids, ['gone', 'd', 'x'])).toEqual(['d', 'a', 'b', 'c']);
    expect(orderIds([], ['a'])).toEqual([]);
  });

  it('orders readings by their model id', () => {
    const readings = ids.map((modelId, i) => ({ modelId, top: i }));
    expect(orderByModel(readings, ['d', 'b']).map((r) => r.modelId)).toEqual(['d', 'b', 'a', 'c']);
    expect(orderByModel(readings, ['d', 'b']).map((r) => r.top)).toEqual([3, 1, 0, 2]);
  });

  it('moves a model up or down by one place and keeps the order of models not on screen', () => {
    expect(moveModel([], ids, 'c', -1)).toEqual(['a', 'c', 'b', 'd']);
    expect(moveModel([], ids, 'a', 1)).toEqual(['b', 'a', 'c', 'd']);
    expect(moveModel(['c', 'a'], ids, 'a', 1)).toEqual(['c', 'b', 'a', 'd']);
    // 'x' is not loaded this time: it keeps its entry (at the end) for the next load.
    expect(moveModel(['x', 'b'], ids, 'd', -3)).toEqual(['d', 'b', 'a', 'c', 'x']);
    // Past either end, an id not on screen, or no move: unchanged.
    expect(moveModel(['b'], ids, 'b', -1)).toEqual(['b']);
    expect(moveModel([], ids, 'd', 1)).toEqual([]);
    expect(moveModel(['a'], ids, 'zz', 1)).toEqual(['a']);
    expect(moveModel(['a'], ids, 'a', 0)).toEqual(['a']);
  });

  it('survives a round trip through storage after a move', () => {
    const s = { ...DEFAULT_SETTINGS, order: moveModel([], ids, 'd', -2) };
    expect(orderIds(ids, parseSettings(serializeSettings(s)).order)).toEqual(['a', 'd', 'b', 'c']);
  });
});

describe('theme', () => {
  it('loads a stored theme, falls back to "system" for anything else, and saves', () => {
    const map = new Map<string, string>();
    const storage = { getItem: (k: string) => map.get(k) ?? null, setItem: (k: string, v: string) => void map.set(k, v) };
    expect(loadTheme(storage)).toBe('system');
    expect(saveTheme(storage, 'dark')).toBe(true);
    expect(map.get(THEME_KEY)).toBe('dark');
    expect(loadTheme(storage)).toBe('dark');
    map.set(THEME_KEY, 'purple');
    expect(loadTheme(storage)).toBe('system');
    const throwing = {
      getItem: (): string => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
    };
    expect(loadTheme(throwing)).toBe('system');
    expect(saveTheme(throwing, 'light')).toBe(false);
    expect(loadTheme(undefined)).toBe('system');
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
