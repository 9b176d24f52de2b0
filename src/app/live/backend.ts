/**
 * Picks the tfjs backend: WebGPU, then WebGL, then wasm (then cpu as a last resort), skipping GPU
 * backends that would run on a software rasterizer; or the one named by ?backend=. The WebGPU and
 * wasm backends are loaded only when tried.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendChoice, BackendName } from './types.ts';

export const AUTO_ORDER: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

/** Served by the app itself (scripts/setup-assets.ts copies them into public/). */
export const TFJS_WASM_BASE = '/tfjs-wasm/';

async function register(name: BackendName, wasmBase: string): Promise<void> {
  if (name === 'webgpu') {
    if (!('gpu' in navigator)) throw new Error('this browser has no WebGPU');
    await import('@tensorflow/tfjs-backend-webgpu');
  } else if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(wasmBase);
    // The threaded build starts its workers from blob: scripts, which the CSP (script-src 'self')
    // rightly blocks; the single-threaded SIMD build needs none.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  }
}

/** Renderer names of software rasterizers, which make GPU backends far slower than wasm. */
export const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software|basic render/i;

/** The GPU a backend would run on, as the browser names it ('' when it cannot tell). */
async function gpuName(name: BackendName): Promise<string> {
  try {
    if (name === 'webgl') {
      // Runs in the inference worker, where only OffscreenCanvas exists.
      const canvas = typeof document === 'undefined' ? new OffscreenCanvas(1, 1) : document.createElement('canvas');
      const gl = canvas.getContext('webgl2') as WebGL2RenderingContext | null;
      if (!gl) return '';
      const ext = gl.getExtension('WEBGL_debug_renderer_info');
      const renderer = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
      gl.getExtension('WEBGL_lose_context')?.loseContext();
      return renderer;
    }
    if (name === 'webgpu') {
      type Adapter = { info?: Record<string, string>; isFallbackAdapter?: boolean };
      const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<Adapter | null> } }).gpu;
      const adapter = await gpu?.requestAdapter();
      if (!adapter) return '';
      if (adapter.isFallbackAdapter) return 'fallback adapter (software)';
      return Object.values(adapter.info ?? {}).join(' ');
    }
  } catch {
    // Unknown: assume hardware.
  }
  return '';
}

async function tryBackend(name: BackendName, auto: boolean, wasmBase: string): Promise<string | undefined> {
  try {
    if (auto && (name === 'webgl' || name === 'webgpu')) {
      // Measured on a GPU-less machine: the default FER2013 CNN (flip TTA) took ~160 ms per face
      // on WebGL/SwiftShader and ~5 ms on wasm, so automatic choice skips software GPUs
      // (?backend= still forces them).
      const gpu = await gpuName(name);
      if (SOFTWARE_RENDERER.test(gpu)) return `software renderer (${gpu}); wasm is faster`;
    }
    await register(name, wasmBase);
    const ok = await tf.setBackend(name);
    if (!ok) return 'failed to initialise';
    await tf.ready();
    // A tiny op proves the backend really runs (WebGPU adapters can fail only at first use).
    const probe = tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(1)));
    const value = (await probe.data())[0];
    probe.dispose();
    return value === 2 ? undefined : 'gave a wrong result';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Sets the tfjs backend. `requested` forces one (and fails loudly if it cannot start); `wasmBase`
 * is where the wasm backend's binaries are served.
 */
export async function chooseBackend(requested?: BackendName, wasmBase: string = TFJS_WASM_BASE): Promise<BackendChoice> {
  const order = requested ? [requested] : AUTO_ORDER;
  const skipped: BackendChoice['skipped'] = [];
  for (const name of order) {
    const reason = await tryBackend(name, requested === undefined, wasmBase);
    if (reason === undefined) return { active: name, skipped };
    skipped.push({ name, reason });
  }
  const detail = skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  throw new Error(
    requested ? `backend "${requested}" is not available here (${detail})` : `no TensorFlow.js backend works here (${detail})`,
  );
}
