/**
 * The first convolution of a model, whose input is the image batch, runs as a plain tf.conv2d in
 * training calls, so tfjs never computes the gradient for the images.
 *
 * Why: a conv layer without bias or activation goes through tf.fused.conv2d, whose custom gradient
 * computes the input gradient and the filter gradient together, eagerly. Training only needs the
 * filter gradient there; tf.conv2d's gradient is one thunk per input, and tfjs calls only those
 * on a path to the variables. For the default CNN that input gradient (16 channels back to 1, 48x48,
 * through XNNPACK) was ~8 ms of a ~250 ms step. Same values: both run the same convolution.
 */
import * as tf from '@tensorflow/tfjs';

interface Conv2DLayerInternals {
  rank: number;
  filters: number;
  strides: number[];
  padding: 'valid' | 'same' | 'causal';
  dataFormat: 'channelsFirst' | 'channelsLast';
  dilationRate: number | number[];
  useBias: boolean;
  activation: { getClassName(): string };
  kernel: { read(): tf.Tensor };
  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[];
}

/** Switches the model's first layer if it is a bias-free, linear, channels-last Conv2D; returns whether it did. */
export function useLazyImageGradient(model: tf.LayersModel): boolean {
  const layer = model.layers[0];
  if (!layer || layer.getClassName() !== 'Conv2D') return false;
  const conv = layer as unknown as Conv2DLayerInternals;
  if (
    conv.rank !== 2 ||
    conv.useBias ||
    conv.activation.getClassName() !== 'linear' ||
    conv.dataFormat !== 'channelsLast' ||
    conv.padding === 'causal'
  )
    return false;
  const original = conv.call.bind(conv);
  const dilations = (Array.isArray(conv.dilationRate) ? conv.dilationRate : [conv.dilationRate, conv.dilationRate]) as [number, number];
  conv.call = (inputs, kwargs) => {
    if (!kwargs.training) return original(inputs, kwargs);
    const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
    return tf.conv2d(
      x,
      conv.kernel.read() as tf.Tensor4D,
      conv.strides as [number, number],
      conv.padding as 'valid' | 'same',
      'NHWC',
      dilations,
    );
  };
  return true;
}
