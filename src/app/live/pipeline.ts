/**
 * One frame through the pipeline, in two halves so they can overlap across frames:
 *  - detect (page thread): landmarks -> tracked faces -> framed crops (src/core/framing);
 *  - classify (inference worker): every model on every crop -> per-face smoothing.
 * The one detect stage of the project: the live session, the batch page (src/app/batch) and the
 * library (src/lib) all run it; `DetectOutput` says what else a caller keeps (features, raw mesh).
 * Times each stage. Sources longer than MAX_SIDE (image-cap.ts) are scaled down before detection,
 * and a Detection's size and boxes are those of the scaled image. A detector failure rejects
 * detect() (DetectorError, landmarker.ts): that frame or image gets no result, never a stale one.
 */
import { cropTransform } from '../../core/framing/transform.ts';
import { keypointsFromLandmarks, landmarkBox } from '../../core/framing/landmarks.ts';
import type { Box } from '../../core/framing/types.ts';
import { computeFeatures, FEATURE_COUNT } from '../../core/features/index.ts';
import { ProbabilitySmoother } from '../../core/smoothing.ts';
import { FaceTracker } from '../../core/tracking.ts';
import { CropReader } from './crops.ts';
import { detectorInput, type DetectorInput } from './image-cap.ts';
import type { Inference } from './inference-client.ts';
import type { Landmarker } from './landmarker.ts';
import { argmax } from './model-input.ts';
import type { CropBatch, FeatureBatch } from './protocol.ts';
import type { FaceResult, FrameResult, ModelReading, RawFace } from './types.ts';

/** Anything the detector and the crop reader both read. */
export type FrameSource = HTMLVideoElement | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas | ImageBitmap;
/** Brings a source under the detector's size cap (injectable for tests). */
export type FitSource = (source: FrameSource, width: number, height: number, quality: ResizeQuality) => Promise<DetectorInput<FrameSource>>;

export interface PipelineSettings {
  smoothing: boolean;
  /** EMA time constant in ms. */
  smoothingMs: number;
}

/** What detect() computes beyond what the loaded models need. */
export interface DetectOutput {
  /** 'auto': AU-style features only when a loaded model reads them; 'always': for every face. */
  features?: 'auto' | 'always';
  /** Keep each face's landmarks, blendshapes and head pose (Detection.raw). */
  raw?: boolean;
  /** Crop sizes made for every face besides the models' own (the first one is the preview). */
  cropSizes?: number[];
}

/** The page-thread half of a frame. */
export interface Detection {
  mode: 'video' | 'image';
  startMs: number;
  /** Size of what the detector read (the source scaled under the cap). */
  width: number;
  height: number;
  ids: number[];
  boxes: Box[];
  /** Per input size: every face's crop. */
  crops: Map<number, Float32Array[]>;
  /** Every face's AU-style features, when a loaded model reads them. */
  features?: FeatureBatch;
  /** Per face, with DetectOutput.raw. */
  raw?: RawFace[];
  landmarkerMs: number;
  cropMs: number;
  featuresMs: number;
}

const PREVIEW_SIZE = 48;

export class LivePipeline {
  private readonly tracker = new FaceTracker();
  private readonly smoother = new ProbabilitySmoother(0);

  constructor(
    private readonly landmarker: Pick<Landmarker, 'detectVideo' | 'detectImage'>,
    private readonly inference: Pick<Inference, 'models' | 'predict'> | undefined,
    public settings: PipelineSettings,
    // Injectable so the pipeline's logic can be tested without a canvas.
    private readonly reader: Pick<CropReader, 'read'> = new CropReader(),
    private readonly fit: FitSource = detectorInput,
    private readonly output: DetectOutput = {},
  ) {}

  get modelIds(): string[] {
    return this.inference?.models.map((m) => m.id) ?? [];
  }

  /** Forget tracks and smoothing state (new source). */
  reset(): void {
    this.tracker.reset();
    this.smoother.clear();
  }

  async detect(source: FrameSource, mode: 'video' | 'image', sourceWidth: number, sourceHeight: number): Promise<Detection> {
    const startMs = performance.now();
    // Video frames over the cap (8K files) are scaled every frame, so faster than stills.
    const input = await this.fit(source, sourceWidth, sourceHeight, mode === 'video' ? 'medium' : 'high');
    try {
      return await this.detectFitted(input, mode, startMs);
    } finally {
      input.release();
    }
  }

