/**
 * The headless batch page (batch.html): the app's own face pipeline (MediaPipe landmarks ->
 * src/core framing -> crop -> src/core features -> models) on still images sent by a Node job
 * over playwright-core. See src/core/batch.ts for the contract.
 *
 * Images over the detector's size cap are decoded scaled down (src/app/live/image-cap.ts); boxes
 * are given in the image's own pixels. An image that cannot be decoded, or on which the face
 * detector fails (it is then restarted for the next one), is reported with status 'not-image' and
 * the reason, never with faces.
 *
 * Videos (src/core/batch-video.ts): fetched whole into a blob URL, sampled by seeking an
 * HTMLVideoElement, each frame through the same detect stage in video mode; face identity and
 * smoothing run on video time here, so they do not depend on how fast the machine is.
 */
// First: nothing leaves the browser (MediaPipe's usage logger included).
import '../egress-guard.ts';
import {
  BATCH_GLOBAL,
  base64ToBytes,
  bytesToBase64,
  float32ToBase64,
  type BatchApi,
  type BatchFace,
  type BatchImageResult,
  type BatchInitOptions,
  type BatchInitResult,
  type BatchNeutral,
  type EncodedImage,
  type GrayBatchRequest,
} from '../../core/batch.ts';
import {
  BATCH_VIDEO_GLOBAL,
  type BatchVideoApi,
  type VideoFace,
  type VideoFrame,
  type VideoOpenRequest,
  type VideoOpenResult,
} from '../../core/batch-video.ts';
import { IMAGE_SIZE } from '../../core/labels.ts';
import { ProbabilitySmoother } from '../../core/smoothing.ts';
import { FaceTracker } from '../../core/tracking.ts';
import { loadEngine, type Engine } from '../live/engine.ts';
import { decodeCapped } from '../live/image-cap.ts';
import { DetectorError } from '../live/landmarker.ts';
import type { FrameSource } from '../live/pipeline.ts';

let engine: Engine | undefined;
/** The neutral face given at init: a video opened with its own uses that until it is closed. */
let pageNeutral: BatchNeutral | undefined;

const moves = (record: Record<string, number[]> | undefined) =>
  record && Object.keys(record).length > 0 ? new Map(Object.entries(record)) : undefined;

function applyNeutral(neutral: BatchNeutral | undefined): void {
  if (!engine) return;
  engine.pipeline.neutral = moves(neutral?.offsets);
  engine.pipeline.neutralFeatures = moves(neutral?.featureShifts);
}

async function init(options: BatchInitOptions): Promise<BatchInitResult> {
  engine?.close();
  engine = undefined;
  const result: BatchInitResult = { models: [] };
  const statuses = new Map<string, string>();
  let wanted: { id: string; name: string; kind: string }[] = [];
  // The live pipeline's own detect stage, keeping what extraction needs: a 48 px crop, the
  // features and the raw mesh of every face.
  engine = await loadEngine(
    {
      where: 'page',
      ...(options.backend ? { backend: options.backend } : {}),
      maxFaces: options.numFaces,
      models: options.models ? (options.modelIds ?? 'all') : 'none',
      requireManifest: true,
      settings: { smoothing: false, smoothingMs: 0 },
      output: { features: 'always', raw: true, cropSizes: [IMAGE_SIZE] },
    },
    {
      manifest: (_state, entries) => (wanted = entries),
      backend: (choice) => (result.backend = choice.active),
      status: (id, status) =>
        statuses.set(
          id,
          status.state === 'ready' || status.state === 'loading'
            ? status.state
            : `${status.state}: ${'reason' in status ? status.reason : status.message}`,
        ),
    },
  );
  result.models = wanted.map((m) => ({ id: m.id, name: m.name, kind: m.kind, status: statuses.get(m.id) ?? 'unknown' }));
  pageNeutral = options.neutral;
  applyNeutral(pageNeutral);
  return result;
}

function toBytes(gray: Float32Array): Uint8Array {
  const out = new Uint8Array(gray.length);
  for (let i = 0; i < gray.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, gray[i]!)) * 255);
  return out;
}

/** Landmarks -> framed crop, features and (optionally) every model's prediction, largest face first. */
async function facesOf(
  source: FrameSource,
  width: number,
  height: number,
): Promise<{ faces: BatchFace[]; modelMs?: Record<string, number> }> {
  if (!engine) throw new Error('call init() first');
  const pipeline = engine.pipeline;
  // Each image on its own: no tracks or smoothing carried over from the previous one.
  pipeline.reset();
  const frame = await pipeline.process(source, 'image', width, height);
  const faces = frame.faces.map((face) => {
    const raw = face.raw!;
    const crop = face.crop!.pixels;
    const predictions = Object.fromEntries(face.readings.map((r) => [r.modelId, r.probs]));
    const out: BatchFace & { area: number } = {
      area: face.box.width * face.box.height,
      box: [face.box.x, face.box.y, face.box.width, face.box.height],
      crop: bytesToBase64(toBytes(crop)),
      landmarks: float32ToBase64(raw.landmarks.flatMap((p) => [p.x, p.y, p.z])),
      blendshapes: float32ToBase64(raw.blendshapes.map((c) => c.score)),
      blendshapeNames: raw.blendshapes.map((c) => c.categoryName),
      transform: raw.matrix ? float32ToBase64(raw.matrix) : null,
      features: float32ToBase64(face.features!),
      ...(engine!.inference ? { predictions } : {}),
    };
    return out;
  });
  faces.sort((a, b) => b.area - a.area);
  const modelMs = engine.inference && faces.length > 0 ? frame.times.models : undefined;
  return { faces: faces.map(({ area: _a, ...face }) => face), ...(modelMs ? { modelMs } : {}) };
}

