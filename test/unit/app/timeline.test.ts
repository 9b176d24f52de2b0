import { describe, expect, it } from 'vitest';
import { linePanel } from '../../../src/core/charts.ts';
import { decimate, labelSpans, Timeline, type TimelineFrame, type TimelinePoint } from '../../../src/app/live/timeline.ts';

/** A frame where each face has every model reading probs [v, 1 - v, 0, 0, 0, 0, 0]. */
function frame(faces: number[], v: number, models = ['a', 'b']): TimelineFrame {
  return {
    faces: faces.map((trackId) => ({
      trackId,
      readings: models.map((modelId) => ({ modelId, probs: [v, 1 - v, 0, 0, 0, 0, 0] })),
    })),
  };
}

describe('Timeline (camera)', () => {
  it('windows the last span per face and model', () => {
    const tl = new Timeline({ kind: 'live' });
    for (let t = 0; t <= 10_000; t += 1000) tl.add(t, frame([1], t / 10_000));
    const w = tl.window(1, 'a', 10_000, 3000);
    expect(w.map((p) => p.t)).toEqual([7000, 8000, 9000, 10_000]);
    expect(w[3]!.probs[0]).toBeCloseTo(1);
    expect(tl.window(1, 'missing', 10_000, 3000)).toEqual([]);
    expect(tl.window(2, 'a', 10_000, 3000)).toEqual([]);
    // A window ending earlier leaves the later points out.
    expect(tl.window(1, 'b', 5000, 2000).map((p) => p.t)).toEqual([3000, 4000, 5000]);
  });

  it('evicts points older than retainMs and keeps at most maxPoints per face and model', () => {
    const tl = new Timeline({ kind: 'live', retainMs: 5000, maxPoints: 50 });
    for (let t = 0; t <= 20_000; t += 100) tl.add(t, frame([1], 0.5));
    const pts = tl.points(1, 'a');
    expect(pts[0]!.t).toBe(15_100); // 50 points at 10/s: the ring bound wins over retainMs
    expect(pts.length).toBe(50);
    expect(tl.size()).toBe(100); // 2 models x 50
    const slow = new Timeline({ kind: 'live', retainMs: 5000, maxPoints: 1000 });
    for (let t = 0; t <= 20_000; t += 100) slow.add(t, frame([1], 0.5));
    expect(slow.points(1, 'a')[0]!.t).toBe(15_000);
    expect(slow.points(1, 'a').length).toBe(51);
  });

  it('drops a face that left after forgetMs, and keeps at most maxFaces', () => {
    const tl = new Timeline({ kind: 'live', forgetMs: 2000, maxFaces: 2 });
    tl.add(0, frame([1, 2], 0.5));
    tl.add(1000, frame([2], 0.5));
    expect(tl.faceIds().sort()).toEqual([1, 2]);
    tl.add(2500, frame([2], 0.5));
    expect(tl.faceIds()).toEqual([2]);
    tl.add(2600, frame([3], 0.5));
    tl.add(2700, frame([4], 0.5));
    expect(tl.faceIds().sort()).toEqual([3, 4]); // 2 was the least recently seen
  });

  it('refuses a bad option by name', () => {
    expect(() => new Timeline({ kind: 'live', maxPoints: 0 })).toThrow(/maxPoints/);
  });
});

