/**
 * npm run bench:train [-- --arch seed|default|all] [--steps N] [--batch-size N] [--workers N] [--profile]
 *
 * Training images/s of the real data-parallel training step (augmentation included) on random
 * 48x48 images, for: our fast kernels with every core, our fast kernels on one worker, and the
 * reference (one worker, only the plain Conv2DBackpropFilter composition added to wasm); plus
 * inference images/s. With --profile: the per-kernel time of one step on one thread, the GMAC/s of
 * its convolutions, and the SIMD multiply-add ceiling of this CPU. Prints figures only: speed goals
 * are checked by reading them, not by tests.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { IMAGE_PIXELS, IMAGE_SIZE, NUM_CLASSES } from '../../core/labels.ts';
import { buildArch } from '../cnn/architectures.ts';
import { REFERENCE_AUGMENTATION } from '../../learn/augment.ts';
import { mulberry32 } from '../../core/random.ts';
import { chooseBackend } from '../kernels/backend.ts';
import { parseChoice, parseInteger, parseOptions, UsageError, wantsHelp } from '../util/cli-args.ts';
import { TrainingPool, defaultWorkerCount } from '../cnn/parallel/pool.ts';
import { useFastTrainingPaths } from '../kernels/model-paths.ts';
import initWabt from 'wabt';

const DEFAULT_WIDTHS = [16, 32, 64, 128];

async function trainSpeed(arch: string, workers: number, fastKernels: boolean, steps: number, batchSize: number): Promise<number> {
  const rand = mulberry32(7);
  const n = 2048;
  const pixels = new Uint8Array(n * IMAGE_PIXELS).map(() => Math.floor(rand() * 256));
  const labels = new Uint8Array(n).map(() => Math.floor(rand() * NUM_CLASSES));
  const pool = await TrainingPool.start({
    workers,
    arch,
    widths: arch === 'default' ? DEFAULT_WIDTHS : undefined,
    seed: 1,
    backend: 'auto',
    fastKernels,
    labelSmoothing: 0.1,
    augment: REFERENCE_AUGMENTATION,
    pixels,
    labels,
  });
  try {
    const rows = (s: number) => Int32Array.from({ length: batchSize }, (_, i) => (s * batchSize + i) % n);
    for (let s = 0; s < 2; s++) await pool.step(rows(s), 1e-3, s); // warm-up: XNNPACK operator setup
    await pool.flush();
    const t0 = performance.now();
    for (let s = 0; s < steps; s++) await pool.step(rows(s + 2), 1e-3, s + 2, { rows: rows(s + 3), stepSeed: s + 3 });
    await pool.flush();
    return (steps * batchSize) / ((performance.now() - t0) / 1000);
  } finally {
    await pool.close();
  }
}

async function inferenceSpeed(arch: string, batchSize: number): Promise<{ batched: number; single: number }> {
  const model = buildArch(arch, 1, arch === 'default' ? DEFAULT_WIDTHS : undefined);
  const x = tf.randomUniform([batchSize, IMAGE_SIZE, IMAGE_SIZE, 1]);
  const one = tf.randomUniform([1, IMAGE_SIZE, IMAGE_SIZE, 1]);
  const run = (t: tf.Tensor) => tf.tidy(() => (model.predict(t) as tf.Tensor).dataSync());
  for (let i = 0; i < 3; i++) {
    run(x);
    run(one);
  }
  let t0 = performance.now();
  const reps = 5;
  for (let i = 0; i < reps; i++) run(x);
  const batched = (reps * batchSize) / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  const singles = 50;
  for (let i = 0; i < singles; i++) run(one);
  const single = singles / ((performance.now() - t0) / 1000);
  tf.dispose([x, one]);
  model.dispose();
  return { batched, single };
}

/**
 * One training step (batch on this thread): its wall time (mean of 10) and per-kernel milliseconds,
 * largest first. Op-level wrappers (fused conv/matmul ops, tf.customGrad scopes) are left out:
 * tf.profile lists them beside the kernels they run, which would count those twice.
 */
