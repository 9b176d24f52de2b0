import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, readFileSync, readdirSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HistoryPoint } from '../../../src/core/contracts/index.ts';
import { confusionSvg, curvesSvg, escapeXml } from '../../../src/train/report/svg.ts';
import { buildReport, writeReportFiles, type ModelReport } from '../../../src/train/report/report.ts';
import { writeFileAtomic, replaceDirAtomic } from '../../../src/train/util/atomic.ts';
import { EMOTIONS } from '../../../src/core/labels.ts';

/** Tiny well-formedness check: tags balance, attributes are quoted, no raw '&' or '<' in text. */
function checkXml(svg: string): void {
  expect(svg.trimStart().startsWith('<svg')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  const stack: string[] = [];
  const tagRe = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  let m: RegExpExecArray | null;
  let roots = 0;
  while ((m = tagRe.exec(svg))) {
    const between = svg.slice(last, m.index);
    expect(between, `stray markup before ${m[0]}`).not.toMatch(/[<>]/);
    expect(between).not.toMatch(/&(?!(amp|lt|gt|quot|apos|#\d+);)/);
    last = m.index + m[0].length;
    const [, close, name, , selfClose] = m;
    if (close) {
      expect(stack.pop(), `unbalanced </${name}>`).toBe(name);
    } else if (!selfClose) {
      if (stack.length === 0) roots++;
      stack.push(name!);
    } else if (stack.length === 0) roots++;
  }
  expect(svg.slice(last).trim()).toBe('');
  expect(stack).toEqual([]);
  expect(roots).toBe(1);
}

const cm7 = EMOTIONS.map((_, i) => EMOTIONS.map((_, j) => (i === j ? 100 + i * 11 : (i * 7 + j * 3) % 13)));
const history: HistoryPoint[] = Array.from({ length: 12 }, (_, i) => ({
  epoch: i + 1,
  loss: 1.8 / (1 + i * 0.3),
  acc: 0.3 + i * 0.03,
  valLoss: 1.7 / (1 + i * 0.2),
  valAcc: 0.28 + i * 0.025,
}));

describe('svg', () => {
  it('confusionSvg is well-formed and shows labels, counts and axis titles', () => {
    const svg = confusionSvg(cm7, EMOTIONS, 'Test <model> & "friends"');
    checkXml(svg);
    for (const l of EMOTIONS) expect(svg).toContain(`>${l}</text>`);
    for (const row of cm7) for (const v of row) expect(svg).toContain(`>${v}</text>`);
    expect(svg).toContain('>true</text>');
    expect(svg).toContain('>predicted</text>');
    expect(svg).toContain('Test &lt;model&gt; &amp; &quot;friends&quot;');
    expect(svg).not.toContain('<model>');
  });

  it('confusionSvg colours by row fraction and handles empty rows', () => {
    const svg = confusionSvg(
      [
        [5, 5],
        [0, 0],
      ],
      ['x&y', 'z'],
      't',
    );
    checkXml(svg);
    expect(svg).toContain('x&amp;y');
    expect(svg).toContain('>50%</text>');
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('curvesSvg has two panels with train/val lines, ticks and legend', () => {
    const svg = curvesSvg(history, 'curves & stuff');
    checkXml(svg);
    expect(svg).toContain('>loss</text>');
    expect(svg).toContain('>accuracy</text>');
    expect(svg).toContain('>epoch</text>');
    expect(svg.match(/<polyline /g)).toHaveLength(4);
    expect(svg.match(/>train<\/text>/g)).toHaveLength(2);
    expect(svg.match(/>val<\/text>/g)).toHaveLength(2);
    expect(svg).toContain('>12</text>'); // last epoch tick
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('curvesSvg copes with 0, 1 and flat/NaN histories', () => {
    checkXml(curvesSvg([], 'empty'));
    const one = curvesSvg([{ epoch: 1, loss: 1, acc: 0.5, valLoss: 1, valAcc: 0.5 }], 'one');
    checkXml(one);
    expect(one).not.toMatch(/NaN|Infinity/);
    const nan = curvesSvg([...history, { epoch: 13, loss: NaN, acc: 0.7, valLoss: Infinity, valAcc: 0.6 }], 'nan');
    checkXml(nan);
    expect(nan).not.toMatch(/NaN|Infinity/);
  });

  it('escapeXml escapes the five specials', () => {
    expect(escapeXml(`<a href="x">&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;');
  });
});

describe('report', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'report-test-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const base = {
    id: 'cnn-small',
    name: 'Small CNN',
    kind: 'cnn',
    arch: 'conv32-conv64-dense128',
    datasetPath: '/data/fer2013.csv.gz',
    splits: { train: 28709, val: 3589, test: 3589 },
  };

  it('buildReport computes metrics from predictions', () => {
    const yTrue = [0, 0, 3, 3, 3, 6];
    const yPred = [0, 2, 3, 3, 6, 6];
    const rep = buildReport({
      ...base,
      yTrue,
      yPred,
      history,
      bestEpoch: 9,
      backend: 'cpu',
      params: 1234,
      tta: false,
      createdAt: '2024-01-02T03:04:05.000Z',
    });
    expect(rep.accuracy).toBeCloseTo(4 / 6, 12);
    expect(rep.confusionMatrix[0]![2]).toBe(1);
    expect(rep.confusionMatrix[3]![6]).toBe(1);
    expect(rep.labels).toEqual([...EMOTIONS]);
    expect(rep.perClass.map((p) => p.label)).toEqual([...EMOTIONS]);
    expect(rep.dataset).toEqual({ name: 'FER2013', path: '/data/fer2013.csv.gz', splits: base.splits, evaluatedOn: 'PrivateTest' });
    expect(rep.epochs).toBe(12);
    expect(rep.bestEpoch).toBe(9);
    expect(rep.tta).toBe(false);
    expect(rep.createdAt).toBe('2024-01-02T03:04:05.000Z');
    expect('notes' in rep).toBe(false);
    expect(() => buildReport(base)).toThrow(/confusionMatrix or yTrue/);
  });

  it('writeReportFiles writes readable report.json and SVGs, replacing old ones without temp leftovers', async () => {
    const out = join(dir, 'models', 'cnn-small');
    const rep: ModelReport = buildReport({ ...base, confusionMatrix: cm7, history, wallTimeSec: 12.5, imagesPerSec: 2000, notes: 'n' });
    const paths = await writeReportFiles(out, rep, history);
    expect(readdirSync(out).sort()).toEqual(['confusion.svg', 'curves.svg', 'report.json']);
    const back = JSON.parse(readFileSync(paths.json, 'utf8')) as ModelReport;
    expect(back).toEqual(rep);
    expect(readFileSync(paths.json, 'utf8')).toContain('\n  "id": "cnn-small"');
    checkXml(readFileSync(paths.confusion, 'utf8'));
    checkXml(readFileSync(paths.curves, 'utf8'));

    const rep2 = { ...rep, name: 'Second' };
    await writeReportFiles(out, rep2);
    expect(readdirSync(out).sort()).toEqual(['confusion.svg', 'curves.svg', 'report.json']);
    expect((JSON.parse(readFileSync(paths.json, 'utf8')) as ModelReport).name).toBe('Second');
  });
});

describe('atomic', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'atomic-test-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writeFileAtomic replaces content and leaves no temp files', async () => {
    const p = join(dir, 'f.txt');
    writeFileSync(p, 'old');
    await writeFileAtomic(p, 'new');
    expect(readFileSync(p, 'utf8')).toBe('new');
    await writeFileAtomic(p, new Uint8Array([65, 66]));
    expect(readFileSync(p, 'utf8')).toBe('AB');
    expect(readdirSync(dir)).toEqual(['f.txt']);
    await expect(writeFileAtomic(join(dir, 'missing-dir', 'x'), 'x')).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['f.txt']);
  });

  it('replaceDirAtomic swaps in the new dir, or keeps the old one when filling fails', async () => {
    const root = join(dir, 'r');
    mkdirSync(root);
    const final = join(root, 'model');
    await replaceDirAtomic(final, async (tmp) => {
      expect(existsSync(final)).toBe(false);
      writeFileSync(join(tmp, 'a'), '1');
    });
    expect(readFileSync(join(final, 'a'), 'utf8')).toBe('1');

    await replaceDirAtomic(final, async (tmp) => {
      // The old dir stays intact while the new one is being filled.
      expect(readFileSync(join(final, 'a'), 'utf8')).toBe('1');
      writeFileSync(join(tmp, 'b'), '2');
    });
    expect(readdirSync(final)).toEqual(['b']);

    await expect(
      replaceDirAtomic(final, async (tmp) => {
        writeFileSync(join(tmp, 'c'), 'partial');
        throw new Error('interrupted');
      }),
    ).rejects.toThrow('interrupted');
    expect(readdirSync(final)).toEqual(['b']);
    expect(readdirSync(root)).toEqual(['model']); // no temp or backup dirs left
  });
});
