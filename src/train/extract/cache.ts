/**
 * The extraction cache: one folder per input (keyed by its files), holding meta.json and chunk
 * files of per-image records written atomically, so an interrupted run resumes where it stopped.
 * Records keep the raw landmarks, blendshapes and head pose besides the crop and features, so
 * features can be recomputed with newer src/core code without running the browser again.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { base64ToBytes, base64ToFloat32 } from '../../core/batch.ts';
import { computeFeatures } from '../../core/features/index.ts';
import type { FaceObservation } from '../../core/features/types.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import type { Split } from './sources.ts';

/** Bump when the page pipeline changes what it writes (framing, padding, record layout). */
export const EXTRACT_VERSION = 1;

/** skipped: never opened (a FIFO, a device, over the size limit, unreadable); `error` says why. */
export type RecordStatus = 'face' | 'no-face' | 'corrupt' | 'not-image' | 'skipped';

export interface StoredFace {
  box: [number, number, number, number];
  crop: string;
  landmarks: string;
  blendshapes: string;
  transform: string | null;
  features: string;
}

export interface ExtractRecord {
  id: string;
  label?: number;
  split?: Split;
  status: RecordStatus;
  /** Faces found (the record keeps the largest). */
  faces: number;
  face?: StoredFace;
  /** Source size in pixels (the padded canvas for FER2013). */
  width?: number;
  height?: number;
  error?: string;
}

export interface ExtractChunk {
  start: number;
  blendshapeNames: string[];
  records: ExtractRecord[];
}

export interface ExtractMeta {
  version: number;
  input: { kind: 'fer2013' | 'folder'; path: string; key: string };
  total: number;
  chunkSize: number;
  /** FER2013 only: upscale factor and padding fraction used before detection. */
  upscale?: number;
  pad?: number;
  featureVersion: number;
  featureNames: string[];
  createdAt: string;
}

export function chunkFile(dir: string, start: number): string {
  return join(dir, 'chunks', `${String(start).padStart(7, '0')}.json`);
}

export async function readMeta(dir: string): Promise<ExtractMeta | undefined> {
  const file = join(dir, 'meta.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(await readFile(file, 'utf8')) as ExtractMeta;
}

export async function writeMeta(dir: string, meta: ExtractMeta): Promise<void> {
  await mkdir(join(dir, 'chunks'), { recursive: true });
  await writeFileAtomic(join(dir, 'meta.json'), JSON.stringify(meta, null, 1) + '\n');
}

export async function writeChunk(dir: string, chunk: ExtractChunk): Promise<void> {
  await writeFileAtomic(chunkFile(dir, chunk.start), JSON.stringify(chunk));
}

export function hasChunk(dir: string, start: number): boolean {
  return existsSync(chunkFile(dir, start));
}

/** Every chunk in order; throws naming the folder when records are missing. */
export async function readChunks(dir: string): Promise<ExtractChunk[]> {
  const meta = await readMeta(dir);
  if (!meta) throw new Error(`${dir} has no meta.json: run npm run extract first`);
  const files = (await readdir(join(dir, 'chunks'))).filter((f) => /^\d+\.json$/.test(f)).sort();
  const chunks: ExtractChunk[] = [];
  for (const f of files) chunks.push(JSON.parse(await readFile(join(dir, 'chunks', f), 'utf8')) as ExtractChunk);
  const count = chunks.reduce((n, c) => n + c.records.length, 0);
  if (count < meta.total)
    throw new Error(`${dir} holds ${count} of ${meta.total} records: the extraction did not finish; run it again to resume`);
  return chunks;
}

export interface DecodedFace {
  box: [number, number, number, number];
  /** 48x48 bytes. */
  crop: Uint8Array;
  observation: FaceObservation;
  /** As computed in the page. */
  features: Float32Array;
}

export function decodeFace(record: ExtractRecord, blendshapeNames: readonly string[]): DecodedFace | undefined {
  const f = record.face;
  if (!f || record.width === undefined || record.height === undefined) return undefined;
  const flat = base64ToFloat32(f.landmarks);
  const landmarks = [];
  for (let i = 0; i + 2 < flat.length; i += 3) landmarks.push({ x: flat[i]!, y: flat[i + 1]!, z: flat[i + 2]! });
  const scores = base64ToFloat32(f.blendshapes);
  const observation: FaceObservation = {
    landmarks,
    width: record.width,
    height: record.height,
    blendshapes: blendshapeNames.map((categoryName, i) => ({ categoryName, score: scores[i] ?? 0 })),
    ...(f.transform ? { transform: Array.from(base64ToFloat32(f.transform)) } : {}),
  };
  return { box: f.box, crop: base64ToBytes(f.crop), observation, features: base64ToFloat32(f.features) };
}

/** Features by the current src/core code (equal to the page's when the feature version matches). */
export function currentFeatures(face: DecodedFace): Float32Array {
  return computeFeatures(face.observation);
}
