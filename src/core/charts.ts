/**
 * Dependency-free SVG charts for training reports, shared by the files the training commands write
 * (curves.svg, confusion.svg: src/train/report/svg.ts) and the app's Reports view, which inserts
 * the same strings into the page. Pure: strings in, a well-formed SVG document string out (no DOM).
 *
 * Colours and fonts are presentation attributes only (fill, stroke, font-size...), never a style
 * attribute: the app's Content-Security-Policy (style-src 'self') blocks inline styles.
 */
import type { HistoryPoint } from './contracts/report.ts';

/** Escape text for use in XML text content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;'));
}

/**
 * Colours of everything that is not data. `ink` is the text and axis colour; in the app it is
 * 'currentColor' so a chart follows the light or dark theme, in a file a fixed dark grey.
 */
export interface ChartPalette {
  /** Fill of the whole chart, or null for none (transparent). */
  background: string | null;
  ink: string;
  /** Fill of the plot area, or null for none. */
  plot: string | null;
  fontFamily: string;
}

/** For standalone .svg files: white page, dark ink. */
export const FILE_PALETTE: ChartPalette = {
  background: '#ffffff',
  ink: '#222222',
  plot: '#fafafa',
  fontFamily: 'system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif',
};

/** For SVG inside a page: transparent, text and axes in the page's text colour and font. */
export const PAGE_PALETTE: ChartPalette = { background: null, ink: 'currentColor', plot: null, fontFamily: 'inherit' };

export interface ChartOptions {
  /** Accessible name (<title>) and, unless showTitle is false, the heading drawn on top. */
  title: string;
  showTitle?: boolean;
  palette?: ChartPalette;
}

/** Round for compact coordinates. */
const r = (v: number): string => (Math.round(v * 100) / 100).toString();

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${r(x)}" y="${r(y)}"${attrs ? ` ${attrs}` : ''}>${escapeXml(s)}</text>`;
}

/** The <svg> tag, title, background and heading every chart starts with. */
function svgOpening(width: number, height: number, o: Required<ChartOptions>): string[] {
  const p = o.palette;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(o.title)}" font-family="${escapeXml(p.fontFamily)}" font-size="12" fill="${p.ink}">`,
    `<title>${escapeXml(o.title)}</title>`,
    ...(p.background ? [`<rect x="0" y="0" width="${width}" height="${height}" fill="${p.background}"/>`] : []),
    ...(o.showTitle ? [text(width / 2, 24, o.title, 'text-anchor="middle" font-size="16" font-weight="bold"')] : []),
  ];
}

const withDefaults = (o: ChartOptions): Required<ChartOptions> => ({ showTitle: true, palette: FILE_PALETTE, ...o });

/** White -> blue colour ramp for a fraction in [0, 1]. */
function heatColor(f: number): string {
  const t = Math.max(0, Math.min(1, Number.isFinite(f) ? f : 0));
  const lerp = (a: number, b: number): number => Math.round(a + (b - a) * t);
  return `rgb(${lerp(247, 8)},${lerp(251, 48)},${lerp(255, 107)})`;
}

/**
 * Confusion-matrix heatmap: rows = true class, columns = predicted class. Cells (class="cell") are
 * coloured by the row-normalised fraction (recall-style) and show the raw count and the percentage.
 */
