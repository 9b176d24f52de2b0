/**
 * Calibration capture: which frames of the calibrated face are kept, per emotion. Pure (no DOM): the
 * live view feeds it each frame's faces as the pipeline already computed them (aligned 48x48 crop
 * and AU-style features), so capturing costs no model time.
 *
 * A frame is kept only when exactly one face is in view (with several, which one is "me" is a
 * guess; with none there is nothing to learn) and its crop differs enough from the last crop kept
 * for that emotion. "Differs enough" is the mean absolute difference of the two crops' gray levels
 * (0..255). The crops are aligned (eyes and mouth at fixed places, src/core/framing), so that
 * difference measures a change of expression, pose or light rather than the head sliding in the
 * frame, and a still face filmed at 30 FPS (consecutive frames differ only by sensor noise, about
 * 1-3 levels) yields a few distinct frames instead of 120 copies. It costs 2,304 subtractions per
 * frame, against a perceptual metric or a feature distance that would need tuning per model.
 * Each emotion keeps at most `maxPerEmotion` frames (the training budget: 7 x 40 frames train in
 * under 30 s on a 2-core CPU).
 */
import { EMOTIONS, IMAGE_PIXELS, NUM_CLASSES } from '../labels.ts';
import type { CalibrationSample, CalibrationSet } from './types.ts';

export type DropReason = 'no-face' | 'several-faces' | 'too-similar' | 'full';
export const DROP_REASONS: readonly DropReason[] = ['no-face', 'several-faces', 'too-similar', 'full'];

export interface CaptureOptions {
  /** Smallest mean absolute gray-level difference (0..255) from the last kept crop. Default 6. */
  minDiff?: number;
  /** Most frames kept per emotion. Default 40. */
  maxPerEmotion?: number;
}

/** One face of a frame, as the pipeline gives it. */
export interface CaptureFace {
  /** 48x48 gray, either bytes 0..255 or floats in [0,1] (the pipeline's crop). */
  crop: Uint8Array | Float32Array;
  features: Float32Array;
}

export type OfferResult = { kept: true; sample: CalibrationSample } | { kept: false; reason: DropReason };

export const DEFAULT_MIN_DIFF = 6;
export const DEFAULT_MAX_PER_EMOTION = 40;
/** Fewest frames an emotion needs to count toward training (the last 20 % are held out). */
export const MIN_FRAMES_PER_EMOTION = 5;
/**
 * Fewest photos an emotion needs when it has photos ("Add photos…"): every photo is a distinct
 * image, so 2 train (the SVM's cross-validation needs 2 per emotion) and 1 is held out.
 */
export const MIN_PHOTOS_PER_EMOTION = 3;
/** Fewest emotions a calibration needs (a classifier needs two classes). */
export const MIN_EMOTIONS = 2;

/** A [0,1] float crop as 0..255 bytes (rounded, clamped); bytes are copied. */
export function cropToBytes(crop: Uint8Array | Float32Array): Uint8Array {
  if (crop.length !== IMAGE_PIXELS) throw new RangeError(`a calibration crop has ${IMAGE_PIXELS} pixels (48x48), got ${crop.length}`);
  if (crop instanceof Uint8Array) return crop.slice();
  const out = new Uint8Array(IMAGE_PIXELS);
  for (let i = 0; i < IMAGE_PIXELS; i++) out[i] = Math.round(Math.min(1, Math.max(0, crop[i]!)) * 255);
  return out;
}

/** Mean absolute difference of two byte crops of the same length, in gray levels (0..255). */
export function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`crops differ in length (${a.length} vs ${b.length})`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

function emptyCounts(): Record<DropReason, number> {
  return { 'no-face': 0, 'several-faces': 0, 'too-similar': 0, full: 0 };
}

function checkLabel(label: number): void {
  if (!Number.isInteger(label) || label < 0 || label >= NUM_CLASSES)
    throw new RangeError(`emotion index ${label} is outside 0..${NUM_CLASSES - 1}`);
}

