/**
 * Local assets the browser app needs and that are not committed:
 *  - MediaPipe tasks-vision wasm files  -> public/mediapipe/wasm/
 *  - tfjs wasm backend binaries          -> public/tfjs-wasm/
 *  - MediaPipe face_landmarker.task      -> public/mediapipe/face_landmarker.task
 *
 * Everything is served from the app's own origin (never a CDN). The logic lives here as plain
 * functions so that tests can drive it without network access; scripts/setup-assets.ts is the CLI.
 */
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

export const FACE_LANDMARKER_URL =
  'https://storage.googleapis.com/mediapipe-models/face_landmarker/face_landmarker/float16/1/face_landmarker.task';
export const FACE_LANDMARKER_SHA256 = '64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff';
export const FACE_LANDMARKER_BYTES = 3_758_596;
/** Environment variable that points at a local copy of face_landmarker.task. */
export const FACE_LANDMARKER_ENV = 'FACE_LANDMARKER_PATH';

export type FetchLike = (
  url: string,
  init?: { signal?: AbortSignal },
) => Promise<{
  ok: boolean;
  status: number;
  statusText?: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}>;

export type AssetSource = 'existing' | 'env' | 'shared' | 'download';

export interface EnsureFaceLandmarkerOptions {
  /** Where the file must end up. */
  dest: string;
  /** Value of FACE_LANDMARKER_PATH, if set. When set, it must point at a correct file. */
  envPath?: string | undefined;
  /** A shared local copy (../shared/models/face_landmarker.task); used only when it exists. */
  sharedPath?: string | undefined;
  /** Download URL, used last. Defaults to the official MediaPipe URL. */
  url?: string;
  /** Injected fetch (tests). Defaults to the global fetch. */
  fetchImpl?: FetchLike;
  /** Expected digest/size; default to the float16 v1 bundle. */
  sha256?: string;
  bytes?: number;
  /** Download timeout in ms (default 120 s). */
  timeoutMs?: number;
  log?: (message: string) => void;
}

export interface EnsureResult {
  path: string;
  source: AssetSource;
}

export class AssetError extends Error {
  override name = 'AssetError';
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes `data` next to `dest` under a temporary name, then renames it into place. */
export async function writeFileAtomic(dest: string, data: Uint8Array): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const tmp = join(dirname(dest), `.tmp-${basename(dest)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, dest);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

function describeMismatch(data: Uint8Array, sha256: string, bytes: number): string {
  return `sha256 ${sha256Hex(data)} (${data.byteLength} bytes), expected ${sha256} (${bytes} bytes)`;
}

/**
 * Makes sure `dest` holds the face landmarker bundle with the expected sha256.
 * Order: existing correct file at dest (kept as is) -> FACE_LANDMARKER_PATH -> shared copy -> download.
 * A wrong file at dest is replaced; every candidate is checked before it is written (atomically).
 */
export async function ensureFaceLandmarker(options: EnsureFaceLandmarkerOptions): Promise<EnsureResult> {
  const {
    dest,
    envPath,
    sharedPath,
    url = FACE_LANDMARKER_URL,
    sha256 = FACE_LANDMARKER_SHA256,
    bytes = FACE_LANDMARKER_BYTES,
    timeoutMs = 120_000,
    log = () => {},
  } = options;
  const isGood = (data: Uint8Array) => data.byteLength === bytes && sha256Hex(data) === sha256;

  const current = await readIfExists(dest);
  if (current && isGood(current)) return { path: dest, source: 'existing' };
  if (current) log(`${dest} has the wrong content (${describeMismatch(current, sha256, bytes)}); replacing it.`);

  if (envPath !== undefined && envPath !== '') {
    const source = resolve(envPath);
    const data = await readIfExists(source);
    if (!data) {
      throw new AssetError(
        `${FACE_LANDMARKER_ENV}=${envPath} but no file exists at ${source}. ` +
          `Point ${FACE_LANDMARKER_ENV} at a copy of face_landmarker.task, or unset it to use ` +
          `${sharedPath ?? 'the shared copy'} or the download from ${url}.`,
      );
    }
    if (!isGood(data)) {
      throw new AssetError(
        `${FACE_LANDMARKER_ENV}=${envPath}: ${source} is not the expected face_landmarker.task: ` +
          `${describeMismatch(data, sha256, bytes)}. Replace it with the float16 v1 bundle from ${url}, ` +
          `or unset ${FACE_LANDMARKER_ENV}.`,
      );
    }
    await writeFileAtomic(dest, data);
    log(`face_landmarker.task copied from ${FACE_LANDMARKER_ENV} (${source}) to ${dest}`);
    return { path: dest, source: 'env' };
  }

  if (sharedPath !== undefined) {
    const data = await readIfExists(sharedPath);
    if (data) {
      if (!isGood(data)) {
        throw new AssetError(
          `The shared copy ${sharedPath} is not the expected face_landmarker.task: ` +
            `${describeMismatch(data, sha256, bytes)}. Replace or remove it (it will then be downloaded from ${url}), ` +
            `or set ${FACE_LANDMARKER_ENV} to a correct copy.`,
        );
      }
      await writeFileAtomic(dest, data);
      log(`face_landmarker.task copied from ${sharedPath} to ${dest}`);
      return { path: dest, source: 'shared' };
    }
  }

  const fetchImpl: FetchLike = options.fetchImpl ?? ((u, init) => fetch(u, init));
  log(`Downloading face_landmarker.task from ${url} ...`);
  let data: Uint8Array;
  try {
    const response = await fetchImpl(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
    data = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    throw new AssetError(
      `Could not download face_landmarker.task from ${url}: ${(error as Error).message}. ` +
        `Without network access, download it elsewhere and set ${FACE_LANDMARKER_ENV}=/path/to/face_landmarker.task` +
        (sharedPath ? `, or place it at ${sharedPath}` : '') +
        `, then run \`npx tsx scripts/setup-assets.ts\` again.`,
    );
  }
  if (!isGood(data)) {
    throw new AssetError(
      `The download from ${url} is not the expected face_landmarker.task: ${describeMismatch(data, sha256, bytes)}. ` +
        `Nothing was written to ${dest}. Retry, or set ${FACE_LANDMARKER_ENV} to a verified copy.`,
    );
  }
  await writeFileAtomic(dest, data);
  log(`face_landmarker.task downloaded to ${dest}`);
  return { path: dest, source: 'download' };
}

