/**
 * Issue 12's src/train wiring: the table of replaced wasm kernels switches both ways without ever
 * taking our kernel for the backend's own, `npm run train -- svm-*` refuses a bad --out before it
 * reads any data, and a published model's index.json entry has the committed entries' form.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cnnInput, serializeManifest, type ModelEntry, type ModelEntryDraft } from '../../../src/core/contracts/index.ts';
import { initWasm } from '../../../src/train/kernels/backend.ts';
import {
  batchMatMul,
  conv2D,
  conv2DBackpropFilter,
  conv2DBackpropInput,
  fusedConv2D,
  identity,
  maxPoolGrad,
  registerWasmGradientKernels,
  sum,
  tile,
} from '../../../src/train/kernels/wasm-gradients.ts';
import { svmCommand, type SvmArgs } from '../../../src/train/svm/train-svm.ts';
import { OutFolderRefused, publishModelDir } from '../../../src/train/util/publish-model.ts';
import { ROOT } from '../../helpers/shared-data.ts';

const OURS: Record<string, unknown> = {
  Conv2DBackpropFilter: conv2DBackpropFilter,
  Conv2DBackpropInput: conv2DBackpropInput,
  MaxPoolGrad: maxPoolGrad,
  BatchMatMul: batchMatMul,
  Tile: tile,
  Sum: sum,
  FusedConv2D: fusedConv2D,
  Conv2D: conv2D,
  Identity: identity,
};
const wasmKernel = (name: string) => tf.getKernel(name, 'wasm')?.kernelFunc;

/** A 3x3 'same' convolution on the wasm backend, read back. */
function convOnWasm(): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(
      Float32Array.from({ length: 2 * 6 * 6 * 4 }, (_, i) => Math.sin(i)),
      [2, 6, 6, 4],
    );
    const w = tf.tensor4d(
      Float32Array.from({ length: 3 * 3 * 4 * 8 }, (_, i) => Math.cos(i)),
      [3, 3, 4, 8],
    );
    return tf.conv2d(x, w, 1, 'same').dataSync() as Float32Array;
  });
}

describe('the table of replaced wasm kernels', () => {
  beforeAll(async () => {
    await initWasm(true);
  });
  afterAll(() => {
    registerWasmGradientKernels({ fast: true });
  });

  it("fast: all ours; reference: only Conv2DBackpropFilter, the rest the backend's own again", () => {
    // Twice in a row: the second call must not capture our kernels as the "originals".
    registerWasmGradientKernels({ fast: true });
    const names = registerWasmGradientKernels({ fast: true });
    expect(names).toEqual(Object.keys(OURS).sort());
    for (const [name, fn] of Object.entries(OURS)) expect(wasmKernel(name), name).toBe(fn);
    const fast = convOnWasm();

    registerWasmGradientKernels({ fast: false });
    expect(wasmKernel('Conv2DBackpropFilter')).toBe(conv2DBackpropFilter);
    for (const [name, fn] of Object.entries(OURS)) {
      if (name === 'Conv2DBackpropFilter') continue;
      expect(wasmKernel(name), name).toBeDefined();
      expect(wasmKernel(name), name).not.toBe(fn);
    }
    // The backend's own Conv2D (XNNPACK) gives the same numbers as ours.
    const reference = convOnWasm();
    expect(reference.length).toBe(fast.length);
    for (let i = 0; i < fast.length; i++) expect(Math.abs(reference[i]! - fast[i]!)).toBeLessThan(1e-4);

    registerWasmGradientKernels({ fast: true });
    for (const [name, fn] of Object.entries(OURS)) expect(wasmKernel(name), name).toBe(fn);
  });
});

describe('npm run train -- svm-au | svm-pixels', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'train-wiring-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  const args = (out: string): SvmArgs => ({
    out,
    data: join(work, 'no-such-fer2013.csv'),
    cvRows: 100,
    gridC: [1],
    gridGammaFactors: [1],
    components: 10,
  });

  it('refuses an --out that is not a model folder before looking for the data', async () => {
    const out = join(work, 'notes');
    await mkdir(out);
    await writeFile(join(out, 'todo.txt'), 'mine');
    for (const command of ['svm-pixels', 'svm-au'] as const) {
      // The data does not exist either: the --out refusal must come first.
      await expect(svmCommand(command, args(out))).rejects.toThrow(OutFolderRefused);
      await expect(svmCommand(command, args(out))).rejects.toThrow(/--out .*notes is not a model folder: it holds todo\.txt/);
    }
    expect(await readdir(out)).toEqual(['todo.txt']);
  });

  it('with a usable --out, goes on to the data (and names it when it is missing)', async () => {
    await expect(svmCommand('svm-pixels', args(join(work, 'new-model')))).rejects.toThrow(/no-such-fer2013\.csv/);
  });
});

describe('publishing a model', () => {
  it('writes its index.json entry with the committed key order, next to a "$schema"', async () => {
    const root = await mkdtemp(join(tmpdir(), 'train-wiring-publish-'));
    const committed = JSON.parse(await readFile(join(ROOT, 'models', 'index.json'), 'utf8')) as { models: ModelEntry[] };
    const cnn = committed.models.find((m) => m.id === 'fer-cnn')!;
    const draft: ModelEntryDraft = { id: cnn.id, name: cnn.name, kind: 'cnn', input: cnnInput({ size: 48, tta: 'hflip-mean' }) };
    const lines: string[] = [];
    await publishModelDir(join(root, 'fer-cnn'), async (tmp) => writeFile(join(tmp, 'model.json'), '{}'), {
      log: (line) => lines.push(line),
      manifestEntry: draft,
    });
    expect(lines.join('\n')).not.toMatch(/neutral reference/);
    // Republished over an entry with a neutral reference: that reference goes, and the log says how to make the new one.
    await writeFile(join(root, 'index.json'), serializeManifest({ $schema: './index.schema.json', models: [cnn] }));
    await publishModelDir(join(root, 'fer-cnn'), async (tmp) => writeFile(join(tmp, 'model.json'), '{}'), {
      log: (line) => lines.push(line),
      manifestEntry: draft,
    });
    expect(lines.join('\n')).toMatch(/fer-cnn: its neutral reference .* was removed; npm run train -- neutral-reference --models fer-cnn/);
    const text = await readFile(join(root, 'index.json'), 'utf8');
    // A newly trained model has no neutral reference yet (the committed one's would be stale).
    const { neutral, ...withoutReference } = cnn;
    expect(neutral).toBeDefined();
    expect(text).toBe(serializeManifest({ $schema: './index.schema.json', models: [withoutReference] }));
    await rm(root, { recursive: true, force: true });
  });
});