describe('Timeline (video file)', () => {
  it('keeps the whole file sorted by media time', () => {
    const tl = new Timeline({ kind: 'file', durationMs: 60_000 });
    for (let t = 0; t < 60_000; t += 200) tl.add(t, frame([1], 0.2));
    const pts = tl.points(1, 'a');
    expect(pts.length).toBe(300);
    expect(pts[0]!.t).toBe(0);
    expect(pts.at(-1)!.t).toBe(59_800);
    // Window around the cursor works on media time too.
    expect(tl.window(1, 'a', 1000, 1000).map((p) => p.t)).toEqual([0, 200, 400, 600, 800, 1000]);
  });

  it('seeking back overwrites the readings of the same media time instead of adding more', () => {
    const tl = new Timeline({ kind: 'file', durationMs: 10_000, bucketMs: 100 });
    for (let t = 0; t < 10_000; t += 100) tl.add(t, frame([1], 0.1));
    for (let t = 2000; t < 4000; t += 100) tl.add(t + 30, frame([1], 0.9)); // seek back to 2 s, play 2 s
    const pts = tl.points(1, 'a');
    expect(pts.length).toBe(100);
    expect(pts.map((p) => p.t)).toEqual([...pts.map((p) => p.t)].sort((a, b) => a - b));
    expect(pts.find((p) => p.t === 2030)!.probs[0]).toBeCloseTo(0.9);
    expect(pts.find((p) => p.t === 1900)!.probs[0]).toBeCloseTo(0.1);
    expect(pts.find((p) => p.t === 4000)!.probs[0]).toBeCloseTo(0.1);
  });

  it('widens buckets for a long file so a face and model never hold more than maxPoints', () => {
    const tl = new Timeline({ kind: 'file', durationMs: 3_600_000, maxPoints: 1000 });
    expect(tl.bucketMs).toBe(3600);
    for (let t = 0; t < 3_600_000; t += 33) tl.add(t, frame([1], 0.5, ['a']));
    expect(tl.points(1, 'a').length).toBeLessThanOrEqual(1000);
  });
});

