/**
 * Calibrating from photos ("Add photos…" in the Calibrate flow): each photo goes through the app's
 * own still-image detect stage (the one an opened image gets: aligned 48x48 crop and AU-style
 * features, no model) and becomes one sample of the chosen emotion (CaptureStore.addPhoto: kept
 * however similar, one face only, the per-emotion cap applies, time = order of addition). Photos
 * are read one at a time, in the order given, and decoded in this browser only.
 */
import { photoRefusal, type CaptureFace, type CaptureStore } from '../../core/calibration/capture.ts';
import { heldOutCount } from '../../core/calibration/split.ts';
import type { CalibrationFinetune } from '../../learn/personal.ts';
import type { FrameSource } from '../live/pipeline.ts';
import type { StillFace } from '../live/session.ts';

/** What adding photos needs of the live session (LiveSession.detectStill). */
export interface StillDetector {
  detectStill(image: FrameSource, width: number, height: number): Promise<StillFace[]>;
}

/** A decoded image and its size; `close` frees it. */
export interface DecodedImage {
  image: FrameSource;
  width: number;
  height: number;
  close(): void;
}

export type Decode = (file: Blob) => Promise<DecodedImage>;

/** Decodes a photo with createImageBitmap (EXIF orientation applied, as an <img> shows it). */
export const decodeBitmap: Decode = async (file) => {
  const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  return { image: bitmap, width: bitmap.width, height: bitmap.height, close: () => bitmap.close() };
};

export interface PhotoOutcome {
  added: number;
  /** One message per refused photo, naming its file. */
  refused: string[];
}

type PhotoFile = Blob & { name: string };

/**
 * Adds `files` as samples of emotion `label`, in order. A file that is not an image, cannot be
 * decoded, shows no face or several faces, or comes when the emotion is full is refused with a
 * message naming it; the others are kept. `onEach` runs after each file (progress, re-render).
 */
export async function addPhotos(
  store: CaptureStore,
  label: number,
  files: readonly PhotoFile[],
  detector: StillDetector,
  options: { decode?: Decode; onEach?: (done: number, total: number) => void; signal?: AbortSignal } = {},
): Promise<PhotoOutcome> {
  const decode = options.decode ?? decodeBitmap;
  const outcome: PhotoOutcome = { added: 0, refused: [] };
  for (const [i, file] of files.entries()) {
    options.signal?.throwIfAborted();
    const refusal = await addOne(store, label, file, detector, decode);
    if (refusal) outcome.refused.push(refusal);
    else outcome.added++;
    options.onEach?.(i + 1, files.length);
  }
  return outcome;
}

/** Adds one photo; returns why not, or undefined when it was kept. */
async function addOne(
  store: CaptureStore,
  label: number,
  file: PhotoFile,
  detector: StillDetector,
  decode: Decode,
): Promise<string | undefined> {
  if (!file.type.startsWith('image/'))
    return `"${file.name}" is not an image${file.type ? ` (${file.type})` : ''}: choose photos (JPEG, PNG, WebP…).`;
  let decoded: DecodedImage;
  try {
    decoded = await decode(file);
  } catch {
    return `"${file.name}" could not be read as an image: choose photos (JPEG, PNG, WebP…).`;
  }
  let found: StillFace[];
  try {
    found = await detector.detectStill(decoded.image, decoded.width, decoded.height);
  } catch (error) {
    return `"${file.name}": ${(error as Error).message}`;
  } finally {
    decoded.close();
  }
  return facesRefusal(store, label, file.name, found);
}

/** Offers a photo's detected faces to the store (pure: tested without a browser). */
export function facesRefusal(store: CaptureStore, label: number, fileName: string, found: readonly StillFace[]): string | undefined {
  if (found.length === 1 && (!found[0]!.crop || !found[0]!.features))
    return `"${fileName}": the face was found but its ${found[0]!.crop ? 'AU-style features were' : '48x48 crop was'} not computed, so it cannot be used.`;
  const faces: CaptureFace[] = found.map((f) => ({
    crop: f.crop ?? new Float32Array(48 * 48),
    features: f.features ?? new Float32Array(0),
  }));
  const result = store.addPhoto(label, faces);
  return result.kept ? undefined : photoRefusal(fileName, result.reason, store.maxPerEmotion);
}

/**
 * CALIBRATION_FINETUNE's batch size and epochs (src/learn/personal.ts; a type-only import keeps
 * tfjs' training code out of the page bundle; test/unit/calibration/photo-samples.test.ts checks they agree).
 */
const BATCH_SIZE = 32;
const EPOCHS = 6;
/**
 * Gradient steps of a full webcam calibration: 7 emotions x 40 frames, 32 of each trained, in
 * batches of 32 for 6 epochs.
 */
export const CALIBRATION_STEPS = Math.ceil((7 * 32) / BATCH_SIZE) * EPOCHS;

/**
 * Fine-tuning settings for a calibration with photos: as many gradient steps as a webcam
 * calibration takes. A photo set is small (about 2 training photos per emotion: one batch, so 6
 * epochs would be 6 steps, too few to move the CNN), and every photo is distinct, so more epochs
 * over them do what more near-duplicate frames do for a recording. Undefined (the default settings)
 * when the set is already that large. `counts`: samples per emotion used.
 */
export function photoFinetune(counts: readonly number[]): Partial<CalibrationFinetune> | undefined {
  const train = counts.reduce((sum, n) => sum + n - heldOutCount(n), 0);
  const stepsPerEpoch = Math.max(1, Math.ceil(train / BATCH_SIZE));
  const epochs = Math.ceil(CALIBRATION_STEPS / stepsPerEpoch);
  return epochs > EPOCHS ? { epochs } : undefined;
}
