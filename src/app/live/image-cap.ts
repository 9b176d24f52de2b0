/**
 * The size cap on what the face detector sees. MediaPipe uploads its input as a WebGL texture even
 * with the CPU delegate; past the texture limit (8192 px in SwiftShader, 16384 on most GPUs) the
 * upload fails ("texImage2D: width or height out of range") and the detector reads whatever the
 * texture held before, a face on a plain gray image, or aborts its WebAssembly module. So anything
 * longer than MAX_SIDE on its long side is scaled down first, aspect kept: faces stay far above the
 * detector's own input size (256 px), and the cap is under every texture limit.
 */
export const MAX_SIDE = 4096;

export interface Fit {
  width: number;
  height: number;
  /** fitted / original (1 when nothing was scaled). */
  scale: number;
}

/** The size `width` x `height` scaled down (never up) so its long side is at most `cap`. */
export function fitWithin(width: number, height: number, cap = MAX_SIDE): Fit {
  if (!(width > 0 && height > 0 && Number.isFinite(width) && Number.isFinite(height))) {
    throw new ImageSizeError(`the image reports an invalid size (${width}x${height} px)`);
  }
  const long = Math.max(width, height);
  if (long <= cap) return { width, height, scale: 1 };
  const scale = cap / long;
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)), scale };
}

/** An image that could not be brought under the cap (it is reported, not processed). */
export class ImageSizeError extends Error {
  override name = 'ImageSizeError';
}

/**
 * A bitmap of `source` (width x height) scaled to fit the cap. createImageBitmap scales while it
 * decodes, so the full-size image never has to fit in a canvas or a texture; a decode that fails
 * (out of memory, corrupt data) throws ImageSizeError naming both sizes.
 */
export async function scaledBitmap(
  source: ImageBitmapSource,
  width: number,
  height: number,
  quality: ResizeQuality = 'high',
  cap = MAX_SIDE,
): Promise<ImageBitmap> {
  const fit = fitWithin(width, height, cap);
  try {
    return await createImageBitmap(source, { resizeWidth: fit.width, resizeHeight: fit.height, resizeQuality: quality });
  } catch (error) {
    throw new ImageSizeError(
      `the ${width}x${height} px image could not be decoded at ${fit.width}x${fit.height} px for the face detector (${(error as Error).message ?? error}); use an image at most ${cap} px on its long side`,
      { cause: error },
    );
  }
}

/** What the detector reads: the source itself, or a scaled-down bitmap of it. */
export interface DetectorInput<S> {
  source: S | ImageBitmap;
  width: number;
  height: number;
  /** Frees the scaled bitmap (no-op for the source itself). */
  release(): void;
}

/** `source` as is when it fits the cap, else a scaled bitmap of it (`quality` of the scaling). */
export async function detectorInput<S extends ImageBitmapSource>(
  source: S,
  width: number,
  height: number,
  quality: ResizeQuality = 'high',
  cap = MAX_SIDE,
): Promise<DetectorInput<S>> {
  if (fitWithin(width, height, cap).scale === 1) return { source, width, height, release: () => undefined };
  const bitmap = await scaledBitmap(source, width, height, quality, cap);
  return { source: bitmap, width: bitmap.width, height: bitmap.height, release: () => bitmap.close() };
}

/**
 * An encoded image's size without decoding its pixels: an <img> has read only the header when it
 * fires `load` (a 20000x20000 PNG answers in milliseconds). Needs a document (page, not worker).
 */
export async function encodedImageSize(blob: Blob): Promise<{ width: number; height: number }> {
  const url = URL.createObjectURL(blob);
  try {
    const img = new Image();
    await new Promise<void>((ok, fail) => {
      img.onload = () => ok();
      img.onerror = () => fail(new Error('the browser cannot read it as an image'));
      img.src = url;
    });
    return { width: img.naturalWidth, height: img.naturalHeight };
  } finally {
    URL.revokeObjectURL(url);
  }
}

/**
 * An encoded image decoded under the cap: a bitmap of at most MAX_SIDE px on its long side, and the
 * image's own size. Throws with the reason when it is not an image or cannot be decoded.
 */
export async function decodeCapped(blob: Blob, cap = MAX_SIDE): Promise<{ bitmap: ImageBitmap; width: number; height: number }> {
  const { width, height } = await encodedImageSize(blob);
  const bitmap =
    fitWithin(width, height, cap).scale === 1 ? await createImageBitmap(blob) : await scaledBitmap(blob, width, height, 'high', cap);
  return { bitmap, width, height };
}