export function confusionChart(cm: number[][], labels: readonly string[], options: ChartOptions & { cell?: number }): string {
  const o = withDefaults(options);
  const ink = o.palette.ink;
  const k = cm.length;
  const cell = options.cell ?? 64;
  const labelW = 92;
  const top = o.showTitle ? 70 : 46;
  const left = 40 + labelW;
  const gridW = cell * k;
  const legendW = 90;
  const width = left + gridW + 30 + legendW;
  const height = top + gridW + 50;
  const out: string[] = [];
  out.push(...svgOpening(width, height, o));

  // Axis titles.
  out.push(text(left + gridW / 2, top - 30, 'predicted', 'text-anchor="middle" font-size="13" font-style="italic"'));
  const ty = top + gridW / 2;
  out.push(text(16, ty, 'true', `text-anchor="middle" font-size="13" font-style="italic" transform="rotate(-90 16 ${r(ty)})"`));

  // Column labels (predicted) on top, row labels (true) on the left.
  for (let j = 0; j < k; j++) {
    out.push(
      text(left + j * cell + cell / 2, top - 8, labels[j] ?? String(j), `text-anchor="middle"${cell < 60 ? ' font-size="10"' : ''}`),
    );
  }
  for (let i = 0; i < k; i++) {
    out.push(text(left - 8, top + i * cell + cell / 2 + 4, labels[i] ?? String(i), 'text-anchor="end"'));
  }

  for (let i = 0; i < k; i++) {
    const row = cm[i]!;
    const rowSum = row.reduce((a, b) => a + b, 0);
    for (let j = 0; j < k; j++) {
      const v = row[j] ?? 0;
      const f = rowSum > 0 ? v / rowSum : 0;
      const x = left + j * cell;
      const y = top + i * cell;
      // Cell text sits on the cell's own colour, so it is fixed, not the ink.
      const fg = f > 0.5 ? '#ffffff' : '#111111';
      const big = Math.round(cell * 0.22);
      out.push(`<g>`);
      out.push(
        `<rect class="cell" x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${heatColor(f)}" stroke="${i === j ? '#333333' : '#dddddd'}" stroke-width="${i === j ? 1.5 : 1}"/>`,
      );
      out.push(text(x + cell / 2, y + cell / 2 - 1, String(v), `text-anchor="middle" font-size="${big}" fill="${fg}"`));
      out.push(
        text(
          x + cell / 2,
          y + cell / 2 + big,
          `${(100 * f).toFixed(0)}%`,
          `text-anchor="middle" font-size="${Math.max(9, big - 4)}" fill="${fg}"`,
        ),
      );
      out.push(`</g>`);
    }
  }

  // Legend: vertical colour bar 0..100% of row.
  const lx = left + gridW + 30;
  const steps = 10;
  const barH = gridW;
  out.push(text(lx, top - 8, 'share of row', 'font-size="11"'));
  for (let s = 0; s < steps; s++) {
    const f = 1 - (s + 0.5) / steps;
    out.push(`<rect x="${lx}" y="${r(top + (s * barH) / steps)}" width="18" height="${r(barH / steps + 0.5)}" fill="${heatColor(f)}"/>`);
  }
  out.push(`<rect x="${lx}" y="${top}" width="18" height="${barH}" fill="none" stroke="${ink}" stroke-opacity="0.5"/>`);
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    out.push(text(lx + 24, top + (1 - f) * barH + 4, `${Math.round(f * 100)}%`, 'font-size="10"'));
  }

  let total = 0;
  let correct = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      total += cm[i]![j] ?? 0;
      if (i === j) correct += cm[i]![j] ?? 0;
    }
  }
  const acc = total > 0 ? ((100 * correct) / total).toFixed(2) : '0.00';
  out.push(
    text(
      left + gridW / 2,
      top + gridW + 30,
      `rows: true class, columns: predicted class; ${total} samples, accuracy ${acc}%`,
      'text-anchor="middle" font-size="11" fill-opacity="0.8"',
    ),
  );
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** "Nice" tick values (steps of 1, 2 or 5 x 10^n) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!(hi > lo)) {
    const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= d;
    hi += d;
  }
  const raw = (hi - lo) / target;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const norm = raw / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

export function fmtTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 1) return Number(v.toFixed(2)).toString();
  return Number(v.toPrecision(3)).toString();
}

export interface Series {
  name: string;
  color: string;
  dash?: string;
  /** [x, y]; points with a non-finite coordinate are left out. */
  points: [number, number][];
}

