/**
 * The parts of tfjs-backend-wasm's BackendWasm our kernels use (the class is not exported with
 * these members typed). Its own module so the kernel modules share it without importing each other.
 */
import type { DataType, TensorInfo } from '@tensorflow/tfjs';

export interface WasmBackendLike {
  disposeData(dataId: object, force?: boolean): boolean;
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}