/**
 * The captured frames of a calibration, per emotion, with the counts of dropped frames since the
 * last reset of the counts (what the UI's "no face / several faces" message reads).
 */
export class CaptureStore {
  readonly minDiff: number;
  readonly maxPerEmotion: number;
  private readonly kept: CalibrationSample[][] = EMOTIONS.map(() => []);
  // The reference crop per emotion: the last kept one (deleting a sample does not change it, so a
  // deleted bad frame is not immediately captured again).
  private readonly last: (Uint8Array | undefined)[] = EMOTIONS.map(() => undefined);
  private dropped = emptyCounts();
  // Samples that came from photos (addPhoto): their emotion's minimum is MIN_PHOTOS_PER_EMOTION.
  private readonly photos = new WeakSet<CalibrationSample>();
  readonly startedAt: string;

  constructor(options: CaptureOptions = {}, startedAt: Date = new Date()) {
    this.minDiff = options.minDiff ?? DEFAULT_MIN_DIFF;
    this.maxPerEmotion = options.maxPerEmotion ?? DEFAULT_MAX_PER_EMOTION;
    if (!(this.minDiff >= 0 && this.minDiff <= 255))
      throw new RangeError(`capture minDiff must be in 0..255 gray levels, got ${this.minDiff}`);
    if (!Number.isInteger(this.maxPerEmotion) || this.maxPerEmotion < 1)
      throw new RangeError(`capture maxPerEmotion must be a positive integer, got ${this.maxPerEmotion}`);
    this.startedAt = startedAt.toISOString();
  }

  /** Offers one frame's faces for `label` at time `t` (ms); keeps a sample or says why not. */
  offer(label: number, t: number, faces: readonly CaptureFace[]): OfferResult {
    checkLabel(label);
    const reason = this.reasonToDrop(label, faces);
    if (reason) {
      this.dropped[reason]++;
      return { kept: false, reason };
    }
    const face = faces[0]!;
    const crop = cropToBytes(face.crop);
    const previous = this.last[label];
    if (previous && meanAbsDiff(previous, crop) < this.minDiff) {
      this.dropped['too-similar']++;
      return { kept: false, reason: 'too-similar' };
    }
    const sample: CalibrationSample = { t, label, crop, features: face.features.slice() };
    this.kept[label]!.push(sample);
    this.last[label] = crop;
    return { kept: true, sample };
  }

  /**
   * Adds one photo's faces for `label` (calibrating from photos). Unlike webcam frames, a photo is
   * kept however similar it is to the last one (each photo is a deliberate, distinct example); the
   * one-face rule and the per-emotion cap apply. Its time `t` is its order of addition: one more than
   * the latest sample of that emotion, so the held-out split by time holds out the last photos added.
   * Not counted in `drops` (those describe a recording).
   */
  addPhoto(label: number, faces: readonly CaptureFace[]): OfferResult {
    checkLabel(label);
    const reason = this.reasonToDrop(label, faces);
    if (reason) return { kept: false, reason };
    const face = faces[0]!;
    const list = this.kept[label]!;
    const t = list.reduce((max, s) => Math.max(max, s.t), 0) + 1;
    const sample: CalibrationSample = { t, label, crop: cropToBytes(face.crop), features: face.features.slice() };
    list.push(sample);
    this.photos.add(sample);
    return { kept: true, sample };
  }

  /** Whether a sample came from a photo (addPhoto). */
  isPhoto(sample: CalibrationSample): boolean {
    return this.photos.has(sample);
  }

  /** Fewest samples `label` needs to be used: fewer when it has photos (MIN_PHOTOS_PER_EMOTION). */
  minimum(label: number): number {
    return this.samples(label).some((s) => this.photos.has(s)) ? MIN_PHOTOS_PER_EMOTION : MIN_FRAMES_PER_EMOTION;
  }

  private reasonToDrop(label: number, faces: readonly CaptureFace[]): DropReason | undefined {
    if (faces.length === 0) return 'no-face';
    if (faces.length > 1) return 'several-faces';
    if (this.kept[label]!.length >= this.maxPerEmotion) return 'full';
    return undefined;
  }

