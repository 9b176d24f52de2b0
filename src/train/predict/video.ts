/**
 * Every model on every face of video files, through the app's pipeline in headless Chromium (the
 * batch page): frames sampled at `fps` by seeking an HTMLVideoElement, the detect stage in video
 * mode, faces tracked and probabilities smoothed on video time as in the live view. Gives a
 * timeline (one row per sampled frame, face and model) and a summary per video: the share of
 * sampled face-frames per label per model. Used by `npm run predict`.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import type { BatchNeutral } from '../../core/batch.ts';
import { sampleTimes } from '../../core/batch-video.ts';
import type { ModelEntry } from '../../core/contracts/index.ts';
import type { ExpressiveCapture } from '../../core/neutral-baseline.ts';
import { EMOTIONS } from '../../core/labels.ts';
import type { BatchPages } from '../browser/batch-page.ts';
import { IMAGE_EXTENSIONS } from '../extract/sources.ts';
import { checkFile, formatBytes, MAX_IMAGE_BYTES, scanFiles, type SkippedPath } from '../data/file-scan.ts';
import { learnNeutral, movedModels, neutralReferences, type PersonFace } from './neutral.ts';
import { modelPrediction, openModelPages, type ModelPagesOptions } from './predict.ts';

/** What Chromium may play (H.264/AAC in .mp4/.mov only where the build has the codecs). */
export const VIDEO_EXTENSIONS = new Set(['.mp4', '.webm', '.mov', '.m4v', '.mkv', '.ogv']);
/** The page holds the whole file in memory (a blob, so it can seek freely). */
export const MAX_VIDEO_BYTES = 1024 * 2 ** 20;
/** The live view's default smoothing time constant (LiveView.svelte), in ms of video time. */
export const VIDEO_SMOOTHING_MS = 250;
/** Frames per page call: small enough for steady progress, large enough to keep calls cheap. */
const FRAMES_PER_CALL = 8;

export const isVideoFile = (name: string): boolean => VIDEO_EXTENSIONS.has(extname(name).toLowerCase());
const isImageFile = (name: string): boolean => IMAGE_EXTENSIONS.has(extname(name).toLowerCase());

/**
 * Like collectImageFiles, for images and videos: folders are listed recursively (both kinds,
 * sorted); explicit files are kept as given, a video when its extension says so. Videos may be
 * up to MAX_VIDEO_BYTES, images up to MAX_IMAGE_BYTES.
 */
export async function collectPredictFiles(
  paths: string[],
): Promise<{ images: string[]; videos: string[]; missing: string[]; skipped: SkippedPath[] }> {
  const images: string[] = [];
  const videos: string[] = [];
  const missing: string[] = [];
  const skipped: SkippedPath[] = [];
  const sort = (path: string): void => void (isVideoFile(path) ? videos : images).push(path);
  for (const p of paths) {
    const info = await stat(p).catch(() => undefined);
    if (!info) missing.push(p);
    else if (info.isDirectory()) {
      const scan = await scanFiles(p, { include: (name) => isImageFile(name) || isVideoFile(name), maxBytes: MAX_VIDEO_BYTES });
      for (const f of scan.files) {
        // One listing with the video limit; images over theirs are named, never read.
        const checked = isVideoFile(f.path) ? ({ file: f } as const) : await checkFile(f.path);
        if ('file' in checked) sort(f.path);
        else skipped.push(checked.skipped);
      }
      skipped.push(...scan.skipped.map((s) => (isVideoFile(s.path) ? videoReason(s) : imageReason(s))));
    } else {
      const checked = isVideoFile(p) ? await checkFile(p, MAX_VIDEO_BYTES) : await checkFile(p);
      if ('file' in checked) sort(p);
      else skipped.push(isVideoFile(p) ? videoReason(checked.skipped) : checked.skipped);
    }
  }
  return { images, videos, missing, skipped };
}

/** The folder is listed with the video limit: an image over it is named with the image limit. */
function imageReason(s: SkippedPath): SkippedPath {
  return {
    path: s.path,
    reason: s.reason.replace(`over the ${formatBytes(MAX_VIDEO_BYTES)} limit`, `over the ${formatBytes(MAX_IMAGE_BYTES)} limit`),
  };
}

/** file-scan words its size limit for images. */
function videoReason(s: SkippedPath): SkippedPath {
  return { path: s.path, reason: s.reason.replace('limit for an image file', 'limit for a video file') };
}