describe('linePanel options the timeline uses', () => {
  const base = { x: 40, y: 10, width: 300, height: 100, title: '', xLabel: 's', yLabel: '%', xDomain: [-30, 0] as [number, number] };
  const series = [{ name: 'happy', color: '#0a0', points: [[-2, 40] as [number, number], [-1, 60] as [number, number]] }];

  it('fixes the y range, tags series, draws a cursor and leaves the legend out', () => {
    const svg = linePanel({ ...base, series, yDomain: [0, 100], tagSeries: true, legend: false, dots: false, cursorX: -15 });
    const yTicks = [...svg.matchAll(/data-tick="y"/g)].length;
    expect(yTicks).toBe(6); // 0, 20, ..., 100 although the data spans 40..60
    expect(svg).toContain('>100<');
    expect(svg).toContain('>0<');
    expect(svg).toMatch(/<polyline data-series="happy" points="/);
    expect(svg).toMatch(/<line data-cursor="" x1="190"/); // -15 is the middle of [-30, 0]
    expect(svg).not.toContain('<circle');
    expect(svg).not.toMatch(/>happy</); // no legend text
  });

  it('keeps its former output without the options', () => {
    const svg = linePanel({ ...base, series });
    expect(svg).not.toContain('data-series');
    expect(svg).not.toContain('data-cursor');
    expect(svg).toContain('<circle');
    expect(svg).toMatch(/>happy</);
  });
});

describe('labelSpans (the strip of top labels)', () => {
  /** A point at t whose top label is `label` with probability p. */
  const pt = (t: number, label: number, p = 0.6): TimelinePoint => {
    const probs = new Array<number>(7).fill((1 - p) / 6);
    probs[label] = p;
    return { t, probs };
  };

  it('joins consecutive points with one label into one span and starts a new span where the label changes', () => {
    const points = [pt(0, 3), pt(100, 3), pt(200, 3), pt(300, 0), pt(400, 0)];
    expect(labelSpans(points, { gapMs: 500 })).toEqual([
      { from: 0, to: 300, label: 3, uncertain: false },
      // The last point holds for the typical step (100 ms).
      { from: 300, to: 500, label: 0, uncertain: false },
    ]);
  });

  it('leaves a gap where the face was not read for longer than gapMs', () => {
    const points = [pt(0, 3), pt(100, 3), pt(2000, 3), pt(2100, 3)];
    expect(labelSpans(points, { gapMs: 500 })).toEqual([
      { from: 0, to: 200, label: 3, uncertain: false },
      { from: 2000, to: 2200, label: 3, uncertain: false },
    ]);
  });

  it('marks points under the minimum confidence as uncertain and splits spans on it', () => {
    const points = [pt(0, 4, 0.8), pt(100, 4, 0.3), pt(200, 4, 0.3), pt(300, 4, 0.8)];
    expect(labelSpans(points, { gapMs: 500, minConfidence: 0.4 })).toEqual([
      { from: 0, to: 100, label: 4, uncertain: false },
      { from: 100, to: 300, label: 4, uncertain: true },
      { from: 300, to: 400, label: 4, uncertain: false },
    ]);
    // Without a minimum, one span.
    expect(labelSpans(points, { gapMs: 500 })).toHaveLength(1);
  });

  it('clips to [lo, hi] and drops what lies outside', () => {
    const points = [pt(0, 1), pt(100, 1), pt(200, 2), pt(300, 2), pt(400, 5)];
    expect(labelSpans(points, { gapMs: 500, lo: 150, hi: 350 })).toEqual([
      { from: 150, to: 200, label: 1, uncertain: false },
      { from: 200, to: 350, label: 2, uncertain: false },
    ]);
    expect(labelSpans(points, { gapMs: 500, lo: 1000 })).toEqual([]);
  });

  it('gives a lone point a visible width and returns nothing for no points', () => {
    expect(labelSpans([pt(1000, 6)], { gapMs: 400 })).toEqual([{ from: 1000, to: 1100, label: 6, uncertain: false }]);
    expect(labelSpans([], { gapMs: 400 })).toEqual([]);
  });

  it('shapes what a Timeline holds: one span per label run of a face and model', () => {
    const tl = new Timeline({ kind: 'live' });
    for (let t = 0; t < 3000; t += 100) tl.add(t, frame([1], t < 1500 ? 0.9 : 0.1, ['a']));
    const spans = labelSpans(tl.window(1, 'a', 2900, 30_000), { gapMs: 1000 });
    // probs [v, 1 - v, ...]: angry while v = 0.9, disgust after.
    expect(spans.map((s) => [s.label, s.from, s.to])).toEqual([
      [0, 0, 1500],
      [1, 1500, 3000],
    ]);
  });
});

describe('decimate (the chart draws at most one point per slice)', () => {
  const at = (t: number, v: number): TimelinePoint => ({ t, probs: [v, 1 - v, 0, 0, 0, 0, 0] });

  it('averages the points of each time slice: 30 s at 30 FPS become at most 146 points', () => {
    const points = Array.from({ length: 900 }, (_, i) => at(i * (1000 / 30), (i % 2) * 0.5));
    const out = decimate(points, 0, 30_000, 146);
    expect(out.length).toBeLessThanOrEqual(146);
    expect(out.length).toBeGreaterThan(140);
    // Alternating 0 and 0.5: every slice holds several of each, so means are near 0.25; rows still sum to 1.
    for (const p of out) {
      expect(p.probs[0]).toBeGreaterThan(0.15);
      expect(p.probs[0]).toBeLessThan(0.35);
      expect(p.probs[0]! + p.probs[1]!).toBeCloseTo(1, 6);
    }
    // Times stay sorted and inside the range.
    for (let i = 1; i < out.length; i++) expect(out[i]!.t).toBeGreaterThan(out[i - 1]!.t);
    expect(out[0]!.t).toBeGreaterThanOrEqual(0);
    expect(out.at(-1)!.t).toBeLessThanOrEqual(30_000);
  });

  it('gives exact slice means and leaves empty slices out', () => {
    // Slices of 100 ms over [0, 400): 0-99 holds two points, 100-199 none, 200-299 one, 300-399 one.
    const out = decimate([at(10, 0), at(50, 1), at(250, 0.5), at(310, 0.2), at(390, 0.4)], 0, 400, 4);
    expect(out.map((p) => p.t)).toEqual([30, 250, 350]);
    expect(out.map((p) => +p.probs[0]!.toFixed(6))).toEqual([0.5, 0.5, 0.3]);
  });

  it('returns the points in range unchanged when there are few, and drops those outside', () => {
    const points = [at(-5, 0.1), at(0, 0.2), at(10, 0.3), at(20, 0.4), at(25, 0.5)];
    expect(decimate(points, 0, 20, 146)).toEqual([points[1], points[2], points[3]]);
    expect(decimate([], 0, 20, 10)).toEqual([]);
  });
});
