/** The ?backend= URL parameter (kept apart from backend.ts so the page need not load tfjs). */
import type { BackendName } from './types.ts';

export const BACKENDS: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export function parseBackendParam(value: string | null): BackendName | undefined {
  return value !== null && (BACKENDS as readonly string[]).includes(value) ? (value as BackendName) : undefined;
}
