/**
 * npm run predict on a video file (issue 15, point 5): a 2 s WebM recorded in Chromium from a canvas
 * showing a JAFFE photo (made here, never committed), sampled at 4 fps through the app's pipeline
 * in the batch page, with a JSON-lines timeline; and a corrupt video beside it, which gets a
 * per-file error. The timeline format and the summary's arithmetic: test/unit/train/predict-video.test.ts.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleTimes } from '../../src/core/batch-video.ts';
import { EMOTIONS } from '../../src/core/labels.ts';
import { findChromium } from '../../src/train/browser/browser.ts';
import type { TimelineRow, VideoSummary } from '../../src/train/predict/video.ts';
import { recordWebm } from '../helpers/record-webm.ts';
import { runPredict } from '../helpers/run-predict.ts';
import { JAFFE_DIR, missingShared, ROOT } from '../helpers/shared-data.ts';

const PHOTO = join(JAFFE_DIR, 'happy/YM.HA2.53.png');
const MEDIAPIPE_MODEL = resolve(ROOT, 'public/mediapipe/face_landmarker.task');
const missing = [
  missingShared(PHOTO),
  !findChromium() && 'Chromium (apt-get install chromium)',
  !existsSync(MEDIAPIPE_MODEL) && `${MEDIAPIPE_MODEL} (npm run setup-assets)`,
  !existsSync(resolve(ROOT, 'models/index.json')) && 'models/index.json (npm run train -- cnn)',
].filter(Boolean);
if (missing.length > 0) console.warn(`skipping npm run predict on a video: missing ${missing.join(', ')}`);

describe('npm run predict: video options (no browser)', () => {
  it('rejects a bad --fps and a --timeline that is neither .jsonl nor .csv, or cannot be written', async () => {
    const fps = await runPredict(['--fps', '0', 'x.webm']);
    expect(fps.status).toBe(2);
    expect(fps.stderr).toMatch(/--fps must be a number in \[0\.1, 60\], got "0"/);
    const ext = await runPredict(['--timeline', 'out.txt', 'x.webm']);
    expect(ext.status).toBe(2);
    expect(ext.stderr).toMatch(/--timeline must name a \.jsonl or \.csv file, got "out\.txt"/);
    const dir = await runPredict(['--timeline', '/nonexistent/out.csv', 'x.webm']);
    expect(dir.status).toBe(2);
    expect(dir.stderr).toMatch(/cannot write --timeline \/nonexistent\/out\.csv .*check the folder exists/);
    expect(dir.stdout).toBe('');
  }, 60_000);
});

describe.skipIf(missing.length > 0)('npm run predict on a video file', () => {
  let work: string;
  let clip: string;
  let broken: string;
  let run: { status: number | null; stdout: string; stderr: string };
  let rows: TimelineRow[];
  let videos: VideoSummary[];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'predict-video-'));
    clip = join(work, 'clip.webm');
    broken = join(work, 'broken.webm');
    await writeFile(clip, await recordWebm([{ photo: PHOTO, seconds: 2 }]));
    // A WebM header (EBML magic) followed by garbage.
    await writeFile(broken, Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3]), Buffer.alloc(4096, 0x5a)]));
    const timeline = join(work, 'out.jsonl');
    run = await runPredict([clip, broken, '--fps', '4', '--timeline', timeline, '--json']);
    videos = run.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as VideoSummary);
    rows = existsSync(timeline)
      ? (await readFile(timeline, 'utf8'))
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as TimelineRow)
      : [];
  }, 400_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('exits 1 (the corrupt one) with one summary per video, in input order, and reports progress', () => {
    expect(run.status, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/predict: 1 of the files given could not be read \(named above\); the others were predicted/);
    expect(videos.map((v) => v.file)).toEqual([clip, broken]);
    expect(run.stderr).toMatch(/clip\.webm: \d+\/\d+ frames \(100%\)/);
  });

  it('samples the video at 4 fps and finds the face in most frames', () => {
    const v = videos[0]!;
    expect(v.error, v.error).toBeUndefined();
    expect(v.video!.duration_s).toBeGreaterThan(1.5);
    expect(v.video!.duration_s).toBeLessThan(3);
    expect(v.video!.fps).toBe(4);
    expect(v.video!.frames).toBe(sampleTimes(v.video!.duration_s, 4).length);
    expect(v.video!.framesWithFace).toBeGreaterThanOrEqual(Math.ceil(0.75 * v.video!.frames));
    // Rows only at the sampled times, and at most of them.
    const times = [...new Set(rows.map((r) => r.t_s))].sort((a, b) => a - b);
    for (const t of times) expect(sampleTimes(v.video!.duration_s, 4)).toContain(t);
    expect(times.length).toBe(v.video!.framesWithFace);
  });

  it('writes one timeline row per frame, face and model, with valid labels and probabilities', () => {
    expect(rows.length).toBeGreaterThan(0);
    const models = [...new Set(rows.map((r) => r.model))];
    expect(models.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.video).toBe(clip);
      // One face, tracked through the whole clip: always face 1.
      expect(r.face).toBe(1);
      expect(EMOTIONS).toContain(r.label);
      expect(r.probs).toHaveLength(7);
      expect(r.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 2);
      expect(r.label).toBe(EMOTIONS[r.probs.indexOf(Math.max(...r.probs))]);
    }
    const frames = new Set(rows.map((r) => r.t_s)).size;
    for (const m of models) expect(rows.filter((r) => r.model === m)).toHaveLength(frames);
  });

  it('summarises the share of time per label per model, summing to 1, as in the timeline', () => {
    const summary = videos[0]!.summary!;
    expect(Object.keys(summary).sort()).toEqual([...new Set(rows.map((r) => r.model))].sort());
    for (const [model, shares] of Object.entries(summary)) {
      expect(Object.values(shares).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
      const own = rows.filter((r) => r.model === model);
      for (const [label, share] of Object.entries(shares)) {
        expect(EMOTIONS).toContain(label);
        expect(share).toBeCloseTo(own.filter((r) => r.label === label).length / own.length, 3);
      }
    }
  });

  it('gives a corrupt video a per-file error naming the file and the reason, and no rows', () => {
    const v = videos[1]!;
    expect(v.error).toMatch(/broken\.webm: could not be decoded as a video \(.+\)/);
    expect(v.video).toBeUndefined();
    expect(rows.filter((r) => r.video === broken)).toHaveLength(0);
  });
});
