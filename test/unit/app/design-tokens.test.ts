/**
 * The design tokens in src/app/app.css: both themes define the same tokens, the two dark blocks
 * (forced and system) are identical, every text colour meets WCAG AA (4.5:1) on the backgrounds it
 * is used on and control borders and the focus ring 3:1 (WCAG 1.4.11); components colour with
 * tokens only (no colour literals in their style blocks).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../helpers/shared-data.ts';

const CSS = readFileSync(join(ROOT, 'src/app/app.css'), 'utf8');

/** The custom properties of the first rule whose selector is exactly `selector`. */
function tokens(selector: string): Record<string, string> {
  const start = CSS.indexOf(`${selector} {`);
  if (start < 0) throw new Error(`src/app/app.css has no "${selector} {" rule`);
  const body = CSS.slice(start, CSS.indexOf('}', start));
  return Object.fromEntries([...body.matchAll(/(--[\w-]+):\s*([^;]+);/g)].map((m) => [m[1]!, m[2]!.trim()]));
}

function luminance(hex: string): number {
  const m = /^#([0-9a-f]{6})$/i.exec(hex);
  if (!m) throw new Error(`not a #rrggbb colour: ${hex}`);
  const [r, g, b] = [0, 2, 4].map((i) => {
    const c = parseInt(m[1]!.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

const light = tokens(':root');
const dark = tokens(":root[data-theme='dark']");
const systemDark = tokens(":root:not([data-theme='light'])");

// [foreground, background, minimum ratio]: text 4.5 (AA), UI boundaries and focus 3.
const PAIRS: [string, string, number][] = [
  ...['--bg', '--surface', '--surface-2', '--accent-soft'].map((bg) => ['--fg', bg, 4.5] as [string, string, number]),
  ...['--bg', '--surface', '--surface-2'].map((bg) => ['--muted', bg, 4.5] as [string, string, number]),
  ['--link', '--bg', 4.5],
  ['--link', '--surface', 4.5],
  ['--accent-fg', '--accent', 4.5],
  ['--error', '--bg', 4.5],
  ['--error', '--surface', 4.5],
  ['--success', '--surface', 4.5],
  ['--danger', '--surface', 4.5],
  ['--on-stage', '--stage', 4.5],
  ['--border-strong', '--surface', 3],
  ['--border-strong', '--bg', 3],
  ['--focus', '--bg', 3],
  ['--focus', '--surface', 3],
  ['--accent', '--surface', 3],
];

describe('design tokens (src/app/app.css)', () => {
  it('the dark theme defines every colour the light one does, and its two blocks are the same', () => {
    const colours = (t: Record<string, string>) => Object.keys(t).filter((k) => t[k]!.startsWith('#') || t[k]!.startsWith('0 1px'));
    for (const k of colours(light).filter((k) => !['--stage', '--on-stage', '--on-video'].includes(k)))
      expect(dark[k], `${k} in the dark theme`).toBeDefined();
    expect(systemDark).toEqual(dark);
    // Spacing, radius and font-size scales exist.
    for (const k of ['--space-1', '--space-4', '--radius', '--radius-sm', '--fs-xs', '--fs-sm', '--fs-md', '--fs-lg', '--fs-xl'])
      expect(light[k], k).toBeDefined();
  });

  for (const [name, theme] of [
    ['light', light],
    ['dark', { ...light, ...dark }],
  ] as const) {
    it(`${name}: text and controls have enough contrast`, () => {
      const failures = PAIRS.flatMap(([fg, bg, min]) => {
        const ratio = contrast(theme[fg]!, theme[bg]!);
        return ratio >= min ? [] : [`${fg} on ${bg}: ${ratio.toFixed(2)} < ${min}`];
      });
      expect(failures).toEqual([]);
    });
  }

  it('the check can fail: a too-light grey on white is caught', () => {
    expect(contrast('#999999', '#ffffff')).toBeLessThan(4.5);
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
  });

  it('components colour with tokens only (no colour literals in their style blocks)', () => {
    const dir = join(ROOT, 'src/app/components');
    const files = readdirSync(dir, { encoding: 'utf8' }).filter((f) => f.endsWith('.svelte'));
    expect(files.length).toBeGreaterThan(5);
    const literals = files.flatMap((f) => {
      const text = readFileSync(join(dir, f), 'utf8');
      const style = /<style>([\s\S]*?)<\/style>/.exec(text)?.[1] ?? '';
      return [...style.matchAll(/#[0-9a-f]{3,8}\b|\brgba?\(|\bhsla?\(/gi)].map((m) => `${f}: ${m[0]}`);
    });
    expect(literals).toEqual([]);
  });
});