async function processGray(request: GrayBatchRequest): Promise<BatchImageResult[]> {
  const { count, size, upscale, pad } = request;
  const pixels = base64ToBytes(request.pixels);
  if (pixels.length !== count * size * size) throw new Error(`expected ${count * size * size} bytes, got ${pixels.length}`);
  const big = size * upscale;
  const border = Math.round(big * pad);
  const side = big + 2 * border;
  const small = new OffscreenCanvas(size, size);
  const canvas = new OffscreenCanvas(side, side);
  const sctx = small.getContext('2d')!;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const image = sctx.createImageData(size, size);
  const out: BatchImageResult[] = [];
  for (let n = 0; n < count; n++) {
    const start = performance.now();
    for (let i = 0; i < size * size; i++) {
      const v = pixels[n * size * size + i]!;
      image.data[i * 4] = image.data[i * 4 + 1] = image.data[i * 4 + 2] = v;
      image.data[i * 4 + 3] = 255;
    }
    sctx.putImageData(image, 0, 0);
    ctx.fillStyle = 'rgb(128,128,128)';
    ctx.fillRect(0, 0, side, side);
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(small, border, border, big, big);
    try {
      const found = await facesOf(canvas, side, side);
      out.push({ status: 'ok', width: side, height: side, ...found, ms: performance.now() - start });
    } catch (error) {
      if (!(error instanceof DetectorError)) throw error;
      out.push({
        status: 'not-image',
        width: side,
        height: side,
        faces: [],
        error: `image ${n} of the batch: ${error.message}`,
        ms: performance.now() - start,
      });
    }
  }
  return out;
}

async function processEncoded(images: EncodedImage[]): Promise<BatchImageResult[]> {
  const out: BatchImageResult[] = [];
  for (const { name, data } of images) {
    const start = performance.now();
    let decoded: Awaited<ReturnType<typeof decodeCapped>>;
    try {
      decoded = await decodeCapped(new Blob([base64ToBytes(data) as BlobPart]));
    } catch (error) {
      out.push({
        status: 'not-image',
        width: 0,
        height: 0,
        faces: [],
        error: `${name} could not be decoded as an image (${(error as Error).message})`,
        ms: performance.now() - start,
      });
      continue;
    }
    const { bitmap, width, height } = decoded;
    try {
      const found = await facesOf(bitmap, bitmap.width, bitmap.height);
      // Boxes in the image's own pixels, whatever size the detector read.
      const sx = width / bitmap.width;
      const sy = height / bitmap.height;
      for (const face of found.faces) face.box = [face.box[0] * sx, face.box[1] * sy, face.box[2] * sx, face.box[3] * sy];
      out.push({ status: 'ok', width, height, ...found, ms: performance.now() - start });
    } catch (error) {
      if (!(error instanceof DetectorError)) throw error;
      out.push({ status: 'not-image', width, height, faces: [], error: `${name}: ${error.message}`, ms: performance.now() - start });
    } finally {
      bitmap.close();
    }
  }
  return out;
}

/** Waits for `ok` (or fails on `error` / after `ms`) on a media element. */
function mediaEvent(video: HTMLVideoElement, ok: string, ms: number, what: string): Promise<void> {
  return new Promise((done, fail) => {
    const timer = setTimeout(() => finish(new Error(`no ${ok} event within ${ms / 1000} s while ${what}`)), ms);
    const onOk = (): void => finish();
    const onError = (): void => finish(new Error(mediaError(video)));
    function finish(error?: Error): void {
      clearTimeout(timer);
      video.removeEventListener(ok, onOk);
      video.removeEventListener('error', onError);
      if (error) fail(error);
      else done();
    }
    video.addEventListener(ok, onOk);
    video.addEventListener('error', onError);
  });
}

function mediaError(video: HTMLVideoElement): string {
  const e = video.error;
  if (!e) return 'unknown media error';
  const kinds: Record<number, string> = {
    1: 'aborted',
    2: 'network error',
    3: 'the data is corrupt or uses features Chromium cannot decode',
    4: 'not a supported video format or codec',
  };
  return `${kinds[e.code] ?? `media error ${e.code}`}${e.message ? `: ${e.message}` : ''}`;
}

