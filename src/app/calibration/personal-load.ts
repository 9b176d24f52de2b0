/**
 * Personal model folders to live Runners, on the page thread: the one place the live view calls
 * the folder loader (runner-from-folder.ts). With ?worker=1 the page never started tfjs, so this
 * starts it first with the app's own backend choice (else tfjs would pick its default, which on a
 * software GPU is far slower than wasm).
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelFolder } from '../../core/calibration/types.ts';
import { parseBackendParam } from '../live/backend-param.ts';
import { chooseBackend } from '../live/backend.ts';
import type { Runner } from '../live/model-load.ts';
import { runnerFromFolder } from './runner-from-folder.ts';

let backendReady: Promise<unknown> | undefined;

function ensureBackend(): Promise<unknown> {
  if ((tf.engine() as unknown as { backendName: string | null }).backendName) return Promise.resolve();
  backendReady ??= chooseBackend(parseBackendParam(new URLSearchParams(location.search).get('backend')));
  return backendReady;
}

/** Every folder's Runner, or none: on a failure the ones already loaded are disposed. */
export async function loadPersonalRunners(folders: readonly ModelFolder[]): Promise<Runner[]> {
  await ensureBackend();
  const runners: Runner[] = [];
  try {
    for (const folder of folders) runners.push(await runnerFromFolder(folder));
  } catch (error) {
    for (const r of runners) r.dispose();
    throw error;
  }
  return runners;
}
