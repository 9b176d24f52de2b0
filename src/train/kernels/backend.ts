/**
 * Picks the tfjs backend for Node training: `@tensorflow/tfjs-node` when the user installed it
 * (optional; its install downloads libtensorflow), else wasm (XNNPACK) with our gradient kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { registerWasmGradientKernels } from './wasm-gradients.ts';
import { loadSimdKernels } from './simd-module.ts';

export type TrainBackend = 'tensorflow' | 'wasm' | 'cpu';

export interface BackendChoice {
  name: TrainBackend;
  /** One line for the first line of a run's output. */
  description: string;
}

const require = createRequire(import.meta.url);

async function tryTfjsNode(): Promise<boolean> {
  try {
    // Not a dependency: present only when the user ran `npm install @tensorflow/tfjs-node`.
    const moduleName = '@tensorflow/tfjs-node';
    await import(/* @vite-ignore */ moduleName);
    return tf.getBackend() === 'tensorflow' || (await tf.setBackend('tensorflow'));
  } catch {
    return false;
  }
}

export async function initWasm(fastKernels = true): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  wasm.setWasmPaths(dir + path.sep);
  if (!(await tf.setBackend('wasm'))) throw new Error('could not initialise the tfjs wasm backend');
  await tf.ready();
  if (fastKernels) await loadSimdKernels(tf.backend());
  registerWasmGradientKernels({ fast: fastKernels });
}

/**
 * `preferred`: 'auto' (tfjs-node if installed, else wasm), or force one. `fastKernels` false keeps
 * only the plain Conv2DBackpropFilter composition (the reference the bench compares against).
 */
export async function chooseBackend(preferred: 'auto' | TrainBackend = 'auto', fastKernels = true): Promise<BackendChoice> {
  if ((preferred === 'auto' || preferred === 'tensorflow') && (await tryTfjsNode())) {
    return { name: 'tensorflow', description: 'backend: tensorflow (@tensorflow/tfjs-node, native libtensorflow)' };
  }
  if (preferred === 'tensorflow')
    throw new Error('--backend tensorflow: @tensorflow/tfjs-node is not installed (npm install @tensorflow/tfjs-node)');
  if (preferred === 'cpu') {
    await tf.setBackend('cpu');
    return { name: 'cpu', description: 'backend: cpu (pure JS; very slow, for checks only)' };
  }
  await initWasm(fastKernels);
  const kernels = fastKernels
    ? 'fast kernels (our WebAssembly SIMD convolutions, their gradients and MaxPoolGrad; fused training BatchNorm)'
    : 'reference kernels (plain Conv2DBackpropFilter only)';
  return { name: 'wasm', description: `backend: wasm (XNNPACK SIMD, 1 thread per worker) with ${kernels}` };
}
