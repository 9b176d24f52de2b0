/** The shared SVG chart builders (src/core/charts.ts): axes with ticks and labels, values inside the plot box. */
import { describe, expect, it } from 'vitest';
import { confusionChart, curvesChart, FILE_PALETTE, linePanel, niceTicks, PAGE_PALETTE } from '../../../src/core/charts.ts';

const attr = (tag: string, name: string): number => Number(new RegExp(`\\s${name}="([^"]*)"`).exec(tag)![1]);
const tags = (svg: string, re: RegExp): string[] => svg.match(re) ?? [];
const texts = (svg: string): string[] => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);

const history = Array.from({ length: 12 }, (_, i) => ({
  epoch: i + 1,
  loss: 1.8 - i * 0.1,
  acc: 0.3 + i * 0.03,
  valLoss: 1.9 - i * 0.08,
  valAcc: 0.28 + i * 0.025,
}));

describe('niceTicks', () => {
  it('covers the range in steps of 1, 2 or 5 x 10^n', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(1, 12, 8)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(niceTicks(1, 40, 8)).toEqual([5, 10, 15, 20, 25, 30, 35, 40]);
    expect(niceTicks(0.3, 0.3).length).toBeGreaterThan(1); // a flat series still gets an axis
  });
});

describe('linePanel', () => {
  const box = { x: 100, y: 50, width: 200, height: 100 };
  const panel = linePanel({
    ...box,
    title: 'accuracy',
    xLabel: 'epoch',
    yLabel: 'accuracy',
    series: [
      {
        name: 'train',
        color: '#123456',
        points: [
          [1, 0.2],
          [5, 0.6],
          [9, 0.4],
        ],
      },
    ],
    xDomain: [1, 9],
    integerX: true,
  });

  it('draws ticks on both axes with their labels and the axis labels', () => {
    const xTicks = tags(panel, /<line data-tick="x"[^>]*>/g);
    const yTicks = tags(panel, /<line data-tick="y"[^>]*>/g);
    expect(xTicks.length).toBeGreaterThanOrEqual(3);
    expect(yTicks.length).toBeGreaterThanOrEqual(3);
    const t = texts(panel);
    expect(t).toEqual(expect.arrayContaining(['epoch', 'accuracy', '1', '9', '0.2', '0.6']));
    // Epoch ticks are whole numbers, in order, along the bottom edge of the box.
    const xs = xTicks.map((l) => attr(l, 'x1'));
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    for (const l of xTicks) expect(attr(l, 'y1')).toBe(box.y + box.height);
    for (const l of yTicks) expect(attr(l, 'x2')).toBe(box.x);
  });

  it('maps the values into the plot box: first epoch at the left edge, last at the right, higher values higher up', () => {
    const plot = tags(panel, /<rect data-plot[^>]*>/g)[0]!;
    expect([attr(plot, 'x'), attr(plot, 'y'), attr(plot, 'width'), attr(plot, 'height')]).toEqual([100, 50, 200, 100]);
    const points = /<polyline points="([^"]*)"/
      .exec(panel)![1]!
      .split(' ')
      .map((p) => p.split(',').map(Number) as [number, number]);
    expect(points).toHaveLength(3);
    for (const [x, y] of points) {
      expect(x).toBeGreaterThanOrEqual(box.x);
      expect(x).toBeLessThanOrEqual(box.x + box.width);
      expect(y).toBeGreaterThanOrEqual(box.y);
      expect(y).toBeLessThanOrEqual(box.y + box.height);
    }
    expect(points[0]![0]).toBe(box.x);
    expect(points[2]![0]).toBe(box.x + box.width);
    expect(points[1]![0]).toBe(box.x + box.width / 2);
    expect(points[1]![1]).toBeLessThan(points[2]![1]); // 0.6 above 0.4
    expect(points[2]![1]).toBeLessThan(points[0]![1]); // 0.4 above 0.2
  });

  it('a y tick label sits at the height its value maps to', () => {
    // The tick at 0.6 and the polyline point of value 0.6 share their y.
    const tick = tags(panel, /<line data-tick="y"[^>]*>/g).find((l) => {
      const y = attr(l, 'y1');
      return panel.includes(`y="${Math.round((y + 4) * 100) / 100}" text-anchor="end" font-size="10">0.6<`);
    });
    expect(tick).toBeDefined();
    const point = /<polyline points="([^"]*)"/.exec(panel)![1]!.split(' ')[1]!.split(',').map(Number);
    expect(attr(tick!, 'y1')).toBeCloseTo(point[1]!, 1);
  });
});

describe('curvesChart', () => {
  it('has loss and accuracy panels, each with epoch ticks 1..12 and value ticks', () => {
    const svg = curvesChart(history, { title: 'Training curves' });
    expect(tags(svg, /<g data-panel="[^"]*"/g)).toEqual(['<g data-panel="loss"', '<g data-panel="accuracy"']);
    expect(tags(svg, /<polyline /g)).toHaveLength(4);
    expect(texts(svg).filter((t) => t === 'epoch')).toHaveLength(2);
    expect(texts(svg)).toEqual(expect.arrayContaining(['12', '0.6', '1.8']));
    expect(tags(svg, /data-tick="x"/g).length).toBeGreaterThanOrEqual(8);
    expect(tags(svg, /data-tick="y"/g).length).toBeGreaterThanOrEqual(6);
  });

  it('draws only the panels asked for, one panel wide', () => {
    const both = curvesChart(history, { title: 't' });
    const acc = curvesChart(history, { title: 't', panels: ['accuracy'] });
    expect(tags(acc, /<g data-panel="[^"]*"/g)).toEqual(['<g data-panel="accuracy"']);
    expect(tags(acc, /<polyline /g)).toHaveLength(2);
    expect(attr(acc.split('\n')[0]!, 'width')).toBeLessThan(attr(both.split('\n')[0]!, 'width') / 1.5);
  });

  it('the page palette draws in the text colour, without a background or any style attribute', () => {
    const page = curvesChart(history, { title: 'Training curves', showTitle: false, palette: PAGE_PALETTE });
    expect(page).toContain('fill="currentColor"');
    expect(page).not.toContain('#ffffff');
    expect(page).not.toMatch(/\sstyle=/);
    expect(page).toContain('aria-label="Training curves"');
    expect(texts(page)).not.toContain('Training curves'); // no drawn heading
    const file = curvesChart(history, { title: 'Training curves', palette: FILE_PALETTE });
    expect(file).toContain('fill="#ffffff"');
    expect(texts(file)).toContain('Training curves');
  });
});

describe('confusionChart', () => {
  it('has one cell per class pair, labelled axes, and no style attribute', () => {
    const cm = [
      [5, 1, 0],
      [2, 3, 1],
      [0, 0, 4],
    ];
    const svg = confusionChart(cm, ['a', 'b', 'c'], { title: 'cm', palette: PAGE_PALETTE, cell: 40 });
    expect(tags(svg, /<rect class="cell"/g)).toHaveLength(9);
    expect(texts(svg)).toEqual(expect.arrayContaining(['predicted', 'true', 'a', 'b', 'c', '83%']));
    expect(svg).not.toMatch(/\sstyle=/);
  });
});
