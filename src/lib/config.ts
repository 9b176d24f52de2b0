/**
 * The library's configuration: one typed object with documented defaults (DEFAULT_CONFIG) and one
 * validator that names the field at fault and says how to fix it.
 */
import { BROWSER_BACKENDS, isBrowserBackend, type BrowserBackend } from '../core/contracts/backends.ts';
import { DEFAULT_ASSETS } from '../app/live/assets.ts';

export type Backend = BrowserBackend;

export interface EmotionLensConfig {
  /** Folder holding `index.json` (the models manifest) and the model folders. Default `/models/`. */
  modelsUrl: string;
  /** Folder of MediaPipe Tasks Vision's wasm files (`node_modules/@mediapipe/tasks-vision/wasm`). Default `/mediapipe/wasm`. */
  mediapipeWasmUrl: string;
  /** MediaPipe's `face_landmarker.task` (float16, v1). Default `/mediapipe/face_landmarker.task`. */
  faceLandmarkerUrl: string;
  /** Folder of the TensorFlow.js wasm backend's binaries (`node_modules/@tensorflow/tfjs-backend-wasm/dist`). Default `/tfjs-wasm/`. */
  tfjsWasmUrl: string;
  /** TensorFlow.js backend; `auto` tries WebGPU, WebGL, wasm, cpu and skips software GPUs. Default `auto`. */
  backend: 'auto' | Backend;
  /** Most faces found per frame, 1..10. Default 4. */
  maxFaces: number;
  /** Smoothing time constant in ms for video sources (per face, per model), 0 = off, at most 5000. Default 250. */
  smoothing: number;
  /** Manifest model ids to run, or `all`. An id the manifest lacks fails `load()`. Default `all`. */
  models: 'all' | readonly string[];
  /**
   * Where the models run: `split` (page thread and a worker share them when that is faster),
   * `page`, or `worker` (all in a worker; video frames are then read ahead: the crop models start
   * while the landmarker runs, the live app's default on 2+ cores). Default `split`.
   */
  worker: 'split' | 'page' | 'worker';
  /** Include each face's 478 landmarks in the results. Default false. */
  landmarks: boolean;
}

/** What createEmotionLens accepts: any subset of the config; the rest comes from DEFAULT_CONFIG. */
export type EmotionLensOptions = Partial<EmotionLensConfig>;

export const DEFAULT_CONFIG: Readonly<EmotionLensConfig> = Object.freeze({
  modelsUrl: DEFAULT_ASSETS.models,
  mediapipeWasmUrl: DEFAULT_ASSETS.mediapipeWasm,
  faceLandmarkerUrl: DEFAULT_ASSETS.faceLandmarkerTask,
  tfjsWasmUrl: DEFAULT_ASSETS.tfjsWasm,
  backend: 'auto',
  maxFaces: 4,
  smoothing: 250,
  models: 'all',
  worker: 'split',
  landmarks: false,
});

export const MAX_FACES_LIMIT = 10;
export const MAX_SMOOTHING_MS = 5000;

/** A configuration value that cannot be used; `field` names it (e.g. `maxFaces`). */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`EmotionLensConfig.${field}: ${message}`);
  }
}

