import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { initWasm } from '../src/train/backend.ts';
import { evaluateModelDir } from '../src/train/evaluate-cli.ts';
import { parseManifest } from '../src/app/manifest.ts';

const root = resolve(__dirname, '..');
const FER = resolve(root, '../shared/data/fer2013/fer2013.csv.gz');
const manifestPath = join(root, 'models/index.json');
const haveFer = existsSync(FER);
if (!haveFer) console.warn(`skipping the committed-model accuracy check: ${FER} not found`);

const manifest = existsSync(manifestPath) ? parseManifest(JSON.parse(readFileSync(manifestPath, 'utf8'))) : { models: [] };
const cnns = manifest.models.filter((m) => m.kind === 'cnn');

describe('committed models', () => {
  it('models/index.json lists the FER2013 CNNs and each has its artifacts and report', () => {
    expect(cnns.map((m) => m.id)).toEqual(expect.arrayContaining(['fer-cnn', 'fer-cnn-seed']));
    for (const m of cnns) {
      const dir = join(root, 'models', m.path, '..');
      for (const f of ['model.json', 'weights.bin', 'report.json', 'confusion.svg', 'curves.svg']) expect(existsSync(join(dir, f)), `${m.id}/${f}`).toBe(true);
    }
  });

  describe.skipIf(!haveFer)('accuracy recomputed from the artifacts equals report.json', () => {
    beforeAll(async () => { await initWasm(true); });
    for (const m of cnns) {
      it(m.id, async () => {
        const r = await evaluateModelDir(join(root, 'models', m.path, '..'), FER);
        expect(r.count).toBe(3589);
        expect(r.recomputed.accuracy).toBeCloseTo(r.reported, 6);
      });
    }
  });
});
