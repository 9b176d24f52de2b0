/**
 * The models manifest served at /models/index.json and the per-model report.json files.
 * Pure functions (no DOM), so they can be tested in Node.
 */

export type ModelKind = 'cnn' | 'svm';

export interface ModelEntry {
  id: string;
  name: string;
  kind: ModelKind;
  /** Relative to /models/, e.g. "fer-cnn/model.json". */
  path: string;
  /** Input description (size, channels, normalisation...); shape owned by the model exporter. */
  input: Record<string, unknown>;
  /** Relative to /models/, e.g. "fer-cnn/report.json". */
  report?: string;
}

export interface Manifest {
  models: ModelEntry[];
}

export interface ReportSummary {
  /** Fraction in 0..1 when the report has one. */
  accuracy?: number;
  /** A one-line description of the evaluation data, when the report has one. */
  dataset?: string;
}

export const MODELS_BASE = '/models/';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A manifest path must stay inside /models/: relative, no "..", no scheme. */
export function isSafeRelativePath(path: string): boolean {
  if (path === '' || path.startsWith('/') || path.includes('\\') || /^[a-z][a-z0-9+.-]*:/i.test(path)) return false;
  return path.split('/').every((part) => part !== '..' && part !== '');
}

export function modelUrl(path: string, base: string = MODELS_BASE): string {
  if (!isSafeRelativePath(path)) throw new Error(`unsafe model path "${path}"`);
  return base + path;
}

/** Validates the manifest JSON; throws an Error that names the offending entry. */
export function parseManifest(json: unknown): Manifest {
  if (!isRecord(json) || !Array.isArray(json.models)) {
    throw new Error('index.json must be an object with a "models" array');
  }
  const seen = new Set<string>();
  const models = json.models.map((raw, i): ModelEntry => {
    const where = `models[${i}]`;
    if (!isRecord(raw)) throw new Error(`${where} is not an object`);
    const { id, name, kind, path, input, report } = raw;
    if (typeof id !== 'string' || id === '') throw new Error(`${where}.id must be a non-empty string`);
    if (seen.has(id)) throw new Error(`${where}.id "${id}" is used twice`);
    seen.add(id);
    if (kind !== 'cnn' && kind !== 'svm') throw new Error(`${where} (${id}).kind must be "cnn" or "svm"`);
    if (typeof path !== 'string' || !isSafeRelativePath(path)) {
      throw new Error(`${where} (${id}).path must be a relative path inside models/`);
    }
    if (report !== undefined && (typeof report !== 'string' || !isSafeRelativePath(report))) {
      throw new Error(`${where} (${id}).report must be a relative path inside models/`);
    }
    return {
      id,
      name: typeof name === 'string' && name !== '' ? name : id,
      kind,
      path,
      input: isRecord(input) ? input : {},
      ...(report !== undefined ? { report } : {}),
    };
  });
  return { models };
}

/** Accepts a fraction (0..1) or a percentage (1..100]. */
function normaliseAccuracy(value: unknown): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return undefined;
  if (value <= 1) return value;
  if (value <= 100) return value / 100;
  return undefined;
}

export function describeDataset(value: unknown): string | undefined {
  if (typeof value === 'string') return value || undefined;
  if (!isRecord(value)) return undefined;
  const parts = Object.entries(value)
    .filter(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
    .map(([k, v]) => (k === 'name' ? String(v) : `${k}: ${String(v)}`));
  return parts.length > 0 ? parts.join(', ') : undefined;
}

export function summariseReport(json: unknown): ReportSummary {
  if (!isRecord(json)) throw new Error('report.json must be an object');
  const summary: ReportSummary = {};
  const accuracy = normaliseAccuracy(json.accuracy);
  if (accuracy !== undefined) summary.accuracy = accuracy;
  const dataset = describeDataset(json.dataset);
  if (dataset !== undefined) summary.dataset = dataset;
  return summary;
}

export function formatAccuracy(accuracy: number | undefined): string {
  return accuracy === undefined ? '—' : `${(accuracy * 100).toFixed(1)} %`;
}

type FetchJson = (url: string) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

export type ManifestState =
  | { status: 'loading' }
  | { status: 'missing' }
  | { status: 'error'; message: string }
  | { status: 'ready'; manifest: Manifest };

export async function loadManifest(fetchJson: FetchJson, base: string = MODELS_BASE): Promise<ManifestState> {
  const url = `${base}index.json`;
  try {
    const response = await fetchJson(url);
    if (response.status === 404) return { status: 'missing' };
    if (!response.ok) return { status: 'error', message: `${url}: HTTP ${response.status}` };
    return { status: 'ready', manifest: parseManifest(await response.json()) };
  } catch (error) {
    return { status: 'error', message: `${url}: ${error instanceof Error ? error.message : String(error)}` };
  }
}

export type ReportState =
  | { status: 'loading' }
  | { status: 'none' }
  | { status: 'error'; message: string }
  | ({ status: 'ready' } & ReportSummary);

export async function loadReport(
  fetchJson: FetchJson,
  entry: ModelEntry,
  base: string = MODELS_BASE,
): Promise<ReportState> {
  if (entry.report === undefined) return { status: 'none' };
  const url = modelUrl(entry.report, base);
  try {
    const response = await fetchJson(url);
    if (response.status === 404) return { status: 'none' };
    if (!response.ok) return { status: 'error', message: `HTTP ${response.status}` };
    return { status: 'ready', ...summariseReport(await response.json()) };
  } catch (error) {
    return { status: 'error', message: error instanceof Error ? error.message : String(error) };
  }
}
