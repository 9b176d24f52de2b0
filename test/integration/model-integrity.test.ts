/**
 * Model integrity (issue 11, point 3): model.json records each weight file's byte length and
 * sha256; loading checks them, the sizes against the weight specs, finite weights and a finite
 * warm-up inference, and every error names the file or folder with the expected and actual value.
 * Here: saved models on disk and the CLIs; the pure checks are in test/unit/core/weights-integrity.test.ts.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initWasm } from '../../src/train/kernels/backend.ts';
import { buildArch } from '../../src/train/cnn/architectures.ts';
import { loadLayersModel, saveLayersModel, stampWeightsIntegrity } from '../../src/train/cnn/model-io.ts';
import { findChromium } from '../../src/train/browser/browser.ts';
import { ROOT } from '../helpers/shared-data.ts';

const root = ROOT;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('loadLayersModel checks the folder', () => {
  let work: string;
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);

  beforeAll(async () => {
    await initWasm(true);
    work = await mkdtemp(join(tmpdir(), 'model-integrity-'));
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** A small seed-architecture CNN saved in a new folder, its weights mapped by `fill`. */
  async function saved(name: string, fill?: (w: tf.Tensor) => tf.Tensor): Promise<string> {
    const dir = join(work, name);
    await mkdir(dir);
    const model = buildArch('seed', 1);
    if (fill) model.setWeights(model.getWeights().map(fill));
    await saveLayersModel(model, dir);
    model.dispose();
    return dir;
  }

  it('records byte length and sha256 at save time, and loads without a warning', async () => {
    const dir = await saved('ok');
    const bytes = new Uint8Array(await readFile(join(dir, 'weights.bin')));
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    expect(json.weightsIntegrity).toEqual([{ path: 'weights.bin', byteLength: bytes.byteLength, sha256: sha(bytes) }]);
    warnings.length = 0;
    (await loadLayersModel(dir, warn)).dispose();
    expect(warnings).toEqual([]);
  });

  it('rejects NaN weights (right size, right hash), naming the folder and the weight', async () => {
    const dir = await saved('nan', (w) => tf.fill(w.shape, NaN));
    await expect(loadLayersModel(dir, warn)).rejects.toThrow(new RegExp(`^${dir}: weight ".*" element 0 is NaN`));
  });

  it('rejects finite weights whose warm-up output is not finite, naming the folder', async () => {
    const dir = await saved('overflow', (w) => tf.fill(w.shape, 1e30));
    await expect(loadLayersModel(dir, warn)).rejects.toThrow(
      new RegExp(`^${dir}: a warm-up inference on a blank face gives (NaN|-?Infinity)`),
    );
  });

  it('rejects a truncated weights.bin, naming the file with expected and actual bytes', async () => {
    const dir = await saved('truncated');
    const size = (await readFile(join(dir, 'weights.bin'))).byteLength;
    await truncate(join(dir, 'weights.bin'), size - 3);
    await expect(loadLayersModel(dir, warn)).rejects.toThrow(`${join(dir, 'weights.bin')}: ${size - 3} bytes, expected ${size}`);
  });

  it('rejects extra bytes appended to weights.bin', async () => {
    const dir = await saved('padded');
    const size = (await readFile(join(dir, 'weights.bin'))).byteLength;
    await appendFile(join(dir, 'weights.bin'), new Uint8Array(8));
    await expect(loadLayersModel(dir, warn)).rejects.toThrow(`${join(dir, 'weights.bin')}: ${size + 8} bytes, expected ${size}`);
  });

  it('rejects a weights.bin whose sha256 differs (same size)', async () => {
    const dir = await saved('flipped');
    const bytes = new Uint8Array(await readFile(join(dir, 'weights.bin')));
    const before = sha(bytes);
    bytes[100] ^= 0x01;
    await writeFile(join(dir, 'weights.bin'), bytes);
    await expect(loadLayersModel(dir, warn)).rejects.toThrow(`${join(dir, 'weights.bin')}: sha256 ${sha(bytes)}, expected ${before}`);
  });

  it('a model saved before the record loads with a warning, but its size must still fit the specs', async () => {
    const dir = await saved('legacy');
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    delete json.weightsIntegrity;
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    warnings.length = 0;
    (await loadLayersModel(dir, warn)).dispose();
    expect(warnings.join()).toMatch(/no weightsIntegrity recorded.*npm run models:stamp/);
    const size = (await readFile(join(dir, 'weights.bin'))).byteLength;
    await appendFile(join(dir, 'weights.bin'), new Uint8Array(4));
    await expect(loadLayersModel(dir, warn)).rejects.toThrow(
      `${join(dir, 'weights.bin')}: ${size + 4} bytes, expected ${size} (the weight specs in model.json)`,
    );
    await truncate(join(dir, 'weights.bin'), size - 4);
    await expect(loadLayersModel(dir, warn)).rejects.toThrow(
      `${join(dir, 'weights.bin')}: ${size - 4} bytes, expected ${size} (the weight specs in model.json)`,
    );
  });

  it('models:stamp records the integrity of an old model without touching its weights, and refuses damaged files', async () => {
    const dir = await saved('stamp');
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    const recorded = json.weightsIntegrity;
    delete json.weightsIntegrity;
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    const weights = await readFile(join(dir, 'weights.bin'));
    expect(await stampWeightsIntegrity(dir)).toBe('stamped');
    expect(JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')).weightsIntegrity).toEqual(recorded);
    expect((await readFile(join(dir, 'weights.bin'))).equals(weights)).toBe(true);
    expect(await stampWeightsIntegrity(dir)).toBe('unchanged');
    // A file changed since: not re-stamped unless forced.
    await appendFile(join(dir, 'weights.bin'), new Uint8Array(4));
    await expect(stampWeightsIntegrity(dir, { force: true })).rejects.toThrow(/bytes, expected .*the weight specs/);
    await truncate(join(dir, 'weights.bin'), weights.byteLength);
    const flipped = new Uint8Array(weights);
    flipped[0] ^= 1;
    await writeFile(join(dir, 'weights.bin'), flipped);
    await expect(stampWeightsIntegrity(dir)).rejects.toThrow(/no longer match the recorded weightsIntegrity.*--force/);
    expect(await stampWeightsIntegrity(dir, { force: true })).toBe('stamped');
  });
});