export interface TimelineRow {
  video: string;
  t_s: number;
  face: number;
  model: string;
  label: string;
  probs: number[];
}

export interface VideoSummary {
  file: string;
  video?: {
    duration_s: number;
    width: number;
    height: number;
    fps: number;
    /** Frames sampled. */
    frames: number;
    /** Sampled frames with at least one face. */
    framesWithFace: number;
    /** Sampled frames that gave no result (seek or detector failure). */
    framesFailed: number;
  };
  /** Per model id, per label: share of the sampled face-frames (sums to 1 per model). */
  summary?: Record<string, Record<string, number>>;
  /** With `autoNeutral`: the neutral face this video was read against, learnt from its own frames. */
  neutral?: VideoNeutral;
  error?: string;
}

/** A neutral face learnt from a video's own frames, as the live view's Auto learns it from the camera's. */
export interface VideoNeutral {
  /** Sampled frames with exactly one face: those it was picked from. */
  frames: number;
  /** Times (s) of the frames taken as the relaxed face, most relaxed first. */
  used: number[];
  /** Models read against it, in manifest order (none: the video was read as it is). */
  moved: string[];
  /** Even the most relaxed frames read as a smile or surprise: the person never relaxed in this video. */
  expressive?: ExpressiveCapture;
}

export interface VideoOptions extends ModelPagesOptions {
  /** Frames sampled per second of video. */
  fps: number;
  /** Called with each row of the timeline, in time order per video. */
  onRow?: (row: TimelineRow) => void;
  /**
   * Each video is first read once to learn the person's neutral face from its own most relaxed
   * frames (src/core/auto-neutral.ts), then read against it: the models run, with their neutral
   * references. For videos of one person at a time; frames with several faces are not picked from.
   */
  autoNeutral?: readonly ModelEntry[];
  /** Called after each chunk of frames: frames done of the video's total (`stage` 'neutral': the first read of autoNeutral). */
  onProgress?: (file: string, done: number, total: number, stage?: 'neutral') => void;
  /** Called with each video's summary as soon as it is done, in input order. */
  onVideo?: (summary: VideoSummary) => void;
}

/** Share of rows per label per model; labels with no row are left out; shares sum to 1 per model. */
export function summarize(rows: Pick<TimelineRow, 'model' | 'label'>[]): Record<string, Record<string, number>> {
  const counts = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const m = counts.get(r.model) ?? new Map<string, number>();
    m.set(r.label, (m.get(r.label) ?? 0) + 1);
    counts.set(r.model, m);
  }
  const out: Record<string, Record<string, number>> = {};
  for (const [model, labels] of counts) {
    const total = [...labels.values()].reduce((a, b) => a + b, 0);
    out[model] = Object.fromEntries(
      EMOTIONS.filter((e) => labels.has(e)).map((e) => [e, Math.round((labels.get(e)! / total) * 1e4) / 1e4] as const),
    );
  }
  return out;
}

/** Runs every video in turn on one batch page (frames of a video must go in order for tracking). */
export async function predictVideos(files: string[], options: VideoOptions): Promise<VideoSummary[]> {
  if (files.length === 0) return [];
  const pages = await openModelPages(options, 1);
  const results: VideoSummary[] = [];
  try {
    for (const file of files) {
      const summary = await predictOne(pages, file, options);
      results.push(summary);
      options.onVideo?.(summary);
    }
  } finally {
    await pages.close();
  }
  return results;
}

/** No neutral face: what the first read of autoNeutral opens a video with, whatever the page was given. */
const UNMOVED: BatchNeutral = { offsets: {}, featureShifts: {} };

/**
 * The video read once, unsmoothed and unmoved, keeping the frames with exactly one face; the most
 * relaxed share of them make the neutral face (undefined when the video cannot be opened: the
 * read that follows reports why).
 */
