/**
 * One data-parallel training worker: its own tfjs backend and copy of the model and optimizer.
 * Each step it (1) applies the previous step's averaged gradient, identical in every worker, so all
 * copies keep identical trainable weights, then (2) computes the mean gradient of its own shard.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { chooseBackend } from '../../kernels/backend.ts';
import { buildArch } from '../architectures.ts';
import { augmentBatch, type FaceShapes } from '../../../learn/augment.ts';
import { mulberry32 } from '../../../core/random.ts';
import { IMAGE_SIZE, NUM_CLASSES } from '../../../core/labels.ts';
import type { FromWorker, NamedArray, ToWorker, WorkerInit } from './protocol.ts';
import { distillTargets, oneHotTargets, smoothedCrossEntropy } from '../../../learn/loss.ts';
import { mixupBatch } from '../../../learn/mixup.ts';
import { useFastTrainingPaths } from '../../kernels/model-paths.ts';

const init = workerData as WorkerInit;
const MIXUP_SALT = 0x5bd1e995;
const port = parentPort!;
const send = (m: FromWorker) => port.postMessage(m);

async function main() {
  const choice = await chooseBackend(init.backend, init.fastKernels);
  const model = buildArch(init.arch, init.seed, init.widths);
  // Fused training BatchNorm and the first conv without the images' gradient, on the fast path.
  if (choice.name === 'wasm' && init.fastKernels) useFastTrainingPaths(model);
  const vars = model.trainableWeights.map((w) => (w as unknown as { read(): tf.Variable }).read());
  const sizes = vars.map((v) => v.size);
  const paramCount = sizes.reduce((a, b) => a + b, 0);
  const optimizer = tf.train.adam(1e-3);
  const pixels = new Uint8Array(init.pixels);
  const labels = new Uint8Array(init.labels);
  const shapes: FaceShapes | undefined =
    init.keypoints && init.template ? { keypoints: new Float32Array(init.keypoints), labels, template: init.template } : undefined;
  const soft = init.softTargets ? new Float32Array(init.softTargets) : undefined;
  const slot = new Float32Array(init.grads, init.index * paramCount * 4, paramCount);
  const averaged = new Float32Array(init.averaged, 0, paramCount);

  const applyAveraged = (lr: number) => {
    (optimizer as unknown as { learningRate: number }).learningRate = lr;
    const grads: { name: string; tensor: tf.Tensor }[] = [];
    let off = 0;
    for (let i = 0; i < vars.length; i++) {
      grads.push({ name: vars[i].name, tensor: tf.tensor(averaged.slice(off, off + sizes[i]), vars[i].shape) });
      off += sizes[i];
    }
    // One call with every variable in a fixed order: Adam indexes its moments by position.
    optimizer.applyGradients(grads);
    tf.dispose(grads.map((g) => g.tensor));
  };

  // A batch augmented ahead of its step (see ToWorker 'step'.next); used only if rows and seed match.
  let prepared: { rows: Int32Array; stepSeed: number; x: Float32Array } | undefined;
  const augmented = (rows: Int32Array, stepSeed: number): Float32Array => {
    const p = prepared;
    prepared = undefined;
    if (p && p.stepSeed === stepSeed && p.rows.length === rows.length && p.rows.every((r, i) => r === rows[i])) return p.x;
    return augmentBatch(pixels, rows, init.augment, mulberry32(stepSeed), undefined, shapes);
  };

  const step = (rows: Int32Array, stepSeed: number) => {
    const n = rows.length;
    const xData = augmented(rows, stepSeed);
    const yData = new Int32Array(n);
    for (let i = 0; i < n; i++) yData[i] = labels[rows[i]];
    const yIdx = tf.tensor1d(yData, 'int32');
    const targets = soft
      ? distillTargets(labels, rows, soft, init.distillWeight ?? 0, NUM_CLASSES)
      : oneHotTargets(labels, rows, NUM_CLASSES);
    // Its own stream (salted step seed), so mixup leaves the augmentation's draws unchanged.
    if (init.mixup) mixupBatch(xData, targets, n, init.mixup, mulberry32((stepSeed ^ MIXUP_SALT) >>> 0));
    const x = tf.tensor4d(xData, [n, IMAGE_SIZE, IMAGE_SIZE, 1]);
    const y = tf.tensor2d(targets, [n, NUM_CLASSES]);
    let predicted: tf.Tensor | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const p = model.apply(x, { training: true }) as tf.Tensor;
      predicted = tf.keep(tf.argMax(p, 1));
      return smoothedCrossEntropy(y, p, init.labelSmoothing, init.classWeights);
    }, vars);
    let off = 0;
    for (let i = 0; i < vars.length; i++) {
      slot.set(grads[vars[i].name].dataSync() as Float32Array, off);
      off += sizes[i];
    }
    const loss = value.dataSync()[0];
    const correct = tf.tidy(() => tf.equal(predicted!, yIdx).sum().dataSync()[0]);
    tf.dispose([x, yIdx, y, value, predicted!, ...Object.values(grads)]);
    return { loss, correct, n };
  };

  port.on('message', async (m: ToWorker) => {
    try {
      switch (m.type) {
        case 'step': {
          if (m.apply) applyAveraged(m.lr);
          const r = m.rows.length > 0 ? step(m.rows, m.stepSeed) : { loss: 0, correct: 0, n: 0 };
          if (m.rows.length === 0) slot.fill(0);
          send({ type: 'stepped', ...r });
          if (m.next && m.next.rows.length > 0) {
            prepared = {
              rows: m.next.rows,
              stepSeed: m.next.stepSeed,
              x: augmentBatch(pixels, m.next.rows, init.augment, mulberry32(m.next.stepSeed), undefined, shapes),
            };
          }
          break;
        }
        case 'apply':
          applyAveraged(m.lr);
          send({ type: 'applied' });
          break;
        case 'getWeights':
          send({ type: 'weights', weights: model.getWeights().map((w) => w.dataSync() as Float32Array) });
          break;
        case 'getOptimizer': {
          const state = await optimizer.getWeights();
          send({
            type: 'optimizer',
            state: state.map((s) => ({ name: s.name, shape: s.tensor.shape, data: s.tensor.dataSync() as Float32Array })),
          });
          break;
        }
        case 'setWeights': {
          const current = model.getWeights();
          model.setWeights(m.weights.map((w, i) => tf.tensor(w, current[i].shape)));
          if (m.optimizer)
            await optimizer.setWeights(m.optimizer.map((s: NamedArray) => ({ name: s.name, tensor: tf.tensor(s.data, s.shape) })));
          send({ type: 'weightsSet' });
          break;
        }
      }
    } catch (e) {
      const err = e as Error;
      send({ type: 'error', message: err.message, stack: err.stack });
    }
  });
  send({ type: 'ready', paramCount, backend: choice.description, variableNames: vars.map((v) => v.name) });
}

main().catch((e: Error) => send({ type: 'error', message: e.message, stack: e.stack }));
