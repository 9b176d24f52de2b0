/**
 * Dropout layers take no seed on purpose: tfjs re-seeds its generator on every call, so a seeded
 * dropout drops the same units at every step (those units' weights then never train).
 *
 * CNN definitions shared by training (Node) and, later, the app. Input [N,48,48,1] gray in [0,1];
 * output [N,7] softmax in the label order of labels.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { IMAGE_SIZE, NUM_CLASSES } from '../../core/labels.ts';

export type ArchName = 'seed' | 'default' | 'tiny';

export const ARCH_NAMES: readonly ArchName[] = ['seed', 'default', 'tiny'];

export interface ArchSpec {
  name: ArchName;
  description: string;
  build: (seed?: number) => tf.LayersModel;
}

const inputShape = [IMAGE_SIZE, IMAGE_SIZE, 1];

/**
 * The reference study's network, exactly: Conv32-Pool-Conv64-Pool-Conv128-Pool-Dense128-Dropout-Dense7,
 * 3x3 'valid' convolutions, ReLU, Adam, categorical cross-entropy.
 */
function buildSeed(seed?: number): tf.LayersModel {
  const init = (i: number) => tf.initializers.glorotUniform({ seed: seed === undefined ? undefined : seed + i });
  const m = tf.sequential({ name: 'fer_cnn_seed' });
  m.add(tf.layers.conv2d({ inputShape, filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: init(2) }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 128, kernelSize: 3, activation: 'relu', kernelInitializer: init(3) }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: init(4) }));
  m.add(tf.layers.dropout({ rate: 0.5 }));
  m.add(tf.layers.dense({ units: NUM_CLASSES, activation: 'softmax', kernelInitializer: init(5) }));
  return m;
}

/**
 * Ours: a VGG-style stack of 'same' 3x3 convolutions with BatchNorm, sized for the CPU budget
 * (see README "Design of the default CNN" for the measurements behind the widths).
 */
function buildDefault(seed?: number, widths: readonly number[] = [32, 64, 128, 256]): tf.LayersModel {
  let i = 0;
  const init = () => tf.initializers.heNormal({ seed: seed === undefined ? undefined : seed + ++i });
  const m = tf.sequential({ name: 'fer_cnn_default' });
  const convBnRelu = (filters: number, first = false) => {
    m.add(
      tf.layers.conv2d({
        ...(first ? { inputShape } : {}),
        filters,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        kernelInitializer: init(),
      }),
    );
    m.add(tf.layers.batchNormalization({ momentum: 0.95 }));
    m.add(tf.layers.activation({ activation: 'relu' }));
  };
  // 48 -> 24: one conv (the 48x48 stage is the costliest per filter).
  convBnRelu(widths[0], true);
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  // 24 -> 12 -> 6 -> 3: two convs per stage.
  for (const filters of widths.slice(1)) {
    convBnRelu(filters);
    convBnRelu(filters);
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  }
  m.add(tf.layers.flatten());
  m.add(tf.layers.dropout({ rate: 0.4 }));
  m.add(tf.layers.dense({ units: 256, useBias: false, kernelInitializer: init() }));
  m.add(tf.layers.batchNormalization({ momentum: 0.95 }));
  m.add(tf.layers.activation({ activation: 'relu' }));
  m.add(tf.layers.dropout({ rate: 0.4 }));
  m.add(tf.layers.dense({ units: NUM_CLASSES, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed }) }));
  return m;
}

/** A very small net for tests and quick checks. */
function buildTiny(seed?: number): tf.LayersModel {
  const m = tf.sequential({ name: 'fer_cnn_tiny' });
  m.add(
    tf.layers.conv2d({
      inputShape,
      filters: 8,
      kernelSize: 3,
      strides: 1,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
    }),
  );
  m.add(tf.layers.maxPooling2d({ poolSize: 4 }));
  m.add(
    tf.layers.conv2d({
      filters: 16,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed === undefined ? undefined : seed + 1 }),
    }),
  );
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(
    tf.layers.dense({
      units: NUM_CLASSES,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed === undefined ? undefined : seed + 2 }),
    }),
  );
  return m;
}

export const ARCHS: Record<ArchName, ArchSpec> = {
  seed: { name: 'seed', description: 'reference study CNN (3 conv + dense 128 + dropout)', build: buildSeed },
  default: { name: 'default', description: 'VGG-style BN CNN, 7 conv layers', build: (s) => buildDefault(s) },
  tiny: { name: 'tiny', description: 'tiny CNN for tests', build: buildTiny },
};

export function buildArch(name: string, seed?: number, widths?: readonly number[]): tf.LayersModel {
  if (name === 'default' && widths) return buildDefault(seed, widths);
  const spec = ARCHS[name as ArchName];
  if (!spec) throw new Error(`unknown --arch "${name}"; choose one of: ${ARCH_NAMES.join(', ')}`);
  return spec.build(seed);
}