const KEYS = Object.keys(DEFAULT_CONFIG) as (keyof EmotionLensConfig)[];

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The closest known key to a misspelt one (edit distance <= 3), for the error message. */
function closest(key: string): string | undefined {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let prev = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const next = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
        prev = row[j]!;
        row[j] = next;
      }
    }
    return row[b.length]!;
  };
  let best: string | undefined;
  let bestD = 4;
  for (const k of KEYS) {
    const d = distance(key, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

/**
 * The URL as an absolute one on the page's origin (where there is a page). Everything is fetched
 * from the page's own origin: the CSP and the egress guard refuse any other.
 */
function sameOriginUrl(field: string, value: unknown, trailingSlash: boolean | undefined): string {
  if (typeof value !== 'string' || value.trim() === '') throw new ConfigError(field, `expected a URL string, got ${show(value)}`);
  let url = value.trim();
  const base = typeof document !== 'undefined' ? document.baseURI : typeof location !== 'undefined' ? location.href : undefined;
  if (base) {
    let parsed: URL;
    try {
      parsed = new URL(url, base);
    } catch {
      throw new ConfigError(field, `${show(value)} is not a URL`);
    }
    const origin = new URL(base).origin;
    if (parsed.origin !== origin) {
      throw new ConfigError(
        field,
        `${show(value)} is on another origin; Emotion Lens fetches only from the page's own (${origin}): serve the files from this site, e.g. ${DEFAULT_CONFIG[field as keyof EmotionLensConfig] as string}`,
      );
    }
    url = parsed.href;
  } else if (/^[a-z][a-z0-9+.-]*:/i.test(url) && !/^https?:/i.test(url)) {
    throw new ConfigError(field, `${show(value)} is not an http(s) URL`);
  }
  if (trailingSlash === true && !url.endsWith('/')) url += '/';
  if (trailingSlash === false) url = url.replace(/\/+$/, '');
  return url;
}

/**
 * DEFAULT_CONFIG with `options` applied, checked; URLs resolved against the page. Throws
 * ConfigError naming the first field at fault, what it got and what it takes.
 */
export function validateConfig(options: unknown = {}): EmotionLensConfig {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ConfigError('(config)', `expected an object of options, got ${show(options)}`);
  }
  const given = options as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(KEYS as string[]).includes(key)) {
      const near = closest(key);
      throw new ConfigError(key, `unknown option${near ? `; did you mean "${near}"?` : ''} (options: ${KEYS.join(', ')})`);
    }
  }
  const merged = { ...DEFAULT_CONFIG, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) } as Record<
    string,
    unknown
  >;

  const backend = merged.backend;
  if (backend !== 'auto' && !isBrowserBackend(backend)) {
    throw new ConfigError('backend', `expected "auto" or one of ${BROWSER_BACKENDS.map((b) => `"${b}"`).join(', ')}, got ${show(backend)}`);
  }
  const maxFaces = merged.maxFaces;
  if (typeof maxFaces !== 'number' || !Number.isInteger(maxFaces) || maxFaces < 1 || maxFaces > MAX_FACES_LIMIT) {
    throw new ConfigError('maxFaces', `expected an integer from 1 to ${MAX_FACES_LIMIT}, got ${show(maxFaces)}`);
  }
  const smoothing = merged.smoothing;
  if (typeof smoothing !== 'number' || !Number.isFinite(smoothing) || smoothing < 0 || smoothing > MAX_SMOOTHING_MS) {
    throw new ConfigError('smoothing', `expected a time constant in ms from 0 (off) to ${MAX_SMOOTHING_MS}, got ${show(smoothing)}`);
  }
  const models = merged.models;
  if (models !== 'all') {
    if (!Array.isArray(models) || models.length === 0 || !models.every((m) => typeof m === 'string' && m.length > 0)) {
      throw new ConfigError(
        'models',
        `expected "all" or a non-empty array of model ids from the manifest's index.json, got ${show(models)}`,
      );
    }
  }
  const worker = merged.worker;
  if (worker !== 'split' && worker !== 'page' && worker !== 'worker') {
    throw new ConfigError('worker', `expected "split", "page" or "worker", got ${show(worker)}`);
  }
  if (typeof merged.landmarks !== 'boolean') throw new ConfigError('landmarks', `expected true or false, got ${show(merged.landmarks)}`);

  return {
    modelsUrl: sameOriginUrl('modelsUrl', merged.modelsUrl, true),
    mediapipeWasmUrl: sameOriginUrl('mediapipeWasmUrl', merged.mediapipeWasmUrl, false),
    faceLandmarkerUrl: sameOriginUrl('faceLandmarkerUrl', merged.faceLandmarkerUrl, undefined),
    tfjsWasmUrl: sameOriginUrl('tfjsWasmUrl', merged.tfjsWasmUrl, true),
    backend,
    maxFaces,
    smoothing,
    models: models === 'all' ? 'all' : Object.freeze([...(models as string[])]),
    worker,
    landmarks: merged.landmarks,
  };
}