async function learnVideoNeutral(
  pages: BatchPages,
  file: string,
  options: VideoOptions,
  run: readonly ModelEntry[],
): Promise<{ neutral: VideoNeutral; moves: BatchNeutral } | undefined> {
  const opened = await pages.openVideo(0, file, 0, { neutral: UNMOVED, withFeatures: true });
  if (opened.status !== 'ok') return undefined;
  const times = sampleTimes(opened.duration, options.fps);
  const faces: PersonFace[] = [];
  const at: number[] = [];
  try {
    for (let i = 0; i < times.length; i += FRAMES_PER_CALL) {
      for (const frame of await pages.videoFrames(0, times.slice(i, i + FRAMES_PER_CALL))) {
        const face = frame.faces.length === 1 ? frame.faces[0]! : undefined;
        if (!face) continue;
        faces.push({ readings: face.predictions, ...(face.features ? { features: face.features } : {}) });
        at.push(frame.t);
      }
      options.onProgress?.(file, Math.min(i + FRAMES_PER_CALL, times.length), times.length, 'neutral');
    }
  } finally {
    await pages.closeVideo(0);
  }
  const learnt = learnNeutral(faces, neutralReferences(run), 'auto');
  return {
    neutral: {
      frames: faces.length,
      used: learnt.used.map((i) => at[i]!),
      moved: movedModels(run, learnt.moves),
      ...(learnt.expressive ? { expressive: learnt.expressive } : {}),
    },
    moves: learnt.moves,
  };
}

async function predictOne(pages: BatchPages, file: string, options: VideoOptions): Promise<VideoSummary> {
  const learnt = options.autoNeutral ? await learnVideoNeutral(pages, file, options, options.autoNeutral) : undefined;
  const opened = await pages.openVideo(0, file, VIDEO_SMOOTHING_MS, learnt ? { neutral: learnt.moves } : {});
  if (opened.status !== 'ok') return { file, error: opened.error ?? `${file} could not be read as a video` };
  const times = sampleTimes(opened.duration, options.fps);
  const rows: TimelineRow[] = [];
  let withFace = 0;
  let failed = 0;
  const errors: string[] = [];
  try {
    for (let i = 0; i < times.length; i += FRAMES_PER_CALL) {
      for (const frame of await pages.videoFrames(0, times.slice(i, i + FRAMES_PER_CALL))) {
        if (frame.error) {
          failed++;
          if (errors.length < 3) errors.push(`${frame.t} s: ${frame.error}`);
        }
        if (frame.faces.length > 0) withFace++;
        for (const face of frame.faces)
          for (const [model, probs] of Object.entries(face.predictions)) {
            const row = { video: file, t_s: frame.t, face: face.face, model, ...modelPrediction(probs) };
            rows.push(row);
            options.onRow?.(row);
          }
      }
      options.onProgress?.(file, Math.min(i + FRAMES_PER_CALL, times.length), times.length);
    }
  } finally {
    await pages.closeVideo(0);
  }
  return {
    file,
    video: {
      duration_s: Math.round(opened.duration * 1000) / 1000,
      width: opened.width,
      height: opened.height,
      fps: options.fps,
      frames: times.length,
      framesWithFace: withFace,
      framesFailed: failed,
    },
    summary: summarize(rows),
    ...(learnt ? { neutral: learnt.neutral } : {}),
    ...(failed === times.length ? { error: `${file}: no frame could be processed (${errors.join('; ')})` } : {}),
  };
}

const CSV_HEADER = ['video', 't_s', 'face', 'model', 'label', ...EMOTIONS].join(',');

/** A CSV field, quoted when it holds a comma, a quote or a line break. */
export function csvField(value: string | number): string {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Writes timeline rows to FILE.jsonl (one JSON object a line) or FILE.csv (header, EMOTIONS columns). */
export class TimelineWriter {
  private constructor(
    private readonly out: WriteStream,
    private readonly csv: boolean,
  ) {}

  /** The format from the extension; undefined (caller: usage error) for any other. */
  static formatOf(path: string): 'csv' | 'jsonl' | undefined {
    const ext = extname(path).toLowerCase();
    return ext === '.csv' ? 'csv' : ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : undefined;
  }

  static async open(path: string): Promise<TimelineWriter> {
    const out = createWriteStream(path);
    await new Promise<void>((done, fail) => {
      out.once('open', () => done());
      out.once('error', fail);
    });
    const writer = new TimelineWriter(out, TimelineWriter.formatOf(path) === 'csv');
    if (writer.csv) out.write(`${CSV_HEADER}\n`);
    return writer;
  }

  write(row: TimelineRow): void {
    this.out.write(
      this.csv
        ? `${[row.video, row.t_s, row.face, row.model, row.label, ...row.probs].map(csvField).join(',')}\n`
        : `${JSON.stringify(row)}\n`,
    );
  }

  close(): Promise<void> {
    return new Promise((done, fail) => this.out.end((error?: Error | null) => (error ? fail(error) : done())));
  }
}