  /** The kept samples of one emotion, in capture order. */
  samples(label: number): readonly CalibrationSample[] {
    checkLabel(label);
    return this.kept[label]!;
  }

  count(label: number): number {
    return this.samples(label).length;
  }

  /** Deletes one kept sample (a bad frame the user picked out); false when there is none at `index`. */
  remove(label: number, index: number): boolean {
    checkLabel(label);
    const list = this.kept[label]!;
    if (!Number.isInteger(index) || index < 0 || index >= list.length) return false;
    list.splice(index, 1);
    return true;
  }

  /** Forgets one emotion's samples and reference (re-record). */
  clear(label: number): void {
    checkLabel(label);
    this.kept[label] = [];
    this.last[label] = undefined;
  }

  /** Dropped frames per reason since the last resetDrops(). */
  get drops(): Readonly<Record<DropReason, number>> {
    return this.dropped;
  }

  resetDrops(): void {
    this.dropped = emptyCounts();
  }

  /** Emotions (indices) with at least minimum(i) samples: the ones training will use. */
  usableEmotions(): number[] {
    return EMOTIONS.flatMap((_, i) => (this.kept[i]!.length >= this.minimum(i) ? [i] : []));
  }

  /** Why training cannot start yet, or undefined when it can. */
  notReady(): string | undefined {
    const usable = this.usableEmotions().length;
    if (usable >= MIN_EMOTIONS) return undefined;
    return `Record at least ${MIN_EMOTIONS} emotions with ${MIN_FRAMES_PER_EMOTION} or more frames each, or add ${MIN_PHOTOS_PER_EMOTION} or more photos each (${usable} so far).`;
  }

  /** The usable emotions' samples, in capture time order, for training. */
  toSet(): CalibrationSet {
    const usable = this.usableEmotions();
    const samples = usable.flatMap((i) => this.kept[i]!).sort((a, b) => a.t - b.t);
    return { samples, capturedAt: this.startedAt };
  }
}

/**
 * What stops a frame from being captured right now, for the live message while prompting: no face,
 * several faces, or a lone face without its AU-style features (no AU model loaded in the pipeline).
 */
export function frameProblem(
  faces: readonly { features?: Float32Array | undefined }[],
): 'no-face' | 'several-faces' | 'no-features' | undefined {
  if (faces.length === 0) return 'no-face';
  if (faces.length > 1) return 'several-faces';
  return faces[0]!.features ? undefined : 'no-features';
}

/** Why a photo was not added, naming the file (the calibration's "Add photos…"). */
export function photoRefusal(fileName: string, reason: DropReason, maxPerEmotion: number = DEFAULT_MAX_PER_EMOTION): string {
  switch (reason) {
    case 'no-face':
      return `"${fileName}": no face found. Use a photo of one face, seen from the front and well lit.`;
    case 'several-faces':
      return `"${fileName}": several faces found. Use a photo with only the calibrated person's face (crop it first).`;
    case 'full':
      return `"${fileName}": not added, this emotion already has ${maxPerEmotion} examples (the most used). Delete some first.`;
    case 'too-similar':
      return `"${fileName}": too similar to the previous example.`;
  }
}

/** The UI's message for the frames dropped during one recording, or undefined when none matters. */
export function dropMessage(drops: Readonly<Record<DropReason, number>>, kept: number): string | undefined {
  const total = kept + DROP_REASONS.reduce((a, r) => a + drops[r], 0);
  if (total === 0) return undefined;
  // A reason is worth saying when it cost a noticeable share of the frames.
  const share = (r: DropReason) => drops[r] / total;
  if (share('several-faces') >= 0.2) return 'Several faces are in view: only the person calibrating should be in the picture.';
  if (share('no-face') >= 0.2) return 'No face found: face the camera with your whole face visible and lit from the front.';
  if (drops.full > 0) return undefined;
  if (kept < MIN_FRAMES_PER_EMOTION && drops['too-similar'] > 0)
    return 'Few distinct frames: move your head a little and vary the expression slightly while recording.';
  return undefined;
}
