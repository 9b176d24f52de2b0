/** The ?backend= URL parameter (kept apart from backend.ts so the page need not load tfjs). */
import { BROWSER_BACKENDS, isBrowserBackend } from '../../core/contracts/backends.ts';
import type { BackendName } from './types.ts';

export const BACKENDS: readonly BackendName[] = BROWSER_BACKENDS;

export function parseBackendParam(value: string | null): BackendName | undefined {
  return isBrowserBackend(value) ? value : undefined;
}
