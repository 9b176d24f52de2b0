/**
 * Dependency-free SVG charts for training reports: a confusion-matrix heatmap and
 * loss/accuracy curves. Output is a standalone, well-formed SVG document string.
 */
import type { HistoryPoint } from '../../core/contracts/index.ts';

/** Escape text for use in XML text content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;'));
}

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

/** Round for compact coordinates. */
const r = (v: number): string => (Math.round(v * 100) / 100).toString();

/** The <svg> tag, title, white background and heading every chart starts with. */
function svgOpening(width: number, height: number, title: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    text(width / 2, 24, title, 'text-anchor="middle" font-size="16" font-weight="bold"'),
  ];
}

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${r(x)}" y="${r(y)}" ${attrs}>${escapeXml(s)}</text>`;
}

/** White -> blue colour ramp for a fraction in [0, 1]. */
function heatColor(f: number): string {
  const t = Math.max(0, Math.min(1, Number.isFinite(f) ? f : 0));
  const lerp = (a: number, b: number): number => Math.round(a + (b - a) * t);
  return `rgb(${lerp(247, 8)},${lerp(251, 48)},${lerp(255, 107)})`;
}

/**
 * Confusion-matrix heatmap: rows = true class, columns = predicted class. Cells are coloured by
 * the row-normalised fraction (recall-style) and show the raw count and the percentage.
 */
export function confusionSvg(cm: number[][], labels: readonly string[], title: string): string {
  const k = cm.length;
  const cell = 64;
  const labelW = 92;
  const top = 70;
  const left = 40 + labelW;
  const gridW = cell * k;
  const legendW = 90;
  const width = left + gridW + 30 + legendW;
  const height = top + gridW + 80;
  const out: string[] = [];
  out.push(...svgOpening(width, height, title));

  // Axis titles.
  out.push(text(left + gridW / 2, top - 30, 'predicted', 'text-anchor="middle" font-size="13" font-style="italic"'));
  const ty = top + gridW / 2;
  out.push(text(16, ty, 'true', `text-anchor="middle" font-size="13" font-style="italic" transform="rotate(-90 16 ${r(ty)})"`));

  // Column labels (predicted) on top, row labels (true) on the left.
  for (let j = 0; j < k; j++) {
    out.push(text(left + j * cell + cell / 2, top - 8, labels[j] ?? String(j), 'text-anchor="middle"'));
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
      const fg = f > 0.5 ? '#ffffff' : '#111111';
      out.push(`<g>`);
      out.push(
        `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${heatColor(f)}" stroke="${i === j ? '#333333' : '#dddddd'}" stroke-width="${i === j ? 1.5 : 1}"/>`,
      );
      out.push(text(x + cell / 2, y + cell / 2 - 1, String(v), `text-anchor="middle" font-size="14" fill="${fg}"`));
      out.push(text(x + cell / 2, y + cell / 2 + 15, `${(100 * f).toFixed(0)}%`, `text-anchor="middle" font-size="10" fill="${fg}"`));
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
  out.push(`<rect x="${lx}" y="${top}" width="18" height="${barH}" fill="none" stroke="#999999"/>`);
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
      'text-anchor="middle" font-size="11" fill="#444444"',
    ),
  );
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** "Nice" tick values covering [lo, hi]. */
function niceTicks(lo: number, hi: number, target = 5): number[] {
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

function fmtTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 1) return Number(v.toFixed(2)).toString();
  return Number(v.toPrecision(3)).toString();
}

interface Series {
  name: string;
  color: string;
  dash?: string;
  points: [number, number][];
}