/**
 * Copies the files of `srcDir` whose names match `filter` into `destDir` (not recursive).
 * Files whose bytes are already identical are left untouched. Returns the names copied.
 */
export async function syncFiles(
  srcDir: string,
  destDir: string,
  filter: (name: string) => boolean = () => true,
): Promise<{ copied: string[]; unchanged: string[] }> {
  let entries;
  try {
    entries = await readdir(srcDir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new AssetError(`${srcDir} does not exist. Run \`npm install\` (or \`npm ci\`) first.`);
    }
    throw error;
  }
  const names = entries.filter((e) => e.isFile() && filter(e.name)).map((e) => e.name);
  if (names.length === 0) throw new AssetError(`No files to copy in ${srcDir}. Reinstall with \`npm ci\`.`);
  await mkdir(destDir, { recursive: true });
  const copied: string[] = [];
  const unchanged: string[] = [];
  for (const name of names) {
    const src = join(srcDir, name);
    const dest = join(destDir, name);
    const [a, b] = await Promise.all([stat(src), exists(dest).then((e) => (e ? stat(dest) : undefined))]);
    if (b && a.size === b.size && (await readFile(src)).equals(await readFile(dest))) {
      unchanged.push(name);
      continue;
    }
    const tmp = join(destDir, `.tmp-${name}-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await copyFile(src, tmp);
      await rename(tmp, dest);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    copied.push(name);
  }
  return { copied, unchanged };
}

export interface SetupPaths {
  root: string;
  mediapipeWasmSrc: string;
  mediapipeWasmDest: string;
  tfjsWasmSrc: string;
  tfjsWasmDest: string;
  faceLandmarkerDest: string;
  faceLandmarkerShared: string;
}

export function setupPaths(root: string): SetupPaths {
  return {
    root,
    mediapipeWasmSrc: join(root, 'node_modules/@mediapipe/tasks-vision/wasm'),
    mediapipeWasmDest: join(root, 'public/mediapipe/wasm'),
    tfjsWasmSrc: join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist'),
    tfjsWasmDest: join(root, 'public/tfjs-wasm'),
    faceLandmarkerDest: join(root, 'public/mediapipe/face_landmarker.task'),
    faceLandmarkerShared: resolve(root, '../shared/models/face_landmarker.task'),
  };
}

/** Runs every step; throws AssetError (or an fs error) on the first failure. */
export async function setupAssets(
  root: string,
  options: { env?: NodeJS.ProcessEnv; fetchImpl?: FetchLike; log?: (message: string) => void } = {},
): Promise<void> {
  const { env = process.env, fetchImpl, log = () => {} } = options;
  const p = setupPaths(root);
  const mp = await syncFiles(p.mediapipeWasmSrc, p.mediapipeWasmDest, (n) => n.endsWith('.wasm') || n.endsWith('.js'));
  log(`MediaPipe wasm: ${mp.copied.length} copied, ${mp.unchanged.length} up to date -> ${p.mediapipeWasmDest}`);
  const tf = await syncFiles(p.tfjsWasmSrc, p.tfjsWasmDest, (n) => n.endsWith('.wasm'));
  log(`tfjs wasm: ${tf.copied.length} copied, ${tf.unchanged.length} up to date -> ${p.tfjsWasmDest}`);
  const fl = await ensureFaceLandmarker({
    dest: p.faceLandmarkerDest,
    envPath: env[FACE_LANDMARKER_ENV],
    sharedPath: p.faceLandmarkerShared,
    fetchImpl,
    log,
  });
  if (fl.source === 'existing') log(`face_landmarker.task up to date -> ${fl.path}`);
}
