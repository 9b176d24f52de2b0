import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFer2013 } from '../../../src/train/extract/sources.ts';
import { IMAGE_PIXELS } from '../../../src/core/labels.ts';

// The FER2013 extraction takes ~14 minutes: its cache must survive a copy or a re-laid file
// (new path or modification time, same rows) and must not survive a changed row.
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'extract-key-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function csv(rows: { label: number; seed: number; usage: string }[]): string {
  const lines = rows.map(
    ({ label, seed, usage }) => `${label},${Array.from({ length: IMAGE_PIXELS }, (_, i) => (seed * 31 + i * 7) % 256).join(' ')},${usage}`,
  );
  return ['emotion,pixels,Usage', ...lines].join('\n') + '\n';
}
const ROWS = [
  { label: 0, seed: 1, usage: 'Training' },
  { label: 3, seed: 2, usage: 'PublicTest' },
  { label: 6, seed: 3, usage: 'PrivateTest' },
];

describe('FER2013 extraction cache key', () => {
  it('is the same for a copy elsewhere, a newer modification time and the gzip of the same rows', async () => {
    const a = join(dir, 'a.csv');
    writeFileSync(a, csv(ROWS));
    const b = join(dir, 'copy.csv');
    copyFileSync(a, b);
    utimesSync(b, new Date(2030, 0, 1), new Date(2030, 0, 1));
    const gz = join(dir, 'a.csv.gz');
    writeFileSync(gz, gzipSync(readFileSync(a)));
    const keys = await Promise.all([a, b, gz].map(async (p) => (await openFer2013(p)).key));
    expect(new Set(keys).size).toBe(1);
  });

  it('changes when a pixel or a label changes', async () => {
    const base = join(dir, 'base.csv');
    writeFileSync(base, csv(ROWS));
    const pixel = join(dir, 'pixel.csv');
    writeFileSync(pixel, csv([{ ...ROWS[0]!, seed: 9 }, ROWS[1]!, ROWS[2]!]));
    const label = join(dir, 'label.csv');
    writeFileSync(label, csv([{ ...ROWS[0]!, label: 1 }, ROWS[1]!, ROWS[2]!]));
    const [k0, k1, k2] = await Promise.all([base, pixel, label].map(async (p) => (await openFer2013(p)).key));
    expect(k1).not.toBe(k0);
    expect(k2).not.toBe(k0);
  });
});