async function profileStep(arch: string, batchSize: number): Promise<{ wallMs: number; kernels: [string, number][] }> {
  const model = buildArch(arch, 1, arch === 'default' ? DEFAULT_WIDTHS : undefined);
  if (tf.getBackend() === 'wasm') useFastTrainingPaths(model);
  const optimizer = tf.train.adam(1e-3);
  const x = tf.randomUniform([batchSize, IMAGE_SIZE, IMAGE_SIZE, 1]);
  const y = tf.oneHot(tf.randomUniform([batchSize], 0, NUM_CLASSES, 'int32'), NUM_CLASSES);
  const step = () =>
    optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
  for (let i = 0; i < 3; i++) step();
  const t0 = performance.now();
  for (let i = 0; i < 10; i++) step();
  const wallMs = (performance.now() - t0) / 10;
  const info = await tf.profile(() => {
    step();
  });
  const totals = new Map<string, number>();
  for (const k of info.kernels) {
    if (k.name.endsWith('__op') || k.name === 'unnamed scope') continue;
    totals.set(k.name, (totals.get(k.name) ?? 0) + Number(k.kernelTimeMs));
  }
  tf.dispose([x, y]);
  model.dispose();
  return { wallMs, kernels: [...totals].sort((a, b) => b[1] - a[1]) };
}

/**
 * What 128-bit wasm SIMD multiply-adds can reach on this CPU: 12 independent chains of
 * a = a*y + z on f32x4 (no memory traffic), in GMAC/s. The ceiling for our convolution kernels.
 */
async function simdMultiplyAddCeiling(): Promise<number> {
  const chains = [...Array(12).keys()];
  const wat = `(module (func (export "run") (param $n i32) (result f32)
    ${chains.map((i) => `(local $a${i} v128)`).join(' ')} (local $y v128) (local $z v128)
    (local.set $y (f32x4.splat (f32.const 0.5))) (local.set $z (f32x4.splat (f32.const 0.25)))
    ${chains.map((i) => `(local.set $a${i} (f32x4.splat (f32.const ${i})))`).join(' ')}
    (loop $l
      ${chains.map((i) => `(local.set $a${i} (f32x4.add (f32x4.mul (local.get $a${i}) (local.get $y)) (local.get $z)))`).join(' ')}
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (f32x4.extract_lane 0 ${chains.slice(1).reduce((e, i) => `(f32x4.add ${e} (local.get $a${i}))`, '(local.get $a0)')})))`;
  const wabt = await initWabt();
  const parsed = wabt.parseWat('ceiling.wat', wat, { simd: true });
  const binary = new Uint8Array(parsed.toBinary({}).buffer);
  parsed.destroy();
  const { exports } = await WebAssembly.instantiate(await WebAssembly.compile(binary));
  const run = exports.run as (n: number) => number;
  run(1e6);
  const iterations = 6e6;
  const t0 = performance.now();
  run(iterations);
  return (iterations * chains.length * 4) / ((performance.now() - t0) / 1000) / 1e9;
}

/** Multiply-adds of one training step's convolutions: forward, input gradients (not the first layer's), filter gradients. */
function convolutionMacs(arch: string, batchSize: number): { forward: number; input: number; filter: number } {
  const model = buildArch(arch, 1, arch === 'default' ? DEFAULT_WIDTHS : undefined);
  let forward = 0;
  let input = 0;
  model.layers.forEach((layer, i) => {
    if (layer.getClassName() !== 'Conv2D') return;
    const [kh, kw, ci, co] = layer.getWeights()[0]!.shape;
    const [, oh, ow] = layer.outputShape as number[];
    const macs = batchSize * oh! * ow! * kh! * kw! * ci! * co!;
    forward += macs;
    if (i > 0) input += macs; // the first layer's input gradient is never computed
  });
  model.dispose();
  return { forward, input, filter: forward };
}

