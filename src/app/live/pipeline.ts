/**
 * One frame through the pipeline, in two halves so they can overlap across frames:
 *  - detect (page thread): landmarks -> tracked faces -> framed crops (src/core/framing);
 *  - classify (inference worker): every model on every crop -> per-face smoothing.
 * The one detect stage of the project: the live session, the batch page (src/app/batch) and the
 * library (src/lib) all run it; `DetectOutput` says what else a caller keeps (features, raw mesh).
 * Read ahead (all models in the worker, Inference.ahead): on a video frame, the crops of the faces
 * that held still over the last frame are first made at their previous positions, and the worker
 * starts the crop models on them while this thread finds the frame's landmarks, so the two overlap
 * instead of adding up. Once the landmarks are known, the early crops are used only if every face
 * is one of them and lies within AHEAD_TOLERANCE_PX of where its exact crop would be; otherwise the
 * frame is read again from exact crops (the early work is wasted, the result is never approximate
 * beyond that tolerance).
 * Landmarks reused (LivePipeline.reuse, StillReuse): on a frame read ahead where every face's early
 * crop differs from its crop in the last landmarked frame by no more than noise (cropChange), the
 * landmarker is skipped and that frame's landmarks, boxes and features are used again; every model
 * still runs, the crop models on this frame's pixels. At most StillReuse.maxFrames frames in a row.
 * Times each stage. Sources longer than MAX_SIDE (image-cap.ts) are scaled down before detection,
 * and a Detection's size and boxes are those of the scaled image. A detector failure rejects
 * detect() (DetectorError, landmarker.ts): that frame or image gets no result, never a stale one.
 */
import { cropShift, cropTransform } from '../../core/framing/transform.ts';
import { keypointsFromLandmarks, landmarkBox } from '../../core/framing/landmarks.ts';
import type { Affine, Box } from '../../core/framing/types.ts';
import { cropChange } from '../../core/crop-change.ts';
import { computeFeatures, FEATURE_COUNT } from '../../core/features/index.ts';
import { applyNeutralOffsets } from '../../core/neutral-baseline.ts';
import { ProbabilitySmoother } from '../../core/smoothing.ts';
import { FaceTracker } from '../../core/tracking.ts';
import { CropReader, FrameGrabber } from './crops.ts';
import { detectorInput, type DetectorInput } from './image-cap.ts';
import type { Inference, Prediction } from './inference-client.ts';
import type { Landmarker } from './landmarker.ts';
import { argmax } from './model-input.ts';
import type { CropBatch, FeatureBatch } from './protocol.ts';
import type { FaceResult, FrameResult, ModelReading, RawFace } from './types.ts';

/** Each face's raw readings of one frame, by model id. */
export type RawTap = (faces: readonly { trackId: number; probs: Readonly<Record<string, number[]>>; features?: Float32Array }[]) => void;

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
  /** The frame was read ahead and the early crops were used: Detection.crops are those crops. */
  ahead?: AheadUse;
  /** The landmarker was skipped: boxes, features and raw are the last landmarked frame's (StillReuse). */
  reused?: boolean;
  landmarkerMs: number;
  cropMs: number;
  featuresMs: number;
}

/** Early crops accepted for a frame: the worker's first half, and each face's row in it. */
interface AheadUse {
  frame: number;
  rows: number[];
  prediction: Promise<Prediction>;
}

/** Crops made before the landmarks, at the faces' previous positions. */
interface AheadCrops {
  frame: number;
  ids: number[];
  toSource: Affine[];
  crops: Map<number, Float32Array[]>;
  prediction: Promise<Prediction>;
}

/**
 * How far, in pixels of a 48x48 crop, an early crop may lie from the exact one (largest corner
 * distance, cropShift). One pixel is 2 % of the crop, a fifth of the shift the CNNs were trained to
 * ignore (10 %).
 */
export const AHEAD_TOLERANCE_PX = 1;
/** The crop size the tolerance is measured in (the transforms' own). */
const TRANSFORM_SIZE = 48;

const PREVIEW_SIZE = 48;

/** Skipping the landmarker on frames where the faces held still (LivePipeline.reuse). */
export interface StillReuse {
  /** Most frames in a row without landmarks (1: the landmarker reads at least every other frame). */
  maxFrames: number;
  /** Largest cropChange from the last landmarked frame that still counts as the same face. */
  threshold: number;
}

/**
 * The live app's setting (figures in core/crop-change.ts): camera noise up to sigma ~6/255 (0.014)
 * passes; a move of half a crop pixel (0.021+) or a change of expression (0.022+) makes the
 * landmarker read the frame.
 */
