/**
 * Gradient kernels for fine-tuning on the stock tfjs-backend-wasm 4.x (the browser's calibration
 * worker), composed from XNNPACK's own Conv2D. Node registers src/train/kernels/wasm-gradients.ts's
 * faster SIMD set instead (its kernels are compiled at start-up), which falls back to the same two
 * compositions exported here (its reference setup runs them alone):
 * - Conv2DBackpropFilter, missing from the backend: one Conv2D in which the batch plays the
 *   channels and the output gradient the filter;
 * - Conv2DBackpropInput, a naive loop there: for stride 1, one Conv2D of dy with the turned,
 *   transposed filter; other strides keep the original.
 * WebGL, WebGPU and cpu have fast kernels already; nothing is registered for them.
 */
import * as tf from '@tensorflow/tfjs';
import { backend_util, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs';

export type Pad = [[number, number], [number, number], [number, number], [number, number]];

/** What a kernelFunc receives. */
export type KernelArgs = { inputs: Record<string, TensorInfo>; attrs: NamedAttrMap; backend: unknown };

/** The one method of the wasm backend the compositions use: they free their intermediates. */
export interface BackendLike {
  disposeData(dataId: object, force?: boolean): boolean;
}

/**
 * The wasm kernel a composition runs, by name. The compositions need XNNPACK's own kernels: Node
 * passes a lookup that returns those as captured before it replaced some (its SIMD Conv2D among them).
 */
export type WasmKernelLookup = (name: string) => KernelFunc;

/** The kernel registered for the wasm backend now (nothing of ours replaces what the compositions call in the browser). */
function registeredWasmKernel(name: string): KernelFunc {
  const config = tf.getKernel(name, 'wasm');
  if (!config) throw new Error(`the wasm backend has no ${name} kernel; is @tensorflow/tfjs-backend-wasm loaded?`);
  return config.kernelFunc;
}

/** Runs kernel `name` (found by `kernel`) at the backend level, on TensorInfos: no engine re-entry. */
export function callWasmKernel(
  kernel: WasmKernelLookup,
  name: string,
  backend: BackendLike,
  inputs: Record<string, TensorInfo>,
  attrs: NamedAttrMap,
): TensorInfo {
  return kernel(name)({ inputs, attrs, backend: backend as unknown as tf.KernelBackend }) as TensorInfo;
}

/** A stride-1 NHWC Conv2D with explicit padding and the given dilations. */
export function conv2dPadded(
  kernel: WasmKernelLookup,
  backend: BackendLike,
  x: TensorInfo,
  filter: TensorInfo,
  pad: Pad,
  dilations: [number, number],
): TensorInfo {
  return callWasmKernel(
    kernel,
    'Conv2D',
    backend,
    { x, filter },
    {
      strides: [1, 1],
      pad: pad as unknown as NamedAttrMap[string],
      dataFormat: 'NHWC',
      dilations,
      dimRoundingMode: undefined as unknown as string,
    },
  );
}

/** The convolution geometry of a Conv2DBackpropFilter call (read as NHWC). */
export function conv2DBackpropFilterInfo(args: Pick<KernelArgs, 'inputs' | 'attrs'>): backend_util.Conv2DInfo {
  const { x } = args.inputs as { x: TensorInfo };
  const { strides, pad, dimRoundingMode, filterShape } = args.attrs as unknown as {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | Pad;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  return backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
}

/** A convolution's (or pooling's) sizes under the names its formulas use. */
export interface ConvSizes {
  /** Batch. */
  n: number;
  /** Filter (window) height and width. */
  kh: number;
  kw: number;
  /** Strides. */
  sh: number;
  sw: number;
  /** Input height and width. */
  h: number;
  w: number;
  /** Output height and width. */
  oh: number;
  ow: number;
  /** Input and output channels. */
  ci: number;
  co: number;
  /** Padding above the first row and left of the first column. */
  top: number;
  left: number;
}

export function convSizes(info: backend_util.Conv2DInfo): ConvSizes {
  return {
    n: info.batchSize,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    h: info.inHeight,
    w: info.inWidth,
    oh: info.outHeight,
    ow: info.outWidth,
    ci: info.inChannels,
    co: info.outChannels,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
}

/**
 * dW[kh,kw,ci,co] = sum_{n,oh,ow} xPadded[n, oh*s+kh, ow*s+kw, ci] * dy[n,oh,ow,co]
 * = conv2d(input = x as [ci,H,W,n], filter = dy as [OH,OW,n,co], dilation = s) -> [ci,KH,KW,co].
 */
export function conv2DBackpropFilterConv(args: KernelArgs, kernel: WasmKernelLookup = registeredWasmKernel): TensorInfo {
  const backend = args.backend as BackendLike;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  if ((args.attrs as { dataFormat?: string }).dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter (wasm): only NHWC is supported');
  const { kh, kw, sh, sw, h, w, oh, ow, top, left } = convSizes(conv2DBackpropFilterInfo(args));
  // Pad below/right so the conv yields at least kh x kw outputs; extra rows are sliced off below.
  const bottom = Math.max(0, kh - h - top + (oh - 1) * sh);
  const right = Math.max(0, kw - w - left + (ow - 1) * sw);
  const xT = callWasmKernel(kernel, 'Transpose', backend, { x }, { perm: [3, 1, 2, 0] }); // [ci, H, W, n]
  const dyT = callWasmKernel(kernel, 'Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] }); // [OH, OW, n, co]
  const padding: Pad = [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
  const conv = conv2dPadded(kernel, backend, xT, dyT, padding, [sh, sw]); // [ci, >=kh, >=kw, co]
  backend.disposeData(xT.dataId);
  backend.disposeData(dyT.dataId);
  let cropped = conv;
  if (conv.shape[1] !== kh || conv.shape[2] !== kw) {
    cropped = callWasmKernel(kernel, 'Slice', backend, { x: conv }, { begin: [0, 0, 0, 0], size: [conv.shape[0], kh, kw, conv.shape[3]] });
    backend.disposeData(conv.dataId);
  }
  const dw = callWasmKernel(kernel, 'Transpose', backend, { x: cropped }, { perm: [1, 2, 0, 3] }); // [kh, kw, ci, co]
  backend.disposeData(cropped.dataId);
  return dw;
}

/** The convolution geometry of a Conv2DBackpropInput call. */
export function conv2DBackpropInputInfo(args: Pick<KernelArgs, 'inputs' | 'attrs'>): backend_util.Conv2DInfo {
  const { filter } = args.inputs as { filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | Pad;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    inputShape: [number, number, number, number];
  };
  return backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    dataFormat === 'NCHW' ? 'channelsFirst' : 'channelsLast',
  );
}

/**
 * dx = conv2d(dy, rot180(W) with in/out channels swapped), padded to give back the input size.
 * Only for stride 1, NHWC (`info` from conv2DBackpropInputInfo): callers keep the original kernel otherwise.
 */
export function conv2DBackpropInputConv(
  backend: BackendLike,
  dy: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
  kernel: WasmKernelLookup = registeredWasmKernel,
): TensorInfo {
  const { filterHeight: kh, filterWidth: kw } = info;
  const { top, bottom, left, right } = info.padInfo;
  const flipped = callWasmKernel(kernel, 'Reverse', backend, { x: filter }, { dims: [0, 1] });
  const swapped = callWasmKernel(kernel, 'Transpose', backend, { x: flipped }, { perm: [0, 1, 3, 2] }); // [kh, kw, co, ci]
  backend.disposeData(flipped.dataId);
  const padding: Pad = [
    [0, 0],
    [kh - 1 - top, kh - 1 - bottom],
    [kw - 1 - left, kw - 1 - right],
    [0, 0],
  ];
  const dx = conv2dPadded(kernel, backend, dy, swapped, padding, [1, 1]);
  backend.disposeData(swapped.dataId);
  return dx;
}

let originalBackpropInput: KernelFunc | undefined;

/** Stride 1, NHWC: the composition above; everything else: the backend's own kernel. */
function conv2DBackpropInput(args: KernelArgs): TensorInfo {
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const info = conv2DBackpropInputInfo(args);
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || info.dataFormat !== 'channelsLast') {
    return originalBackpropInput!(args as Parameters<KernelFunc>[0]) as TensorInfo;
  }
  return conv2DBackpropInputConv(args.backend as BackendLike, dy, filter, info);
}

/**
 * Makes the active backend fit for fine-tuning a CNN. On the stock wasm backend (recognised by its
 * missing Conv2DBackpropFilter, which Node's kernel set always adds) registers the two kernels
 * above; otherwise changes nothing. Returns the kernels it registered.
 */
export function ensureTrainingKernels(): string[] {
  if (tf.getBackend() !== 'wasm' || tf.getKernel('Conv2DBackpropFilter', 'wasm')) return [];
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: conv2DBackpropFilterConv as unknown as KernelFunc,
  });
  const registered = ['Conv2DBackpropFilter'];
  const original = tf.getKernel('Conv2DBackpropInput', 'wasm') as tf.KernelConfig | undefined;
  if (original) {
    originalBackpropInput = original.kernelFunc;
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    tf.registerKernel({ kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: conv2DBackpropInput as unknown as KernelFunc });
    registered.push('Conv2DBackpropInput');
  }
  return registered;
}
