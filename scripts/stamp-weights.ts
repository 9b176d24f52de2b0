/**
 * npm run models:stamp [-- <model folders>] [--force]
 *
 * Records the byte length and sha256 of each CNN's weight files in its model.json
 * ("weightsIntegrity", see src/core/weights-integrity.ts) for models saved before training wrote
 * it; the weights themselves are not changed. SVM and fusion folders already record weights.bin's byte
 * length and FNV-1a hash: they are only verified. Default: every folder under models/ with a model.json.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readSvmModel } from '../src/train/svm/export.ts';
import { parseFusionModel } from '../src/core/fusion.ts';
import { stampWeightsIntegrity } from '../src/train/cnn/model-io.ts';

const USAGE = `usage: npm run models:stamp [-- <model folders>] [--force]

  (no folders)  every folder under models/ that has a model.json
  --force       replace a recorded weightsIntegrity that no longer matches the files`;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { force: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    console.error(`models:stamp: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return 0;
  }
  let dirs = parsed.positionals;
  if (dirs.length === 0) {
    const entries = await readdir('models', { withFileTypes: true }).catch(() => []);
    dirs = entries
      .filter((e) => e.isDirectory() && existsSync(join('models', e.name, 'model.json')))
      .map((e) => join('models', e.name))
      .sort();
    if (dirs.length === 0) {
      console.error(`models:stamp: no model folders under ${resolve('models')}; name the folders to stamp\n${USAGE}`);
      return 2;
    }
  }
  let failed = 0;
  for (const dir of dirs) {
    try {
      const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as { format?: unknown };
      if (json.format === 'emotion-fusion') {
        const bytes = await readFile(join(dir, 'weights.bin'));
        parseFusionModel(json, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)); // checks byteLength and fnv1a32
        console.log(`${dir}: fusion model, weights.bin checked against its recorded byte length and hash`);
      } else if (json.format === 'emotion-svm') {
        await readSvmModel(dir); // checks weights.byteLength and weights.fnv1a32 when recorded
        console.log(`${dir}: SVM, weights.bin checked against its recorded byte length and hash`);
      } else {
        const result = await stampWeightsIntegrity(dir, { force: parsed.values.force });
        console.log(`${dir}: ${result === 'stamped' ? 'weightsIntegrity recorded in model.json' : 'already recorded and matching'}`);
      }
    } catch (error) {
      failed++;
      console.error(`${dir}: ${(error as Error).message}`);
    }
  }
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main();