export interface PanelSpec {
  /** The plot box (axes, ticks and labels are drawn around it). */
  x: number;
  y: number;
  width: number;
  height: number;
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  xDomain: [number, number];
  /** Limits the y range to at most this interval (e.g. [0, 1] for accuracy). */
  yClamp?: [number, number];
  /** A fixed y range (e.g. [0, 100] for percentages), whatever the data. */
  yDomain?: [number, number];
  /** Only whole-number x ticks (epochs). */
  integerX?: boolean;
  palette?: ChartPalette;
  /** Draw the legend above the box (default true); a small chart with a legend of its own turns it off. */
  legend?: boolean;
  /** Dots on the points of short series (default true). */
  dots?: boolean;
  /** A vertical cursor line (data-cursor) at this x, e.g. a video's current time. */
  cursorX?: number;
  /** Name each polyline with data-series (for the app's tests and automation). */
  tagSeries?: boolean;
}

/**
 * One line chart: the plot box (<rect data-plot>), y ticks with grid lines and labels
 * (data-tick="y"), x ticks (data-tick="x"), axis labels, the series as polylines and a legend
 * above the box.
 */
export function linePanel(spec: PanelSpec): string {
  const { x: x0, y: y0, width: w, height: h, series } = spec;
  const ink = (spec.palette ?? FILE_PALETTE).ink;
  const plot = (spec.palette ?? FILE_PALETTE).plot;
  const out: string[] = [];
  const ys = series.flatMap((s) => s.points.filter((p) => Number.isFinite(p[0])).map((p) => p[1])).filter((v) => Number.isFinite(v));
  let yLo = ys.length ? Math.min(...ys) : 0;
  let yHi = ys.length ? Math.max(...ys) : 1;
  if (spec.yClamp) {
    yLo = Math.max(spec.yClamp[0], Math.min(yLo, spec.yClamp[1]));
    yHi = Math.min(spec.yClamp[1], Math.max(yHi, spec.yClamp[0]));
  }
  if (spec.yDomain) [yLo, yHi] = spec.yDomain;
  const yt = niceTicks(yLo, yHi);
  const ylo = Math.min(yt[0]!, yLo);
  const yhi = Math.max(yt[yt.length - 1]!, yHi);
  let [xlo, xhi] = spec.xDomain;
  if (!(xhi > xlo)) {
    xlo -= 1;
    xhi += 1;
  }
  const xt = niceTicks(xlo, xhi, spec.integerX ? Math.min(8, Math.max(2, Math.round(xhi - xlo))) : 6).filter(
    (v) => (!spec.integerX || Number.isInteger(v)) && v >= xlo && v <= xhi,
  );
  const px = (v: number): number => x0 + ((v - xlo) / (xhi - xlo)) * w;
  const py = (v: number): number => y0 + h - ((v - ylo) / (yhi - ylo || 1)) * h;

  out.push(`<g data-panel="${escapeXml(spec.title)}">`);
  out.push(text(x0, y0 - 12, spec.title, 'font-size="14" font-weight="bold"'));
  out.push(
    `<rect data-plot="" x="${x0}" y="${y0}" width="${w}" height="${h}" fill="${plot ?? 'none'}" stroke="${ink}" stroke-opacity="0.45"/>`,
  );
  for (const v of yt) {
    if (v < ylo - 1e-12 || v > yhi + 1e-12) continue;
    const y = py(v);
    out.push(`<line x1="${x0}" y1="${r(y)}" x2="${x0 + w}" y2="${r(y)}" stroke="${ink}" stroke-opacity="0.12"/>`);
    out.push(`<line data-tick="y" x1="${x0 - 4}" y1="${r(y)}" x2="${x0}" y2="${r(y)}" stroke="${ink}" stroke-opacity="0.7"/>`);
    out.push(text(x0 - 7, y + 4, fmtTick(v), 'text-anchor="end" font-size="10"'));
  }
  for (const v of xt) {
    const x = px(v);
    out.push(`<line data-tick="x" x1="${r(x)}" y1="${y0 + h}" x2="${r(x)}" y2="${y0 + h + 4}" stroke="${ink}" stroke-opacity="0.7"/>`);
    out.push(text(x, y0 + h + 16, fmtTick(v), 'text-anchor="middle" font-size="10"'));
  }
  out.push(text(x0 + w / 2, y0 + h + 34, spec.xLabel, 'text-anchor="middle" font-size="11"'));
  const yx = x0 - 44;
  const yy = y0 + h / 2;
  out.push(text(yx, yy, spec.yLabel, `text-anchor="middle" font-size="11" transform="rotate(-90 ${r(yx)} ${r(yy)})"`));

  const clampY = (v: number): number => Math.max(ylo, Math.min(yhi, v));
  for (const s of series) {
    const pts = s.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
    if (pts.length === 0) continue;
    const d = pts.map((p) => `${r(px(p[0]))},${r(py(clampY(p[1])))}`).join(' ');
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    const tag = spec.tagSeries ? ` data-series="${escapeXml(s.name)}"` : '';
    out.push(`<polyline${tag} points="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    if (spec.dots !== false && pts.length <= 60) {
      for (const p of pts) out.push(`<circle cx="${r(px(p[0]))}" cy="${r(py(clampY(p[1])))}" r="2.5" fill="${s.color}"/>`);
    }
  }

  if (spec.cursorX !== undefined && Number.isFinite(spec.cursorX)) {
    const cx = r(px(Math.max(xlo, Math.min(xhi, spec.cursorX))));
    out.push(`<line data-cursor="" x1="${cx}" y1="${y0}" x2="${cx}" y2="${y0 + h}" stroke="${ink}" stroke-width="1.5"/>`);
  }

  // Legend above the box, right-aligned, so it never hides a line.
  let lx = x0 + w;
  for (const s of spec.legend === false ? [] : [...series].reverse()) {
    lx -= 34 + 7 * s.name.length;
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    out.push(`<line x1="${r(lx)}" y1="${y0 - 16}" x2="${r(lx + 20)}" y2="${y0 - 16}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    out.push(text(lx + 25, y0 - 12, s.name, 'font-size="11"'));
  }
  out.push(`</g>`);
  return out.join('\n');
}

/** Colours of the train and validation lines (readable on white and on a dark page). */
export const TRAIN_COLOR = '#1f77b4';
export const VAL_COLOR = '#d62728';

export type CurvePanel = 'loss' | 'accuracy';

/**
 * Loss and accuracy per epoch side by side (or only the panels asked for), each with train and
 * validation lines, ticks on both axes (epochs on x) and axis labels.
 */
export function curvesChart(
  history: readonly HistoryPoint[],
  options: ChartOptions & { panelWidth?: number; panelHeight?: number; panels?: readonly CurvePanel[] },
): string {
  const o = withDefaults(options);
  const panels = options.panels ?? ['loss', 'accuracy'];
  const pw = options.panelWidth ?? 380;
  const ph = options.panelHeight ?? 240;
  const left = 70;
  const gap = 90;
  const top = o.showTitle ? 70 : 30;
  const width = left + pw * panels.length + gap * (panels.length - 1) + 30;
  const height = top + ph + 50;
  const epochs = history.map((h) => h.epoch).filter((e) => Number.isFinite(e));
  const xDomain: [number, number] = epochs.length ? [Math.min(...epochs), Math.max(...epochs)] : [0, 1];
  const pts = (f: (h: HistoryPoint) => number): [number, number][] => history.map((h) => [h.epoch, f(h)]);
  const out: string[] = [];
  out.push(...svgOpening(width, height, o));
  if (history.length === 0) {
    out.push(text(width / 2, height / 2, 'no training history', 'text-anchor="middle" fill-opacity="0.6"'));
  } else {
    panels.forEach((name, i) => {
      const loss = name === 'loss';
      out.push(
        linePanel({
          x: left + i * (pw + gap),
          y: top,
          width: pw,
          height: ph,
          title: name,
          xLabel: 'epoch',
          yLabel: name,
          series: [
            { name: 'train', color: TRAIN_COLOR, points: pts((h) => (loss ? h.loss : h.acc)) },
            { name: 'val', color: VAL_COLOR, dash: '5 3', points: pts((h) => (loss ? h.valLoss : h.valAcc)) },
          ],
          xDomain,
          integerX: true,
          palette: o.palette,
          ...(loss ? {} : { yClamp: [0, 1] as [number, number] }),
        }),
      );
    });
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