const USAGE = `usage: npm run bench:train [-- --arch seed|default|all] [--steps N] [--batch-size N] [--workers N] [--profile]

  --arch seed|default|all  (default all)
  --steps N                timed training steps (default 30)
  --batch-size N           (default 64)
  --workers N              (default: CPU cores)
  --profile                per-kernel time of one step instead of the speeds`;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (wantsHelp(args)) {
    console.log(USAGE);
    return;
  }
  const { values } = parseOptions(args, {
    arch: { type: 'string', default: 'all' },
    steps: { type: 'string', default: '30' },
    'batch-size': { type: 'string', default: '64' },
    workers: { type: 'string' },
    profile: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  const arch = parseChoice('arch', values.arch, ['seed', 'default', 'all']);
  const archs = arch === 'all' ? ['seed', 'default'] : [arch];
  const steps = parseInteger('steps', values.steps, { min: 1 });
  const batchSize = parseInteger('batch-size', values['batch-size'], { min: 1 });
  const workers = values.workers === undefined ? defaultWorkerCount() : parseInteger('workers', values.workers, { min: 1, max: 256 });
  const backend = await chooseBackend('auto', true);
  console.log(
    `bench:train — ${os.cpus()[0]?.model ?? 'cpu'}; ${os.cpus().length} cores (${defaultWorkerCount()} usable); node ${process.version}`,
  );
  console.log(`${backend.description}`);
  console.log(`batch ${batchSize}, ${steps} timed steps after 2 warm-up steps, augmentation on, random 48x48 images\n`);
  if (values.profile) {
    for (const arch of archs) {
      const { wallMs, kernels } = await profileStep(arch, batchSize);
      const total = kernels.reduce((a, r) => a + r[1], 0);
      console.log(
        `${arch}: one training step, batch ${batchSize}, one thread: ${wallMs.toFixed(1)} ms wall time, ${total.toFixed(1)} ms in kernels`,
      );
      for (const [name, ms] of kernels.slice(0, 12))
        console.log(`  ${name.padEnd(30)} ${ms.toFixed(1).padStart(7)} ms  ${((100 * ms) / total).toFixed(0).padStart(3)}%`);
      const ms = (...names: string[]) => kernels.filter(([n]) => names.includes(n)).reduce((a, [, t]) => a + t, 0);
      const macs = convolutionMacs(arch, batchSize);
      const rate = (m: number, t: number) => (t > 0 ? `${(m / t / 1e6).toFixed(1)} GMAC/s` : 'n/a');
      console.log(
        `  convolutions: forward ${rate(macs.forward, ms('FusedConv2D', 'Conv2D'))}, input gradients ${rate(macs.input, ms('Conv2DBackpropInput'))}, filter gradients ${rate(macs.filter, ms('Conv2DBackpropFilter'))}\n`,
      );
    }
    console.log(
      `f32x4 multiply-add ceiling of this CPU under wasm SIMD: ${(await simdMultiplyAddCeiling()).toFixed(1)} GMAC/s (12 independent chains, no memory traffic)`,
    );
    return;
  }
  for (const arch of archs) {
    const reference = await trainSpeed(arch, 1, false, Math.max(3, Math.round(steps / 3)), batchSize);
    const fastOne = await trainSpeed(arch, 1, true, steps, batchSize);
    const fastAll = workers > 1 ? await trainSpeed(arch, workers, true, steps, batchSize) : fastOne;
    const inf = await inferenceSpeed(arch, 256);
    const params = buildArch(arch, 1, arch === 'default' ? DEFAULT_WIDTHS : undefined).countParams();
    console.log(`${arch} (${params.toLocaleString('en')} parameters)`);
    console.log(`  train, reference kernels, 1 worker : ${reference.toFixed(1)} images/s`);
    console.log(`  train, fast kernels, 1 worker      : ${fastOne.toFixed(1)} images/s  (${(fastOne / reference).toFixed(2)}x reference)`);
    console.log(
      `  train, fast kernels, ${workers} workers     : ${fastAll.toFixed(1)} images/s  (${(fastAll / reference).toFixed(2)}x reference)`,
    );
    console.log(
      `  inference (wasm, 1 thread)         : ${inf.batched.toFixed(0)} images/s in batches of 256; ${(1000 / inf.single).toFixed(2)} ms per single face`,
    );
    console.log(`  one FER2013 epoch (28,709 images)  : ${(28709 / fastAll / 60).toFixed(1)} min at the ${workers}-worker rate\n`);
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(`error: ${e.message}${e instanceof UsageError ? '\n(npm run bench:train -- --help lists the options)' : ''}`);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