function panel(
  x0: number,
  y0: number,
  w: number,
  h: number,
  title: string,
  yLabel: string,
  series: Series[],
  xDomain: [number, number],
  yClamp?: [number, number],
): string {
  const out: string[] = [];
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => Number.isFinite(v));
  let yLo = ys.length ? Math.min(...ys) : 0;
  let yHi = ys.length ? Math.max(...ys) : 1;
  if (yClamp) {
    yLo = Math.max(yClamp[0], yLo);
    yHi = Math.min(yClamp[1], yHi);
  }
  const yt = niceTicks(yLo, yHi);
  const ylo = Math.min(yt[0]!, yLo);
  const yhi = Math.max(yt[yt.length - 1]!, yHi);
  let [xlo, xhi] = xDomain;
  if (!(xhi > xlo)) {
    xlo -= 1;
    xhi += 1;
  }
  const xt = niceTicks(xlo, xhi, Math.min(8, Math.max(2, Math.round(xhi - xlo)))).filter(
    (v) => Number.isInteger(v) && v >= xlo && v <= xhi,
  );
  const px = (v: number): number => x0 + ((v - xlo) / (xhi - xlo)) * w;
  const py = (v: number): number => y0 + h - ((v - ylo) / (yhi - ylo || 1)) * h;

  out.push(`<g>`);
  out.push(text(x0 + w / 2, y0 - 12, title, 'text-anchor="middle" font-size="14" font-weight="bold"'));
  out.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="#fafafa" stroke="#999999"/>`);
  for (const v of yt) {
    if (v < ylo - 1e-12 || v > yhi + 1e-12) continue;
    const y = py(v);
    out.push(`<line x1="${x0}" y1="${r(y)}" x2="${x0 + w}" y2="${r(y)}" stroke="#e4e4e4"/>`);
    out.push(`<line x1="${x0 - 4}" y1="${r(y)}" x2="${x0}" y2="${r(y)}" stroke="#666666"/>`);
    out.push(text(x0 - 7, y + 4, fmtTick(v), 'text-anchor="end" font-size="10"'));
  }
  for (const v of xt) {
    const x = px(v);
    out.push(`<line x1="${r(x)}" y1="${y0 + h}" x2="${r(x)}" y2="${y0 + h + 4}" stroke="#666666"/>`);
    out.push(text(x, y0 + h + 16, fmtTick(v), 'text-anchor="middle" font-size="10"'));
  }
  out.push(text(x0 + w / 2, y0 + h + 34, 'epoch', 'text-anchor="middle" font-size="11"'));
  const yx = x0 - 44;
  const yy = y0 + h / 2;
  out.push(text(yx, yy, yLabel, `text-anchor="middle" font-size="11" transform="rotate(-90 ${r(yx)} ${r(yy)})"`));

  for (const s of series) {
    const pts = s.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
    if (pts.length === 0) continue;
    const clampY = (v: number): number => Math.max(ylo, Math.min(yhi, v));
    const d = pts.map((p) => `${r(px(p[0]))},${r(py(clampY(p[1])))}`).join(' ');
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    out.push(`<polyline points="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    if (pts.length <= 60) {
      for (const p of pts) {
        out.push(`<circle cx="${r(px(p[0]))}" cy="${r(py(clampY(p[1])))}" r="2.5" fill="${s.color}"/>`);
      }
    }
  }

  // Legend (top-right inside the panel).
  const lw = 74;
  const lx = x0 + w - lw - 8;
  const ly = y0 + 8;
  out.push(
    `<rect x="${lx}" y="${ly}" width="${lw}" height="${series.length * 16 + 8}" fill="#ffffff" fill-opacity="0.85" stroke="#cccccc"/>`,
  );
  series.forEach((s, i) => {
    const yy2 = ly + 14 + i * 16;
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    out.push(`<line x1="${lx + 6}" y1="${yy2 - 4}" x2="${lx + 26}" y2="${yy2 - 4}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    out.push(text(lx + 31, yy2, s.name, 'font-size="11"'));
  });
  out.push(`</g>`);
  return out.join('\n');
}

/** Two panels, loss and accuracy per epoch, each with train and validation lines. */
export function curvesSvg(history: readonly HistoryPoint[], title: string): string {
  const pw = 380;
  const ph = 240;
  const left = 70;
  const gap = 90;
  const top = 70;
  const width = left + pw * 2 + gap + 30;
  const height = top + ph + 60;
  const epochs = history.map((h) => h.epoch);
  const xDomain: [number, number] = epochs.length ? [Math.min(...epochs), Math.max(...epochs)] : [0, 1];
  const pts = (f: (h: HistoryPoint) => number): [number, number][] => history.map((h) => [h.epoch, f(h)]);
  const out: string[] = [];
  out.push(...svgOpening(width, height, title));
  if (history.length === 0) {
    out.push(text(width / 2, height / 2, 'no training history', 'text-anchor="middle" fill="#888888"'));
  } else {
    const train = '#1f77b4';
    const val = '#d62728';
    out.push(
      panel(
        left,
        top,
        pw,
        ph,
        'loss',
        'loss',
        [
          { name: 'train', color: train, points: pts((h) => h.loss) },
          { name: 'val', color: val, dash: '5 3', points: pts((h) => h.valLoss) },
        ],
        xDomain,
      ),
    );
    out.push(
      panel(
        left + pw + gap,
        top,
        pw,
        ph,
        'accuracy',
        'accuracy',
        [
          { name: 'train', color: train, points: pts((h) => h.acc) },
          { name: 'val', color: val, dash: '5 3', points: pts((h) => h.valAcc) },
        ],
        xDomain,
        [0, 1],
      ),
    );
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
