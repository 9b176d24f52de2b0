/** npm run predict on videos, the parts without a browser: sample times, the summary, the timeline files. */
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sampleTimes } from '../../../src/core/batch-video.ts';
import { EMOTIONS } from '../../../src/core/labels.ts';
import {
  collectPredictFiles,
  csvField,
  isVideoFile,
  summarize,
  TimelineWriter,
  type TimelineRow,
} from '../../../src/train/predict/video.ts';

describe('video sampling and summary', () => {
  it('samples k / fps strictly before the end, at least one frame', () => {
    expect(sampleTimes(2, 4)).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75]);
    expect(sampleTimes(2.1, 2)).toEqual([0, 0.5, 1, 1.5, 2]);
    expect(sampleTimes(0.01, 5)).toEqual([0]);
    expect(sampleTimes(1, 3)).toEqual([0, 0.333333, 0.666667]);
    expect(() => sampleTimes(1, 0)).toThrow(/fps must be positive/);
  });

  it('gives each model the share of its rows per label, summing to 1', () => {
    const rows = [
      { model: 'a', label: 'happy' },
      { model: 'a', label: 'happy' },
      { model: 'a', label: 'happy' },
      { model: 'a', label: 'sad' },
      { model: 'b', label: 'neutral' },
    ];
    const s = summarize(rows);
    expect(s).toEqual({ a: { happy: 0.75, sad: 0.25 }, b: { neutral: 1 } });
    // Labels in EMOTIONS order, whatever order they came in.
    expect(
      Object.keys(
        summarize([
          { model: 'x', label: 'sad' },
          { model: 'x', label: 'angry' },
        ]).x!,
      ),
    ).toEqual(['angry', 'sad']);
    expect(summarize([])).toEqual({});
  });

  it('knows video files by extension', () => {
    expect(['a.mp4', 'B.WEBM', 'c.mov'].every(isVideoFile)).toBe(true);
    expect(isVideoFile('d.png')).toBe(false);
  });
});

describe('timeline files', () => {
  const row = (model: string): TimelineRow => ({
    video: 'clips/a,"b".webm',
    t_s: 0.25,
    face: 1,
    model,
    label: 'happy',
    probs: [0, 0, 0, 0.9, 0.1, 0, 0],
  });

  it('picks the format from the extension', () => {
    expect(TimelineWriter.formatOf('out.jsonl')).toBe('jsonl');
    expect(TimelineWriter.formatOf('OUT.CSV')).toBe('csv');
    expect(TimelineWriter.formatOf('out.json')).toBeUndefined();
  });

  it('writes JSON lines and CSV that read back to the same rows (quoted fields escaped)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'timeline-'));
    try {
      for (const ext of ['jsonl', 'csv']) {
        const w = await TimelineWriter.open(join(dir, `t.${ext}`));
        w.write(row('fer-cnn'));
        w.write(row('svm, "au"'));
        await w.close();
      }
      const lines = (await readFile(join(dir, 't.jsonl'), 'utf8')).trim().split('\n');
      expect(lines.map((l) => JSON.parse(l) as TimelineRow)).toEqual([row('fer-cnn'), row('svm, "au"')]);
      const csv = (await readFile(join(dir, 't.csv'), 'utf8')).trim().split('\n');
      expect(csv[0]).toBe(['video', 't_s', 'face', 'model', 'label', ...EMOTIONS].join(','));
      expect(csv[1]).toBe('"clips/a,""b"".webm",0.25,1,fer-cnn,happy,0,0,0,0.9,0.1,0,0');
      expect(csv[2]).toBe('"clips/a,""b"".webm",0.25,1,"svm, ""au""",happy,0,0,0,0.9,0.1,0,0');
      expect(csvField('plain')).toBe('plain');
      expect(csvField('a\nb')).toBe('"a\nb"');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('collectPredictFiles', () => {
  it('sorts images from videos, with each kind its own size limit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'predict-files-'));
    try {
      await mkdir(join(dir, 'sub'));
      for (const f of ['a.png', 'sub/b.webm', 'c.MP4', 'notes.txt']) await writeFile(join(dir, f), 'x');
      // Sparse: over the image limit but under the video one, and over the video limit.
      await writeFile(join(dir, 'big.png'), '');
      await truncate(join(dir, 'big.png'), 300 * 2 ** 20);
      await writeFile(join(dir, 'mid.webm'), '');
      await truncate(join(dir, 'mid.webm'), 300 * 2 ** 20);
      await writeFile(join(dir, 'huge.mov'), '');
      await truncate(join(dir, 'huge.mov'), 2 * 2 ** 30);
      const r = await collectPredictFiles([dir, join(dir, 'huge.mov'), join(dir, 'nope.mp4')]);
      expect(r.images).toEqual([join(dir, 'a.png')]);
      expect(r.videos).toEqual([join(dir, 'c.MP4'), join(dir, 'mid.webm'), join(dir, 'sub/b.webm')]);
      expect(r.missing).toEqual([join(dir, 'nope.mp4')]);
      const reasons = r.skipped.map((s) => [s.path, s.reason]);
      expect(reasons).toContainEqual([join(dir, 'big.png'), expect.stringMatching(/over the 256 MiB limit for an image file/)]);
      expect(reasons.filter(([p]) => p === join(dir, 'huge.mov'))).toEqual([
        [join(dir, 'huge.mov'), expect.stringMatching(/2\.0 GiB, over the 1\.0 GiB limit for a video file/)],
        [join(dir, 'huge.mov'), expect.stringMatching(/2\.0 GiB, over the 1\.0 GiB limit for a video file/)],
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