export const STILL_REUSE: StillReuse = { maxFrames: 1, threshold: 0.015 };

/** The last frame the landmarker read, as frames that reuse it need it. */
interface Landmarked {
  width: number;
  height: number;
  ids: number[];
  boxes: Box[];
  features?: FeatureBatch;
  raw?: RawFace[];
  /** Per still face: its crop (refSize) at its transform in that frame, where early crops are made next. */
  refs: Map<number, Float32Array>;
  refSize: number;
  /** Frames that reused it so far. */
  reused: number;
}

export class LivePipeline {
  private readonly tracker = new FaceTracker();
  private readonly smoother = new ProbabilitySmoother(0);
  /** Video mode: each face's crop transform in the last frame, and whether it held still then. */
  private last: { width: number; height: number; faces: Map<number, { toSource: Affine; still: boolean }> } | undefined;
  private frameNo = 0;
  /** Frames read ahead, and how many of them used their early crops. */
  readonly aheadStats = { tried: 0, used: 0 };
  /** Video mode: skip the landmarker on still frames (default off; the live session turns it on). */
  reuse: StillReuse | undefined;
  private landmarked: Landmarked | undefined;
  /** Per model id: the person's neutral-face offsets (src/core/neutral-baseline.ts), applied before smoothing. */
  neutral: ReadonlyMap<string, number[]> | undefined;
  /** Per model id: the shift a model that is moved at its input adds to every face's features (neutral-baseline.ts). */
  neutralFeatures: ReadonlyMap<string, number[]> | undefined;
  /**
   * Given every classified frame's readings before the output offsets and smoothing, and each face's
   * own features (the neutral capture); a model moved at its input has read moved features.
   */
  readonly rawTaps = new Set<RawTap>();

  constructor(
    private readonly landmarker: Pick<Landmarker, 'detectVideo' | 'detectImage'>,
    private readonly inference: Pick<Inference, 'models' | 'predict' | 'ahead'> | undefined,
    public settings: PipelineSettings,
    // Injectable so the pipeline's logic can be tested without a canvas.
    private readonly reader: Pick<CropReader, 'read'> = new CropReader(),
    private readonly fit: FitSource = detectorInput,
    private readonly output: DetectOutput = {},
    /** Video frames are read into pixels once (FrameGrabber); undefined: read from the source. */
    private readonly grabber: Pick<FrameGrabber, 'grab'> | undefined = typeof OffscreenCanvas === 'undefined'
      ? undefined
      : new FrameGrabber(),
  ) {}

  get modelIds(): string[] {
    return this.inference?.models.map((m) => m.id) ?? [];
  }

  /** Forget tracks and smoothing state (new source). */
  reset(): void {
    this.tracker.reset();
    this.smoother.clear();
    this.last = undefined;
    this.landmarked = undefined;
  }

  /** Input sizes of the crops each face needs (48 for the preview when no model is loaded). */
  private cropSizes(): Set<number> {
    const sizes = new Set([...(this.output.cropSizes ?? []), ...(this.inference?.models.map((m) => m.size) ?? [])]);
    if (sizes.size === 0) sizes.add(PREVIEW_SIZE);
    return sizes;
  }