/** The open video: its element, and tracking and smoothing on video time (not wall time, unlike live). */
let video:
  | {
      element: HTMLVideoElement;
      url: string;
      tracker: FaceTracker;
      smoother: ProbabilitySmoother;
      faceNumbers: Map<number, number>;
      withFeatures: boolean;
    }
  | undefined;

function closeVideo(): void {
  if (!video) return;
  video.element.removeAttribute('src');
  video.element.load();
  URL.revokeObjectURL(video.url);
  video = undefined;
  applyNeutral(pageNeutral);
}

async function openVideo(request: VideoOpenRequest): Promise<VideoOpenResult> {
  if (!engine) throw new Error('call init() first');
  closeVideo();
  const fail = (error: string): VideoOpenResult => {
    closeVideo();
    return { status: 'not-video', duration: 0, width: 0, height: 0, error: `${request.name}: ${error}` };
  };
  // Fetched whole into a blob: seeking a blob URL needs no range requests from the server.
  const response = await fetch(request.url);
  if (!response.ok) return fail(`could not be read (HTTP ${response.status})`);
  const url = URL.createObjectURL(await response.blob());
  const element = document.createElement('video');
  element.muted = true;
  element.preload = 'auto';
  video = {
    element,
    url,
    tracker: new FaceTracker(),
    smoother: new ProbabilitySmoother(request.smoothingMs),
    faceNumbers: new Map(),
    withFeatures: request.withFeatures === true,
  };
  if (request.neutral) applyNeutral(request.neutral);
  engine.pipeline.reset();
  try {
    const loaded = mediaEvent(element, 'loadeddata', 30_000, 'loading');
    element.src = url;
    await loaded;
  } catch (error) {
    return fail(`could not be decoded as a video (${(error as Error).message})`);
  }
  if (element.videoWidth === 0 || element.videoHeight === 0) return fail('has no video track');
  let duration = element.duration;
  if (!Number.isFinite(duration)) {
    // MediaRecorder's WebM has no duration in its header: seeking past the end makes Chromium find it.
    try {
      const seeked = mediaEvent(element, 'seeked', 30_000, 'looking for the end');
      element.currentTime = 1e9;
      await seeked;
    } catch (error) {
      return fail(`has no duration and could not be scanned (${(error as Error).message})`);
    }
    duration = Number.isFinite(element.duration) ? element.duration : element.currentTime;
  }
  if (!(duration > 0)) return fail('has no frames (duration 0)');
  return { status: 'ok', duration, width: element.videoWidth, height: element.videoHeight };
}

async function videoFrames(times: number[]): Promise<VideoFrame[]> {
  if (!engine || !video) throw new Error('call open() first');
  const { element, tracker, smoother, faceNumbers, withFeatures } = video;
  const out: VideoFrame[] = [];
  for (const t of times) {
    try {
      const seeked = mediaEvent(element, 'seeked', 30_000, `seeking to ${t} s`);
      element.currentTime = t;
      await seeked;
    } catch (error) {
      out.push({ t, faces: [], error: `could not seek to ${t} s (${(error as Error).message})` });
      continue;
    }
    try {
      // The same detect stage as the live view, in video mode (the landmarker tracks across frames).
      const frame = await engine.pipeline.process(element, 'video', element.videoWidth, element.videoHeight);
      const timeMs = t * 1000;
      // Face identity and smoothing on video time, so they do not depend on how fast this machine is.
      const ids = tracker.update(
        frame.faces.map((f) => f.box),
        timeMs,
      );
      const faces = frame.faces.map((f, i): VideoFace => {
        const id = ids[i]!;
        if (!faceNumbers.has(id)) faceNumbers.set(id, faceNumbers.size + 1);
        return {
          face: faceNumbers.get(id)!,
          box: [f.box.x, f.box.y, f.box.width, f.box.height],
          predictions: Object.fromEntries(f.readings.map((r) => [r.modelId, smoother.update(`${id}/${r.modelId}`, r.probs, timeMs)])),
          ...(withFeatures && f.features ? { features: Array.from(f.features) } : {}),
        };
      });
      const live = tracker.liveIds();
      smoother.prune((key) => live.has(Number(key.slice(0, key.indexOf('/')))));
      out.push({ t, faces: faces.sort((a, b) => a.face - b.face) });
    } catch (error) {
      if (!(error instanceof DetectorError)) throw error;
      out.push({ t, faces: [], error: (error as Error).message });
    }
  }
  return out;
}

const api: BatchApi = { init, processGray, processEncoded };
(globalThis as Record<string, unknown>)[BATCH_GLOBAL] = api;
const videoApi: BatchVideoApi = { open: openVideo, frames: videoFrames, close: closeVideo };
(globalThis as Record<string, unknown>)[BATCH_VIDEO_GLOBAL] = videoApi;
document.body.dataset.ready = 'true';
