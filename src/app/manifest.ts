/**
 * Loading the models manifest served at /models/index.json and the summary of each model's
 * report.json. Pure functions (no DOM; fetch is passed in), so they can be tested in Node.
 */
import { isRecord } from '../core/contracts/check.ts';
import { isSafeRelativePath, parseManifest, type Manifest, type ModelEntry } from '../core/contracts/manifest.ts';

// The manifest contract (types, parser) lives in src/core/contracts; re-exported for the app.
export { isSafeRelativePath, parseManifest } from '../core/contracts/manifest.ts';
export type { CnnModelEntry, Manifest, ModelEntry, ModelKind, SvmModelEntry } from '../core/contracts/manifest.ts';

export interface ReportSummary {
  /** Fraction in 0..1 when the report has one. */
  accuracy?: number;
  /** A one-line description of the evaluation data, when the report has one. */
  dataset?: string;
}

export const MODELS_BASE = '/models/';

export function modelUrl(path: string, base: string = MODELS_BASE): string {
  if (!isSafeRelativePath(path)) throw new Error(`unsafe model path "${path}"`);
  return base + path;
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
  { status: 'loading' } | { status: 'missing' } | { status: 'error'; message: string } | { status: 'ready'; manifest: Manifest };

export async function loadManifest(fetchJson: FetchJson, base: string = MODELS_BASE): Promise<ManifestState> {
  const url = `${base}index.json`;
  let json: unknown;
  try {
    const response = await fetchJson(url);
    if (response.status === 404) return { status: 'missing' };
    if (!response.ok) return { status: 'error', message: `${url}: HTTP ${response.status}` };
    json = await response.json();
  } catch (error) {
    return { status: 'error', message: `${url}: ${error instanceof Error ? error.message : String(error)}` };
  }
  try {
    // Its messages start with the url and name the entry and field at fault.
    return { status: 'ready', manifest: parseManifest(json, url) };
  } catch (error) {
    return { status: 'error', message: (error as Error).message };
  }
}

export type ReportState =
  { status: 'loading' } | { status: 'none' } | { status: 'error'; message: string } | ({ status: 'ready' } & ReportSummary);

export async function loadReport(fetchJson: FetchJson, entry: ModelEntry, base: string = MODELS_BASE): Promise<ReportState> {
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