  private async detectFitted(input: DetectorInput<FrameSource>, mode: 'video' | 'image', startMs: number): Promise<Detection> {
    const { source, width, height } = input;
    const result = mode === 'video' ? await this.landmarker.detectVideo(source, startMs) : await this.landmarker.detectImage(source);
    const t1 = performance.now();
    // A degenerate mesh (e.g. both eyes on one point) cannot be framed: drop that face, not the frame.
    const framed = result.faceLandmarks.flatMap((lm, i) => {
      try {
        return [{ box: landmarkBox(lm, width, height), transform: cropTransform(keypointsFromLandmarks(lm, width, height)), index: i }];
      } catch {
        return [];
      }
    });
    const boxes = framed.map((f) => f.box);
    const transforms = framed.map((f) => f.transform);
    const ids = this.tracker.update(boxes, startMs);
    // One crop per face per input size in use (all FER2013 models share 48); 48 for the preview
    // when no model is loaded.
    const sizes = new Set([...(this.output.cropSizes ?? []), ...(this.inference?.models.map((m) => m.size) ?? [])]);
    if (sizes.size === 0) sizes.add(PREVIEW_SIZE);
    const crops = new Map<number, Float32Array[]>();
    for (const size of sizes)
      crops.set(
        size,
        transforms.map((t) => this.reader.read(source, width, height, t.toSource, size)),
      );
    const t2 = performance.now();
    let features: FeatureBatch | undefined;
    const wantFeatures = this.output.features === 'always' || this.inference?.models.some((m) => m.features);
    if (framed.length > 0 && wantFeatures) {
      const values = new Float32Array(framed.length * FEATURE_COUNT);
      framed.forEach((f, k) => {
        const blendshapes = result.faceBlendshapes?.[f.index]?.categories ?? [];
        const matrix = result.facialTransformationMatrixes?.[f.index]?.data;
        computeFeatures(
          { landmarks: result.faceLandmarks[f.index]!, width, height, blendshapes, ...(matrix ? { transform: matrix } : {}) },
          values.subarray(k * FEATURE_COUNT, (k + 1) * FEATURE_COUNT),
        );
      });
      features = { count: framed.length, dim: FEATURE_COUNT, values };
    }
    const t3 = performance.now();
    const raw = this.output.raw
      ? framed.map((f): RawFace => {
          const matrix = result.facialTransformationMatrixes?.[f.index]?.data;
          return {
            landmarks: result.faceLandmarks[f.index]!,
            blendshapes: result.faceBlendshapes?.[f.index]?.categories ?? [],
            ...(matrix ? { matrix } : {}),
          };
        })
      : undefined;
    return {
      mode,
      startMs,
      width,
      height,
      ids,
      boxes,
      crops,
      ...(features ? { features } : {}),
      ...(raw ? { raw } : {}),
      landmarkerMs: t1 - startMs,
      cropMs: t2 - t1,
      featuresMs: features ? t3 - t2 : 0,
    };
  }

  async classify(d: Detection): Promise<FrameResult> {
    const [previewSize, previewCrops] = d.crops.entries().next().value ?? [PREVIEW_SIZE, []];
    const previews = previewCrops;
    let probs: Record<string, number[][]> = {};
    let times: Record<string, number> = {};
    if (this.inference && this.inference.models.length > 0 && d.ids.length > 0) {
      // Packed into fresh buffers, which are transferred (not copied) to the worker.
      const batches: CropBatch[] = [...d.crops].map(([size, list]) => {
        const n = size * size;
        const pixels = new Float32Array(list.length * n);
        list.forEach((c, i) => pixels.set(c, i * n));
        return { size, count: list.length, pixels };
      });
      // The features go as a copy: a worker's transfer would empty the ones the results keep.
      const features = d.features ? { ...d.features, values: d.features.values.slice() } : undefined;
      ({ probs, times } = await this.inference.predict(batches, features));
    }
    const now = performance.now();
    const smoothing = this.settings.smoothing && d.mode === 'video';
    this.smoother.tauMs = smoothing ? this.settings.smoothingMs : 0;
    const faces: FaceResult[] = d.ids.map((trackId, f) => {
      const readings: ModelReading[] = this.modelIds.flatMap((id) => {
        const raw = probs[id]?.[f];
        if (!raw) return [];
        const p = smoothing ? this.smoother.update(`${trackId}/${id}`, raw, d.startMs) : raw;
        return [{ modelId: id, probs: p, top: argmax(p) }];
      });
      const crop = previews[f];
      const features = d.features?.values.subarray(f * d.features.dim, (f + 1) * d.features.dim);
      const raw = d.raw?.[f];
      return {
        trackId,
        box: d.boxes[f]!,
        readings,
        ...(crop ? { crop: { size: previewSize, pixels: crop } } : {}),
        ...(features ? { features } : {}),
        ...(raw ? { raw } : {}),
      };
    });
    const live = this.tracker.liveIds();
    this.smoother.prune((key) => live.has(Number(key.slice(0, key.indexOf('/')))));
    return {
      faces,
      width: d.width,
      height: d.height,
      times: { landmarker: d.landmarkerMs, crop: d.cropMs, features: d.featuresMs, models: times, total: now - d.startMs },
    };
  }

  /** Both halves, one after the other (stills). */
  async process(source: FrameSource, mode: 'video' | 'image', width: number, height: number): Promise<FrameResult> {
    return this.classify(await this.detect(source, mode, width, height));
  }
}