  /** Starts the worker's first half on crops at the still faces' previous positions, if any. */
  private readAhead(source: FrameSource | ImageData, width: number, height: number): AheadCrops | undefined {
    const ahead = this.inference?.ahead;
    const last = this.last;
    if (!ahead || !last || last.width !== width || last.height !== height) return undefined;
    const still = [...last.faces].filter(([, f]) => f.still);
    // A face that moved in the last frame will likely move again: its early crop would be wasted.
    if (still.length === 0 || still.length !== last.faces.size) return undefined;
    const ids = still.map(([id]) => id);
    const toSource = still.map(([, f]) => f.toSource);
    const crops = new Map<number, Float32Array[]>();
    for (const size of this.cropSizes())
      crops.set(
        size,
        toSource.map((t) => this.reader.read(source, width, height, t, size)),
      );
    const frame = ++this.frameNo;
    const prediction = ahead.predictAhead(frame, packCrops(crops));
    // Awaited by classify() when used; a rejection of an unused one must not go unhandled.
    prediction.catch(() => undefined);
    this.aheadStats.tried++;
    return { frame, ids, toSource, crops, prediction };
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
    const { width, height } = input;
    const source = mode === 'video' && this.grabber ? await this.grabber.grab(input.source, width, height) : input.source;
    const early = mode === 'video' ? this.readAhead(source, width, height) : undefined;
    if (early) {
      const reused = this.reuseLandmarks(early, width, height, startMs);
      if (reused) return reused;
    }
    const aheadMs = performance.now() - startMs;
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
    let ahead: AheadUse | undefined;
    if (early) {
      const rows = ids.map((id) => early.ids.indexOf(id));
      const close = rows.every(
        (r, f) => r >= 0 && cropShift(early.toSource[r]!, transforms[f]!.toSource, TRANSFORM_SIZE) <= AHEAD_TOLERANCE_PX,
      );
      if (ids.length > 0 && close) ahead = { frame: early.frame, rows, prediction: early.prediction };
    }
    if (mode === 'video') {
      const before = this.last?.width === width && this.last.height === height ? this.last.faces : undefined;
      const faces = new Map(
        ids.map((id, f) => {
          const previous = before?.get(id)?.toSource;
          const toSource = transforms[f]!.toSource;
          return [id, { toSource, still: !!previous && cropShift(previous, toSource, TRANSFORM_SIZE) <= AHEAD_TOLERANCE_PX }];
        }),
      );
      this.last = { width, height, faces };
    }
    // One crop per face per input size in use (all FER2013 models share 48); 48 for the preview
    // when no model is loaded. A frame read ahead keeps its early crops.
    const crops = new Map<number, Float32Array[]>();
    for (const size of this.cropSizes())
      crops.set(
        size,
        ahead && early
          ? ahead.rows.map((r) => early.crops.get(size)![r]!)
          : transforms.map((t) => this.reader.read(source, width, height, t.toSource, size)),
      );
    if (ahead) this.aheadStats.used++;
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
    if (mode === 'video' && this.reuse) {
      const frame = { width, height, ids, boxes, ...(features ? { features } : {}), ...(raw ? { raw } : {}) };
      this.keepLandmarked(source, frame, transforms, ahead ? undefined : crops);
    }
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
      ...(ahead ? { ahead } : {}),
      landmarkerMs: t1 - startMs - aheadMs,
      cropMs: t2 - t1 + aheadMs,
      featuresMs: features ? t3 - t2 : 0,
    };
  }

  /**
   * Remembers a landmarked frame for the frames that may reuse it, with each still face's crop at
   * its transform in this frame, where the next frame's early crop will be read: `exact`, the crops
   * made at those transforms, or, when this frame used early crops from the last positions, read now.
   */
  private keepLandmarked(
    source: FrameSource | ImageData,
    frame: Omit<Landmarked, 'refs' | 'refSize' | 'reused'>,
    transforms: { toSource: Affine }[],
    exact: Map<number, Float32Array[]> | undefined,
  ): void {
    const refSize = this.cropSizes().values().next().value ?? PREVIEW_SIZE;
    const refs = new Map<number, Float32Array>();
    frame.ids.forEach((id, f) => {
      if (!this.last?.faces.get(id)?.still) return;
      refs.set(id, exact?.get(refSize)?.[f] ?? this.reader.read(source, frame.width, frame.height, transforms[f]!.toSource, refSize));
    });
    this.landmarked = { ...frame, refs, refSize, reused: 0 };
  }

  /**
   * The frame without the landmarker, when every face's early crop is within StillReuse.threshold
   * of its crop in the last landmarked frame; undefined (run the landmarker) otherwise.
   */
  private reuseLandmarks(early: AheadCrops, width: number, height: number, startMs: number): Detection | undefined {
    const reuse = this.reuse;
    const k = this.landmarked;
    if (!reuse || !k || k.width !== width || k.height !== height || k.reused >= reuse.maxFrames) return undefined;
    if (early.ids.length !== k.ids.length) return undefined;
    const at = early.ids.map((id) => k.ids.indexOf(id));
    const refCrops = early.crops.get(k.refSize);
    if (!refCrops || at.some((i) => i < 0)) return undefined;
    const still = early.ids.every((id, r) => {
      const ref = k.refs.get(id);
      return !!ref && cropChange(refCrops[r]!, ref, k.refSize) <= reuse.threshold;
    });
    if (!still) return undefined;
    const boxes = at.map((i) => k.boxes[i]!);
    // The same boxes: every track continues with its id.
    const ids = this.tracker.update(boxes, startMs);
    if (ids.some((id, f) => id !== early.ids[f])) return undefined;
    k.reused++;
    this.aheadStats.used++;
    let features: FeatureBatch | undefined;
    if (k.features) {
      const { dim } = k.features;
      const values = new Float32Array(at.length * dim);
      at.forEach((i, f) => values.set(k.features!.values.subarray(i * dim, (i + 1) * dim), f * dim));
      features = { count: at.length, dim, values };
    }
    const raw = k.raw ? at.map((i) => k.raw![i]!) : undefined;
    return {
      mode: 'video',
      startMs,
      width,
      height,
      ids,
      boxes,
      crops: early.crops,
      ...(features ? { features } : {}),
      ...(raw ? { raw } : {}),
      ahead: { frame: early.frame, rows: ids.map((_, f) => f), prediction: early.prediction },
      reused: true,
      landmarkerMs: 0,
      cropMs: performance.now() - startMs,
      featuresMs: 0,
    };
  }

  async classify(d: Detection): Promise<FrameResult> {
    const [previewSize, previewCrops] = d.crops.entries().next().value ?? [PREVIEW_SIZE, []];
    const previews = previewCrops;
    let probs: Record<string, number[][]> = {};
    let times: Record<string, number> = {};
    if (this.inference && this.inference.models.length > 0 && d.ids.length > 0) {
      // The features go as a copy: a worker's transfer would empty the ones the results keep.
      const shifts = this.neutralFeatures && this.neutralFeatures.size > 0 ? Object.fromEntries(this.neutralFeatures) : undefined;
      const features = d.features ? { ...d.features, values: d.features.values.slice(), ...(shifts ? { shifts } : {}) } : undefined;
      const ahead = this.inference.ahead;
      if (d.ahead && ahead) {
        const { rows, frame } = d.ahead;
        // Posted before awaiting the first half: the worker answers in order.
        const rest = this.inference.models.some((m) => m.features) ? ahead.predictRest(frame, rows, features) : undefined;
        const first = await d.ahead.prediction;
        for (const id of Object.keys(first.probs)) {
          probs[id] = rows.map((r) => first.probs[id]![r]!);
          times[id] = first.times[id]!;
        }
        if (rest) {
          const second = await rest;
          Object.assign(probs, second.probs);
          Object.assign(times, second.times);
        }
      } else {
        ({ probs, times } = await this.inference.predict(packCrops(d.crops), features));
      }
    }
    const now = performance.now();
    if (this.rawTaps.size > 0) {
      const raw = d.ids.map((trackId, f) => ({
        trackId,
        probs: Object.fromEntries(Object.entries(probs).map(([id, rows]) => [id, rows[f]!])),
        ...(d.features ? { features: d.features.values.subarray(f * d.features.dim, (f + 1) * d.features.dim) } : {}),
      }));
      for (const tap of this.rawTaps) tap(raw);
    }
    const smoothing = this.settings.smoothing && d.mode === 'video';
    this.smoother.tauMs = smoothing ? this.settings.smoothingMs : 0;
    const faces: FaceResult[] = d.ids.map((trackId, f) => {
      const readings: ModelReading[] = this.modelIds.flatMap((id) => {
        const raw = probs[id]?.[f];
        if (!raw) return [];
        const offsets = this.neutral?.get(id);
        const moved = offsets ? applyNeutralOffsets(raw, offsets) : raw;
        const p = smoothing ? this.smoother.update(`${trackId}/${id}`, moved, d.startMs) : moved;
        const neutral = offsets !== undefined || this.neutralFeatures?.has(id) === true;
        return [{ modelId: id, probs: p, top: argmax(p), ...(neutral ? { neutral: true as const } : {}) }];
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
      times: {
        landmarker: d.landmarkerMs,
        crop: d.cropMs,
        features: d.featuresMs,
        models: times,
        total: now - d.startMs,
        ...(d.ahead ? { readAhead: true } : {}),
        ...(d.reused ? { reused: true } : {}),
      },
    };
  }

  /** Both halves, one after the other (stills). */
  async process(source: FrameSource, mode: 'video' | 'image', width: number, height: number): Promise<FrameResult> {
    return this.classify(await this.detect(source, mode, width, height));
  }
}

/** Every face's crop per size, packed into fresh buffers (which a worker message may transfer). */
function packCrops(crops: Map<number, Float32Array[]>): CropBatch[] {
  return [...crops].map(([size, list]) => {
    const n = size * size;
    const pixels = new Float32Array(list.length * n);
    list.forEach((c, i) => pixels.set(c, i * n));
    return { size, count: list.length, pixels };
  });
}