describe('CLIs exit non-zero on a corrupt model, naming it', () => {
  let work: string;
  beforeAll(async () => {
    await initWasm(true);
    work = await mkdtemp(join(tmpdir(), 'model-integrity-cli-'));
    const dir = join(work, 'models', 'nan-cnn');
    await mkdir(dir, { recursive: true });
    const model = buildArch('seed', 1);
    model.setWeights(model.getWeights().map((w) => tf.fill(w.shape, NaN)));
    await saveLayersModel(model, dir);
    model.dispose();
    await writeFile(join(dir, 'report.json'), JSON.stringify({ accuracy: 0.14 }));
    const input = { shape: [null, 48, 48, 1], dtype: 'float32', color: 'gray', range: [0, 1], size: 48, tta: 'none' };
    await writeFile(
      join(work, 'models', 'index.json'),
      JSON.stringify({ models: [{ id: 'nan-cnn', name: 'NaN CNN', kind: 'cnn', path: 'nan-cnn/model.json', input }] }),
    );
    await writeFile(join(work, 'face.png'), 'not read: the model check comes first');
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('npm run evaluate', () => {
    const dir = join(work, 'models', 'nan-cnn');
    const r = spawnSync(join(root, 'node_modules/.bin/tsx'), [join(root, 'src/train/commands/evaluate.ts'), '--model', dir], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain(`error: ${dir}: weight `);
    expect(r.stderr).toMatch(/is NaN: the model is corrupt/);
  });

  const browserReady = !!findChromium() && existsSync(join(root, 'public/mediapipe/face_landmarker.task'));
  it.skipIf(!browserReady)(
    `npm run predict${browserReady ? '' : ' (skipped: needs Chromium and npm run setup-assets)'}`,
    () => {
      const r = spawnSync(join(root, 'node_modules/.bin/tsx'), [join(root, 'src/train/commands/predict.ts'), '--json', 'face.png'], {
        cwd: work,
        env: { ...process.env, MODELS_DIR: join(work, 'models') },
        encoding: 'utf8',
        timeout: 300_000,
      });
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/predict: model "nan-cnn" \(in .*models\) is corrupt: .*nan-cnn\/model\.json: weight ".*" element 0 is NaN/);
      expect(r.stdout).toBe('');
    },
    320_000,
  );
});
