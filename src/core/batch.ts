/**
 * The contract between the headless batch page (src/app/batch, run in Chromium) and the Node jobs
 * that drive it (src/train/extract: `npm run extract`, `npm run predict`). Plain JSON: binary
 * arrays travel as base64 of their little-endian bytes.
 */

export type BatchBackend = 'webgpu' | 'webgl' | 'wasm' | 'cpu';

export interface BatchInitOptions {
  /** Faces per image the landmarker looks for. */
  numFaces: number;
  /** Load every model of /models/index.json and return predictions per face. */
  models: boolean;
  /** Only these manifest model ids (default: all). */
  modelIds?: string[];
  backend?: BatchBackend;
  /** A person's neutral face, applied as the live view does after "Set my neutral face". */
  neutral?: BatchNeutral;
}

/** A person's neutral face as the batch page applies it (src/core/neutral-baseline.ts). */
export interface BatchNeutral {
  /** Per model id: offsets added to its log-probabilities. */
  offsets: Record<string, number[]>;
  /** Per model id: a shift added to the AU-style features it reads (a model moved at its input). */
  featureShifts: Record<string, number[]>;
}

export interface BatchInitResult {
  /** tfjs backend when models were requested. */
  backend?: string;
  /** Per manifest model: 'ready' or why it cannot run. */
  models: { id: string; name: string; kind: string; status: string }[];
}

/** FER2013-style gray images: `count` images of size x size bytes, concatenated. */
export interface GrayBatchRequest {
  pixels: string;
  count: number;
  size: number;
  /** Upscale factor before detection (FaceLandmarker misses most faces at 48 px). */
  upscale: number;
  /** Gray border on each side, as a fraction of the upscaled size. */
  pad: number;
}

export interface EncodedImage {
  name: string;
  /** The file's bytes. */
  data: string;
}

export interface BatchFace {
  /** Face box in source image pixels: x, y, width, height. */
  box: [number, number, number, number];
  /** 48x48 gray crop as bytes (0..255), framed like FER2013 by src/core/framing. */
  crop: string;
  /** 478 x (x, y, z) Float32, MediaPipe's normalised coordinates. */
  landmarks: string;
  /** Float32 scores in the order of `blendshapeNames`. */
  blendshapes: string;
  blendshapeNames: string[];
  /** Float32 4x4 facial transformation matrix (MediaPipe's data order), when available. */
  transform: string | null;
  /** Float32 feature vector (src/core/features) computed in the page. */
  features: string;
  /** Per model id: probabilities in EMOTIONS order (only when models were requested). */
  predictions?: Record<string, number[]>;
}

export type BatchStatus = 'ok' | 'not-image';

export interface BatchImageResult {
  status: BatchStatus;
  /** Source size in pixels (the upscaled, padded canvas for gray batches). */
  width: number;
  height: number;
  /** Largest face first. */
  faces: BatchFace[];
  error?: string;
  /** Milliseconds in the page for this image. */
  ms: number;
  /** Per model id: milliseconds it took on all of this image's faces (only when models ran). */
  modelMs?: Record<string, number>;
}

export interface BatchApi {
  init(options: BatchInitOptions): Promise<BatchInitResult>;
  processGray(request: GrayBatchRequest): Promise<BatchImageResult[]>;
  processEncoded(images: EncodedImage[]): Promise<BatchImageResult[]>;
}

/** Where the batch page exposes its API. */
export const BATCH_GLOBAL = 'emotionBatch';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i;

/** base64 of bytes, without btoa/Buffer so both sides share it. */
export function bytesToBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  let chunk = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!;
    const b = i + 1 < bytes.length ? bytes[i + 1]! : 0;
    const c = i + 2 < bytes.length ? bytes[i + 2]! : 0;
    chunk += B64[a >> 2]! + B64[((a & 3) << 4) | (b >> 4)]!;
    chunk += i + 1 < bytes.length ? B64[((b & 15) << 2) | (c >> 6)]! : '=';
    chunk += i + 2 < bytes.length ? B64[c & 63]! : '=';
    if (chunk.length > 8192) {
      parts.push(chunk);
      chunk = '';
    }
  }
  parts.push(chunk);
  return parts.join('');
}

export function base64ToBytes(text: string): Uint8Array {
  const clean = text.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let o = 0;
  for (let i = 0; i < clean.length; i += 4) {
    const v = [0, 1, 2, 3].map((k) => (i + k < clean.length ? B64_INDEX[clean.charCodeAt(i + k) & 127]! : 0));
    if (v.some((x) => x < 0)) throw new Error(`invalid base64 at character ${i}`);
    const n = (v[0]! << 18) | (v[1]! << 12) | (v[2]! << 6) | v[3]!;
    if (o < out.length) out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

export function float32ToBase64(values: ArrayLike<number>): string {
  const f = values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
  return bytesToBase64(new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
}

export function base64ToFloat32(text: string): Float32Array {
  const bytes = base64ToBytes(text);
  if (bytes.length % 4 !== 0) throw new Error(`base64 Float32 data has ${bytes.length} bytes, not a multiple of 4`);
  // Copy into an aligned buffer.
  return new Float32Array(bytes.slice().buffer);
}
